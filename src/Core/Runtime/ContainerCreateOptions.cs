namespace Containers.Core.Runtime;

/// <summary>Everything New-Container can be told. Null means "the image's default" or "unlimited".</summary>
public sealed class ContainerCreateOptions
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
    /// <summary>Seccomp profile, no_new_privs, privileged (<c>-SecurityOpt</c>, <c>-Privileged</c>).</summary>
    public Security.ContainerSecurity Security { get; set; } = new();
    public bool Tty { get; set; }
    public bool Interactive { get; set; }
    /// <summary><c>none</c>, <c>host</c>, <c>private</c> (own netns with loopback only), <c>container:NAME</c>, or CNI
    /// network names (comma-separated); null: containers.conf's default_network (root), else <c>private</c>.</summary>
    public string? Network { get; set; } = "private";
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
}
