using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.ContainerNetwork;

/// <summary>Attaches a running container to one more CNI network (its next ethN interface).</summary>
[Cmdlet(VerbsCommunications.Connect, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class ConnectContainerNetworkCommand : ContainersCmdlet
{
    /// <summary>The container's name or id.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(NetworkNameCompleter))]
    public string Network { get; set; } = "";

    /// <summary>More names peers on this network may use for the container.</summary>
    [Parameter]
    public string[]? Alias { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Name, $"Connect to network {Network}")) return;
        Core.Runtime.Container? c = null;
        if (TryRun(async ct => c = await Services.Runtime.ConnectNetworkAsync(Name, Network, Alias ?? [], ct).ConfigureAwait(false)) && PassThru) WriteObject(c);
    }
}
