using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Infrastructure;

/// <summary>
/// Base of the cmdlets that act on existing containers named by -Name, -Id or pipeline objects.
/// Names are literal: a command meant for one container must not fan out over a pattern.
/// </summary>
public abstract class NamedContainerCmdlet : ContainerCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Container[]? InputObject { get; set; }

    /// <summary>The containers this call names; literals that match nothing are written as errors.</summary>
    private protected virtual List<ContainerRecord> ResolveTargets() => Resolve(Name, Id, InputObject, wildcards: false);
}

/// <summary>As <see cref="NamedContainerCmdlet"/>, but -Name takes wildcards (Stop-Container web-*).</summary>
public abstract class MatchedContainerCmdlet : ContainerCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Container[]? InputObject { get; set; }

    /// <summary>The containers this call matches; literals that match nothing are written as errors.</summary>
    private protected List<ContainerRecord> ResolveTargets() => Resolve(Name, Id, InputObject);
}
