using System.Management.Automation;

namespace Containers.Cmdlets.Commands.ContainerNetwork;

/// <summary>Attaches a running container to one more CNI network (its next ethN interface).</summary>
[Cmdlet(VerbsCommunications.Connect, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class ConnectContainerNetworkCommand : ContainerNetworkTargetCmdlet
{
    /// <summary>More names peers on this network may use for the container.</summary>
    [Parameter]
    public string[]? Alias { get; set; }

    protected override void ProcessRecord() => Logged(() =>
        Change($"Connect to network {Network}", ct => Services.Runtime.ConnectNetworkAsync(Name, Network, Alias ?? [], ct)));
}
