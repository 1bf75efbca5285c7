using Containers.Core.Runtime;

namespace Containers.Core.Kube;

/// <summary>What a Kubernetes YAML asks for, in the module's terms: named volumes, ConfigMap files and pods of containers.</summary>
internal sealed class KubePlan
{
    /// <summary>PersistentVolumeClaims (and ConfigMap and emptyDir volumes): named volumes made when missing.</summary>
    public List<KubeVolumePlan> Volumes { get; } = [];
    public List<KubePodPlan> Pods { get; } = [];
    /// <summary>hostPath directories of type DirectoryOrCreate that do not exist yet.</summary>
    public List<string> HostDirectories { get; } = [];
    public List<KubeWarning> Warnings { get; } = [];

    public KubeVolumePlan AddVolume(string name, KubeVolumeKind kind)
    {
        if (Volumes.FirstOrDefault(v => v.Name == name) is { } existing) return existing;
        var v = new KubeVolumePlan(name, kind);
        Volumes.Add(v);
        return v;
    }
}

internal enum KubeVolumeKind
{
    /// <summary>A PersistentVolumeClaim: kept by -Down unless volumes are asked for.</summary>
    Claim,
    /// <summary>A ConfigMap's files, written into a volume named after it (as podman does).</summary>
    ConfigMap,
    /// <summary>An emptyDir: lives as long as the pod, so -Down removes it.</summary>
    EmptyDir,
}

/// <summary>A named volume to make, with the files to write into it (ConfigMaps).</summary>
internal sealed class KubeVolumePlan(string name, KubeVolumeKind kind)
{
    public string Name { get; } = name;
    public KubeVolumeKind Kind { get; } = kind;
    /// <summary>Relative path in the volume → content.</summary>
    public Dictionary<string, string> Files { get; } = new(StringComparer.Ordinal);
}

/// <summary>One pod of the YAML (a Pod, or the one replica of a Deployment).</summary>
internal sealed class KubePodPlan(string name, string kind)
{
    public string Name { get; } = name;
    /// <summary><c>Pod</c> or <c>Deployment</c>.</summary>
    public string Kind { get; } = kind;
    public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);
    /// <summary>metadata.annotations not yet understood; the containers take theirs (<c>key/container</c>), the rest are warned about.</summary>
    public Dictionary<string, string> Annotations { get; } = new(StringComparer.Ordinal);
    public string? Hostname { get; set; }
    /// <summary>-Publish specs of all its containers (the pod's network carries them).</summary>
    public List<string> Publish { get; } = [];
    /// <summary><c>host</c> for hostNetwork: true; null for the caller's network.</summary>
    public string? Network { get; set; }
    /// <summary>hostAliases (<c>name:ip</c>) and dnsConfig nameservers.</summary>
    public List<string> AddHost { get; } = [];
    public List<string> Dns { get; } = [];
    public List<KubeContainerPlan> Containers { get; } = [];
}

/// <summary>One container of a pod: the options New-Container would get, and how to find its image.</summary>
internal sealed class KubeContainerPlan(string yamlName, ContainerCreateOptions options, KubePullPolicy pull)
{
    /// <summary>Its name in the YAML (the container here is named <c>pod-name</c>, as podman names it).</summary>
    public string YamlName { get; } = yamlName;
    public ContainerCreateOptions Options { get; } = options;
    public KubePullPolicy Pull { get; } = pull;
}

/// <summary>imagePullPolicy.</summary>
internal enum KubePullPolicy
{
    IfNotPresent,
    Always,
    Never,
}
