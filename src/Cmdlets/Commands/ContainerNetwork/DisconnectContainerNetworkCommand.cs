using System.Management.Automation;

namespace Containers.Cmdlets.Commands.ContainerNetwork;

/// <summary>Detaches a container from one of its CNI networks (CNI DEL when it runs) and drops it from its record.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class DisconnectContainerNetworkCommand : ContainerNetworkTargetCmdlet
{
    protected override void ProcessRecord() => Logged(() =>
        Change($"Disconnect from network {Network}", ct => Services.Runtime.DisconnectNetworkAsync(Name, Network, ct)));
}
