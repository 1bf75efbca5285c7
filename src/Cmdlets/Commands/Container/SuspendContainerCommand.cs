using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.Container;

[Cmdlet(VerbsLifecycle.Suspend, "Container", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class SuspendContainerCommand : ContainerCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public Core.Runtime.Container[]? InputObject { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in Resolve(Name, Id, InputObject))
        {
            if (!ShouldProcess(Target(r), "Freeze container (pause every process)")) continue;
            Core.Runtime.Container? c = null;
            if (TryRun(ct => { c = Runtime.Pause(r.Id); return Task.CompletedTask; }) && PassThru) WriteObject(c);
        }
    }
}
