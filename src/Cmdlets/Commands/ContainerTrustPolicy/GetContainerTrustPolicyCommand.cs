using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.ContainerTrustPolicy;

/// <summary>Shows the requirements of containers-policy.json in force: the default and each transports.docker scope, one object per requirement.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerTrustPolicy")]
[OutputType(typeof(TrustPolicyEntry))]
public sealed class GetContainerTrustPolicyCommand : ContainersCmdlet
{
    /// <summary>The scopes to show (wildcards allowed; "default" is the global default).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TrustScopeCompleter))]
    public string[]? Registry { get; set; }

    /// <summary>Which policy.json to read: System or User (default: the file in force).</summary>
    [Parameter]
    public PolicyScope? Scope { get; set; }

    private IReadOnlyList<TrustPolicyEntry> _entries = [];

    protected override void BeginProcessing() => Logged(() =>
    {
        try
        {
            var paths = Services.Paths;
            var policy = Scope is null ? SignaturePolicy.Load(paths) : SignaturePolicy.Load(TrustPolicyEditor.PathFor(paths, Scope));
            _entries = TrustPolicyEntry.From(policy);
        }
        catch (ContainersException e) { ThrowTerminating(e); }
    });

    protected override void ProcessRecord() => Logged(() =>
    {
        if (Registry is null || Registry.Length == 0)
        {
            WriteObject(_entries, enumerateCollection: true);
            return;
        }
        var shown = new HashSet<TrustPolicyEntry>(ReferenceEqualityComparer.Instance);
        foreach (string pattern in Registry)
        {
            var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
            var matches = _entries.Where(e => wildcard.IsMatch(e.Scope)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                WriteError(ErrorRecordFactory.From(new ContainersException("TrustScopeNotFound", ErrorKind.NotFound,
                    $"There is no transports.docker[\"{pattern}\"] in {(_entries.Count > 0 ? _entries[0].Path : "the policy")}.", pattern)));
            foreach (var m in matches)
                if (shown.Add(m)) WriteObject(m);
        }
    });
}
