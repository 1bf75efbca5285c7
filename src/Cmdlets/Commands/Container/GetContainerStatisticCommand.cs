using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>CPU, memory, pids and block IO of running containers, read from their cgroups.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerStatistic", DefaultParameterSetName = NameSet)]
[OutputType(typeof(ContainerStatistic))]
public sealed class GetContainerStatisticCommand : ContainerCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Core.Runtime.Container[]? InputObject { get; set; }

    protected override void ProcessRecord()
    {
        var records = Name is null && Id is null && InputObject is null
            ? Runtime.List().Where(c => c.State.IsActive()).Select(c => Runtime.Store.TryRead(c.Id)).OfType<ContainerRecord>().ToList()
            : Resolve(Name, Id, InputObject);
        foreach (var r in records)
        {
            ContainerStatistic? s = null;
            if (TryRun(async ct => s = await Runtime.StatisticAsync(r.Id, ct).ConfigureAwait(false))) WriteObject(s);
        }
    }
}
