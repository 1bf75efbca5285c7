namespace Containers.Core.Pods;

/// <summary>Everything New-ContainerPod can be told; what is not given is decided as podman decides it.</summary>
internal sealed class PodCreateOptions
{
    /// <summary>Null: a generated name.</summary>
    public string? Name { get; set; }
    /// <summary>Null: the pod's name (podman's default).</summary>
    public string? Hostname { get; set; }
    public IDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    /// <summary>The infra's network, as New-Container's -Network (null: the same default).</summary>
    public string? Network { get; set; }
    public IReadOnlyList<string> Publish { get; set; } = [];
    public IReadOnlyList<string> AddHost { get; set; } = [];
    public IReadOnlyList<string> Dns { get; set; } = [];
    /// <summary>The namespaces the pod's containers share; null: ipc, net and uts (podman's default).</summary>
    public IReadOnlyList<string>? Share { get; set; }
}
