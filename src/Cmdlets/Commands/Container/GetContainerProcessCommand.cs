using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Lists the processes running in containers (host pids, from the cgroup).</summary>
[Cmdlet(VerbsCommon.Get, "ContainerProcess", DefaultParameterSetName = NameSet)]
[OutputType(typeof(ContainerProcess))]
public sealed class GetContainerProcessCommand : ContainerCmdletBase
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

    protected override void ProcessRecord()
    {
        foreach (var r in Resolve(Name, Id, InputObject))
        {
            List<ContainerProcess> list = [];
            if (TryRun(ct => { list = Runtime.ListProcesses(r.Id); return Task.CompletedTask; }))
                foreach (var p in list) WriteObject(p);
        }
    }
}
