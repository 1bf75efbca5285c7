using Containers.Core.Runtime;
using Containers.Core.Tests.Images;

namespace Containers.Core.Tests.Runtime;

/// <summary>The store's mount points layer: made whole and private once, made again when an admin deleted it, never half-made.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MountPointsLayerTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void MakesProcDevAndSysOnceInAPrivateDirectoryWhateverTheUmask()
    {
        string data = _tmp.Sub("data");
        Directory.CreateDirectory(data);
        string dir = MountPointsLayer.Ensure(data)!;
        Assert.Equal(Path.Combine(data, "mountpoints"), dir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Equal(["dev", "proc", "sys"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (string d in Directory.GetDirectories(dir)) Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(d));
        ulong inode = Native.LinkStat.Get(Path.Combine(dir, "proc"))!.Value.Inode;
        Assert.Equal(dir, MountPointsLayer.Ensure(data));
        Assert.Equal(inode, Native.LinkStat.Get(Path.Combine(dir, "proc"))!.Value.Inode);
        Assert.Equal(["mountpoints"], Directory.GetFileSystemEntries(data).Select(Path.GetFileName)); // no temp sibling left
    }

    [Fact]
    public void MakesItAgainWhenDeletedAndCompletesItWhenAnEntryIsGone()
    {
        string data = _tmp.Sub("data");
        Directory.CreateDirectory(data);
        string dir = MountPointsLayer.Ensure(data)!;
        Directory.Delete(dir, recursive: true);
        Assert.Equal(dir, MountPointsLayer.Ensure(data));
        Assert.Equal(3, Directory.GetDirectories(dir).Length);
        Directory.Delete(Path.Combine(dir, "sys"));
        File.SetUnixFileMode(Path.Combine(dir, "dev"), UnixFileMode.UserRead);
        Assert.Equal(dir, MountPointsLayer.Ensure(data));
        Assert.True(Directory.Exists(Path.Combine(dir, "sys")));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(dir, "dev")));
    }

    [Fact]
    public void GivesNoLayerAndLeavesNothingWhenAFileTakesItsPlace()
    {
        string data = _tmp.Sub("data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "mountpoints"), "not a directory");
        Assert.Null(MountPointsLayer.Ensure(data));
        Assert.Equal(["mountpoints"], Directory.GetFileSystemEntries(data).Select(Path.GetFileName));
    }
}
