using System.Diagnostics;
using Containers.Core.Cgroups;
using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Cgroups;

/// <summary>
/// Device rules enforced by this kernel (root only; skipped otherwise): the BPF program loaded and attached
/// to a real cgroup2 directory (this host's /sys/fs/cgroup/unified) with no v1 devices rules at all, and the
/// v1 manager of a hybrid host, which applies both layers. A probe shell joins the cgroup, then opens device
/// nodes this test made with mknod in a temp directory.
/// </summary>
public sealed class DeviceFilterRealTests : IDisposable
{
    private const string Unified = "/sys/fs/cgroup/unified";
    private const string Id = "devf11e0123456789abcdef0123456789abcdef0123456789abcdef01234567";
    private readonly string _parent = "pscontainers-test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _nodes = Directory.CreateTempSubdirectory("devfilter-").FullName;
    private readonly bool _canRun = Identity.IsRoot && File.Exists(Path.Combine(Unified, "cgroup.controllers"));
    private ICgroupManager? _manager;

    public void Dispose()
    {
        _manager?.Remove(Id);
        foreach (string root in CgroupV1RealTests.V1Mounts().Values.Append(Unified).Distinct())
            if (Directory.Exists(Path.Combine(root, _parent))) Directory.Delete(Path.Combine(root, _parent));
        Directory.Delete(_nodes, recursive: true);
    }

    private string Node(string name, char type, int major, int minor)
    {
        string path = Path.Combine(_nodes, name);
        ulong dev = (ulong)((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12));
        FileSystemCalls.MknodAt(FileSystemCalls.AT_FDCWD, path, (type == 'b' ? FileSystemCalls.S_IFBLK : FileSystemCalls.S_IFCHR) | 0x1b6, dev);
        return path;
    }

    /// <summary>Runs <paramref name="test"/> in a shell that first joined the cgroup: true when it succeeded, false when refused.</summary>
    private static bool InCgroup(IReadOnlyList<string> procs, string test)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("set -e; " + string.Concat(procs.Select(p => $"echo $$ > {p}; ")) + $"if ( {test} ) 2>/dev/null; then exit 0; else exit 9; fi");
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode is 0 or 9, $"the probe could not join the cgroup: {err}");
        return p.ExitCode == 0;
    }

    [Fact]
    public void BpfProgramAloneAllowsTheListAndDeniesTheRestInARealCgroup2Directory()
    {
        if (!_canRun) return; // needs root and a cgroup2 mount
        var grant = new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "r" };
        _manager = new CgroupV2Manager(Unified, parent: _parent);
        var procs = _manager.Create(Id, new LinuxResources { Devices = DeviceRules.WithGrants([grant]) });
        Assert.Equal([Path.Combine(Unified, _parent, Id, "cgroup.procs")], procs);

        string nul = Node("null", 'c', 1, 3), zero = Node("zero", 'c', 1, 5), pts = Node("pts9", 'c', 136, 9);
        string kmsg = Node("kmsg", 'c', 1, 11), mem = Node("mem", 'c', 1, 1), loop = Node("loop0", 'b', 7, 0), fuse = Node("fuse", 'c', 10, 229);
        // Outside the cgroup every node opens: what follows is the program's doing.
        Assert.True(InCgroup([], $"exec 3<{kmsg}"));

        Assert.True(InCgroup(procs, $"exec 3<>{nul}"));
        Assert.True(InCgroup(procs, $"head -c 4 {zero} > /dev/null"));
        Assert.True(InCgroup(procs, $"exec 3<{fuse}"));       // granted read
        Assert.False(InCgroup(procs, $"exec 3>{fuse}"));      // not write
        Assert.False(InCgroup(procs, $"exec 3<{kmsg}"));
        Assert.False(InCgroup(procs, $"exec 3>{kmsg}"));
        Assert.False(InCgroup(procs, $"exec 3<{mem}"));
        Assert.False(InCgroup(procs, $"exec 3<{loop}"));
        // pts nodes are allowed by number; a node outside its devpts is no terminal, so the open fails, but not with EPERM.
        Assert.DoesNotContain("Operation not permitted", ProbeError(procs, $"exec 3<{pts}"));
        Assert.Contains("Input/output error", ProbeError(procs, $"exec 3<{pts}"));
        Assert.Contains("Operation not permitted", ProbeError(procs, $"exec 3<{kmsg}"));
        // mknod of any node is allowed (the default "c *:* m", "b *:* m"); opening it is not.
        Assert.True(InCgroup(procs, $"mknod {_nodes}/made c 1 11"));
        Assert.False(InCgroup(procs, $"exec 3<{_nodes}/made"));
    }

    private static string ProbeError(IReadOnlyList<string> procs, string test)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(string.Concat(procs.Select(p => $"echo $$ > {p}; ")) + test);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return err;
    }

    [Fact]
    public void HybridV1ManagerWritesTheDevicesListAndJoinsTheUnifiedProgramToo()
    {
        if (!_canRun || !CgroupV1RealTests.V1Mounts().ContainsKey("devices")) return;
        _manager = new CgroupV1Manager(CgroupV1RealTests.V1Mounts(), parent: _parent, unifiedRoot: Unified);
        var procs = _manager.Create(Id, null);
        string v1 = Path.Combine(CgroupV1RealTests.V1Mounts()["devices"], _parent, Id);
        Assert.Equal(DeviceRules.Default.Skip(1).Select(DeviceRules.V1Line),
            File.ReadAllLines(Path.Combine(v1, "devices.list")));
        Assert.Contains(Path.Combine(v1, "cgroup.procs"), procs);
        Assert.Contains(Path.Combine(Unified, _parent, Id, "cgroup.procs"), procs);

        string kmsg = Node("kmsg", 'c', 1, 11), nul = Node("null", 'c', 1, 3);
        Assert.False(InCgroup(procs, $"exec 3<{kmsg}"));
        Assert.True(InCgroup(procs, $"exec 3<>{nul}"));
        // Relax the v1 layer to allow everything: the program in the unified tree still refuses.
        File.WriteAllText(Path.Combine(v1, "devices.allow"), "a");
        Assert.Equal("a *:* rwm", File.ReadAllText(Path.Combine(v1, "devices.list")).Trim());
        Assert.False(InCgroup(procs, $"exec 3<{kmsg}"));
        Assert.True(InCgroup(procs, $"exec 3<>{nul}"));

        _manager.Remove(Id);
        Assert.False(Directory.Exists(v1));
        Assert.False(Directory.Exists(Path.Combine(Unified, _parent, Id)));
    }
}
