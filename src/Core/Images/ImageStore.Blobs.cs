using System.IO.Compression;
using System.Text.Json.Nodes;
using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>
/// An image ready to be sent (pushed or saved): the stored image itself when every layer blob is in the
/// store, else a copy whose missing blobs were recompressed and whose new manifest names them. Disposing
/// removes the blobs and manifest written for it.
/// </summary>
internal sealed class SendableImage(StoredImage image, ImageStore store, IReadOnlyList<Digest> written) : IDisposable
{
    public StoredImage Image { get; } = image;
    /// <summary>Whether blobs had to be rebuilt for the send (the manifest digest differs unless they came out byte for byte the same).</summary>
    public bool Recompressed => written.Count > 0;

    public void Dispose()
    {
        foreach (var d in written) File.Delete(store.BlobPath(d));
    }
}

/// <summary>Layer blobs kept only when asked: the unpacked layer and its tar-split stand for the blob.</summary>
internal sealed partial class ImageStore
{
    private string TarSplitPath(Digest diffId) => Path.Combine(LayersDir, diffId.Encoded, TarSplitRecorder.FileName);

    /// <summary>Whether the layer's tar can be rebuilt from the unpacked files (a layer of a previous store version cannot: its blob stays).</summary>
    public bool CanReproduceLayer(Digest diffId) => HasLayer(diffId) && File.Exists(TarSplitPath(diffId));

    /// <summary>
    /// Whether a pull or load can skip the layer: it is unpacked, and its blob is here or (blob not wanted) it
    /// can be written back from its files. A layer of an older store without its blob is fetched again.
    /// </summary>
    public bool LayerSatisfied(Digest diffId, Digest blob, bool keepBlob) =>
        HasLayer(diffId) && (HasBlob(blob) || (!keepBlob && !Options.KeepBlobs && File.Exists(TarSplitPath(diffId))));

    /// <summary>
    /// The image as it can be pushed or saved. Every layer blob present: the image itself, unchanged. Else the
    /// missing ones are rebuilt (tar from the tar-split and the unpacked files, checked against the diff id,
    /// then gzipped) and a new manifest names them; the configuration, so the diff ids, is unchanged, the
    /// manifest digest is new (as podman's push of an image without its blobs).
    /// </summary>
    public async Task<SendableImage> PrepareToSendAsync(StoredImage image, CancellationToken ct = default)
    {
        if (image.Layers.All(l => HasBlob(l.Digest))) return new SendableImage(image, this, []);
        var written = new List<Digest>();
        try
        {
            var manifest = JsonNode.Parse(await ReadBlobAsync(image.Digest, SpecJson.MaxManifestBytes, ct).ConfigureAwait(false))!.AsObject();
            var layerNodes = manifest["layers"]!.AsArray();
            string gzipType = image.ManifestMediaType == MediaTypes.DockerManifest ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip;
            var layers = image.Layers.ToList();
            bool changed = false;
            for (int i = 0; i < layers.Count; i++)
            {
                if (HasBlob(layers[i].Digest)) continue;
                var (digest, size, published) = await Task.Run(() => RecompressLayer(layers[i].DiffId, ct), ct).ConfigureAwait(false);
                if (published) written.Add(digest);
                // A layer made here was gzipped by the same code: it usually comes out as the blob the manifest names.
                if (digest == layers[i].Digest) continue;
                changed = true;
                layers[i] = layers[i] with { Digest = digest, CompressedSize = size, MediaType = gzipType };
                var node = layerNodes[i]!.AsObject();
                node["mediaType"] = gzipType;
                node["digest"] = digest.ToString();
                node["size"] = size;
            }
            if (!changed) return new SendableImage(image, this, written);
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString());
            var manifestDigest = Digest.Sha256(bytes);
            if (!HasBlob(manifestDigest)) { await PutBlobAsync(bytes, manifestDigest, ct).ConfigureAwait(false); written.Add(manifestDigest); }
            Log.Information("Recompressed the missing layer blobs of {Image}: manifest {Digest}", image.ToString(), manifestDigest);
            return new SendableImage(image with { Digest = manifestDigest, ExtraDigests = [], Layers = layers }, this, written);
        }
        catch
        {
            foreach (var d in written) File.Delete(BlobPath(d));
            throw;
        }
    }

    /// <summary>Rebuilds one layer's tar, checks it against the diff id, and publishes it gzipped as a blob.</summary>
    private (Digest Digest, long Size, bool Published) RecompressLayer(Digest diffId, CancellationToken ct)
    {
        if (!CanReproduceLayer(diffId))
            throw TarSplit.NotReproducible(Path.Combine(LayersDir, diffId.Encoded), "the store has neither its blob nor its tar-split");
        using var staging = Staging.Create(TmpDir);
        string temp = Path.Combine(staging.Path, "layer.tar.gz");
        Digest tarDigest, digest;
        long size;
        using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite, 1 << 16))
        using (var blob = new DigestingStream(file))
        {
            using (var gzip = new GZipStream(blob, CompressionLevel.Fastest, leaveOpen: true))
            using (var tar = new DigestingStream(gzip))
            {
                TarSplit.Reassemble(TarSplitPath(diffId), LayerDirectory(diffId), tar, ct);
                tarDigest = tar.Digest();
            }
            digest = blob.Digest();
            size = blob.Length;
        }
        // Never send something other than the layer the configuration names (a changed file, a hostile layer).
        if (tarDigest != diffId)
            throw TarSplit.NotReproducible(Path.Combine(LayersDir, diffId.Encoded), $"the rebuilt tar is {tarDigest}, not {diffId}");
        if (HasBlob(digest)) return (digest, size, false);
        PublishBlob(temp, digest, durable: false);
        return (digest, size, true);
    }
}
