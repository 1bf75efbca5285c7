using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Cgroups;

/// <summary>Turns the user's -Memory/-Cpus/-CpuQuota/-PidsLimit into checked cgroup resources.</summary>
internal static class CgroupLimits
{
    /// <summary>The CFS period used when only -Cpus is given (100 ms, as docker and podman).</summary>
    public const ulong DefaultPeriod = 100_000;

    /// <summary>Smallest memory limit accepted (6 MiB, as podman).</summary>
    public const long MinimumMemory = 6 * 1024 * 1024;

    /// <summary>Builds the resources; null when no limit was asked for. Throws InvalidMemoryLimit/InvalidCpuLimit/InvalidPidsLimit.</summary>
    public static LinuxResources? Build(long? memoryBytes, double? cpus, long? cpuQuota, ulong? cpuPeriod, ulong? cpuShares, long? pidsLimit)
    {
        var r = new LinuxResources();
        if (memoryBytes is { } mem)
        {
            if (mem < MinimumMemory)
                throw new ContainersException("InvalidMemoryLimit", ErrorKind.InvalidArgument,
                    $"The memory limit {mem} bytes is below the minimum of {MinimumMemory} bytes (6 MiB).", mem,
                    "Give -Memory as bytes or with a unit, e.g. 64MB.");
            // Swap limited to the same value: the container cannot swap past its limit, so it is OOM-killed.
            r.Memory = new LinuxMemory { Limit = mem, Swap = mem };
        }
        if (cpus is { } c)
        {
            if (double.IsNaN(c) || c <= 0 || c > Environment.ProcessorCount)
                throw new ContainersException("InvalidCpuLimit", ErrorKind.InvalidArgument,
                    $"-Cpus {c.ToString(CultureInfo.InvariantCulture)} must be more than 0 and at most the {Environment.ProcessorCount} CPUs of this host.", c);
            if (cpuQuota is not null)
                throw new ContainersException("InvalidCpuLimit", ErrorKind.InvalidArgument, "-Cpus and -CpuQuota cannot be combined.", c);
            r.Cpu = new LinuxCpu { Quota = (long)Math.Round(c * DefaultPeriod), Period = DefaultPeriod };
        }
        if (cpuQuota is { } q)
        {
            ulong period = cpuPeriod ?? DefaultPeriod;
            if (q < 1000 || period < 1000 || period > 1_000_000)
                throw new ContainersException("InvalidCpuLimit", ErrorKind.InvalidArgument,
                    $"-CpuQuota {q} must be at least 1000 microseconds and the period between 1000 and 1000000 microseconds.", q);
            r.Cpu = new LinuxCpu { Quota = q, Period = period };
        }
        if (cpuShares is { } s)
        {
            if (s < 2 || s > 262144)
                throw new ContainersException("InvalidCpuLimit", ErrorKind.InvalidArgument, $"CPU shares {s} must be between 2 and 262144.", s);
            r.Cpu ??= new LinuxCpu();
            r.Cpu.Shares = s;
        }
        if (pidsLimit is { } p)
        {
            if (p < 1)
                throw new ContainersException("InvalidPidsLimit", ErrorKind.InvalidArgument, $"-PidsLimit {p} must be at least 1.", p);
            r.Pids = new LinuxPids { Limit = p };
        }
        return r.Memory is null && r.Cpu is null && r.Pids is null ? null : r;
    }

    /// <summary>cgroup v2 cpu.weight from v1 shares (the conversion runc and crun use).</summary>
    public static ulong SharesToWeight(ulong shares) => shares == 0 ? 100 : 1 + ((shares - 2) * 9999) / 262142;
}
