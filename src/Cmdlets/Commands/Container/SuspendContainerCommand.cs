using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.Container;

[Cmdlet(VerbsLifecycle.Suspend, "Container", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class SuspendContainerCommand : MatchedContainerCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            if (!ShouldProcess(Target(r), "Freeze container (pause every process)")) continue;
            Core.Runtime.Container? c = null;
            if (TryRun(ct => { c = Runtime.Pause(r.Id); return Task.CompletedTask; }) && PassThru) WriteObject(c);
        }
    }
}
