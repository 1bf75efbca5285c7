using System.Text.Json;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Native;
using Containers.Core.Spec;
using Serilog;

namespace Containers.Core.Images;

/// <summary>How the store behaves.</summary>
internal sealed record ImageStoreOptions
{
    /// <summary>Largest uncompressed layer accepted (decompression bombs stop here). Default 64 GiB.</summary>
    public long MaxLayerBytes { get; init; } = 64L << 30;
    /// <summary>Whether to flush to disk (fsync/syncfs) before making things visible.</summary>
    public bool Durable { get; init; } = true;
    public LayerUnpackOptions Unpack { get; init; } = new();
    /// <summary>Who uses images; RemoveAsync refuses to delete an image in use unless forced.</summary>
    public IImageUsers Users { get; init; } = NoImageUsers.Instance;

    /// <summary>
    /// Keep every layer's compressed blob beside its unpacked copy (twice the disk, the registry's exact
    /// blobs for push and save). Off by default: a layer is kept unpacked with its tar-split only.
    /// </summary>
    public bool KeepBlobs { get; init; }

    /// <summary>Overrides the decompression bound (bytes; suffixes K, M, G, T allowed).</summary>
    public const string MaxLayerBytesVariable = "PSCONTAINERS_MAX_LAYER_SIZE";
    /// <summary>Set to 1 (or true) to keep compressed layer blobs for every pull and load, as -KeepBlobs does for one.</summary>
    public const string KeepBlobsVariable = "PSCONTAINERS_KEEP_BLOBS";

    /// <summary>The options for this user and environment: rootless unpack when not root, the layer bound from the environment.</summary>
    public static ImageStoreOptions FromEnvironment(ContainerPaths paths, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var options = new ImageStoreOptions
        {
            Unpack = new LayerUnpackOptions { Rootless = paths.Rootless },
            KeepBlobs = env(KeepBlobsVariable)?.Trim().ToLowerInvariant() is "1" or "true" or "yes",
        };
        string? limit = env(MaxLayerBytesVariable);
        if (string.IsNullOrWhiteSpace(limit)) return options;
        return ParseSize(limit) is long bytes and > 0
            ? options with { MaxLayerBytes = bytes }
            : throw new ContainersException("InvalidMaxLayerSize", ErrorKind.InvalidArgument,
                $"{MaxLayerBytesVariable}='{limit}' is not a size.", limit, "Give bytes, optionally with K, M, G or T, e.g. 20G.");
    }

    internal static long? ParseSize(string text)
    {
        text = text.Trim();
        long factor = 1;
        char last = char.ToUpperInvariant(text[^1]);
        int shift = last switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (shift > 0) { factor = 1L << shift; text = text[..^1]; }
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) && n <= long.MaxValue / factor
            ? n * factor : null;
    }
}

/// <summary>
/// The local image store under <see cref="ContainerPaths.ImagesDir"/>:
/// <c>blobs/sha256/&lt;hex&gt;</c> content-addressed blobs; <c>layers/&lt;diff-id hex&gt;/diff</c> unpacked layers
/// (shared by every image that has the layer) with its metadata (<see cref="LayerXattr"/> on the layer's directory, or
/// <c>layer.json</c> beside <c>diff</c> where the filesystem takes no user xattrs) and its tar-split; <c>images.json</c> the image records,
/// replaced atomically; <c>tmp/</c> private staging for ingests in progress; <c>store.lock</c> the flock
/// that serialises writers of images.json and garbage collection across processes. Blobs and layers
/// appear by rename only after they were verified, so a reader never sees partial content and needs no lock.
/// </summary>
internal sealed partial class ImageStore
{
    private static readonly ILogger Log = ModuleLog.For<ImageStore>();

    private ImageStore(string root, ImageStoreOptions options)
    {
        Root = root;
        Options = options;
    }

    public string Root { get; }
    public ImageStoreOptions Options { get; }
    /// <summary>The data directory the store lives in (its event journal is there).</summary>
    public string DataDir => Path.GetDirectoryName(Root)!;
    public string BlobsDir => Path.Combine(Root, "blobs");
    public string LayersDir => Path.Combine(Root, "layers");
    public string TmpDir => Path.Combine(Root, "tmp");
    private string DatabasePath => Path.Combine(Root, "images.json");
    private string LockPath => Path.Combine(Root, "store.lock");

    /// <summary>Opens (creating if needed) the store under paths.ImagesDir and clears leftovers of killed ingests.</summary>
    public static ImageStore Open(ContainerPaths paths, ImageStoreOptions? options = null)
    {
        try { PrivateStore.EnsureDirectory(paths.DataDir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(paths.DataDir, e);
        }
        return OpenAt(paths.ImagesDir, options ?? ImageStoreOptions.FromEnvironment(paths));
    }

    /// <summary>Opens a store rooted at a directory (tests).</summary>
    public static ImageStore OpenAt(string root, ImageStoreOptions? options = null)
    {
        var store = new ImageStore(Path.GetFullPath(root), options ?? new ImageStoreOptions());
        try
        {
            PrivateStore.EnsureDirectory(store.Root);
            PrivateStore.TightenOnce(store.Root, store.Tighten);
            PrivateStore.CreateDirectory(Path.Combine(store.BlobsDir, "sha256"));
            PrivateStore.CreateDirectory(store.LayersDir);
            PrivateStore.CreateDirectory(store.TmpDir);
            // Every ingest unpacks into a fresh directory under tmp/ (renamed into layers/ when done): spread, each
            // one lands in a block group of its own with free inodes to spare, instead of the group of the store's
            // parent, where on a busy ext4 without a journal every new inode first skips the recently freed ones
            // (the kernel's recently_deleted check): that skipping was most of the system time of a 200-layer pull.
            DirectoryPlacement.TrySpreadSubdirectories(store.TmpDir);
            Staging.CleanAbandoned(store.TmpDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(store.Root, e);
        }
        return store;
    }

    private static ContainersException Unavailable(string path, Exception e) =>
        new("ImageStoreUnavailable", ErrorKind.PermissionDenied,
            $"Cannot open the image store at {path}: {e.Message}", path, "Check the permissions of the data directory.", e);

    /// <summary>
    /// Makes a store written by an older version private: its directories and the files beside the layers.
    /// The layers' own trees (diff/) keep the modes their images give them; the 0700 above them is what keeps others out.
    /// </summary>
    private void Tighten()
    {
        Log.Information("Making the image store {Root} private (directories 0700, files 0600)", Root);
        foreach (string dir in new[] { BlobsDir, Path.Combine(BlobsDir, "sha256"), LayersDir, TmpDir, SignaturesDir })
            PrivateStore.Restrict(dir);
        foreach (string file in new[] { DatabasePath, LockPath }) PrivateStore.Restrict(file);
        foreach (string dir in Directory.Exists(SignaturesDir) ? Directory.EnumerateDirectories(SignaturesDir) : [])
        {
            PrivateStore.Restrict(dir);
            foreach (string file in Directory.EnumerateFiles(dir)) PrivateStore.Restrict(file);
        }
        foreach (string file in Directory.Exists(Path.Combine(BlobsDir, "sha256")) ? Directory.EnumerateFiles(Path.Combine(BlobsDir, "sha256")) : [])
            PrivateStore.Restrict(file);
        foreach (string layer in Directory.Exists(LayersDir) ? Directory.EnumerateDirectories(LayersDir) : [])
        {
            PrivateStore.Restrict(layer);
            foreach (string file in Directory.EnumerateFiles(layer)) PrivateStore.Restrict(file);
        }
    }

    // ---- blobs ------------------------------------------------------------------------------

    public string BlobPath(Digest digest) => Path.Combine(BlobsDir, digest.Algorithm, digest.Encoded);

    public bool HasBlob(Digest digest) => File.Exists(BlobPath(digest));

    /// <summary>Opens a stored blob for reading.</summary>
    public Stream OpenBlob(Digest digest)
    {
        try { return new FileStream(BlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (FileNotFoundException e)
        {
            throw new ContainersException("BlobNotFound", ErrorKind.NotFound, $"The blob {digest} is not in the store.", digest.ToString(), null, e);
        }
    }

    /// <summary>Reads a small blob (manifest, config) whole, refusing one larger than maxBytes.</summary>
    public async Task<byte[]> ReadBlobAsync(Digest digest, long maxBytes, CancellationToken cancellationToken)
    {
        await using var s = OpenBlob(digest);
        if (s.Length > maxBytes)
            throw new ContainersException("BlobTooLarge", ErrorKind.LimitExceeded, $"The blob {digest} is {s.Length} bytes, over {maxBytes}.", digest.ToString());
        var data = new byte[s.Length];
        await s.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
        return data;
    }

    /// <summary>
    /// Starts writing a blob. Write the bytes to the returned stream, then <see cref="BlobWriter.CommitAsync"/>:
    /// it verifies the digest (and the size when one was given) and only then renames the blob into place.
    /// Disposing without committing discards it.
    /// </summary>
    public BlobWriter BeginBlobWrite(Digest expected, long expectedSize = -1) =>
        new(this, Staging.Create(TmpDir), expected, expectedSize);

    /// <summary>Stores a small blob from memory after verifying it; returns its digest.</summary>
    public async Task<Digest> PutBlobAsync(ReadOnlyMemory<byte> data, Digest? expected, CancellationToken cancellationToken)
    {
        var digest = expected ?? Digest.Sha256(data.Span);
        if (HasBlob(digest))
        {
            if (!digest.Matches(data.Span)) throw DigestMismatch(digest, Digest.Sha256(data.Span));
            return digest;
        }
        await using var w = BeginBlobWrite(digest, data.Length);
        await w.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        await w.CommitAsync(cancellationToken).ConfigureAwait(false);
        return digest;
    }

    internal void PublishBlob(string stagedFile, Digest digest, bool durable = true)
    {
        string target = BlobPath(digest);
        // same content either way: rename is atomic; the directory exists unless someone removed it
        try { File.Move(stagedFile, target, overwrite: true); }
        catch (DirectoryNotFoundException) when (File.Exists(stagedFile))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(stagedFile, target, overwrite: true);
        }
        if (Options.Durable && durable) FileSystemCalls.FsyncDirectory(Path.GetDirectoryName(target)!);
    }

    internal static ContainersException DigestMismatch(Digest expected, Digest actual, string what = "blob") =>
        new("DigestMismatch", ErrorKind.InvalidData, $"The {what} should have digest {expected} but has {actual}; it was not stored.",
            expected.ToString(), "The source sent corrupt or tampered content; try again or use another source.");

    // ---- layers -----------------------------------------------------------------------------

    /// <summary>The unpacked directory of a layer (its overlay lowerdir).</summary>
    public string LayerDirectory(Digest diffId) => Path.Combine(LayersDir, diffId.Encoded, "diff");

    /// <summary>The xattr on a layer's directory that marks it as flushed to disk (set by CommitImageAsync).</summary>
    internal const string DurableXattr = "user.pscontainers.durable";

    /// <summary>The file that marks a layer durable where its filesystem takes no user xattrs (and in stores written
    /// before the xattr): a new inode per layer, which costs far more than an xattr on a busy filesystem.</summary>
    internal const string DurableMarker = "durable";

    /// <summary>
    /// Whether a layer with this diff id (uncompressed digest) is unpacked in the store and on disk for
    /// good. A layer ingested but not yet part of a committed image is not (its ingest may be repeated).
    /// </summary>
    public bool HasLayer(Digest diffId)
    {
        string dir = Path.Combine(LayersDir, diffId.Encoded);
        return FileSystemCalls.HasXattr(dir, DurableXattr) || File.Exists(Path.Combine(dir, DurableMarker));
    }

    /// <summary>The xattr on a layer's directory that holds its <see cref="LayerMetadata"/> (JSON).</summary>
    internal const string LayerXattr = "user.pscontainers.layer";

    /// <summary>The layer's metadata where its filesystem takes no user xattrs (and in stores written before the xattr).</summary>
    internal const string LayerMetadataFile = "layer.json";

    /// <summary>Whether an unpacked copy of the layer is in place (durable or not yet).</summary>
    internal bool LayerPresent(Digest diffId)
    {
        string dir = Path.Combine(LayersDir, diffId.Encoded);
        return FileSystemCalls.HasXattr(dir, LayerXattr) || File.Exists(Path.Combine(dir, LayerMetadataFile));
    }

    /// <summary>Writes a staged layer's metadata: an xattr of its directory (no new inode), else layer.json.</summary>
    private static void WriteLayerMetadata(string layerDir, LayerMetadata meta)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(meta, StoreJsonContext.Default.LayerMetadata);
        if (!FileSystemCalls.TrySetXattr(layerDir, LayerXattr, json)) SmallFile.WriteNew(Path.Combine(layerDir, LayerMetadataFile), json);
    }

    /// <summary>A layer's metadata from its xattr or layer.json; null when neither is readable.</summary>
    private LayerMetadata? ReadLayerMetadata(Digest diffId)
    {
        string dir = Path.Combine(LayersDir, diffId.Encoded);
        try
        {
            byte[] json = FileSystemCalls.GetXattr(dir, LayerXattr, MaxLayerMetadataBytes) ?? SmallFile.Read(Path.Combine(dir, LayerMetadataFile));
            return JsonSerializer.Deserialize(json, StoreJsonContext.Default.LayerMetadata);
        }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    private const int MaxLayerMetadataBytes = 4096;

    // ---- records ----------------------------------------------------------------------------

    internal ImageDatabase LoadDatabase()
    {
        byte[] data;
        try { data = File.ReadAllBytes(DatabasePath); }
        catch (FileNotFoundException) { return new ImageDatabase(); }
        try
        {
            return JsonSerializer.Deserialize(data, StoreJsonContext.Default.ImageDatabase) ?? new ImageDatabase();
        }
        catch (JsonException e)
        {
            throw new ContainersException("ImageStoreCorrupt", ErrorKind.InvalidData,
                $"The image store's {DatabasePath} is not valid JSON: {e.Message}", DatabasePath, "Restore it from a backup or remove the store.", e);
        }
    }

    private void SaveDatabase(ImageDatabase db) =>
        StoreIo.WriteAtomic(DatabasePath, JsonSerializer.SerializeToUtf8Bytes(db, StoreJsonContext.Default.ImageDatabase), Options.Durable);

    /// <summary>Runs a read-modify-write of images.json under the store's exclusive lock.</summary>
    internal T Mutate<T>(Func<ImageDatabase, (T Result, bool Changed)> change, CancellationToken cancellationToken)
    {
        using var held = FileLock.Acquire(LockPath, exclusive: true, cancellationToken);
        var db = LoadDatabase();
        var (result, changed) = change(db);
        if (changed) SaveDatabase(db);
        return result;
    }

    internal StoredImage ToStoredImage(ImageRecord r)
    {
        var configDigest = Digest.Parse(r.ConfigDigest);
        ImageConfig config;
        try { config = SpecJson.ParseConfig(File.ReadAllBytes(BlobPath(configDigest)), r.Id); }
        catch (FileNotFoundException) { config = new ImageConfig { Architecture = r.Architecture, Os = r.Os }; }
        return new StoredImage
        {
            Id = r.Id,
            Names = r.Names.ToList(),
            Digest = Digest.Parse(r.Digest),
            ManifestMediaType = r.ManifestMediaType,
            ExtraDigests = r.Digests.Select(Digest.Parse).ToList(),
            ConfigDigest = configDigest,
            Created = r.Created,
            Added = r.Added,
            Size = r.Size,
            Architecture = r.Architecture,
            Os = r.Os,
            Variant = r.Variant,
            Config = config,
            Layers = r.Layers.Select(l =>
            {
                var diff = Digest.Parse(l.DiffId);
                return new StoredLayer(diff, Digest.Parse(l.Digest), l.MediaType, l.CompressedSize, l.Size, LayerDirectory(diff));
            }).ToList(),
        };
    }

    /// <summary>Every image in the store, newest first.</summary>
    public Task<IReadOnlyList<StoredImage>> ListAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var db = ReadDatabase();
        IReadOnlyList<StoredImage> list = db.Images.OrderByDescending(i => i.Created ?? i.Added).Select(ToStoredImage).ToList();
        return Task.FromResult(list);
    }

    /// <summary>
    /// Finds an image by full name, name without tag (:latest), short name (matching the end of a stored
    /// name, as podman does for local images), name@digest, image id or an id prefix of at least 3 hex
    /// digits, or a full image/manifest digest. Null when nothing matches; throws when ambiguous.
    /// </summary>
    public Task<StoredImage?> FindAsync(string nameOrIdOrDigest, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var db = ReadDatabase();
        var record = Resolve(db, nameOrIdOrDigest, out _);
        return Task.FromResult(record is null ? null : ToStoredImage(record));
    }

    /// <summary>Like FindAsync but throws ImageNotFound.</summary>
    public async Task<StoredImage> GetAsync(string nameOrIdOrDigest, CancellationToken cancellationToken = default) =>
        await FindAsync(nameOrIdOrDigest, cancellationToken).ConfigureAwait(false) ?? throw NotFound(nameOrIdOrDigest);

    internal static ContainersException NotFound(string what) =>
        new("ImageNotFound", ErrorKind.NotFound, $"No image '{what}' in the local store.", what,
            "List the local images with Get-ContainerImage, or install it with Install-ContainerImage.");

    // ---- GC ---------------------------------------------------------------------------------

    /// <summary>Deletes the blobs and layers of removed records that no remaining image uses. Call under the lock.</summary>
    private void CollectGarbage(ImageDatabase db, IEnumerable<ImageRecord> removed)
    {
        var usedBlobs = new HashSet<string>(StringComparer.Ordinal);
        var usedLayers = LayersOfContainers();
        foreach (var r in db.Images)
        {
            usedBlobs.Add(r.Digest);
            usedBlobs.Add(r.ConfigDigest);
            usedBlobs.UnionWith(r.Digests);
            foreach (var l in r.Layers)
            {
                usedBlobs.Add(l.Digest);
                usedLayers.Add(Digest.Parse(l.DiffId).Encoded);
            }
        }
        foreach (var r in removed)
        {
            foreach (string manifest in r.Digests.Append(r.Digest).Distinct())
                if (!usedBlobs.Contains(manifest) && Digest.TryParse(manifest, out var md)) DeleteSignatures(md);
            foreach (string blob in r.Layers.Select(l => l.Digest).Append(r.Digest).Append(r.ConfigDigest).Concat(r.Digests).Distinct())
            {
                if (usedBlobs.Contains(blob) || !Digest.TryParse(blob, out var d)) continue;
                File.Delete(BlobPath(d));
                Log.Debug("Removed blob {Digest}", blob);
            }
            foreach (string diff in r.Layers.Select(l => l.DiffId).Distinct())
            {
                if (!Digest.TryParse(diff, out var d) || usedLayers.Contains(d.Encoded)) continue;
                string dir = Path.Combine(LayersDir, d.Encoded);
                if (!Directory.Exists(dir)) continue;
                // Rename away first so the layer disappears at once, then delete at leisure.
                string trash = Path.Combine(TmpDir, "trash-" + Guid.NewGuid().ToString("N"));
                Directory.Move(dir, trash);
                DirectoryTree.Delete(trash);
                Log.Debug("Removed layer {DiffId}", diff);
            }
        }
    }

    /// <summary>The layers (diff id hex) that containers stack: references of their own, whether or not an image still lists them.</summary>
    private HashSet<string> LayersOfContainers()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (string dir in Options.Users.LayerDirectoriesInUse())
        {
            // layers/<hex>/diff of this store; a directory elsewhere is not ours to keep or delete.
            string full = Path.GetFullPath(dir);
            if (Path.GetFileName(full) == "diff" && Path.GetDirectoryName(Path.GetDirectoryName(full)) == LayersDir)
                used.Add(Path.GetFileName(Path.GetDirectoryName(full))!);
        }
        return used;
    }

    /// <summary>Deletes layers and blobs no image or container references (leftovers of interrupted pulls). Returns how many.</summary>
    public Task<int> PruneUnreferencedAsync(CancellationToken cancellationToken = default) => Task.FromResult(Mutate(db =>
    {
        int n = 0;
        var usedLayers = LayersOfContainers();
        usedLayers.UnionWith(db.Images.SelectMany(i => i.Layers).Select(l => Digest.Parse(l.DiffId).Encoded));
        foreach (string dir in Directory.GetDirectories(LayersDir))
        {
            if (usedLayers.Contains(Path.GetFileName(dir))) continue;
            string trash = Path.Combine(TmpDir, "trash-" + Guid.NewGuid().ToString("N"));
            Directory.Move(dir, trash);
            DirectoryTree.Delete(trash);
            n++;
        }
        var usedBlobs = db.Images.SelectMany(i => i.Layers.Select(l => l.Digest).Append(i.Digest).Append(i.ConfigDigest).Concat(i.Digests))
            .Select(b => Digest.Parse(b).Encoded).ToHashSet();
        foreach (string file in Directory.GetFiles(Path.Combine(BlobsDir, "sha256")))
        {
            if (usedBlobs.Contains(Path.GetFileName(file))) continue;
            File.Delete(file);
            n++;
        }
        return (n, false);
    }, cancellationToken));
}
