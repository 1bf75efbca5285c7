using System.Text.Json.Serialization;

namespace Containers.Core.Runtime;

/// <summary>
/// What New-Container decided, persisted as <c>container.json</c> in the container's directory. Written
/// once at create (atomically); the live state is Init's state file beside it.
/// </summary>
internal sealed class ContainerRecord
{
    public int Version { get; set; } = 1;
    /// <summary>64 lowercase hex digits.</summary>
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>The image reference as the user gave it (or the image's first name).</summary>
    public string Image { get; set; } = "";
    public string ImageId { get; set; } = "";
    public DateTimeOffset Created { get; set; }
    /// <summary>The full argv of the container's process (entrypoint + command).</summary>
    public List<string> Command { get; set; } = [];
    public List<string> Env { get; set; } = [];
    public string WorkingDir { get; set; } = "/";
    /// <summary>The user as given (name, uid, user:group) and as resolved.</summary>
    public string? User { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public string Hostname { get; set; } = "";
    public Dictionary<string, string> Labels { get; set; } = [];
    public List<ContainerMount> Mounts { get; set; } = [];
    public ContainerResources Resources { get; set; } = new();
    /// <summary><c>none</c>, <c>host</c>, <c>private</c>, <c>container:NAME</c>, or the CNI networks' names joined by commas.</summary>
    public string Network { get; set; } = "private";
    /// <summary>CNI networking (null unless the container joins CNI networks).</summary>
    public ContainerNetworkSettings? NetworkSettings { get; set; }
    /// <summary>-Publish specs of a rootless container on pasta or slirp4netns (the helper forwards them; null otherwise).</summary>
    public List<string>? RootlessPublish { get; set; }
    public bool Rootless { get; set; }
    public bool ReadOnlyRootfs { get; set; }
    public bool Tty { get; set; }
    public bool Interactive { get; set; }
    /// <summary>The signal Stop-Container sends first (from the image's StopSignal, default SIGTERM).</summary>
    public int StopSignal { get; set; } = 15;
    /// <summary>Unpacked image layers, bottom → top (overlay lower dirs).</summary>
    public List<string> LayerDirectories { get; set; } = [];
    /// <summary>Host files bind-mounted at /etc/hosts, /etc/hostname and /etc/resolv.conf (none when -NoHosts for hosts).</summary>
    public List<string> GeneratedFiles { get; set; } = [];
    /// <summary>The /etc mount points layer variant its starts stack (null: none, the start makes the targets through the overlay).</summary>
    public EtcMountPoints? EtcMountPoints { get; set; }
    public Plan.ContainerRestartPolicy RestartPolicy { get; set; }
    /// <summary>OnFailure: at most this many restarts (0: no limit).</summary>
    public int MaxRestarts { get; set; }
    /// <summary>The health check (the image's HEALTHCHECK unless New-Container gave one); null: none.</summary>
    public ContainerHealthcheck? Healthcheck { get; set; }
    /// <summary>The options it was created with (null for containers made before they were kept).</summary>
    public ContainerCreateOptions? Definition { get; set; }
    /// <summary>The pod the container belongs to (its id and name; null: none). Its cgroup sits under the pod's cgroup parent.</summary>
    public string? PodId { get; set; }
    public string? PodName { get; set; }
    /// <summary>The pod's infra container (it holds the pod's namespaces; only Remove-ContainerPod removes it).</summary>
    public bool PodInfra { get; set; }
    /// <summary>The namespaces a container of a pod shares with it (<c>ipc</c>, <c>net</c>, <c>uts</c>); null for the infra and others.</summary>
    public List<string>? PodShare { get; set; }
}

/// <summary>A user mount of a container.</summary>
public sealed class ContainerMount
{
    /// <summary><c>bind</c>, <c>volume</c> (a bind of the named volume's data), <c>tmpfs</c> or <c>secret</c>.</summary>
    public string Type { get; set; } = "bind";
    /// <summary>Host path (bind, secret); null for tmpfs.</summary>
    public string? Source { get; set; }
    public string Destination { get; set; } = "";
    public bool ReadOnly { get; set; }
    /// <summary>tmpfs options (size=64m ...).</summary>
    public string? Options { get; set; }
    /// <summary>The named volume (type volume); its data directory is <see cref="Source"/>.</summary>
    public string? Volume { get; set; }

    public override string ToString() =>
        (Volume ?? Source ?? Type) + ":" + Destination + (ReadOnly ? ":ro" : "");
}

/// <summary>Resource limits of a container, as asked (null = unlimited).</summary>
public sealed class ContainerResources
{
    public long? MemoryBytes { get; set; }
    public long? CpuQuota { get; set; }
    public ulong? CpuPeriod { get; set; }
    public ulong? CpuShares { get; set; }
    public long? PidsLimit { get; set; }
    /// <summary>Host devices granted with -Device (null when none): besides them, only the standard allow-list.</summary>
    public List<ContainerDevice>? Devices { get; set; }
    /// <summary>-Privileged: every device may be made, read and written.</summary>
    public bool AllDevices { get; set; }

    /// <summary>CPUs the quota amounts to (quota/period), when a quota is set.</summary>
    [JsonIgnore] public double? Cpus => CpuQuota is { } q && q > 0 ? (double)q / (CpuPeriod ?? 100_000) : null;

    public override string ToString()
    {
        var parts = new List<string>();
        if (MemoryBytes is { } m) parts.Add($"memory={m / (1024 * 1024)}MiB");
        if (Cpus is { } c) parts.Add("cpus=" + c.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture));
        if (CpuShares is { } s) parts.Add("shares=" + s);
        if (PidsLimit is { } p) parts.Add("pids=" + p);
        if (Devices is { Count: > 0 } d) parts.Add("devices=" + string.Join(',', d.Select(x => x.Path)));
        if (AllDevices) parts.Add("devices=all");
        return parts.Count == 0 ? "unlimited" : string.Join(' ', parts);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(ContainerRecord))]
internal sealed partial class RecordJsonContext : JsonSerializerContext
{
}
