using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Pods;

namespace Containers.Cmdlets.Commands.Pod;

/// <summary>Base of the pod cmdlets: resolves -Name (wildcards), -Id (prefixes) and piped pods to their records.</summary>
public abstract class PodCmdletBase : ContainersCmdlet
{
    public const string NameSet = "Name";
    public const string IdSet = "Id";
    public const string InputObjectSet = "InputObject";

    private PodRuntime? _pods;
    private protected PodRuntime Pods => _pods ??= Services.Pods;

    /// <summary>Names (wildcards allowed), ids or id prefixes, and objects; writes PodNotFound for literals that match nothing.</summary>
    private protected List<PodRecord> Resolve(string[]? names, string[]? ids, ContainerPod[]? objects)
    {
        var result = new List<PodRecord>();
        var all = Pods.Store.List();
        void Add(PodRecord p) { if (!result.Any(r => r.Id == p.Id)) result.Add(p); }
        foreach (var o in objects ?? [])
        {
            if (all.FirstOrDefault(p => p.Id == o.Id) is { } p) Add(p);
            else WriteError(ErrorRecordFactory.From(PodStore.NotFound(o.Name)));
        }
        foreach (string n in names ?? [])
        {
            if (WildcardPattern.ContainsWildcardCharacters(n))
            {
                var pattern = new WildcardPattern(n, WildcardOptions.IgnoreCase);
                foreach (var p in all.Where(p => pattern.IsMatch(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal)) Add(p);
                continue;
            }
            try { Add(Pods.Store.Find(n, all) ?? throw PodStore.NotFound(n)); }
            catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); }
        }
        foreach (string id in ids ?? [])
        {
            var matches = all.Where(p => p.Id.StartsWith(id.ToLowerInvariant(), StringComparison.Ordinal)).ToList();
            if (matches.Count == 1) Add(matches[0]);
            else if (matches.Count == 0) WriteError(ErrorRecordFactory.From(PodStore.NotFound(id)));
            else WriteError(ErrorRecordFactory.From(new ContainersException("AmbiguousPodId", ErrorKind.InvalidArgument,
                $"The id prefix '{id}' matches {matches.Count} pods.", id, "Give more digits of the id.")));
        }
        return result;
    }

    /// <summary><c>web (3f2a9c1d)</c>.</summary>
    private protected static string Target(PodRecord p) => p.ToString();
}

/// <summary>The pod cmdlets that act on existing pods: -Name (wildcards), -Id, or pods from the pipeline.</summary>
public abstract class MatchedPodCmdlet : PodCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PodNameCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PodNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public ContainerPod[]? InputObject { get; set; }

    private protected List<PodRecord> ResolveTargets() => Resolve(Name, Id, InputObject);
}
