using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Removes containers: their cgroup, writable layer, logs and record. -Force kills running ones first.</summary>
[Cmdlet(VerbsCommon.Remove, "Container", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class RemoveContainerCommand : MatchedContainerCmdlet
{
    /// <summary>Kills a running container (SIGKILL) before removing it.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            if (!ShouldProcess(Target(r), Force ? "Remove container (killing it if it runs)" : "Remove container")) continue;
            // -Force means "do not ask" (Remove-Item, Stop-Process): no prompt beyond -Confirm's.
            TryRun(ct => Runtime.RemoveAsync(r.Id, Force, ct), here: true);
        }
    }
}
