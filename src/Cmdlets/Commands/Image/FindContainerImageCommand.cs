using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Registry;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Searches configured registries for repositories and tags, or inspects one remote image without pulling it.</summary>
[Cmdlet(VerbsCommon.Find, "ContainerImage", DefaultParameterSetName = SearchSet)]
[OutputType(typeof(RemoteRepository), ParameterSetName = [SearchSet])]
[OutputType(typeof(RemoteImage), ParameterSetName = [InspectSet])]
public sealed class FindContainerImageCommand : ContainersCmdlet
{
    public const string SearchSet = "Search";
    public const string InspectSet = "Inspect";

    /// <summary>Search: a repository name pattern with wildcards, optionally prefixed by a registry
    /// (registry/pattern). Inspect: an image reference.</summary>
    [Parameter(Position = 0, ParameterSetName = SearchSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = InspectSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Reference")]
    [SupportsWildcards]
    public string Name { get; set; } = "*";

    /// <summary>Registries to search (host[:port]); the configured search registries by default.</summary>
    [Parameter(ParameterSetName = SearchSet)]
    [ArgumentCompleter(typeof(RegistryHostCompleter))]
    public string[]? Registry { get; set; }

    /// <summary>List repositories only, without asking each for its tags.</summary>
    [Parameter(ParameterSetName = SearchSet)]
    public SwitchParameter NoTags { get; set; }

    /// <summary>Inspect the image Name refers to: manifest, config, platforms, layers, sizes, labels, created.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InspectSet)]
    public SwitchParameter Inspect { get; set; }

    /// <summary>The platform to inspect in a multi-arch image (os/arch[/variant]); this host's by default.</summary>
    [Parameter(ParameterSetName = InspectSet)]
    [ArgumentCompleter(typeof(PlatformCompleter))]
    public string? Platform { get; set; }

    /// <summary>A credential for the registry (only ever sent to that registry).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    protected override void ProcessRecord()
    {
        TryRun(async ct =>
        {
            var resolver = Services.Resolver();
            if (ParameterSetName == InspectSet)
            {
                var remote = new RemoteImages(resolver, Services.Credentials(Credential, [ImagePuller.CredentialHost(resolver, Name)]));
                var image = await remote.InspectAsync(Name, Platform, ct).ConfigureAwait(false);
                Post(() => WriteObject(image));
                return;
            }
            string pattern = Name;
            IReadOnlyList<string> registries = Registry ?? resolver.SearchRegistries;
            int slash = pattern.IndexOf('/');
            if (Registry is null && slash > 0 && (pattern[..slash].Contains('.') || pattern[..slash].Contains(':') || pattern[..slash] == "localhost"))
            {
                registries = [pattern[..slash]];
                pattern = pattern[(slash + 1)..];
            }
            if (registries.Count == 0)
                throw new Core.Errors.ContainersException("NoSearchRegistries", Core.Errors.ErrorKind.InvalidArgument,
                    "No registry to search: none was given and registries.conf configures no unqualified-search-registries.", Name,
                    "Give -Registry host[:port], prefix the name with a registry, or configure search registries.");
            var search = new RemoteImages(resolver, Services.Credentials(Credential, registries));
            if (!WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                // An exact repository name: ask for its tags directly (works where _catalog is not offered).
                foreach (string host in registries)
                {
                    try
                    {
                        var repo = await search.TagsAsync(host, pattern, ct).ConfigureAwait(false);
                        Post(() => WriteObject(repo));
                    }
                    catch (Core.Errors.ContainersException e) when (e.Kind is Core.Errors.ErrorKind.NotFound)
                    {
                        if (registries.Count == 1) throw;
                    }
                }
                return;
            }
            var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
            var found = await search.SearchAsync(registries, r => wildcard.IsMatch(r), !NoTags, w => Post(() => WriteWarning(w)), ct).ConfigureAwait(false);
            Post(() => { foreach (var r in found) WriteObject(r); });
        });
    }
}
