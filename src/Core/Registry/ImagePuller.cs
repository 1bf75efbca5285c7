using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Logging;
using Containers.Core.Spec;
using Serilog;

namespace Containers.Core.Registry;

/// <summary>Progress of a pull, reported per layer and overall.</summary>
internal sealed record PullProgress(string Reference, int Layer, int LayerCount, string Digest, long LayerDone, long LayerTotal,
    long Done, long Total, string Status);

/// <summary>What to pull and how.</summary>
internal sealed record PullRequest
{
    public required string Reference { get; init; }
    /// <summary>os/arch[/variant]; null for this host.</summary>
    public string? Platform { get; init; }
    /// <summary>Layers downloaded at once; 0 (the default) adapts it to the layers' sizes (see <see cref="ImagePuller.AutoParallelism"/>).</summary>
    public int Parallelism { get; init; }
    /// <summary>Keep the registry's compressed layer blobs beside the unpacked layers (Install-ContainerImage -KeepBlobs).</summary>
    public bool KeepBlobs { get; init; }
    public IProgress<PullProgress>? Progress { get; init; }
}

/// <summary>
/// Pulls an image into the store: resolves the reference through registries.conf (aliases, search
/// registries, mirrors, blocked), fetches and verifies the manifest (choosing the platform from an
/// index), then downloads the missing layers in parallel, each verified, decompressed and unpacked in
/// one pass by the store, and records the image.
/// </summary>
/// <remarks>The trust policy is required, as containers/image requires a policy context: no pull happens without
/// one deciding (an accept-anything policy is a choice someone makes explicitly, in policy.json or in a test).</remarks>
internal sealed class ImagePuller(ImageStore store, IRegistryResolver resolver, ICredentialSource credentials, IImageTrustPolicy trust,
    RegistryClientOptions? options = null)
{
    private readonly ILogger _log = ModuleLog.For<ImagePuller>();

    /// <summary>The fully qualified references a user's reference stands for, in order.</summary>
    public static IReadOnlyList<ImageReference> Candidates(IRegistryResolver resolver, string reference)
    {
        var parsed = ImageReference.Parse(reference);
        var list = resolver.ResolveShortName(parsed);
        if (list.Count == 0)
            throw RegistryErrors.ShortNameNotResolved(reference);
        return list;
    }

    /// <summary>
    /// The one registry an explicit credential (-Credential) for a reference is bound to: the registry the
    /// name resolves to first. A short name may be tried on several search registries; the others never
    /// see that credential (they get only their own logins from the auth files).
    /// </summary>
    public static string CredentialHost(IRegistryResolver resolver, string reference) => Candidates(resolver, reference)[0].Registry!;

    public async Task<StoredImage> PullAsync(PullRequest request, CancellationToken ct)
    {
        var failures = new List<(string Source, ContainersException Error)>();
        foreach (var candidate in Candidates(resolver, request.Reference))
        {
            var sources = resolver.GetPullSources(candidate); // throws RegistryBlocked before any connection
            foreach (var source in sources)
            {
                try
                {
                    return await PullFromAsync(candidate, source, request, ct).ConfigureAwait(false);
                }
                catch (ContainersException e) when (Retryable(e))
                {
                    _log.Debug("Pulling {Reference} from {Host} failed: {Error}; trying the next source", candidate, source.Host, e.Message);
                    failures.Add(($"{source.Host}/{source.Repository}{(source.IsMirror ? " (mirror)" : "")}", e));
                }
            }
        }
        throw failures.Count switch
        {
            0 => RegistryErrors.PullFailed(request.Reference),
            1 => failures[0].Error,
            _ => RegistryErrors.AllSourcesFailed(request.Reference, failures),
        };
    }

    // Another source may have it: not found, unreachable, unauthorized. Data errors are never retried elsewhere silently.
    private static bool Retryable(ContainersException e) => e.Kind is ErrorKind.NotFound or ErrorKind.ConnectionFailed or ErrorKind.AuthenticationFailed
        or ErrorKind.PermissionDenied or ErrorKind.ResourceUnavailable;

    private async Task<StoredImage> PullFromAsync(ImageReference wanted, PullSource source, PullRequest request, CancellationToken ct)
    {
        var client = new RegistryClient(source.Host, source.Insecure, credentials, options);
        string repo = source.Repository;
        string target = wanted.ToString();
        string reference = wanted.Digest?.ToString() ?? wanted.TagOrDefault!;
        var platform = PlatformSelector.Parse(request.Platform);

        var top = await client.GetManifestAsync(repo, reference, ct).ConfigureAwait(false);
        // containers-policy.json decides before anything is fetched or stored, on the name the user asked for.
        byte[]? verifiedSignatures = await trust.EnsureTrustedAsync(client, repo, wanted, top.Digest, ct).ConfigureAwait(false);
        var manifestDoc = top;
        if (top.IsIndex)
        {
            var index = SpecJson.ParseIndex(top.Bytes, target);
            var entry = PlatformSelector.Select(index, platform, target);
            manifestDoc = await client.GetManifestAsync(repo, entry.Digest, ct).ConfigureAwait(false);
            if (manifestDoc.IsIndex) throw RegistryErrors.UnknownMediaType(target, "nested index");
            if (manifestDoc.Digest.ToString() != entry.Digest) throw RegistryErrors.DigestMismatch(target, entry.Digest, manifestDoc.Digest.ToString());
        }
        var manifest = SpecJson.ParseManifest(manifestDoc.Bytes, target);
        if (manifest.Config.MediaType is not (MediaTypes.OciConfig or MediaTypes.DockerConfig))
            throw RegistryErrors.UnknownMediaType(target, manifest.Config.MediaType);
        foreach (var l in manifest.Layers)
            if (MediaTypes.CompressionOf(l.MediaType) is null) throw RegistryErrors.UnknownMediaType(target, l.MediaType);

        var configDigest = manifest.Config.ParsedDigest;
        byte[] config = store.HasBlob(configDigest)
            ? await store.ReadBlobAsync(configDigest, SpecJson.MaxConfigBytes, ct).ConfigureAwait(false)
            : await client.GetBlobBytesAsync(repo, manifest.Config, SpecJson.MaxConfigBytes, ct).ConfigureAwait(false);
        if (!configDigest.Matches(config)) throw RegistryErrors.DigestMismatch(target + " config", configDigest.ToString(), Digest.Sha256(config).ToString());
        var imageConfig = SpecJson.ParseConfig(config, target);
        if (imageConfig.RootFs.DiffIds.Count != manifest.Layers.Count)
            throw RegistryErrors.LayerCountMismatch(target, manifest.Layers.Count, imageConfig.RootFs.DiffIds.Count);
        if (!top.IsIndex && request.Platform is not null && (imageConfig.Os != platform.Os || imageConfig.Architecture != platform.Architecture))
            throw RegistryErrors.NoMatchingPlatform(target, platform.ToString(), [imageConfig.Platform.ToString()]);

        await FetchLayersAsync(client, repo, target, manifest, imageConfig, request, ct).ConfigureAwait(false);

        var names = wanted.Tag is not null || wanted.Digest is null ? new[] { wanted.Name + ":" + wanted.TagOrDefault } : Array.Empty<string>();
        var image = await store.CommitImageAsync(new ImageCommit
        {
            Manifest = manifestDoc.Bytes, ManifestMediaType = manifestDoc.MediaType, Config = config, Names = names,
            Index = top.IsIndex ? top.Bytes : null,
        }, ct)
            .ConfigureAwait(false);
        _log.Information("Pulled {Reference} {Digest} from {Host}", target, manifestDoc.Digest.ToString(), source.Host);
        Events.EventLog.Image(store.DataDir, "pull", image.Id, names.FirstOrDefault() ?? target.ToString());
        // The signatures that were verified stay beside the image (keyed by the digest they sign: the index's
        // for a multi-arch pull, which the store records with the image), so Test-ContainerImage can re-check it offline.
        if (verifiedSignatures is not null) store.WriteSignatures(top.Digest, verifiedSignatures);
        return image;
    }

    private async Task FetchLayersAsync(RegistryClient client, string repo, string target, Manifest manifest, ImageConfig config, PullRequest request, CancellationToken ct)
    {
        int count = manifest.Layers.Count;
        long total = manifest.Layers.Sum(l => l.Size);
        long done = 0;
        var missing = new List<int>();
        for (int i = 0; i < count; i++)
        {
            var diff = Digest.Parse(config.RootFs.DiffIds[i]);
            if (store.LayerSatisfied(diff, manifest.Layers[i].ParsedDigest, request.KeepBlobs))
            {
                done += manifest.Layers[i].Size;
                request.Progress?.Report(new PullProgress(target, i + 1, count, manifest.Layers[i].Digest, manifest.Layers[i].Size, manifest.Layers[i].Size, done, total, "Already present"));
            }
            else missing.Add(i);
        }
        if (missing.Count == 0) return;
        _log.Debug("Fetching {Missing} of {Count} layers of {Target}", missing.Count, count, target);
        int parallelism = request.Parallelism > 0 ? request.Parallelism : AutoParallelism(missing.Select(i => manifest.Layers[i].Size).ToList());
        _log.Debug("Downloading {Missing} layers, {Parallelism} at once", missing.Count, parallelism);
        // Biggest first: the gate admits in this order, so the longest downloads start at once instead of
        // after the small ones, and the pull does not end on one big layer alone on one core.
        missing.Sort((a, b) => manifest.Layers[b].Size.CompareTo(manifest.Layers[a].Size));
        using var gate = new SemaphoreSlim(parallelism);
        using var session = store.BeginIngestSession();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var tasks = missing.Select(async i =>
        {
            await gate.WaitAsync(failed.Token).ConfigureAwait(false);
            try
            {
                var layer = manifest.Layers[i];
                var diff = Digest.Parse(config.RootFs.DiffIds[i]);
                long layerDone = 0;
                var progress = request.Progress is null ? null : new Progress(n =>
                {
                    long ld = Interlocked.Add(ref layerDone, n);
                    long all = Interlocked.Add(ref done, n);
                    request.Progress.Report(new PullProgress(target, i + 1, count, layer.Digest, Math.Min(ld, layer.Size), layer.Size, Math.Min(all, total), total, "Downloading"));
                });
                // The store hashes and checks size while it ingests; the client only counts and resumes.
                await using var blob = await client.OpenBlobAsync(repo, layer, failed.Token, progress, verify: false).ConfigureAwait(false);
                if (layer.Size is > 0 and <= SmallLayerBytes)
                {
                    // A small layer is read whole without blocking a thread on the socket, then ingested from
                    // memory (the store still hashes and size-checks every byte; nothing is trusted here).
                    var buffered = new MemoryStream((int)layer.Size);
                    await blob.CopyToAsync(buffered, failed.Token).ConfigureAwait(false);
                    buffered.Position = 0;
                    await store.IngestLayerAsync(buffered, layer, diff, null, session, request.KeepBlobs, failed.Token).ConfigureAwait(false);
                }
                else
                {
                    // The decompressor asks for 8 KiB at a time: read the socket in larger pieces (fewer receives, fewer wake-ups).
                    await using var buffered = new BufferedStream(blob, ReadBytes);
                    await store.IngestLayerAsync(buffered, layer, diff, null, session, request.KeepBlobs, failed.Token).ConfigureAwait(false);
                }
                request.Progress?.Report(new PullProgress(target, i + 1, count, layer.Digest, layer.Size, layer.Size, Volatile.Read(ref done), total, "Done"));
            }
            catch
            {
                failed.Cancel();
                throw;
            }
            finally { gate.Release(); }
        }).ToList();
        try { await Task.WhenAll(tasks).ConfigureAwait(false); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // One layer failed and cancelled the rest: report that failure, not the cancellations.
            var first = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault();
            if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            throw;
        }
        catch (Exception) when (tasks.FirstOrDefault(t => t.IsFaulted && t.Exception!.InnerException is not OperationCanceledException) is { } real)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(real.Exception!.InnerException!);
        }
    }

    /// <summary>Big layers: 4 at once (bandwidth and CPU bound; more only thrash). Many small layers:
    /// up to 16, since each costs mostly a round trip to the registry and fixed store work.</summary>
    public static int AutoParallelism(IReadOnlyList<long> sizes)
    {
        if (sizes.Count == 0) return 1;
        const long small = 1L << 20;
        int smallCount = sizes.Count(s => s < small);
        return Math.Clamp(smallCount * 2 > sizes.Count ? 16 : 4, 1, sizes.Count);
    }

    /// <summary>Layers up to this size are downloaded into memory before they are ingested.</summary>
    private const long SmallLayerBytes = 1L << 20;

    /// <summary>What one read of a big layer's response asks for.</summary>
    private const int ReadBytes = 1 << 17;

    private sealed class Progress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
