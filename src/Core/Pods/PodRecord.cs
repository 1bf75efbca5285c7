using System.Text.Json.Serialization;
using Containers.Core.Runtime;

namespace Containers.Core.Pods;

/// <summary>
/// What New-ContainerPod decided, persisted as <c>pods/&lt;id&gt;/pod.json</c> under the data root. Written once; the pod's
/// containers are the container records that name it (<see cref="ContainerRecord.PodId"/>), so removing one of them
/// needs no change here.
/// </summary>
internal sealed class PodRecord
{
    public int Version { get; set; } = 1;
    /// <summary>64 lowercase hex digits.</summary>
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public DateTimeOffset Created { get; set; }
    /// <summary>The infra container: it holds the shared namespaces and the pod's network and published ports.</summary>
    public string InfraId { get; set; } = "";
    public string InfraName { get; set; } = "";
    public string Hostname { get; set; } = "";
    public Dictionary<string, string> Labels { get; set; } = [];
    /// <summary>The namespaces the pod's containers share: <c>ipc</c>, <c>net</c>, <c>uts</c>.</summary>
    public List<string> Share { get; set; } = [];
    /// <summary>As New-ContainerPod was given them (the infra's record has what they resolved to).</summary>
    public string? Network { get; set; }
    public List<string> Publish { get; set; } = [];
    public List<string> AddHost { get; set; } = [];
    public List<string> Dns { get; set; } = [];

    public PodMembership Membership() => new(Id, Name, InfraName, Share, Hostname, AddHost, Dns);

    public override string ToString() => $"{Name} ({Id[..Math.Min(8, Id.Length)]})";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(PodRecord))]
internal sealed partial class PodJsonContext : JsonSerializerContext
{
}
