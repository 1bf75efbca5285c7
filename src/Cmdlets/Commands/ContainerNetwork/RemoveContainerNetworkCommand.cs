using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.ContainerNetwork;

/// <summary>Deletes a network's configuration list; refused while a container uses it unless -Force (which stops those containers).</summary>
[Cmdlet(VerbsCommon.Remove, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class RemoveContainerNetworkCommand : ContainersCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(NetworkNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Stops the containers that use the network, then removes it.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            if (!ShouldProcess(name, Force ? "Stop the containers on it and remove network" : "Remove network")) continue;
            TryRun(ct => Services.Runtime.RemoveNetworkAsync(name, Force, ct));
        }
    }
}
