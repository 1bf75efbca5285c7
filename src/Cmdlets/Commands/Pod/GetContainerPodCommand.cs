using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Core.Pods;

namespace Containers.Cmdlets.Commands.Pod;

/// <summary>Lists pods: all, by name (wildcards), or by id or id prefix, with their status and containers.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerPod", DefaultParameterSetName = NameSet)]
[OutputType(typeof(ContainerPod))]
public sealed class GetContainerPodCommand : PodCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(PodNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PodNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    protected override void ProcessRecord() => Logged(() =>
    {
        var pods = Name is null && Id is null ? Pods.List() : Resolve(Name, Id, null).Select(Pods.Inspect);
        foreach (var p in pods) WriteObject(p);
    });
}
