using Containers.Core.Errors;

namespace Containers.Core.Runtime;

/// <summary>
/// What a container of a pod joins, as the pod store (<c>Core/Pods</c>) resolved it: the pod's id and name, its infra
/// container (whose namespaces the others join), the namespaces shared (<c>net</c>, <c>ipc</c>, <c>uts</c>), and what the
/// pod decides for all of its containers (hostname, extra hosts, DNS servers). Runtime knows pods only through this and
/// <see cref="IPodDirectory"/>, so the pods area sits on top of it.
/// </summary>
internal sealed record PodMembership(string PodId, string PodName, string InfraName, IReadOnlyList<string> Share, string Hostname,
    IReadOnlyList<string> AddHost, IReadOnlyList<string> Dns)
{
    /// <summary>The namespaces a pod may share: the ones Init can join by path.</summary>
    public static readonly string[] Shareable = ["ipc", "net", "uts"];

    public bool Shares(string kind) => Share.Contains(kind, StringComparer.Ordinal);

    /// <summary>The name of a pod's infra container, made from the pod's id: <c>&lt;12 digits of the id&gt;-infra</c>.</summary>
    public static string InfraNameOf(string podId) => podId[..12] + "-infra";

    /// <summary>The pod's cgroup parent, under which its containers' cgroups go (<c>pscontainers/pod-&lt;id&gt;/&lt;container id&gt;</c>).</summary>
    public static string CgroupParent(string podId) => "pod-" + podId;

    /// <summary>
    /// Refuses what the pod decides for its containers when a joining container asks for it too (podman refuses the same):
    /// networking (with a shared network) and the hostname (with a shared UTS namespace).
    /// </summary>
    public void CheckJoining(ContainerCreateOptions o)
    {
        if (Shares("net"))
        {
            string? given = !string.IsNullOrWhiteSpace(o.Network) ? "-Network" : o.Publish.Count > 0 ? "-Publish" : o.PublishAll ? "-PublishAll"
                : o.IPAddress is not null ? "-IPAddress" : o.MacAddress is not null ? "-MacAddress" : o.NetworkAliases.Count > 0 ? "-NetworkAlias"
                : o.Dns.Count > 0 ? "-Dns" : o.AddHost.Count > 0 ? "-AddHost" : null;
            if (given is not null)
                throw new ContainersException("PodNetworkConflict", ErrorKind.InvalidArgument,
                    $"{given} cannot be given to a container of pod '{PodName}': the pod's containers share its network, which the pod defines.", PodName,
                    $"Give {given} to New-ContainerPod, or leave it out here.");
        }
        if (Shares("uts") && !string.IsNullOrEmpty(o.Hostname))
            throw new ContainersException("PodHostnameConflict", ErrorKind.InvalidArgument,
                $"-Hostname cannot be given to a container of pod '{PodName}': the pod's containers share its hostname ({Hostname}).", PodName,
                "Give -Hostname to New-ContainerPod, or leave it out here.");
    }
}

/// <summary>A pod's containers as the container records tell them.</summary>
internal static class PodRecords
{
    /// <summary>The infra container of the pod <paramref name="r"/> belongs to; null for a container of no pod or an infra
    /// itself. One record read: the infra's name follows from the pod's id (<see cref="PodMembership.InfraNameOf"/>).</summary>
    public static ContainerRecord? InfraOf(this ContainerStore store, ContainerRecord r) =>
        r.PodId is null || r.PodInfra ? null
        : store.FindByName(PodMembership.InfraNameOf(r.PodId)) is { PodInfra: true } infra && infra.PodId == r.PodId ? infra : null;
}

/// <summary>The pods a container can join (implemented by the pod store).</summary>
internal interface IPodDirectory
{
    /// <summary>Held while a container joins a pod, and while a pod is created or removed: a pod being removed gains no container.</summary>
    Task<IDisposable> LockAsync(CancellationToken ct);

    /// <summary>The pod by name or id (prefix); PodNotFound when there is none.</summary>
    PodMembership Resolve(string nameOrId);
}
