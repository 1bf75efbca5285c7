using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Logging;
using Containers.Core.Spec;
using Serilog;

namespace Containers.Core.Registry;

/// <summary>What a push did.</summary>
public sealed record PushResult(string Destination, string Digest, int BlobsUploaded, int BlobsPresent, int BlobsMounted, long BytesUploaded);

/// <summary>Pushes an image from the store: existence checks, cross-repository mounts, uploads, then the manifest.</summary>
public sealed class ImagePusher(ImageStore store, IRegistryResolver resolver, ICredentialSource credentials, RegistryClientOptions? options = null)
{
    private readonly ILogger _log = ModuleLog.For<ImagePusher>();

    public async Task<PushResult> PushAsync(StoredImage image, string destination, IProgress<PullProgress>? progress, CancellationToken ct)
    {
        var dest = ImageReference.Parse(destination);
        if (dest.IsShortName)
            throw new ContainersException("ShortNameNotResolved", ErrorKind.InvalidArgument,
                $"'{destination}' has no registry; a push needs a fully qualified destination.", destination, "Give registry/repository:tag.");
        var sources = resolver.GetPullSources(dest); // refuses blocked registries before connecting
        bool insecure = sources[^1].Insecure;
        var client = new RegistryClient(dest.Registry!, insecure, credentials, options);
        string repo = dest.Repository;
        string target = dest.ToString();

        byte[] manifest = await store.ReadBlobAsync(image.Digest, SpecJson.MaxManifestBytes, ct).ConfigureAwait(false);
        var parsed = SpecJson.ParseManifest(manifest, target);
        // Other repositories on the same registry that hold this image: mount candidates.
        var mountFrom = image.Names.Select(n => ImageReference.TryParse(n, out var r) ? r : null)
            .Where(r => r is not null && r.Registry == dest.Registry && r.Repository != repo).Select(r => r!.Repository).Distinct().ToList();

        var blobs = parsed.Layers.Append(parsed.Config).ToList();
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
                    throw new ContainersException("ImageLayerMissing", ErrorKind.InvalidState, $"The blob {digest} of '{image}' is not in the store.", digest.ToString());
                await client.UploadBlobAsync(repo, digest, d.Size, () => store.OpenBlob(digest), ct).ConfigureAwait(false);
                uploaded++; bytes += d.Size; status = "Uploaded";
            }
            done += d.Size;
            progress?.Report(new PullProgress(target, i + 1, blobs.Count, d.Digest, d.Size, d.Size, done, total, status));
        }
        string mediaType = parsed.MediaType ?? image.ManifestMediaType;
        var pushed = await client.PutManifestAsync(repo, dest.Digest?.ToString() ?? dest.TagOrDefault!, manifest, mediaType, ct).ConfigureAwait(false);
        _log.Information("Pushed {Image} to {Destination} ({Uploaded} uploaded, {Present} present, {Mounted} mounted)", image.ToString(), target, uploaded, present, mounted);
        return new PushResult(target, pushed.ToString(), uploaded, present, mounted, bytes);
    }

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
