using Containers.Core.Runtime.Plan;
using static Containers.Core.Runtime.Plan.CgroupMountLayout;

namespace Containers.Core.Tests.Runtime;

public class CgroupMountLayoutTests
{
    private static readonly string[] Hybrid =
    [
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
        "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer",
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
        "40 31 0:37 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio",
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
        "50 23 0:40 / /proc rw,relatime - proc proc rw",
    ];

    private static readonly string[] ContainerDirs =
        ["/sys/fs/cgroup/cpu,cpuacct/pscontainers/abc", "/sys/fs/cgroup/memory/pscontainers/abc", "/sys/fs/cgroup/systemd/pscontainers/abc",
            "/sys/fs/cgroup/unified/pscontainers/abc"];

    [Fact]
    public void ReadsCgroupMountsOnly()
    {
        var h = Hierarchies(Hybrid);
        Assert.Equal(["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/blkio", "/sys/fs/cgroup/unified"],
            h.Select(x => x.MountPoint));
        Assert.True(h[^1].Unified);
        Assert.False(h[0].Unified);
    }

    [Fact]
    public void V1BindsTheContainersOwnDirectoriesIntoATmpfsThenMakesItReadOnlyAsRuncDoes()
    {
        var steps = Steps("/sys/fs/cgroup", Hierarchies(Hybrid), ContainerDirs, readOnly: true);
        Assert.Equal(
        [
            new Step(StepKind.Tmpfs, "/sys/fs/cgroup"),
            new Step(StepKind.Bind, "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct/pscontainers/abc"),
            new Step(StepKind.Link, "/sys/fs/cgroup/cpu", "cpu,cpuacct"),
            new Step(StepKind.Link, "/sys/fs/cgroup/cpuacct", "cpu,cpuacct"),
            new Step(StepKind.Bind, "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/pscontainers/abc"),
            new Step(StepKind.Bind, "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/systemd/pscontainers/abc"),
            new Step(StepKind.Readonly, "/sys/fs/cgroup"),
        ], steps);
    }

    [Fact]
    public void NeverShowsAHierarchyTheContainerHasNoCgroupIn()
    {
        // Rootless without delegation: no cgroup at all, so an empty read-only tmpfs rather than the host's tree.
        var steps = Steps("/sys/fs/cgroup", Hierarchies(Hybrid), [], readOnly: true);
        Assert.Equal([new Step(StepKind.Tmpfs, "/sys/fs/cgroup"), new Step(StepKind.Readonly, "/sys/fs/cgroup")], steps);
    }

    [Fact]
    public void V2OnlyIsOneCgroup2Mount()
    {
        var steps = Steps("/sys/fs/cgroup", Hierarchies(["30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw"]), ["/sys/fs/cgroup/pscontainers/abc"], readOnly: true);
        Assert.Equal([new Step(StepKind.Cgroup2, "/sys/fs/cgroup")], steps);
    }

    [Fact]
    public void IsPartOfTheDefaultMounts()
    {
        var cgroup = Assert.Single(RuntimeDefaults.Mounts(), m => m.Type == "cgroup");
        Assert.Equal("/sys/fs/cgroup", cgroup.Destination);
        Assert.Contains("ro", cgroup.Options!);
    }
}
