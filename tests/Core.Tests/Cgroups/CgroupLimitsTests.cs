using Containers.Core.Cgroups;
using Containers.Core.Errors;

namespace Containers.Core.Tests.Cgroups;

public sealed class CgroupLimitsTests
{
    [Fact]
    public void NoLimitsGiveNull() => Assert.Null(CgroupLimits.Build(null, null, null, null, null, null));

    [Fact]
    public void CpusBecomeQuotaOverTheDefaultPeriod()
    {
        var r = CgroupLimits.Build(null, 1.5, null, null, null, null)!;
        Assert.Equal(150_000, r.Cpu!.Quota);
        Assert.Equal(100_000UL, r.Cpu.Period);
    }

    [Fact]
    public void MemoryLimitAlsoCapsSwap() =>
        Assert.Equal(64L << 20, CgroupLimits.Build(64L << 20, null, null, null, null, null)!.Memory!.Swap);

    [Theory]
    [InlineData(1024L, null, null, null, "InvalidMemoryLimit")]
    [InlineData(null, 0.0, null, null, "InvalidCpuLimit")]
    [InlineData(null, -1.0, null, null, "InvalidCpuLimit")]
    [InlineData(null, 1000.0, null, null, "InvalidCpuLimit")]
    [InlineData(null, null, 10L, null, "InvalidCpuLimit")]
    [InlineData(null, 1.0, 50000L, null, "InvalidCpuLimit")]
    [InlineData(null, null, null, 0L, "InvalidPidsLimit")]
    public void BadValuesAreRefused(long? memory, double? cpus, long? quota, long? pids, string errorId)
    {
        var e = Assert.Throws<ContainersException>(() => CgroupLimits.Build(memory, cpus, quota, null, null, pids));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Theory]
    [InlineData(2UL, 1UL)]
    [InlineData(1024UL, 39UL)]
    [InlineData(262144UL, 10000UL)]
    public void SharesConvertToWeight(ulong shares, ulong weight) => Assert.Equal(weight, CgroupLimits.SharesToWeight(shares));

    [Fact]
    public void DetectorPicksV1ForTheHybridLayoutAndNoneForRootless()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(file, [
                "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
                "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
                "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
                "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
            ]);
            Assert.IsType<CgroupV1Manager>(CgroupDetector.Detect(file));
            Assert.IsType<NoCgroupManager>(CgroupDetector.Detect(file, rootless: true));
            File.WriteAllLines(file, ["40 22 0:37 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,nsdelegate"]);
            Assert.IsType<CgroupV2Manager>(CgroupDetector.Detect(file));
        }
        finally { File.Delete(file); }
    }
}
