using Containers.Core.Runtime;

namespace Containers.Core.Pods;

/// <summary>A pod's state from its containers' (the infra's included), as <c>podman pod ps</c> reports it.</summary>
public enum PodStatus
{
    /// <summary>No container has run yet.</summary>
    Created,
    /// <summary>Every container runs.</summary>
    Running,
    /// <summary>Some containers run, others do not.</summary>
    Degraded,
    /// <summary>Every container is paused.</summary>
    Paused,
    /// <summary>None runs; some have never been started.</summary>
    Stopped,
    /// <summary>Every container has exited.</summary>
    Exited,
}

/// <summary>A pod as Get-ContainerPod shows it: its record joined with its containers' states.</summary>
public sealed class ContainerPod
{
    public string Id { get; init; } = "";
    /// <summary>The first 12 hex digits of <see cref="Id"/>.</summary>
    public string ShortId => Id.Length > 12 ? Id[..12] : Id;
    public string Name { get; init; } = "";
    public PodStatus Status { get; init; }
    public DateTime Created { get; init; }
    /// <summary>The infra container, which holds the shared namespaces, the network and the published ports.</summary>
    public string InfraId { get; init; } = "";
    public string InfraName { get; init; } = "";
    public string Hostname { get; init; } = "";
    /// <summary>The namespaces the pod's containers share (ipc, net, uts).</summary>
    public IReadOnlyList<string> Share { get; init; } = [];
    /// <summary>The infra's network (none, private, host, or CNI network names).</summary>
    public string Network { get; init; } = "";
    public IReadOnlyList<string> Ports { get; init; } = [];
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>The names of the pod's containers, the infra not included.</summary>
    public IReadOnlyList<string> Containers { get; init; } = [];
    /// <summary>How many containers the pod has, the infra included (podman's "# OF CONTAINERS").</summary>
    public int NumberOfContainers { get; init; }

    /// <summary>The name: a pod given where a pod name is expected (<c>New-Container -Pod $pod</c>) binds as its name.</summary>
    public override string ToString() => Name;

    /// <summary>podman's rule over the states of every container of the pod (the infra's included).</summary>
    internal static PodStatus StatusOf(IReadOnlyCollection<ContainerState> states)
    {
        int running = states.Count(s => s == ContainerState.Running), paused = states.Count(s => s == ContainerState.Paused);
        int exited = states.Count(s => s is ContainerState.Exited or ContainerState.Restarting);
        if (states.Count == 0) return PodStatus.Created;
        if (running == states.Count) return PodStatus.Running;
        if (running > 0) return PodStatus.Degraded;
        if (paused == states.Count) return PodStatus.Paused;
        if (exited == states.Count) return PodStatus.Exited;
        if (exited > 0) return PodStatus.Stopped;
        return paused > 0 ? PodStatus.Degraded : PodStatus.Created;
    }
}
