using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Registry;

/// <summary>A layer of a remote image.</summary>
public sealed record RemoteLayer(string Digest, string MediaType, long Size);

/// <summary>An image inspected on its registry without pulling it.</summary>
public sealed record RemoteImage
{
    public required string Reference { get; init; }
    public required string Registry { get; init; }
    public required string Repository { get; init; }
    public string? Tag { get; init; }
    /// <summary>Digest of what the reference points at (the index for a multi-arch image).</summary>
    public required string Digest { get; init; }
    public required string MediaType { get; init; }
    /// <summary>Digest of the platform's manifest (same as Digest for a single-platform image).</summary>
    public required string ManifestDigest { get; init; }
    /// <summary>Every platform the reference offers (one for a single-platform image).</summary>
    public required IReadOnlyList<string> Platforms { get; init; }
    public required string Platform { get; init; }
    public string Architecture => Config.Architecture;
    public string Os => Config.Os;
    public DateTime? Created => Config.Created?.LocalDateTime;
    public required IReadOnlyList<RemoteLayer> Layers { get; init; }
    /// <summary>Compressed size: config plus layers, as transferred.</summary>
    public long Size { get; init; }
    public IReadOnlyDictionary<string, string> Labels => Config.Config?.Labels ?? new Dictionary<string, string>();
    public required ImageConfig Config { get; init; }
    public required Manifest Manifest { get; init; }
}

/// <summary>A repository found on a registry, with its tags.</summary>
public sealed record RemoteRepository(string Registry, string Repository, IReadOnlyList<string> Tags)
{
    public string Name => Registry + "/" + Repository;
}

/// <summary>Search and remote inspection (Find-ContainerImage).</summary>
internal sealed class RemoteImages(IRegistryResolver resolver, ICredentialSource credentials, RegistryClientOptions? options = null)
{
    private RegistryClient Client(string host) => new(host, resolver.IsInsecure(host), credentials, options);

    /// <summary>Inspects the image a reference names (short names through the search registries, first that has it).</summary>
    public async Task<RemoteImage> InspectAsync(string reference, string? platform, CancellationToken ct)
    {
        ContainersException? last = null;
        foreach (var candidate in ImagePuller.Candidates(resolver, reference))
        {
            var sources = resolver.GetPullSources(candidate);
            foreach (var source in sources)
            {
                try { return await InspectAtAsync(candidate, source, platform, ct).ConfigureAwait(false); }
                catch (ContainersException e) when (e.Kind is ErrorKind.NotFound or ErrorKind.ConnectionFailed) { last = e; }
            }
        }
        throw last!;
    }

    private async Task<RemoteImage> InspectAtAsync(ImageReference r, PullSource source, string? platform, CancellationToken ct)
    {
        var client = new RegistryClient(source.Host, source.Insecure, credentials, options);
        string target = r.ToString();
        var top = await client.GetManifestAsync(source.Repository, r.Digest?.ToString() ?? r.TagOrDefault!, ct).ConfigureAwait(false);
        var doc = top;
        List<string> platforms;
        if (top.IsIndex)
        {
            var index = SpecJson.ParseIndex(top.Bytes, target);
            platforms = index.Manifests.Where(m => m.Platform is not null).Select(m => m.Platform!.ToString()).ToList();
            var entry = PlatformSelector.Select(index, PlatformSelector.Parse(platform), target);
            doc = await client.GetManifestAsync(source.Repository, entry.Digest, ct).ConfigureAwait(false);
        }
        else platforms = [];
        if (doc.IsIndex) throw RegistryErrors.UnknownMediaType(target, "nested index");
        var manifest = SpecJson.ParseManifest(doc.Bytes, target);
        var configBytes = await client.GetBlobBytesAsync(source.Repository, manifest.Config, SpecJson.MaxConfigBytes, ct).ConfigureAwait(false);
        var config = SpecJson.ParseConfig(configBytes, target);
        if (platforms.Count == 0) platforms = [config.Platform.ToString()];
        return new RemoteImage
        {
            Reference = target, Registry = r.Registry!, Repository = r.Repository, Tag = r.Tag ?? (r.Digest is null ? "latest" : null),
            Digest = top.Digest.ToString(), MediaType = top.MediaType, ManifestDigest = doc.Digest.ToString(),
            Platforms = platforms, Platform = config.Platform.ToString(),
            Layers = manifest.Layers.Select(l => new RemoteLayer(l.Digest, l.MediaType, l.Size)).ToList(),
            Size = manifest.Config.Size + manifest.Layers.Sum(l => l.Size), Config = config, Manifest = manifest,
        };
    }

    /// <summary>
    /// Repositories matching <paramref name="matches"/> on each registry, with their tags. Uses _catalog
    /// (paged); a registry without a catalog is skipped with <paramref name="warn"/>.
    /// </summary>
    public async Task<IReadOnlyList<RemoteRepository>> SearchAsync(IEnumerable<string> registries, Func<string, bool> matches,
        bool withTags, Action<string>? warn, CancellationToken ct)
    {
        var result = new List<RemoteRepository>();
        foreach (string host in registries)
        {
            var client = Client(host);
            IReadOnlyList<string> repos;
            try { repos = await client.CatalogAsync(ct).ConfigureAwait(false); }
            catch (ContainersException e) when (e.Kind is not ErrorKind.OperationStopped)
            {
                warn?.Invoke($"{host}: {e.Message}");
                continue;
            }
            foreach (string repo in repos.Where(matches))
            {
                IReadOnlyList<string> tags = [];
                if (withTags)
                {
                    try { tags = await client.ListTagsAsync(repo, ct).ConfigureAwait(false); }
                    catch (ContainersException e) when (e.Kind is ErrorKind.NotFound or ErrorKind.PermissionDenied or ErrorKind.AuthenticationFailed)
                    { warn?.Invoke($"{host}/{repo}: {e.Message}"); }
                }
                result.Add(new RemoteRepository(host, repo, tags));
            }
        }
        return result;
    }

    /// <summary>The tags of one repository (host/repository).</summary>
    public async Task<RemoteRepository> TagsAsync(string host, string repository, CancellationToken ct) =>
        new(host, repository, await Client(host).ListTagsAsync(repository, ct).ConfigureAwait(false));
}
