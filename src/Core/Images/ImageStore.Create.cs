using System.IO.Compression;
using System.Security.Cryptography;
using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>Images made here rather than pulled: new layers from tar entries, new images from stored layers.</summary>
internal sealed partial class ImageStore
{
    /// <summary>
    /// Stores a layer whose tar <paramref name="write"/> produces, ingested as any pulled layer (verified,
    /// unpacked, published by rename). Like a pulled layer it keeps a tar-split, not a blob: its descriptor
    /// names the plain tar, and a push or save gzips it then (a new manifest digest, as podman's). A store that
    /// keeps blobs gets a gzip blob at once, so a push sends what was built. The layer is durable once an image
    /// that uses it is committed; on failure nothing but the staging directory (removed here, or by the next
    /// Open after a kill) is left.
    /// </summary>
    public async Task<StoredLayer> AddLayerAsync(Action<LayerTarWriter, CancellationToken> write, CancellationToken cancellationToken = default)
    {
        using var staging = Staging.Create(TmpDir);
        bool gzip = Options.KeepBlobs;
        string blobPath = Path.Combine(staging.Path, gzip ? "layer.tar.gz" : "layer.tar");
        var (diffId, digest, size) = await Task.Run(() =>
        {
            using var file = new FileStream(blobPath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
            using var blob = new DigestingStream(file);
            Digest tarDigest;
            using (var compressed = gzip ? new GZipStream(blob, CompressionLevel.Fastest, leaveOpen: true) : null)
            using (var tarBytes = new DigestingStream(compressed ?? (Stream)blob))
            {
                using (var tar = new LayerTarWriter(tarBytes)) write(tar, cancellationToken);
                tarDigest = tarBytes.Digest();
            }
            return (tarDigest, blob.Digest(), blob.Length);
        }, cancellationToken).ConfigureAwait(false);
        await using var stream = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var descriptor = new Descriptor { MediaType = gzip ? MediaTypes.OciLayerGzip : MediaTypes.OciLayer, Digest = digest.ToString(), Size = size };
        return await IngestLayerAsync(stream, descriptor, diffId, null, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores a tar file (plain, gzip or zstd) as a layer as it is: one pass computes its digests, a second
    /// ingests it like a pulled layer. A file that is not a tar fails the ingest (LayerMalformed) and leaves nothing.
    /// </summary>
    public async Task<StoredLayer> AddLayerFromFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var (descriptor, diffId) = await Task.Run(() =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var head = new byte[4];
            int n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            file.Position = 0;
            var compression = LayerDecompression.Sniff(head.AsSpan(0, n));
            using var compressed = new HashingStream(file, "sha256", long.MaxValue, _ => new InvalidOperationException());
            using (var tar = new HashingStream(LayerDecompression.Open(compressed, compression), "sha256", Options.MaxLayerBytes,
                       _ => new Errors.ContainersException("LayerTooLarge", Errors.ErrorKind.LimitExceeded,
                           $"{path} unpacks to more than {Options.MaxLayerBytes} bytes.", path, "Raise the store's layer size limit (PSCONTAINERS_MAX_LAYER_SIZE).")))
            {
                try { tar.Drain(); }
                catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException)
                {
                    throw new Errors.ContainersException("LayerMalformed", Errors.ErrorKind.InvalidData, $"{path} is not a valid {compression} stream: {e.Message}", path, null, e);
                }
                compressed.Drain();
                string mediaType = compression switch
                {
                    LayerCompression.Gzip => MediaTypes.OciLayerGzip,
                    LayerCompression.Zstd => MediaTypes.OciLayerZstd,
                    _ => MediaTypes.OciLayer,
                };
                return (new Descriptor { MediaType = mediaType, Digest = compressed.Digest().ToString(), Size = compressed.BytesRead }, tar.Digest());
            }
        }, cancellationToken).ConfigureAwait(false);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return await IngestLayerAsync(stream, descriptor, diffId, null, keepBlob: true, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records a new image of stored layers (bottom to top) and a configuration whose rootfs is set here
    /// from the layers: an OCI manifest and configuration are written and committed like a pulled image's.
    /// </summary>
    public Task<StoredImage> CreateImageAsync(IReadOnlyList<StoredLayer> layers, ImageConfig config, IReadOnlyList<string> names,
        CancellationToken cancellationToken = default)
    {
        config = config with { RootFs = new RootFs { DiffIds = layers.Select(l => l.DiffId.ToString()).ToList() } };
        byte[] configBytes = SpecJson.Serialize(config, SpecJsonContext.Default.ImageConfig);
        var manifest = new Manifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Sha256(configBytes).ToString(), Size = configBytes.Length },
            Layers = layers.Select(l => new Descriptor { MediaType = OciLayerType(l.MediaType), Digest = l.Digest.ToString(), Size = l.CompressedSize }).ToList(),
        };
        byte[] manifestBytes = SpecJson.Serialize(manifest, SpecJsonContext.Default.Manifest);
        return CommitImageAsync(new ImageCommit { Manifest = manifestBytes, ManifestMediaType = MediaTypes.OciManifest, Config = configBytes, Names = names },
            cancellationToken);
    }

    /// <summary>The OCI media type of the same layer bytes (Docker's gzip layers are OCI gzip layers).</summary>
    private static string OciLayerType(string mediaType) => mediaType switch
    {
        MediaTypes.DockerLayerGzip => MediaTypes.OciLayerGzip,
        MediaTypes.DockerForeignLayerGzip => MediaTypes.OciLayerNondistributableGzip,
        _ => mediaType,
    };

    /// <summary>A write-only pass-through that hashes (SHA-256) and counts what is written.</summary>
    private sealed class DigestingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public Digest Digest() => Spec.Digest.FromHash("sha256", _hash.GetCurrentHash());
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            _length += buffer.Length;
            inner.Write(buffer);
        }
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
