using Containers.Core.Cgroups;
using Containers.Core.Errors;

namespace Containers.Core.Tests.Cgroups;

/// <summary>
/// The v2 manager against a FAKE tree: a temp directory shaped like a cgroup2 mount, because this host
/// has no v2 controllers (its cgroup2 mount carries only hugetlb). The kernel side (control files that
/// appear on mkdir, rmdir of a non-empty-looking dir) is played by <see cref="FakeTree"/>.
/// </summary>
public sealed class CgroupV2FakeTreeTests : IDisposable
{
    internal sealed class FakeTree : CgroupFileSystem
    {
        public override void CreateDirectory(string path)
        {
            bool existed = Directory.Exists(path);
            base.CreateDirectory(path);
            if (existed) return;
            // What the kernel creates in a new cgroup (those that matter here).
            foreach (var (name, value) in new[] { ("cgroup.procs", ""), ("cgroup.controllers", "cpu memory pids io"), ("cgroup.subtree_control", ""),
                ("cgroup.events", "populated 0\nfrozen 0\n"), ("cgroup.freeze", "0"), ("memory.max", "max"), ("memory.swap.max", "max"),
                ("memory.current", "0"), ("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"), ("cpu.max", "max 100000"), ("cpu.weight", "100"),
                ("cpu.stat", "usage_usec 0\n"), ("pids.max", "max"), ("pids.current", "0"), ("io.stat", "") })
                File.WriteAllText(Path.Combine(path, name), value);
        }

        public override void RemoveDirectory(string path)
        {
            // rmdir of a cgroup that still has a child cgroup is EBUSY.
            if (Directory.EnumerateDirectories(path).Any()) throw new IOException("Device or resource busy: " + path);
            Directory.Delete(path, recursive: true);
        }

        /// <summary>Runs before a container's cgroup is made: another process's removal of the shared parent, for instance.</summary>
        public Action<string>? BeforeMakeDirectory { get; set; }

        public override bool MakeDirectory(string path)
        {
            BeforeMakeDirectory?.Invoke(path);
            if (!Directory.Exists(Path.GetDirectoryName(path))) throw new DirectoryNotFoundException(path);
            bool made = !Directory.Exists(path);
            CreateDirectory(path);
            return made;
        }

        /// <summary>Device programs the manager attached, by directory (the kernel side is DeviceFilterRealTests').</summary>
        public Dictionary<string, ulong[]> Programs { get; } = [];

        public override void AttachDeviceProgram(string dir, ulong[] program) => Programs[dir] = program;

        public override void Write(string path, string value)
        {
            if (!File.Exists(path)) throw new FileNotFoundException("no such control file", path);
            File.WriteAllText(path, value);
            // The kernel answers a freeze request through cgroup.events.
            if (Path.GetFileName(path) == "cgroup.freeze")
                File.WriteAllText(Path.Combine(Path.GetDirectoryName(path)!, "cgroup.events"), $"populated 0\nfrozen {value.Trim()}\n");
            if (Path.GetFileName(path) == "cgroup.subtree_control")
                File.WriteAllText(path, string.Join(' ', value.Split(' ').Select(v => v.TrimStart('+'))));
        }
    }

    private readonly string _root = Directory.CreateTempSubdirectory("cgv2-fake-").FullName;
    private readonly FakeTree _fs = new();
    private readonly CgroupV2Manager _manager;

    public CgroupV2FakeTreeTests()
    {
        File.WriteAllText(Path.Combine(_root, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids");
        File.WriteAllText(Path.Combine(_root, "cgroup.subtree_control"), "");
        _manager = new CgroupV2Manager(_root, _fs);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private const string Id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void FakeTreeParentRemovedBeforeTheChildIsMadeIsMadeAgainWithItsControllers()
    {
        string parent = Path.Combine(_root, "pscontainers");
        int removals = 0;
        // The last container of another process goes between our mkdir of the parent and of our cgroup.
        _fs.BeforeMakeDirectory = _ =>
        {
            if (removals++ == 0) Assert.True(_fs.TryRemoveEmpty(parent));
        };
        _manager.Create(Id, CgroupLimits.Build(64L << 20, null, null, null, null, null));
        Assert.Equal(2, removals);
        Assert.Equal((64L << 20).ToString(), File.ReadAllText(Path.Combine(parent, Id, "memory.max")));
        Assert.Contains("memory", File.ReadAllText(Path.Combine(parent, "cgroup.subtree_control")).Split(' '));
    }

    [Fact]
    public void FakeTreeParentStaysWhileAContainerIsInItAndGoesWithTheLast()
    {
        const string other = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
        string parent = Path.Combine(_root, "pscontainers");
        _manager.Create(Id, null);
        _manager.Create(other, null);
        _manager.Remove(Id);
        _manager.RemoveParentIfEmpty();
        Assert.True(Directory.Exists(Path.Combine(parent, other)));
        _manager.Remove(other);
        _manager.RemoveParentIfEmpty();
        Assert.False(Directory.Exists(parent));
        _manager.RemoveParentIfEmpty(); // gone already: nothing to do, no error
    }

    [Fact]
    public void FakeTreeCreateWritesLimitsInV2FilesAndEnablesControllers()
    {
        var limits = CgroupLimits.Build(64L << 20, 0.5, null, null, 1024, 32);
        var procs = _manager.Create(Id, limits);

        string dir = Path.Combine(_root, "pscontainers", Id);
        Assert.Equal([Path.Combine(dir, "cgroup.procs")], procs);
        Assert.Equal((64L << 20).ToString(), File.ReadAllText(Path.Combine(dir, "memory.max")));
        Assert.Equal("0", File.ReadAllText(Path.Combine(dir, "memory.swap.max")));
        Assert.Equal("50000 100000", File.ReadAllText(Path.Combine(dir, "cpu.max")));
        Assert.Equal(CgroupLimits.SharesToWeight(1024).ToString(), File.ReadAllText(Path.Combine(dir, "cpu.weight")));
        Assert.Equal("32", File.ReadAllText(Path.Combine(dir, "pids.max")));
        // The root offers hugetlb and cpuset too; only the four we need are enabled.
        Assert.Equal(["cpu", "io", "memory", "pids"], File.ReadAllText(Path.Combine(_root, "cgroup.subtree_control")).Split(' ').Order());
    }

    [Fact]
    public void FakeTreeStatsParseCpuMemoryPidsIoAndOom()
    {
        _manager.Create(Id, null);
        string dir = Path.Combine(_root, "pscontainers", Id);
        File.WriteAllText(Path.Combine(dir, "cpu.stat"), "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
        File.WriteAllText(Path.Combine(dir, "memory.current"), "4096\n");
        File.WriteAllText(Path.Combine(dir, "memory.max"), "8388608\n");
        File.WriteAllText(Path.Combine(dir, "pids.current"), "3\n");
        File.WriteAllText(Path.Combine(dir, "io.stat"), "8:0 rbytes=100 wbytes=20 rios=1 wios=1\n8:16 rbytes=5 wbytes=7 rios=1 wios=1\n");
        File.WriteAllText(Path.Combine(dir, "memory.events"), "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n");
        File.WriteAllText(Path.Combine(dir, "cgroup.procs"), "101\n102\n103\n");

        var s = _manager.ReadStats(Id);
        Assert.Equal(2_500_000UL, s.CpuUsageNanoseconds);
        Assert.Equal(4096, s.MemoryUsageBytes);
        Assert.Equal(8388608, s.MemoryLimitBytes);
        Assert.Equal(3, s.Pids);
        Assert.Null(s.PidsLimit);
        Assert.Equal(105UL, s.IoReadBytes);
        Assert.Equal(27UL, s.IoWriteBytes);
        Assert.Equal(2, s.OomKills);
        Assert.Equal([101, 102, 103], _manager.ListPids(Id));
    }

    [Fact]
    public void FakeTreeFreezeAndThawFollowCgroupEvents()
    {
        _manager.Create(Id, null);
        Assert.False(_manager.IsFrozen(Id));
        _manager.Freeze(Id);
        Assert.True(_manager.IsFrozen(Id));
        _manager.Thaw(Id);
        Assert.False(_manager.IsFrozen(Id));
    }

    [Fact]
    public void FakeTreeRemoveDeletesTheCgroupAndIsIdempotent()
    {
        _manager.Create(Id, null);
        Assert.True(_manager.Exists(Id));
        _manager.Remove(Id);
        Assert.False(_manager.Exists(Id));
        _manager.Remove(Id);
        Assert.Throws<ContainersException>(() => _manager.Freeze(Id));
    }

    [Fact]
    public void FakeTreeCreateAttachesTheDefaultDeviceProgramAndAGivenList()
    {
        _manager.Create(Id, null);
        string dir = Path.Combine(_root, "pscontainers", Id);
        Assert.Equal(DeviceFilterProgram.Build(DeviceRules.Default), _fs.Programs[dir]);
        _manager.Remove(Id);
        var rules = DeviceRules.WithGrants([new Containers.Core.Runtime.Plan.LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "rw" }]);
        _manager.Create(Id, new Containers.Core.Runtime.Plan.LinuxResources { Devices = rules });
        Assert.Equal(DeviceFilterProgram.Build(rules), _fs.Programs[dir]);
        Assert.NotEqual(DeviceFilterProgram.Build(DeviceRules.Default), _fs.Programs[dir]);
    }
}
