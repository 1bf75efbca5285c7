using Containers.Core.Runtime.Plan;

namespace Containers.Core.Cgroups;

/// <summary>
/// Creates, limits, inspects and removes the cgroup of one container. Every container lives under
/// <c>pscontainers/&lt;id&gt;</c> in each hierarchy. Implementations: <see cref="CgroupV1Manager"/>
/// (one directory per controller hierarchy), <see cref="CgroupV2Manager"/> (the unified tree) and
/// <see cref="NoCgroupManager"/> (rootless on v1: no limits).
/// </summary>
internal interface ICgroupManager
{
    /// <summary>"v1", "v2" or "none".</summary>
    string Version { get; }

    /// <summary>False when containers run without a cgroup (and therefore without limits).</summary>
    bool Enabled { get; }

    /// <summary>Creates the container's cgroup and applies the limits; returns the files Init writes the pid into. A cgroup
    /// found there already (left by a start or a monitor that died) is removed first, with what runs in it.</summary>
    IReadOnlyList<string> Create(string containerId, LinuxResources? resources);

    /// <summary>Whether the container's cgroup exists.</summary>
    bool Exists(string containerId);

    /// <summary>
    /// The ids of the containers that have a cgroup in any hierarchy, each hierarchy's parent directory listed once:
    /// a listing of 10,000 containers asks this once instead of <see cref="Exists"/> per container and hierarchy.
    /// </summary>
    IReadOnlySet<string> ListContainerIds();

    /// <summary>The files Init writes the pid into (same as <see cref="Create"/> returned).</summary>
    IReadOnlyList<string> ProcsFiles(string containerId);

    /// <summary>The host pids in the container's cgroup (empty when it does not exist).</summary>
    IReadOnlyList<int> ListPids(string containerId);

    /// <summary>CPU, memory, pids and IO counters.</summary>
    CgroupStats ReadStats(string containerId);

    /// <summary>Freezes every process of the container and waits until the kernel reports it frozen.</summary>
    void Freeze(string containerId);

    /// <summary>Thaws a frozen container.</summary>
    void Thaw(string containerId);

    /// <summary>True when the cgroup is frozen.</summary>
    bool IsFrozen(string containerId);

    /// <summary>How many processes the kernel OOM-killed in this cgroup.</summary>
    long OomKillCount(string containerId);

    /// <summary>
    /// Kills whatever is left in the cgroup (SIGKILL), then removes it. No-op when it does not exist. Every removal (this,
    /// the monitor's last act, a failed create's) goes in the order of <see cref="ProcsFiles"/> and stops at a directory it
    /// cannot remove, so the last one gone means all are (<see cref="Runtime.CgroupLifetime.Released"/>).
    /// </summary>
    void Remove(string containerId);

    /// <summary>
    /// Removes the shared parent (<c>pscontainers</c>) in each hierarchy when no container's cgroup is left in it. No
    /// lock: an rmdir that a live child refuses (EBUSY) leaves it, and <see cref="Create"/> makes it again when another
    /// process removed it between its own mkdir of the parent and of the child. Never fails.
    /// </summary>
    void RemoveParentIfEmpty();
}

/// <summary>Counters read from a container's cgroup; null where the controller is missing.</summary>
internal sealed record CgroupStats
{
    /// <summary>Total CPU time consumed, in nanoseconds.</summary>
    public ulong? CpuUsageNanoseconds { get; init; }
    public long? MemoryUsageBytes { get; init; }
    /// <summary>The memory limit; null when unlimited.</summary>
    public long? MemoryLimitBytes { get; init; }
    public long? Pids { get; init; }
    /// <summary>The pids limit; null when unlimited.</summary>
    public long? PidsLimit { get; init; }
    public ulong? IoReadBytes { get; init; }
    public ulong? IoWriteBytes { get; init; }
    public long OomKills { get; init; }
}
