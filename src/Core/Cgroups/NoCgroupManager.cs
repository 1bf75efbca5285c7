using Containers.Core.Runtime.Plan;

namespace Containers.Core.Cgroups;

/// <summary>No cgroup at all: rootless on a cgroup v1 host, where an ordinary user may not create cgroups.</summary>
internal sealed class NoCgroupManager(string reason) : ICgroupManager
{
    /// <summary>Why containers run without a cgroup (shown as a warning).</summary>
    public string Reason { get; } = reason;
    public string Version => "none";
    public bool Enabled => false;
    public IReadOnlyList<string> Create(string containerId, LinuxResources? resources) => [];
    public bool Exists(string containerId) => false;
    public IReadOnlySet<string> ListContainerIds() => new HashSet<string>();
    public IReadOnlyList<string> ProcsFiles(string containerId) => [];
    public IReadOnlyList<int> ListPids(string containerId) => [];
    public CgroupStats ReadStats(string containerId) => new();
    public void Freeze(string containerId) => throw Unsupported(containerId);
    public void Thaw(string containerId) => throw Unsupported(containerId);
    public bool IsFrozen(string containerId) => false;
    public long OomKillCount(string containerId) => 0;
    public void Remove(string containerId) { }
    public void RemoveParentIfEmpty() { }

    private Errors.ContainersException Unsupported(string id) =>
        new("FreezerUnavailable", Errors.ErrorKind.NotSupported, $"Container {id} has no cgroup: {Reason}", id);
}
