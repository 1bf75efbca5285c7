using System.Collections;
using System.Management.Automation;
using Containers.Cmdlets.Commands.Image;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;
using Containers.Core.Runtime.RunOptions;
using Containers.Core.Runtime.Security;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>The parameters New-Container and Invoke-ContainerImage share, and their translation to Core's options.</summary>
public abstract class ContainerCreateCmdletBase : ContainerCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Image { get; set; } = "";

    [Parameter(Position = 1, ValueFromRemainingArguments = true)]
    public string[]? Command { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    public string[]? Entrypoint { get; set; }

    [Parameter]
    public Hashtable? Environment { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Hostname { get; set; }

    [Parameter]
    public Hashtable? Label { get; set; }

    [Parameter]
    public string[]? Volume { get; set; }

    [Parameter]
    public string[]? Tmpfs { get; set; }

    [Parameter]
    public string[]? Secret { get; set; }

    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Memory { get; set; }

    [Parameter]
    public double? Cpus { get; set; }

    [Parameter]
    public long? CpuQuota { get; set; }

    [Parameter]
    public ulong? CpuPeriod { get; set; }

    [Parameter]
    public ulong? CpuShares { get; set; }

    [Parameter]
    public long? PidsLimit { get; set; }

    [Parameter]
    public string[]? Device { get; set; }

    [Parameter]
    public string[]? CapAdd { get; set; }

    [Parameter]
    public string[]? CapDrop { get; set; }

    [Parameter]
    public string[]? SecurityOpt { get; set; }

    [Parameter]
    public SwitchParameter Privileged { get; set; }

    /// <summary>none, host, private, container:NAME, or CNI network names; rootless: pasta[:options] or slirp4netns[:options] too. Not given: containers.conf's default_network (root) or default_rootless_network_cmd (rootless), else private (root) or the installed helper (rootless).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.NetworkNameCompleter))]
    public string[]? Network { get; set; }

    /// <summary>Address on the first CNI network (host-local IPAM).</summary>
    [Parameter]
    public string? IPAddress { get; set; }

    [Parameter]
    public string? MacAddress { get; set; }

    /// <summary>More names peers on the container's CNI networks may use for it.</summary>
    [Parameter]
    public string[]? NetworkAlias { get; set; }

    /// <summary>Host ports to publish: [hostIP:][hostPort:]containerPort[/tcp|udp|sctp], ranges allowed.</summary>
    [Parameter]
    public string[]? Publish { get; set; }

    /// <summary>Publishes every port the image EXPOSEs on a random host port.</summary>
    [Parameter]
    public SwitchParameter PublishAll { get; set; }

    /// <summary>The pod to join (name or id; a pod object binds as its name): its namespaces, network, ports and hostname.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.PodNameCompleter))]
    public string? Pod { get; set; }

    [Parameter]
    public SwitchParameter NoHosts { get; set; }

    [Parameter]
    public string[]? Dns { get; set; }

    [Parameter]
    public string[]? AddHost { get; set; }

    /// <summary>Gives the container a pseudo-terminal (Invoke-ContainerImage: this console's, sized as it is).</summary>
    [Parameter]
    public SwitchParameter Tty { get; set; }

    /// <summary>Keeps the container's stdin open (Invoke-ContainerImage: this console's stdin).</summary>
    [Parameter]
    public SwitchParameter Interactive { get; set; }

    // Run options real images need (podman's --shm-size, --ulimit, --env-file, --stop-signal, --init, --read-only-tmpfs,
    // --group-add, --sysctl); Core checks them (Core.Runtime.RunOptions).

    /// <summary>Size of /dev/shm (64MB by default).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ShmSize { get; set; }

    /// <summary>Resource limits as <c>name=soft[:hard]</c> (nofile=1024:4096).</summary>
    [Parameter]
    public string[]? Ulimit { get; set; }

    /// <summary>Files of KEY=VALUE lines (Docker's env-file format), read in order before -Environment.</summary>
    [Parameter]
    public string[]? EnvFile { get; set; }

    /// <summary>The signal Stop-Container sends first (replaces the image's StopSignal).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StopSignal { get; set; }

    /// <summary>Runs a minimal init as PID 1 that forwards signals to the command and reaps zombies.</summary>
    [Parameter]
    public SwitchParameter Init { get; set; }

    /// <summary>With -ReadOnly, mounts tmpfs on /tmp, /var/tmp and /run (on by default; -ReadOnlyTmpfs:$false turns it off).</summary>
    [Parameter]
    public SwitchParameter ReadOnlyTmpfs { get; set; } = true;

    /// <summary>Supplementary groups of the container's process (names of the image's /etc/group, or numbers).</summary>
    [Parameter]
    public string[]? GroupAdd { get; set; }

    /// <summary>Namespaced kernel settings as <c>name=value</c> (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*).</summary>
    [Parameter]
    public string[]? Sysctl { get; set; }

    /// <summary>When the container's monitor starts the command again after it exits (podman's --restart).</summary>
    [Parameter]
    public ContainerRestartPolicy RestartPolicy { get; set; }

    /// <summary>-RestartPolicy OnFailure: at most this many restarts (podman's on-failure:N).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? MaxRestarts { get; set; }

    /// <summary>The health check: one string runs through /bin/sh -c, several are an argv; none disables the image's HEALTHCHECK.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? HealthCommand { get; set; }

    [Parameter]
    public TimeSpan? HealthInterval { get; set; }

    [Parameter]
    public TimeSpan? HealthTimeout { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? HealthRetries { get; set; }

    [Parameter]
    public TimeSpan? HealthStartPeriod { get; set; }

    [Parameter]
    public ContainerHealthAction HealthOnFailure { get; set; }

    /// <summary>When to pull the image first (podman's --pull): Missing (default), Always, Never or Newer.</summary>
    [Parameter]
    public PullPolicy Pull { get; set; } = PullPolicy.Missing;

    /// <summary>
    /// Pulls the image as -Pull says, exactly as Install-ContainerImage would (registries.conf, policy.json,
    /// credentials, progress). Returns the name to create from (the pulled name), or null after writing the error.
    /// </summary>
    protected string? TryPullImage()
    {
        if (Pull == PullPolicy.Never) return Image;
        StoredImage? local = null;
        try { Run(async ct => local = await Services.OpenImageStore().FindAsync(Image, ct).ConfigureAwait(false), here: true); }
        catch (ContainersException) { } // an ambiguous or odd local name: the pull (or the create) reports it
        if (local is not null && Pull == PullPolicy.Missing) return Image;
        var progress = new RegistryProgressReporter(Post, WriteProgress, MyInvocation.MyCommand.Name, 1);
        try
        {
            var pulled = Run(ct => ImagePull.PullAsync(Services, Image, null, null, 0, progress, ct));
            return pulled.Name ?? pulled.Id;
        }
        catch (ContainersException e) when (Pull == PullPolicy.Newer && local is not null && e.Kind is ErrorKind.ConnectionFailed or ErrorKind.NotFound)
        {
            WriteWarning($"Using the stored {Image} ({local.ShortId}): {e.Message}");
            return Image;
        }
        catch (ContainersException e)
        {
            WriteError(ErrorRecordFactory.From(e));
            return null;
        }
        finally { progress.Complete(WriteProgress); }
    }

    private protected ContainerCreateOptions BuildOptions()
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Label ?? [])
            labels[e.Key.ToString() ?? ""] = e.Value?.ToString() ?? "";
        return new ContainerCreateOptions
        {
            Image = Image,
            Name = Name,
            Command = Command is { Length: > 0 } ? Command : null,
            Entrypoint = Entrypoint,
            Env = Env(),
            WorkingDir = WorkingDirectory,
            User = User,
            Hostname = Hostname,
            Labels = labels,
            Volumes = Volume ?? [],
            Tmpfs = Tmpfs ?? [],
            Secrets = (Secret ?? []).Select(s => GetUnresolvedProviderPathFromPSPath(s)).ToList(),
            ReadOnlyRootfs = ReadOnly,
            MemoryBytes = Memory is null ? null : MemorySize.Parse(Memory),
            Cpus = Cpus,
            CpuQuota = CpuQuota,
            CpuPeriod = CpuPeriod,
            CpuShares = CpuShares,
            PidsLimit = PidsLimit,
            Devices = Device ?? [],
            CapAdd = CapAdd ?? [],
            CapDrop = CapDrop ?? [],
            Security = Security(),
            Network = Network is null ? null : string.Join(',', Network),
            IPAddress = IPAddress,
            MacAddress = MacAddress,
            NetworkAliases = NetworkAlias ?? [],
            Publish = Publish ?? [],
            PublishAll = PublishAll,
            NoHosts = NoHosts,
            Dns = Dns ?? [],
            AddHost = AddHost ?? [],
            Pod = string.IsNullOrEmpty(Pod) ? null : Pod,
            Run = new ContainerRunOptions
            {
                ShmSizeBytes = ShmSize is null ? null : MemorySize.Parse(ShmSize),
                Ulimits = Ulimit ?? [],
                StopSignal = StopSignal,
                Init = Init,
                ReadOnlyTmpfs = ReadOnlyTmpfs,
                GroupAdd = GroupAdd ?? [],
                Sysctls = Sysctl ?? [],
            },
            SecurityOpt = ResolvedSecurityOpt(),
            Privileged = Privileged,
            RestartPolicy = RestartPolicy,
            MaxRestarts = MaxRestarts,
            HealthCommand = HealthCommand,
            HealthInterval = HealthInterval,
            HealthTimeout = HealthTimeout,
            HealthRetries = HealthRetries,
            HealthStartPeriod = HealthStartPeriod,
            HealthOnFailure = HealthOnFailure,
        };
    }

    /// <summary>-EnvFile's variables (the files in order), then -Environment over them, as podman does.</summary>
    private Dictionary<string, string?> Env()
    {
        var env = EnvFiles.Read((EnvFile ?? []).Select(GetUnresolvedProviderPathFromPSPath), System.Environment.GetEnvironmentVariable);
        foreach (var (key, value) in ToEnvironment(Environment)) env[key] = value;
        return env;
    }

    /// <summary>-SecurityOpt with a profile's path made absolute, as the container's definition keeps it.</summary>
    private List<string> ResolvedSecurityOpt() => (SecurityOpt ?? []).Select(o =>
        o.StartsWith("seccomp=", StringComparison.OrdinalIgnoreCase) && o[8..].Trim() is { Length: > 0 } v && v != "unconfined"
            ? "seccomp=" + GetUnresolvedProviderPathFromPSPath(v) : o).ToList();

    private ContainerSecurity Security()
    {
        var security = ContainerSecurity.Parse(SecurityOpt ?? [], Privileged, path => GetUnresolvedProviderPathFromPSPath(path));
        if (Privileged)
            WriteWarning("-Privileged gives the container every capability, access to every device and no seccomp filter: it can take over the host.");
        else if (security.Unconfined)
            WriteWarning("seccomp=unconfined: the container runs without a seccomp filter; every system call its capabilities allow is open to it.");
        return security;
    }

    /// <summary>Builds the options or writes the typed error; null on failure.</summary>
    private protected ContainerCreateOptions? TryBuildOptions()
    {
        try { return BuildOptions(); }
        catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); return null; }
    }
}
