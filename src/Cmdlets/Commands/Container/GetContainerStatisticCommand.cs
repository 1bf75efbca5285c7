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
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Core.Runtime.Container[]? InputObject { get; set; }

    /// <summary>Keep writing one object per container every -Interval until Ctrl+C (podman stats).</summary>
    [Parameter]
    public SwitchParameter Stream { get; set; }

    /// <summary>Seconds between two rounds of -Stream (podman stats --interval).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Interval { get; set; } = 5;

    protected override void ProcessRecord()
    {
        bool all = Name is null && Id is null && InputObject is null;
        var named = all ? [] : Resolve(Name, Id, InputObject);
        for (int round = 0; ; round++)
        {
            // Without names every running container, as it is now (new ones join the stream); named ones while they run.
            var records = all ? Running() : round == 0 ? named : named.Where(r => Runtime.Inspect(r).State.IsActive()).ToList();
            foreach (var r in records)
            {
                ContainerStatistic? s = null;
                if (TryRun(async ct => s = await Runtime.StatisticAsync(r.Id, ct).ConfigureAwait(false))) WriteObject(s);
            }
            if (!Stream) return;
            Run(ct => Task.Delay(TimeSpan.FromSeconds(Interval), ct)); // Ctrl+C cancels the wait and stops the pipeline
        }
    }

    private List<ContainerRecord> Running() =>
        Runtime.List().Where(c => c.State.IsActive()).Select(c => Runtime.Store.TryRead(c.Id)).OfType<ContainerRecord>().ToList();
}
