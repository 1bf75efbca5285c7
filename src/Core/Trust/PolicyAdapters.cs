using System.Collections.Concurrent;
using Containers.Core.Configuration;
using Containers.Core.Policy;
using Containers.Core.Registry;
using Containers.Core.Spec;
// Policy and Registry each name their own PullSource and RegistryCredential; this file turns the first into the second.
using PullSource = Containers.Core.Registry.PullSource;
using RegistryCredential = Containers.Core.Registry.RegistryCredential;

namespace Containers.Core.Trust;

/// <summary>The registry client's view of Core/Policy's registries.conf (aliases, search registries, blocked, insecure, mirrors).</summary>
internal sealed class PolicyRegistryResolver(RegistriesConfiguration configuration) : IRegistryResolver
{
    public static PolicyRegistryResolver Load(ContainerPaths paths) => new(RegistriesConfiguration.Load(paths));

    public RegistriesConfiguration Configuration => configuration;

    public IReadOnlyList<string> SearchRegistries => configuration.SearchRegistries;

    public IReadOnlyList<ImageReference> ResolveShortName(ImageReference reference) => configuration.ResolveShortName(reference).Candidates;

    public IReadOnlyList<PullSource> GetPullSources(ImageReference reference) =>
        configuration.GetPullSources(reference).Select(s => new PullSource(s.Host, s.Repository, s.Insecure, s.IsMirror)).ToList();

    public bool IsInsecure(string host) => configuration.IsInsecure(host);
}

/// <summary>The registry client's view of Core/Policy's auth.json lookup; answers are cached for the object's lifetime.</summary>
internal sealed class PolicyCredentialSource(CredentialStore store) : ICredentialSource
{
    private readonly ConcurrentDictionary<(string, string), RegistryCredential?> _cache = new();

    public static PolicyCredentialSource Load(ContainerPaths paths) => new(CredentialStore.FromEnvironment(paths));

    public RegistryCredential? GetCredential(string host, string repository) =>
        _cache.GetOrAdd((host, repository), key =>
            store.Find(key.Item1, key.Item2.Length == 0 ? null : key.Item2) is { } c
                ? new RegistryCredential(c.UserName, c.Password) { IdentityToken = c.IdentityToken }
                : null);
}
