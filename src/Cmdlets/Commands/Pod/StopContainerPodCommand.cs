using System.Management.Automation;
using Containers.Core.Pods;

namespace Containers.Cmdlets.Commands.Pod;

/// <summary>Stops pods: their containers (the stop signal, then SIGKILL after -Timeout), then the infra container.</summary>
[Cmdlet(VerbsLifecycle.Stop, "ContainerPod", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ContainerPod))]
public sealed class StopContainerPodCommand : MatchedPodCmdlet
{
    /// <summary>Seconds each container has after its stop signal before SIGKILL (default 10).</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int Timeout { get; set; } = 10;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var p in ResolveTargets())
        {
            if (!ShouldProcess(Target(p), "Stop pod")) continue;
            ContainerPod? pod = null;
            if (TryRun(async ct => pod = await Pods.StopAsync(p, TimeSpan.FromSeconds(Timeout), ct).ConfigureAwait(false)) && PassThru) WriteObject(pod);
        }
    }
}
