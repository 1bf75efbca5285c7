using System.Diagnostics;
using Containers.Core.Cgroups;

namespace Containers.Core.Tests.Cgroups;

/// <summary>The v1 manager against this host's real cgroup v1 hierarchies (root only; skipped otherwise).</summary>
public sealed class CgroupV1RealTests : IDisposable
{
    private readonly string _parent = "pscontainers-test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly CgroupV1Manager? _manager;
    private readonly List<Process> _started = [];
    private const string Id = "feedface0123456789abcdef0123456789abcdef0123456789abcdef01234567";

    public CgroupV1RealTests()
    {
        if (Native.Identity.IsRoot && CgroupDetector.Detect() is CgroupV1Manager)
            _manager = new CgroupV1Manager(V1Mounts(), parent: _parent);
    }

    /// <summary>controller → mount point of this host's v1 hierarchies that the manager uses.</summary>
    internal static Dictionary<string, string> V1Mounts()
    {
        var map = new Dictionary<string, string>();
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            int dash = line.IndexOf(" - ", StringComparison.Ordinal);
            string[] head = line[..dash].Split(' '), tail = line[(dash + 3)..].Split(' ');
            if (tail[0] != "cgroup") continue;
            foreach (string opt in tail[2].Split(','))
                if (CgroupV1Manager.Controllers.Contains(opt)) map.TryAdd(opt, head[4]);
        }
        return map;
    }

    public void Dispose()
    {
        foreach (var p in _started) { try { p.Kill(); p.WaitForExit(); } catch (InvalidOperationException) { } p.Dispose(); }
        if (_manager is null) return;
        _manager.Remove(Id);
        foreach (string root in V1Mounts().Values.Distinct())
            if (Directory.Exists(Path.Combine(root, _parent))) Directory.Delete(Path.Combine(root, _parent));
    }

    private Process Sleeper()
    {
        var p = Process.Start(new ProcessStartInfo("/bin/sleep", "300") { UseShellExecute = false })!;
        _started.Add(p);
        return p;
    }

    [CgroupV1Fact]
    public void RealV1CreateAppliesLimitsAndAcceptsAProcess()
    {
        Assert.NotNull(_manager);
        var procs = _manager.Create(Id, CgroupLimits.Build(32L << 20, 0.25, null, null, 512, 16));
        Assert.Contains(procs, f => f.StartsWith("/sys/fs/cgroup/memory/", StringComparison.Ordinal));
        string mem = $"/sys/fs/cgroup/memory/{_parent}/{Id}";
        Assert.Equal(32L << 20, long.Parse(File.ReadAllText(Path.Combine(mem, "memory.limit_in_bytes"))));
        Assert.Equal("25000", File.ReadAllText($"/sys/fs/cgroup/cpu/{_parent}/{Id}/cpu.cfs_quota_us").Trim());
        Assert.Equal("512", File.ReadAllText($"/sys/fs/cgroup/cpu/{_parent}/{Id}/cpu.shares").Trim());
        Assert.Equal("16", File.ReadAllText($"/sys/fs/cgroup/pids/{_parent}/{Id}/pids.max").Trim());

        var p = Sleeper();
        foreach (string f in procs) File.WriteAllText(f, p.Id.ToString());
        Assert.Equal([p.Id], _manager.ListPids(Id));
        var stats = _manager.ReadStats(Id);
        Assert.Equal(1, stats.Pids);
        Assert.Equal(16, stats.PidsLimit);
        Assert.Equal(32L << 20, stats.MemoryLimitBytes);
        // v1 does not move a process's existing charge with it, so a sleeping process may account 0 bytes.
        Assert.NotNull(stats.MemoryUsageBytes);
        Assert.NotNull(stats.CpuUsageNanoseconds);
        Assert.Equal(0, stats.OomKills);
    }

    [CgroupV1Fact]
    public void RealV1FreezeStopsTheProcessAndThawResumesIt()
    {
        Assert.NotNull(_manager);
        var procs = _manager.Create(Id, null);
        var p = Sleeper();
        foreach (string f in procs) File.WriteAllText(f, p.Id.ToString());
        _manager.Freeze(Id);
        Assert.True(_manager.IsFrozen(Id));
        // A frozen task shows as D (uninterruptible) in /proc.
        Assert.Equal('D', Native.Processes.State(p.Id));
        _manager.Thaw(Id);
        Assert.False(_manager.IsFrozen(Id));
        Assert.NotEqual('D', Native.Processes.State(p.Id));
    }

    [CgroupV1Fact]
    public void RealV1RemoveKillsLeftoversAndLeavesNoDirectory()
    {
        Assert.NotNull(_manager);
        var procs = _manager.Create(Id, null);
        var p = Sleeper();
        foreach (string f in procs) File.WriteAllText(f, p.Id.ToString());
        _manager.Remove(Id);
        Assert.True(p.WaitForExit(5000));
        Assert.False(_manager.Exists(Id));
        foreach (string root in V1Mounts().Values)
            Assert.False(Directory.Exists(Path.Combine(root, _parent, Id)));
    }

    [CgroupV1Fact]
    public void RealV1RemoveFinishesWhenTheMonitorRemovesTheFreezerCgroupMeanwhile()
    {
        Assert.NotNull(_manager);
        // A host process in the container's pids cgroup alone keeps Remove killing (as a stray joined it), while the
        // container's monitor, ending, removes the other cgroups: here the freezer one goes just before Remove writes it.
        var tree = new FreezerRemovedOnWrite();
        var manager = new CgroupV1Manager(V1Mounts(), tree, parent: _parent);
        manager.Create(Id, null);
        var p = Sleeper();
        File.WriteAllText($"/sys/fs/cgroup/pids/{_parent}/{Id}/cgroup.procs", p.Id.ToString());
        manager.Remove(Id);
        Assert.True(tree.Removed);
        Assert.True(p.WaitForExit(5000));
        Assert.False(manager.Exists(Id));
    }

    private sealed class FreezerRemovedOnWrite : CgroupFileSystem
    {
        public bool Removed { get; private set; }

        public override void Write(string path, string value)
        {
            if (!Removed && path.EndsWith("/freezer.state", StringComparison.Ordinal))
            {
                Directory.Delete(Path.GetDirectoryName(path)!);
                Removed = true;
            }
            base.Write(path, value);
        }
    }
}
