using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Policy;
using Containers.Core.Spec;

namespace Containers.Cmdlets.Commands.RegistryPolicy;

/// <summary>Shows the registries configuration in force (merged from every file), one registry rule, or how an image name resolves.</summary>
[Cmdlet(VerbsCommon.Get, "RegistryPolicy", DefaultParameterSetName = SummarySet)]
[OutputType(typeof(Core.Policy.RegistryPolicy), ParameterSetName = [SummarySet])]
[OutputType(typeof(RegistryRule), ParameterSetName = [RegistrySet])]
[OutputType(typeof(RegistryResolution), ParameterSetName = [ImageSet])]
public sealed class GetRegistryPolicyCommand : ContainersCmdlet
{
    public const string SummarySet = "Summary";
    public const string RegistrySet = "Registry";
    public const string ImageSet = "Image";

    /// <summary>Registry prefixes to show (wildcards allowed).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = RegistrySet, ValueFromPipelineByPropertyName = true)]
    [Alias("Prefix")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RegistryPrefixCompleter))]
    public string[] Registry { get; set; } = [];

    /// <summary>Image names to resolve: short names through aliases and search registries, then mirrors and blocks.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ImageSet, ValueFromPipeline = true)]
    public string[] Image { get; set; } = [];

    private RegistriesConfiguration? _conf;

    protected override void BeginProcessing() =>
        _conf = Run(_ => Task.FromResult(Services.Registries()));

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case RegistrySet:
                foreach (string pattern in Registry)
                {
                    var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
                    var matches = _conf!.Registries.Where(r => wildcard.IsMatch(r.Prefix)).ToList();
                    if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                        WriteError(ErrorRecordFactory.From(new ContainersException("RegistryRuleNotFound", ErrorKind.NotFound,
                            $"No [[registry]] with prefix '{pattern}' is configured in {string.Join(", ", _conf.Files)}.", pattern)));
                    foreach (var m in matches) WriteObject(m);
                }
                break;
            case ImageSet:
                foreach (string name in Image)
                {
                    try { WriteObject(Resolve(name)); }
                    catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); }
                }
                break;
            default:
                WriteObject(Core.Policy.RegistryPolicy.From(_conf!));
                break;
        }
    }

    private RegistryResolution Resolve(string name)
    {
        var reference = ImageReference.Parse(name);
        var resolution = _conf!.ResolveShortName(reference, ShortNamePrompt.CanPrompt(this));
        var candidates = ShortNamePrompt.Choose(this, resolution);
        var first = candidates[0];
        var rule = _conf.FindRule(first);
        IReadOnlyList<PullSource> sources = [];
        string? reason = null;
        try { sources = _conf.GetPullSources(first); }
        catch (ContainersException e) when (e.ErrorId == Core.Policy.PolicyErrors.Ids.RegistryBlocked) { reason = e.Message; }
        return new RegistryResolution
        {
            Name = name, Origin = resolution.Origin, ShortNameMode = resolution.Mode, Candidates = candidates,
            PullSources = sources, Rule = rule, Blocked = reason is not null, BlockedReason = reason,
        };
    }
}
