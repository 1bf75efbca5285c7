using System.Collections.Concurrent;
using Containers.Core.Cgroups;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// The cgroups of containers in pods: a container of a pod has its cgroup under the pod's cgroup parent
/// (<c>pscontainers/pod-&lt;pod id&gt;/&lt;id&gt;</c>, as podman puts a pod's containers under the pod's cgroup); every other
/// container keeps <c>pscontainers/&lt;id&gt;</c>. Callers keep using container ids: the record says where the cgroup is.
/// </summary>
internal sealed class PodCgroups(ICgroupManager inner, ContainerStore store) : ICgroupManager
{
    /// <summary>The parent lets every device through: each container's own cgroup holds its device list.</summary>
    private static readonly LinuxResources ParentResources = new() { Devices = [new LinuxDeviceCgroup { Allow = true, Access = "rwm" }] };

    public string Version => inner.Version;
    public bool Enabled => inner.Enabled;

    // A container's pod is set when it is created and never changes, so its record is read once per id, not on every
    // cgroup call of a start, stop or listing. An id without a record (yet) is not remembered.
    private readonly ConcurrentDictionary<string, string> _keys = new(StringComparer.Ordinal);

    private string Key(string id)
    {
        if (_keys.TryGetValue(id, out string? key)) return key;
        if (store.TryRead(id) is not { } r) return id;
        return _keys[id] = r.PodId is { } pod ? PodMembership.CgroupParent(pod) + "/" + id : id;
    }

    public IReadOnlyList<string> Create(string containerId, LinuxResources? resources)
    {
        string key = Key(containerId);
        string parent = Path.GetDirectoryName(key) ?? "";
        if (parent.Length > 0 && !inner.Exists(parent)) inner.Create(parent, ParentResources);
        return inner.Create(key, resources);
    }

    public bool Exists(string containerId) => inner.Exists(Key(containerId));

    /// <summary>The plain ids, and the members of the pods whose cgroup parents exist (looked up only when a pod has one).</summary>
    public IReadOnlySet<string> ListContainerIds()
    {
        var ids = inner.ListContainerIds();
        var parents = ids.Where(i => i.StartsWith("pod-", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        if (parents.Count == 0) return ids;
        var all = new HashSet<string>(ids.Except(parents), StringComparer.Ordinal);
        foreach (var r in store.List())
            if (r.PodId is { } pod && parents.Contains(PodMembership.CgroupParent(pod)) && inner.Exists(Key(r.Id))) all.Add(r.Id);
        return all;
    }

    public IReadOnlyList<string> ProcsFiles(string containerId) => inner.ProcsFiles(Key(containerId));
    public IReadOnlyList<int> ListPids(string containerId) => inner.ListPids(Key(containerId));
    public CgroupStats ReadStats(string containerId) => inner.ReadStats(Key(containerId));
    public void Freeze(string containerId) => inner.Freeze(Key(containerId));
    public void Thaw(string containerId) => inner.Thaw(Key(containerId));
    public bool IsFrozen(string containerId) => inner.IsFrozen(Key(containerId));
    public long OomKillCount(string containerId) => inner.OomKillCount(Key(containerId));
    public void Remove(string containerId) => inner.Remove(Key(containerId));
    public void RemoveParentIfEmpty() => inner.RemoveParentIfEmpty();

    /// <summary>Removes a pod's cgroup parent (its containers' cgroups are gone by then).</summary>
    public void RemoveParent(string podId) => inner.Remove(PodMembership.CgroupParent(podId));

    /// <summary>Whether the pod's cgroup parent exists.</summary>
    public bool ParentExists(string podId) => inner.Exists(PodMembership.CgroupParent(podId));
}
