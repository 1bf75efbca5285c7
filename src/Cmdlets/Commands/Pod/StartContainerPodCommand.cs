using System.Management.Automation;
using Containers.Core.Pods;

namespace Containers.Cmdlets.Commands.Pod;

/// <summary>Starts pods: the infra container first, then every container of the pod that is not running.</summary>
[Cmdlet(VerbsLifecycle.Start, "ContainerPod", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerPod))]
public sealed class StartContainerPodCommand : MatchedPodCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var p in ResolveTargets())
        {
            if (!ShouldProcess(Target(p), "Start pod")) continue;
            ContainerPod? pod = null;
            if (TryRun(async ct => pod = await Pods.StartAsync(p, ct).ConfigureAwait(false)) && PassThru) WriteObject(pod);
        }
    }
}
