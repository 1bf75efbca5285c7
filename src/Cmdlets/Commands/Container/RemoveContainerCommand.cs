using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

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
            // Killing a running container is High impact: with the default $ConfirmPreference (High) it asks,
            // unless -Confirm:$false was given (scripts) or the preference is None.
            if (Force && !_yesToAll && NeedsHighImpactConfirmation() &&
                Runtime.Inspect(r).State.IsActive() &&
                !ShouldContinue($"The container {Target(r)} is running. Kill it and remove it?", "Forced removal", ref _yesToAll, ref _noToAll))
                continue;
            TryRun(ct => Runtime.RemoveAsync(r.Id, Force, ct));
        }
    }

    private bool _yesToAll, _noToAll;

    private bool NeedsHighImpactConfirmation()
    {
        if (MyInvocation.BoundParameters.TryGetValue("Confirm", out object? confirm))
            return false; // -Confirm already asked through ShouldProcess; -Confirm:$false means do not ask
        if (MyInvocation.BoundParameters.ContainsKey("WhatIf")) return false;
        return GetVariableValue("ConfirmPreference") is not ConfirmImpact pref || pref != ConfirmImpact.None;
    }
}
