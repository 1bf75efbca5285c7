using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.ContainerNetwork;

/// <summary>Detaches a container from one of its CNI networks (CNI DEL when it runs) and drops it from its record.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class DisconnectContainerNetworkCommand : ContainersCmdlet
{
    /// <summary>The container's name or id.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(NetworkNameCompleter))]
    public string Network { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Name, $"Disconnect from network {Network}")) return;
        Core.Runtime.Container? c = null;
        if (TryRun(async ct => c = await Services.Runtime.DisconnectNetworkAsync(Name, Network, ct).ConfigureAwait(false)) && PassThru) WriteObject(c);
    }
}
