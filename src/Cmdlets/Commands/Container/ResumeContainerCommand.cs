using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.Container;

[Cmdlet(VerbsLifecycle.Resume, "Container", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class ResumeContainerCommand : MatchedContainerCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            if (!ShouldProcess(Target(r), "Thaw container")) continue;
            Core.Runtime.Container? c = null;
            if (TryRun(ct => { c = Runtime.Resume(r.Id); return Task.CompletedTask; }) && PassThru) WriteObject(c);
        }
    }
}
