using System.Diagnostics;
using Containers.Core.Native;

namespace Containers.Core.Tests.Networking;

/// <summary>The bound network namespace a CNI container gets: a new namespace with only loopback, this process's own untouched.</summary>
public sealed class NetworkNamespaceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netns-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {output}");
        return output;
    }

    [RootFact]
    public void CreateBindsANewNamespaceWithOnlyLoopbackAndLeavesThisProcessInItsOwn()
    {
        string own = Run("readlink", "/proc/self/ns/net").Trim();
        string mine = File.ResolveLinkTarget("/proc/self/ns/net", false)!.LinkTarget!;
        string path = Path.Combine(_dir, "ns");

        NetworkNamespaces.Create(path);
        try
        {
            Assert.True(NetworkNamespaces.IsBound(path));
            // Seen from outside (nsenter, ip): another namespace than ours, with nothing but lo.
            string inside = Run("nsenter", "--net=" + path, "readlink", "/proc/self/ns/net").Trim();
            Assert.NotEqual(own, inside);
            Assert.Equal(["lo"], Run("nsenter", "--net=" + path, "ip", "-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':')[1].Trim()));
            Assert.Equal(mine, File.ResolveLinkTarget("/proc/self/ns/net", false)!.LinkTarget);
            Assert.Equal(own, Run("readlink", "/proc/self/ns/net").Trim()); // a child of this process is still on the host's
        }
        finally { NetworkNamespaces.Remove(path); }
        Assert.False(File.Exists(path));
        Assert.False(NetworkNamespaces.IsBound(path));
    }
}
