using Containers.Core.Diagnostics;

namespace Containers.Core.Tests.Diagnostics;

public sealed class DiagnosticsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pscontainers-diag-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReadsAHybridV1LayoutAsV1WithItsControllers()
    {
        string unified = Path.Combine(_dir, "unified");
        Directory.CreateDirectory(unified);
        File.WriteAllText(Path.Combine(unified, "cgroup.controllers"), "hugetlb\n");
        string mountinfo = Path.Combine(_dir, "mountinfo");
        File.WriteAllLines(mountinfo,
        [
            "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory",
            "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:11 - cgroup cgroup rw,cpu,cpuacct",
            "32 25 0:28 / /sys/fs/cgroup/pids rw shared:12 - cgroup cgroup rw,pids",
            $"33 25 0:29 / {unified} rw shared:13 - cgroup2 cgroup2 rw,nsdelegate",
            "34 25 0:30 / /proc rw - proc proc rw",
        ]);
        var (version, controllers) = CgroupLayout.Read(mountinfo);
        Assert.Equal("v1", version);
        Assert.Equal(["cpu", "cpuacct", "memory", "pids", "hugetlb (v2)"], controllers);
    }

    [Fact]
    public void ReadsAUnifiedLayoutAsV2()
    {
        File.WriteAllText(Path.Combine(_dir, "cgroup.controllers"), "cpuset cpu io memory pids\n");
        string mountinfo = Path.Combine(_dir, "mountinfo");
        File.WriteAllText(mountinfo, $"29 23 0:26 / {_dir} rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
        var (version, controllers) = CgroupLayout.Read(mountinfo);
        Assert.Equal("v2", version);
        Assert.Equal(["cpu", "cpuset", "io", "memory", "pids"], controllers);
    }

    [Fact]
    public void FindsAUsersSubordinateRangesByNameOrUid()
    {
        string file = Path.Combine(_dir, "subuid");
        File.WriteAllLines(file, ["# comment", "ann:100000:65536", "1001:200000:1000", "bob:300000:65536", "ann:400000:10", "broken"]);
        Assert.Equal([new IdRange(100000, 65536), new IdRange(400000, 10)], SubordinateIds.Read(file, "ann", 1000));
        Assert.Equal([new IdRange(200000, 1000)], SubordinateIds.Read(file, "carl", 1001));
        Assert.Empty(SubordinateIds.Read(file, "nobody", 65534));
        Assert.Equal("100000-165535", new IdRange(100000, 65536).ToString());
    }
}
