using System.Management.Automation;

namespace Containers.Cmdlets.Commands.Pod;

/// <summary>Removes pods: their containers, the infra container, the cgroup parent and the record. Refused while a container of the pod runs, unless -Force.</summary>
[Cmdlet(VerbsCommon.Remove, "ContainerPod", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class RemoveContainerPodCommand : MatchedPodCmdlet
{
    /// <summary>Kills the pod's running containers (SIGKILL) before removing them.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var p in ResolveTargets())
        {
            if (!ShouldProcess(Target(p), Force ? "Remove pod and its containers (killing running ones)" : "Remove pod and its containers")) continue;
            TryRun(ct => Pods.RemoveAsync(p, Force, ct));
        }
    }
}
