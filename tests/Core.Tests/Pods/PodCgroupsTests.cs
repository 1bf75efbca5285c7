using Containers.Core.Cgroups;
using Containers.Core.Runtime;
using Containers.Core.Tests.Cgroups;

namespace Containers.Core.Tests.Pods;

/// <summary>
/// A pod's containers' cgroups under its cgroup parent, by the container's record: against a cgroup v2 tree shaped like
/// cgroupfs (the v1 layout is checked for real by Pods.Tests.ps1).
/// </summary>
public sealed class PodCgroupsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pscontainers-podcg-").FullName;
    private readonly ContainerStore _store;
    private readonly PodCgroups _cgroups;
    private readonly string _tree;
    private readonly string _podId = NameGenerator.NewId();

    public PodCgroupsTests()
    {
        _tree = Path.Combine(_root, "cgroup");
        Directory.CreateDirectory(_tree);
        File.WriteAllText(Path.Combine(_tree, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids");
        File.WriteAllText(Path.Combine(_tree, "cgroup.subtree_control"), "");
        _store = new ContainerStore(Path.Combine(_root, "containers"));
        _cgroups = new PodCgroups(new CgroupV2Manager(_tree, new CgroupV2FakeTreeTests.FakeTree()), _store);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Record(string? podId)
    {
        var r = new ContainerRecord { Id = NameGenerator.NewId(), Name = "c" + Guid.NewGuid().ToString("N")[..6], PodId = podId };
        _store.Write(r);
        return r.Id;
    }

    [Fact]
    public void APodsContainerGetsItsCgroupUnderThePodsParentWithItsLimits()
    {
        string member = Record(_podId), alone = Record(null);
        var procs = _cgroups.Create(member, CgroupLimits.Build(64L << 20, null, null, null, null, 16));
        _cgroups.Create(alone, null);

        string parent = Path.Combine(_tree, "pscontainers", "pod-" + _podId);
        Assert.Equal([Path.Combine(parent, member, "cgroup.procs")], procs);
        Assert.Equal((64L << 20).ToString(), File.ReadAllText(Path.Combine(parent, member, "memory.max")));
        Assert.Equal("16", File.ReadAllText(Path.Combine(parent, member, "pids.max")));
        // The pod's level passes the controllers down to its containers, as the store's level does.
        Assert.Equal(["cpu", "io", "memory", "pids"], File.ReadAllText(Path.Combine(parent, "cgroup.subtree_control")).Split(' ').Order());
        Assert.True(Directory.Exists(Path.Combine(_tree, "pscontainers", alone)));
        Assert.True(_cgroups.Exists(member));
        Assert.True(_cgroups.ParentExists(_podId));
        Assert.Equal(new[] { alone, member }.Order(), _cgroups.ListContainerIds().Order());
    }

    [Fact]
    public void RemovingTheMembersAndThenTheParentLeavesNothing()
    {
        string a = Record(_podId), b = Record(_podId);
        _cgroups.Create(a, null);
        _cgroups.Create(b, null);
        _cgroups.Remove(a);
        Assert.Equal([b], _cgroups.ListContainerIds());
        _cgroups.Remove(b);
        _cgroups.RemoveParent(_podId);
        Assert.False(_cgroups.ParentExists(_podId));
        Assert.Empty(Directory.GetDirectories(Path.Combine(_tree, "pscontainers")));
        Assert.Empty(_cgroups.ListContainerIds());
    }
}
