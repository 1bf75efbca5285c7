using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Lists containers: all, by name (wildcards), by id or id prefix, filtered by state.</summary>
[Cmdlet(VerbsCommon.Get, "Container", DefaultParameterSetName = NameSet)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class GetContainerCommand : ContainerCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter]
    public ContainerState[]? State { get; set; }

    /// <summary>Only the containers of these pods (names, wildcards allowed), the infra containers included.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(PodNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Pod { get; set; }

    protected override void ProcessRecord() => Logged(() =>
    {
        IEnumerable<Core.Runtime.Container> list = Name is null && Id is null
            ? Runtime.List()
            : Resolve(Name, Id, null).Select(Runtime.Inspect);
        var pods = Pod?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
        bool InPods(Core.Runtime.Container c) => pods is null || (c.Pod is { } name && pods.Any(p => p.IsMatch(name)));
        foreach (var c in list)
            if ((State is null || State.Contains(c.State)) && InPods(c)) WriteObject(c);
    });
}
