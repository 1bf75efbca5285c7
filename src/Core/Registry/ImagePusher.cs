using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Logging;
using Containers.Core.Spec;
using Serilog;

namespace Containers.Core.Registry;

/// <summary>What a push did. Platforms lists the platforms pushed when a whole index went up.</summary>
public sealed record PushResult(string Destination, string Digest, int BlobsUploaded, int BlobsPresent, int BlobsMounted, long BytesUploaded,
    IReadOnlyList<string>? Platforms = null);

/// <summary>
/// Pushes an image from the store: existence checks, cross-repository mounts, uploads, then the manifest.
/// An image that came from a multi-arch index pushes the whole index (every platform's blobs and
/// manifest, then the index under the tag) when every platform is in the store, even when their layer blobs
/// were not kept (rebuilt, and the index rewritten to name the new manifests); with a platform given, only that
/// platform's manifest goes up.
/// </summary>
internal sealed class ImagePusher(ImageStore store, IRegistryResolver resolver, ICredentialSource credentials, RegistryClientOptions? options = null)
{
    private readonly ILogger _log = ModuleLog.For<ImagePusher>();

    private sealed record ManifestToPush(byte[] Bytes, string MediaType, Manifest Parsed, string Platform, Digest Digest);

    public async Task<PushResult> PushAsync(StoredImage image, string destination, IProgress<PullProgress>? progress, CancellationToken ct, string? platform = null)
    {
        var dest = ImageReference.Parse(destination);
        if (dest.IsShortName)
            throw RegistryErrors.PushNeedsRegistry(destination);
        string target = dest.ToString();
        // Layers whose blobs were not kept go up recompressed, under new manifests (and a new index naming them).
        var sendables = new List<SendableImage>();
        try { return await PushPreparedAsync(image, dest, platform, sendables, progress, ct).ConfigureAwait(false); }
        finally { foreach (var s in sendables) s.Dispose(); }
    }

    private async Task<PushResult> PushPreparedAsync(StoredImage image, ImageReference dest, string? platform, List<SendableImage> sendables,
        IProgress<PullProgress>? progress, CancellationToken ct)
    {
        string target = dest.ToString();
        // Decided from the store alone, before any connection: a push that cannot be complete sends nothing.
        var (manifests, index) = await PlanAsync(image, platform, sendables, ct).ConfigureAwait(false);
        var sources = resolver.GetPullSources(dest); // refuses blocked registries before connecting
        bool insecure = sources[^1].Insecure;
        var client = new RegistryClient(dest.Registry!, insecure, credentials, options);
        string repo = dest.Repository;
        // Other repositories on the same registry that hold this image: mount candidates.
        var mountFrom = image.Names.Select(n => ImageReference.TryParse(n, out var r) ? r : null)
            .Where(r => r is not null && r.Registry == dest.Registry && r.Repository != repo).Select(r => r!.Repository).Distinct().ToList();

        var blobs = manifests.SelectMany(m => m.Parsed.Layers.Append(m.Parsed.Config)).DistinctBy(d => d.Digest).ToList();
        long total = blobs.Sum(b => b.Size), done = 0;
        int uploaded = 0, present = 0, mounted = 0;
        long bytes = 0;
        for (int i = 0; i < blobs.Count; i++)
        {
            var d = blobs[i];
            var digest = d.ParsedDigest;
            string status;
            if (await client.BlobExistsAsync(repo, digest, ct).ConfigureAwait(false)) { present++; status = "Already present"; }
            else if (await TryMountAsync(client, repo, digest, mountFrom, ct).ConfigureAwait(false)) { mounted++; status = "Mounted"; }
            else
            {
                if (!store.HasBlob(digest))
                    throw RegistryErrors.LayerMissing($"The blob {digest} of '{image}'", digest.ToString());
                await client.UploadBlobAsync(repo, digest, d.Size, () => store.OpenBlob(digest), ct).ConfigureAwait(false);
                uploaded++; bytes += d.Size; status = "Uploaded";
            }
            done += d.Size;
            progress?.Report(new PullProgress(target, i + 1, blobs.Count, d.Digest, d.Size, d.Size, done, total, status));
        }
        string reference = dest.Digest?.ToString() ?? dest.TagOrDefault!;
        Digest pushed;
        if (index is null)
        {
            var only = manifests[0];
            pushed = await client.PutManifestAsync(repo, reference, only.Bytes, only.MediaType, ct).ConfigureAwait(false);
        }
        else
        {
            // Every manifest by digest first: a registry refuses an index that names manifests it lacks.
            foreach (var m in manifests)
                await client.PutManifestAsync(repo, m.Digest.ToString(), m.Bytes, m.MediaType, ct).ConfigureAwait(false);
            pushed = await client.PutManifestAsync(repo, reference, index.Value.Bytes, index.Value.MediaType, ct).ConfigureAwait(false);
        }
        _log.Information("Pushed {Image} to {Destination} ({Manifests} manifest(s), {Uploaded} uploaded, {Present} present, {Mounted} mounted)",
            image.ToString(), target, manifests.Count, uploaded, present, mounted);
        Events.EventLog.Image(store.DataDir, "push", image.Id, target.ToString());
        return new PushResult(target, pushed.ToString(), uploaded, present, mounted, bytes, index is null ? null : manifests.Select(m => m.Platform).ToList());
    }

    /// <summary>
    /// What to push: the image's own manifest, or, when it was chosen from an index that is in the store,
    /// every manifest of that index (all platforms must be in the store) or the one platform asked for. Each
    /// image is made sendable first (blobs not kept are rebuilt); an index whose manifests changed so is
    /// rewritten to name the new ones.
    /// </summary>
    private async Task<(List<ManifestToPush> Manifests, (byte[] Bytes, string MediaType)? Index)> PlanAsync(StoredImage image, string? platform,
        List<SendableImage> sendables, CancellationToken ct)
    {
        async Task<ManifestToPush?> Prepare(StoredImage stored, string name)
        {
            var sendable = await store.PrepareToSendAsync(stored, ct).ConfigureAwait(false);
            sendables.Add(sendable);
            return await LoadAsync(sendable.Image.Digest, sendable.Image.ManifestMediaType, name, ct).ConfigureAwait(false);
        }
        var (indexBytes, index, indexType) = await FindIndexAsync(image, ct).ConfigureAwait(false);
        if (index is null)
        {
            if (platform is not null)
            {
                var wanted = PlatformSelector.Parse(platform);
                if (image.Os != wanted.Os || image.Architecture != wanted.Architecture
                    || (!string.IsNullOrEmpty(wanted.Variant) && !string.Equals(image.Variant ?? "", wanted.Variant, StringComparison.Ordinal)))
                    throw RegistryErrors.NoMatchingPlatform(image.ToString(), wanted.ToString(), [PlatformOf(image.Os, image.Architecture, image.Variant)]);
            }
            var own = await Prepare(image, PlatformOf(image.Os, image.Architecture, image.Variant)).ConfigureAwait(false)
                ?? throw RegistryErrors.LayerMissing($"A blob of '{image}'", image.ToString());
            return ([own], null);
        }
        var stored = (await store.ListAsync(ct).ConfigureAwait(false)).Where(i => index.Manifests.Any(m => m.Digest == i.Digest.ToString()))
            .DistinctBy(i => i.Digest).ToDictionary(i => i.Digest.ToString(), StringComparer.Ordinal);
        if (platform is not null)
        {
            var entry = PlatformSelector.Select(index, PlatformSelector.Parse(platform), image.ToString());
            var one = stored.GetValueOrDefault(entry.Digest) is { } s ? await Prepare(s, entry.Platform?.ToString() ?? "unknown").ConfigureAwait(false) : null;
            return ([one ?? throw RegistryErrors.PlatformNotInStore(image.ToString(), platform)], null);
        }
        var loaded = new List<ManifestToPush>();
        var missing = new List<string>();
        var indexJson = System.Text.Json.Nodes.JsonNode.Parse(indexBytes!)!["manifests"]!.AsArray();
        bool changed = false;
        for (int i = 0; i < index.Manifests.Count; i++)
        {
            var entry = index.Manifests[i];
            string name = entry.Platform?.ToString() ?? entry.Digest;
            var m = (MediaTypes.IsManifest(entry.MediaType) || string.IsNullOrEmpty(entry.MediaType)) && stored.GetValueOrDefault(entry.Digest) is { } s
                ? await Prepare(s, name).ConfigureAwait(false)
                : null;
            if (m is null) { missing.Add(name); continue; }
            loaded.Add(m);
            if (m.Digest.ToString() == entry.Digest) continue;
            changed = true;
            indexJson[i]!["digest"] = m.Digest.ToString();
            indexJson[i]!["size"] = m.Bytes.Length;
            indexJson[i]!["mediaType"] = m.MediaType;
        }
        if (missing.Count > 0)
            throw RegistryErrors.IndexIncomplete(image.ToString(), missing, loaded.Select(l => l.Platform).ToList());
        // Unchanged, the index goes up byte for byte; otherwise rewritten with the new manifests (a new index digest).
        byte[] bytes = changed ? System.Text.Encoding.UTF8.GetBytes(indexJson.Root.ToJsonString()) : indexBytes!;
        return (loaded, (bytes, indexType!));
    }

    /// <summary>The index among the image's extra digests that is in the store and lists the image's manifest.</summary>
    private async Task<(byte[]? Bytes, ImageIndex? Index, string? MediaType)> FindIndexAsync(StoredImage image, CancellationToken ct)
    {
        foreach (var d in image.ExtraDigests)
        {
            if (!store.HasBlob(d)) continue;
            byte[] bytes = await store.ReadBlobAsync(d, SpecJson.MaxManifestBytes, ct).ConfigureAwait(false);
            string type;
            try { type = SpecJson.DetectMediaType(bytes, null, d.ToString()); }
            catch (ContainersException) { continue; }
            if (!MediaTypes.IsIndex(type)) continue;
            var index = SpecJson.ParseIndex(bytes, d.ToString());
            if (index.Manifests.Any(m => m.Digest == image.Digest.ToString())) return (bytes, index, type);
        }
        return (null, null, null);
    }

    /// <summary>A manifest from the store with its config and layers all present; null when anything is missing.</summary>
    private async Task<ManifestToPush?> LoadAsync(Digest digest, string? mediaType, string platform, CancellationToken ct)
    {
        if (!store.HasBlob(digest)) return null;
        byte[] bytes = await store.ReadBlobAsync(digest, SpecJson.MaxManifestBytes, ct).ConfigureAwait(false);
        if (!digest.Matches(bytes)) throw ImageStore.DigestMismatch(digest, Digest.Sha256(bytes), "manifest");
        var parsed = SpecJson.ParseManifest(bytes, digest.ToString());
        if (!parsed.Layers.Append(parsed.Config).All(b => store.HasBlob(b.ParsedDigest))) return null;
        string type = parsed.MediaType ?? (string.IsNullOrEmpty(mediaType) ? SpecJson.DetectMediaType(bytes, null, digest.ToString()) : mediaType);
        return new ManifestToPush(bytes, type, parsed, platform, digest);
    }

    private static string PlatformOf(string os, string arch, string? variant) => string.IsNullOrEmpty(variant) ? $"{os}/{arch}" : $"{os}/{arch}/{variant}";
    private static async Task<bool> TryMountAsync(RegistryClient client, string repo, Digest digest, IReadOnlyList<string> from, CancellationToken ct)
    {
        foreach (string source in from)
        {
            try { if (await client.MountBlobAsync(repo, digest, source, ct).ConfigureAwait(false)) return true; }
            catch (ContainersException) { }
        }
        return false;
    }
}
