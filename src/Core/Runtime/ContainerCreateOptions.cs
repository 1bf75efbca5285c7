using System.Text.Json.Serialization;

namespace Containers.Core.Runtime;

/// <summary>
/// Everything New-Container can be told. Null means "the image's default" or "unlimited". Kept in the container's
/// record as its definition (<see cref="ContainerRecord.Definition"/>), which Set-Container compares and
/// Update-Container recreates from.
/// </summary>
internal sealed class ContainerCreateOptions
{
    public string Image { get; set; } = "";
    public string? Name { get; set; }
    /// <summary>Replaces the image's Cmd.</summary>
    public IReadOnlyList<string>? Command { get; set; }
    /// <summary>Replaces the image's Entrypoint (and drops its Cmd unless <see cref="Command"/> is given).</summary>
    public IReadOnlyList<string>? Entrypoint { get; set; }
    /// <summary>Environment overrides; a null value removes the variable.</summary>
    public IDictionary<string, string?> Env { get; set; } = new Dictionary<string, string?>();
    public string? WorkingDir { get; set; }
    public string? User { get; set; }
    public string? Hostname { get; set; }
    public IDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    /// <summary>Bind mounts: <c>/host:/ctr[:ro]</c>.</summary>
    public IReadOnlyList<string> Volumes { get; set; } = [];
    /// <summary>tmpfs mounts: <c>/ctr[:options]</c>.</summary>
    public IReadOnlyList<string> Tmpfs { get; set; } = [];
    /// <summary>Host files or directories mounted read-only under /run/secrets.</summary>
    public IReadOnlyList<string> Secrets { get; set; } = [];
    public bool ReadOnlyRootfs { get; set; }
    public long? MemoryBytes { get; set; }
    public double? Cpus { get; set; }
    public long? CpuQuota { get; set; }
    public ulong? CpuPeriod { get; set; }
    public ulong? CpuShares { get; set; }
    public long? PidsLimit { get; set; }
    /// <summary>Host devices to grant: <c>/dev/host[:/dev/container][:rwm]</c>.</summary>
    public IReadOnlyList<string> Devices { get; set; } = [];
    public IReadOnlyList<string> CapAdd { get; set; } = [];
    public IReadOnlyList<string> CapDrop { get; set; } = [];
    /// <summary>Seccomp profile, no_new_privs, privileged (<c>-SecurityOpt</c>, <c>-Privileged</c>): parsed from
    /// <see cref="SecurityOpt"/> and <see cref="Privileged"/>, which the definition keeps instead.</summary>
    [JsonIgnore] public Security.ContainerSecurity Security { get; set; } = new();
    /// <summary><c>-SecurityOpt</c> as given, profile paths made absolute.</summary>
    public IReadOnlyList<string> SecurityOpt { get; set; } = [];
    public bool Privileged { get; set; }
    public bool Tty { get; set; }
    public bool Interactive { get; set; }
    /// <summary><c>none</c>, <c>host</c>, <c>private</c> (own netns with loopback only), <c>container:NAME</c>, or CNI
    /// network names (comma-separated); null: containers.conf's default_network (root), else <c>private</c>.</summary>
    public string? Network { get; set; }
    /// <summary>-IPAddress, -MacAddress, -NetworkAlias (CNI networks only).</summary>
    public string? IPAddress { get; set; }
    public string? MacAddress { get; set; }
    public IReadOnlyList<string> NetworkAliases { get; set; } = [];
    /// <summary>-Publish specs (<see cref="Networking.PortMapping"/>); -PublishAll adds the image's EXPOSE ports.</summary>
    public IReadOnlyList<string> Publish { get; set; } = [];
    public bool PublishAll { get; set; }
    public bool NoHosts { get; set; }
    public IReadOnlyList<string> Dns { get; set; } = [];
    public IReadOnlyList<string> AddHost { get; set; } = [];
    /// <summary>-ShmSize, -Ulimit, -StopSignal, -Init, -ReadOnlyTmpfs, -GroupAdd, -Sysctl.</summary>
    public RunOptions.ContainerRunOptions Run { get; set; } = new();
    public Plan.ContainerRestartPolicy RestartPolicy { get; set; }
    /// <summary>OnFailure only (as podman): at most this many restarts; null or 0: no limit.</summary>
    public int? MaxRestarts { get; set; }
    /// <summary>Replaces the image's HEALTHCHECK: one string runs through /bin/sh -c (CMD-SHELL), several are an argv (CMD);
    /// <c>none</c> disables the image's.</summary>
    public IReadOnlyList<string>? HealthCommand { get; set; }
    public TimeSpan? HealthInterval { get; set; }
    public TimeSpan? HealthTimeout { get; set; }
    public int? HealthRetries { get; set; }
    public TimeSpan? HealthStartPeriod { get; set; }
    public Plan.ContainerHealthAction HealthOnFailure { get; set; }
    /// <summary>-Pod: the pod (name or id) whose namespaces and cgroup parent the container joins; its network, published
    /// ports and hostname are then the pod's (<see cref="PodMembership.CheckJoining"/>).</summary>
    public string? Pod { get; set; }
    /// <summary>Set by New-ContainerPod only: the container is this pod's infra (it holds the namespaces and runs no command).</summary>
    [JsonIgnore] public PodMembership? PodInfra { get; set; }
}
