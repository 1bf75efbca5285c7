using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Waits until containers exit and outputs them with their exit codes.</summary>
[Cmdlet(VerbsLifecycle.Wait, "Container", DefaultParameterSetName = NameSet)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class WaitContainerCommand : ContainerCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public Core.Runtime.Container[]? InputObject { get; set; }

    /// <summary>Seconds to wait at most; a container still running then is a WaitTimeout error.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Timeout { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in Resolve(Name, Id, InputObject, wildcards: false))
        {
            Core.Runtime.Container? c = null;
            if (TryRun(async ct => c = await Runtime.WaitAsync(r.Id, Timeout is { } t ? TimeSpan.FromSeconds(t) : null, ct).ConfigureAwait(false)))
                WriteObject(c);
        }
    }
}
