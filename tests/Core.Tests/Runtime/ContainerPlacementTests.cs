using Containers.Core.Runtime;
using Containers.Core.Tests.Images;

namespace Containers.Core.Tests.Runtime;

/// <summary>
/// The container store's directory carries ext4's "top of a directory hierarchy" flag, so each container's directory
/// gets a block group of its own instead of sharing the store's with every container made and removed before it;
/// checked from outside with lsattr.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ContainerPlacementTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [InodeFlagsFact]
    public void TheFirstContainerFlagsANewStore()
    {
        var store = new ContainerStore(_tmp.Sub("containers"));

        store.CreateDir("c1");

        Assert.Contains('T', Flags(store.Root));
        // Not inherited: inside a container's directory ext4 keeps its files and directories together.
        Assert.DoesNotContain('T', Flags(store.Dir("c1")));
    }

    [InodeFlagsFact]
    public void TheNextContainerFlagsAStoreMadeBefore()
    {
        string root = _tmp.Sub("containers");
        Directory.CreateDirectory(Path.Combine(root, "old"));
        Assert.DoesNotContain('T', Flags(root));

        new ContainerStore(root).CreateDir("new");

        Assert.Contains('T', Flags(root));
    }

    private static string Flags(string path) => InodeFlags.Lsattr(path) ?? throw new InvalidOperationException($"lsattr -d {path} failed");
}
