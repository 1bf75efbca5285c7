using System.Collections;
using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>The parameters New-Container and Invoke-ContainerImage share, and their translation to Core's options.</summary>
public abstract class ContainerCreateCmdletBase : ContainerCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
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
    [ValidateSet("none", "host", "private")]
    public string Network { get; set; } = "private";

    [Parameter]
    public SwitchParameter NoHosts { get; set; }

    [Parameter]
    public string[]? Dns { get; set; }

    [Parameter]
    public string[]? AddHost { get; set; }

    protected ContainerCreateOptions BuildOptions()
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
            Env = ToEnvironment(Environment),
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
            Network = Network,
            NoHosts = NoHosts,
            Dns = Dns ?? [],
            AddHost = AddHost ?? [],
        };
    }

    /// <summary>Builds the options or writes the typed error; null on failure.</summary>
    protected ContainerCreateOptions? TryBuildOptions()
    {
        try { return BuildOptions(); }
        catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); return null; }
    }
}
