using Containers.Core.Errors;
using Containers.Core.Native;
using Containers.Core.Spec;

namespace Containers.Core.Images;

internal sealed partial class ImageStore
{
    /// <summary>
    /// Ingests one layer from its blob stream in a single pass: the bytes are written to a staging blob
    /// and hashed (compressed digest and size checked against the descriptor), decompressed (gzip, zstd
    /// or none, from the media type), hashed again (diff id) and unpacked into a staging directory.
    /// Only when every check passes are the blob and the layer renamed into the store. A layer whose
    /// diff id is already unpacked is only verified. An interrupted ingest leaves only a staging
    /// directory that the next Open removes. The compressed blob is kept only with <paramref name="keepBlob"/>
    /// or the store's KeepBlobs, or for a layer unpacked by an older store (no tar-split): otherwise the
    /// tar-split recorded while unpacking stands for it (see <see cref="PrepareToSendAsync"/>).
    /// </summary>
    public Task<StoredLayer> IngestLayerAsync(Stream blob, Descriptor layer, Digest diffId, IProgress<long>? progress = null,
        IngestSession? session = null, bool keepBlob = false, CancellationToken cancellationToken = default) =>
        // A stream that may block (network) gets a dedicated thread, not the pool: a pull runs several at
        // once, and on a small machine blocked pool threads starve the socket completions the other
        // downloads wait for. An in-memory stream is pure CPU and file work: the pool is cheaper.
        Task.Factory.StartNew(() =>
        {
            try { return IngestLayer(blob, layer, diffId, progress, session, keepBlob || Options.KeepBlobs, cancellationToken); }
            catch (IOException e) when (IsDiskFull(e))
            {
                throw new ContainersException("DiskFull", ErrorKind.ResourceUnavailable,
                    $"No space left for the layer {layer.Digest} in {Root}; nothing of it was kept.", Root, "Free space (Remove-ContainerImage) and retry.", e);
            }
        }, cancellationToken, blob is MemoryStream ? TaskCreationOptions.None : TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static bool IsDiskFull(IOException e) =>
        e.HResult is 28 or unchecked((int)0x80070070) || e is NativeCallException { Errno: 28 } || e.Message.Contains("No space left", StringComparison.Ordinal);

    /// <summary>Starts a staging session for several ingests (one pull); dispose it when they are done.</summary>
    public IngestSession BeginIngestSession() => new(Staging.Create(TmpDir));

    private StoredLayer IngestLayer(Stream blob, Descriptor layer, Digest diffId, IProgress<long>? progress, IngestSession? session, bool keepBlob, CancellationToken ct)
    {
        if (session is null)
        {
            using var own = Staging.Create(TmpDir);
            return IngestLayerIn(Path.Combine(own.Path, "blob"), Path.Combine(own.Path, "layer"), blob, layer, diffId, progress, keepBlob, ct);
        }
        // Two names in the session directory, no directory of its own: both are renamed away on success.
        string prefix = session.NewName();
        string stagedBlob = prefix + ".blob", stagedLayer = prefix + ".layer";
        try { return IngestLayerIn(stagedBlob, stagedLayer, blob, layer, diffId, progress, keepBlob, ct); }
        catch
        {
            File.Delete(stagedBlob);
            DirectoryTree.Delete(stagedLayer);
            throw;
        }
    }

    private StoredLayer IngestLayerIn(string stagedBlob, string stagedLayer, Stream blob, Descriptor layer, Digest diffId, IProgress<long>? progress,
        bool keepBlob, CancellationToken ct)
    {
        var digest = layer.ParsedDigest;
        var compression = MediaTypes.CompressionOf(layer.MediaType)
            ?? throw new ContainersException("UnsupportedLayerMediaType", ErrorKind.NotSupported,
                $"The layer {digest} has the media type '{layer.MediaType}', which is not a layer this store can unpack.", layer.MediaType);
        bool unpack = !HasLayer(diffId);
        // A layer already here keeps its blob only if it cannot be written back without it (no tar-split).
        keepBlob |= !unpack && !File.Exists(TarSplitPath(diffId));
        long tStaged = System.Diagnostics.Stopwatch.GetTimestamp();
        string stagedDiff = Path.Combine(stagedLayer, "diff");
        long declared = layer.Size > 0 ? layer.Size : long.MaxValue;
        int entries = 0;
        long uncompressed;
        // A private staging file: FileShare.ReadWrite spares .NET's flock/unlock emulation of sharing modes.
        TarSplitRecorder? split = null;
        using (var file = keepBlob ? new FileStream(stagedBlob, PrivateStore.NewFile(FileMode.CreateNew, 1 << 16, FileShare.ReadWrite)) : null)
        {
            if (unpack)
            {
                // Two mkdirs (the staging names are fresh), not CreateDirectory's probe of every parent.
                FileSystemCalls.MkdirAt(FileSystemCalls.AT_FDCWD, stagedLayer, 0x1C0 /* 0700: private, like the store */);
                FileSystemCalls.MkdirAt(FileSystemCalls.AT_FDCWD, stagedDiff, 0x1FF /* the layer root: 0777 less the umask, as CreateDirectory */);
                split = new TarSplitRecorder(Path.Combine(stagedLayer, TarSplitRecorder.FileName));
            }
            using var splitOwner = split;
            using var compressed = new HashingStream(blob, digest.Algorithm, declared,
                n => new ContainersException("SizeMismatch", ErrorKind.InvalidData,
                    $"The layer {digest} is longer than its declared {layer.Size} bytes; it was not stored.", digest.ToString()),
                file, progress);
            using (var decompressed = LayerDecompression.Open(compressed, compression))
            using (var tar = new HashingStream(decompressed, diffId.Algorithm, Options.MaxLayerBytes,
                       n => new ContainersException("LayerTooLarge", ErrorKind.LimitExceeded,
                           $"The layer {digest} unpacks to more than {Options.MaxLayerBytes} bytes; refused as a decompression bomb.",
                           digest.ToString(), "Raise the store's layer size limit if the image is genuine."), split))
            {
                try
                {
                    if (unpack)
                    {
                        using var unpacker = new LayerUnpacker(stagedDiff, Options.Unpack) { EntryRead = split!.OnEntry, EarlyWriteback = Options.Durable };
                        unpacker.Unpack(tar, ct);
                        entries = unpacker.Entries;
                    }
                    tar.Drain();
                }
                catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException
                                               || (e is ContainersException c && c.ErrorId is "LayerMalformed"))
                {
                    // Corrupt compression is usually corrupt transport: say so when the blob's digest is wrong too.
                    try { compressed.Drain(); } catch (Exception) { /* the digest check below is what matters */ }
                    var got = compressed.Digest();
                    if (got != digest) throw DigestMismatch(digest, got, "layer");
                    if (e is ContainersException) throw;
                    throw new ContainersException("LayerMalformed", ErrorKind.InvalidData,
                        $"The layer {digest} is not a valid {compression} stream: {e.Message}", digest.ToString(), null, e);
                }
                uncompressed = tar.BytesRead;
                var actualDiff = tar.Digest();
                compressed.Drain();
                var actual = compressed.Digest();
                if (actual != digest) throw DigestMismatch(digest, actual, "layer");
                if (layer.Size > 0 && compressed.BytesRead != layer.Size)
                    throw new ContainersException("SizeMismatch", ErrorKind.InvalidData,
                        $"The layer {digest} has {compressed.BytesRead} bytes, not the declared {layer.Size}; it was not stored.", digest.ToString());
                if (actualDiff != diffId)
                    throw new ContainersException("DiffIdMismatch", ErrorKind.InvalidData,
                        $"The layer {digest} uncompresses to {actualDiff}, not the diff id {diffId} the image configuration declares; it was not stored.",
                        digest.ToString(), "The image is corrupt or tampered with.");
            }
            // A blob for a layer that is already durable must be durable itself; a new layer's blob is
            // flushed with the layer by the one syncfs of CommitImageAsync (HasLayer stays false until then).
            if (Options.Durable && !unpack) file?.Flush(flushToDisk: true);
            if (split is not null)
            {
                split.Complete();
                // A tar-split that would not give the tar back (a path given twice, a file the unpacker skipped)
                // goes: the layer then has no way back to its blob, and a pull of the image fetches the blob again.
                if (!(split.Reproducible && TarSplit.FilesPresent(stagedDiff, split.Files)))
                {
                    File.Delete(Path.Combine(stagedLayer, TarSplitRecorder.FileName));
                    Log.Warning("The layer {DiffId} cannot be rebuilt from its files; without its blob it cannot be pushed or saved", diffId);
                }
            }
        }
        ct.ThrowIfCancellationRequested();
        long tStreamed = System.Diagnostics.Stopwatch.GetTimestamp();

        if (keepBlob) PublishBlob(stagedBlob, digest, durable: !unpack);
        if (unpack)
        {
            var meta = new LayerMetadata { DiffId = diffId.ToString(), Size = uncompressed, Entries = entries, Unpacked = DateTimeOffset.UtcNow, Rootless = Options.Unpack.Rootless };
            WriteLayerMetadata(stagedLayer, meta);
            PublishLayer(stagedLayer, diffId, ct);
            // Early writeback pays off for big layers; for small ones a syncfs per layer only adds journal
            // commits the other ingests wait behind, and the commit barrier has little to flush anyway.
            if (uncompressed >= EarlyWritebackBytes) StartWriteback();
            Log.Debug("Unpacked layer {DiffId} ({Entries} entries, {Bytes} bytes) stream+unpack {Stream:0.0} ms, publish {Publish:0.0} ms",
                diffId, entries, uncompressed,
                System.Diagnostics.Stopwatch.GetElapsedTime(tStaged, tStreamed).TotalMilliseconds, System.Diagnostics.Stopwatch.GetElapsedTime(tStreamed).TotalMilliseconds);
        }
        progress?.Report(layer.Size);
        return new StoredLayer(diffId, digest, layer.MediaType, layer.Size, uncompressed, LayerDirectory(diffId));
    }

    /// <summary>
    /// Records an image whose config, layer blobs and unpacked layers are in the store: verifies the
    /// config digest against the manifest and that every layer is present, stores manifest and config,
    /// then adds the record (or merges names into an existing one) under the store lock. A name held by
    /// another image moves to this one.
    /// </summary>
    public Task<StoredImage> CommitImageAsync(ImageCommit commit, CancellationToken cancellationToken = default)
    {
        var manifestDigest = Digest.Sha256(commit.Manifest);
        string mediaType = SpecJson.DetectMediaType(commit.Manifest, commit.ManifestMediaType, manifestDigest.ToString());
        if (!MediaTypes.IsManifest(mediaType))
            throw new ContainersException("UnsupportedManifestType", ErrorKind.NotSupported,
                $"The document {manifestDigest} is a '{mediaType}', not an image manifest.", manifestDigest.ToString());
        var manifest = SpecJson.ParseManifest(commit.Manifest, manifestDigest.ToString());
        var configDigest = manifest.Config.ParsedDigest;
        if (!configDigest.Matches(commit.Config)) throw DigestMismatch(configDigest, Digest.Sha256(commit.Config), "image configuration");
        var config = SpecJson.ParseConfig(commit.Config, configDigest.ToString());
        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
            throw new ContainersException("LayerCountMismatch", ErrorKind.InvalidData,
                $"The manifest lists {manifest.Layers.Count} layers but the configuration has {config.RootFs.DiffIds.Count} diff ids.", manifestDigest.ToString());
        var names = commit.Names.Select(NormalizeName).Distinct().ToList();

        var layers = new List<LayerRecord>();
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            var d = manifest.Layers[i];
            var diff = Digest.Parse(config.RootFs.DiffIds[i]);
            layers.Add(new LayerRecord
            {
                DiffId = diff.ToString(), Digest = d.ParsedDigest.ToString(), MediaType = d.MediaType, CompressedSize = d.Size,
            });
        }
        var documents = new List<StagedDocument> { new(commit.Config, configDigest), new(commit.Manifest, manifestDigest) };
        var extraDigests = commit.ExtraDigests.ToList();
        if (commit.Index is { } indexBytes)
        {
            var indexDigest = Digest.Sha256(indexBytes);
            string indexType = SpecJson.DetectMediaType(indexBytes, null, indexDigest.ToString());
            if (!MediaTypes.IsIndex(indexType))
                throw new ContainersException("UnsupportedManifestType", ErrorKind.NotSupported,
                    $"The document {indexDigest} given as the image's index is a '{indexType}'.", indexDigest.ToString());
            if (!SpecJson.ParseIndex(indexBytes, indexDigest.ToString()).Manifests.Any(m => m.Digest == manifestDigest.ToString()))
                throw new ContainersException("IndexMismatch", ErrorKind.InvalidData,
                    $"The index {indexDigest} does not list the manifest {manifestDigest}.", indexDigest.ToString());
            documents.Add(new(indexBytes, indexDigest));
            if (!extraDigests.Contains(indexDigest)) extraDigests.Add(indexDigest);
        }
        // The documents the store lacks are staged unflushed; the barrier under the lock flushes them with the layers
        // before they are renamed into blobs/ (no fsync of their own, no staging directory each).
        using var staging = documents.Exists(d => !HasBlob(d.Digest)) ? Staging.Create(TmpDir) : null;
        foreach (var d in documents)
        {
            if (staging is null || HasBlob(d.Digest)) continue;
            string path = Path.Combine(staging.Path, d.Digest.Encoded);
            if (File.Exists(path)) continue; // the same document twice
            SmallFile.WriteNew(path, d.Bytes);
            d.StagedPath = path;
        }

        var record = Mutate(db =>
        {
            // Checked under the lock: a concurrent removal may have collected a shared layer.
            for (int i = 0; i < layers.Count; i++)
            {
                // The unpacked layer is what an image needs; its blob may have been left out (see IngestLayerAsync).
                if (!LayerPresent(Digest.Parse(layers[i].DiffId)))
                    throw new ContainersException("ImageLayerMissing", ErrorKind.InvalidState,
                        $"Layer {i + 1} ({layers[i].Digest}) of the image is not in the store.", layers[i].Digest,
                        "Ingest every layer before committing the image (a concurrent removal may have collected it; retry).");
            }
            MakeDurable(layers.Select(l => Digest.Parse(l.DiffId)).Distinct().Where(d => !HasLayer(d)).ToList(), documents);
            if (documents.Exists(d => !HasBlob(d.Digest)))
                throw new ContainersException("ImageLayerMissing", ErrorKind.InvalidState, "The image's configuration or manifest blob vanished; retry.", configDigest.ToString());
            var existing = db.Images.FirstOrDefault(r => r.Id == configDigest.Encoded);
            bool changed = false;
            foreach (var other in db.Images)
                if (other != existing) changed |= other.Names.RemoveAll(names.Contains) > 0;
            ImageRecord rec;
            if (existing is not null)
            {
                // Same config = same image; keep its digest unless it had none of ours. A re-pull of an
                // image that is already recorded with these names changes nothing and writes nothing.
                foreach (string n in names)
                    if (!existing.Names.Contains(n)) { existing.Names.Add(n); changed = true; }
                foreach (string d in extraDigests.Select(x => x.ToString()).Append(manifestDigest.ToString()))
                    if (d != existing.Digest && !existing.Digests.Contains(d)) { existing.Digests.Add(d); changed = true; }
                rec = existing;
            }
            else
            {
                changed = true;
                for (int i = 0; i < layers.Count; i++) layers[i] = layers[i] with { Size = ReadLayerSize(Digest.Parse(layers[i].DiffId)) };
                rec = new ImageRecord
                {
                    Id = configDigest.Encoded, Names = names, Digest = manifestDigest.ToString(), ManifestMediaType = mediaType,
                    ConfigDigest = configDigest.ToString(), Created = config.Created,
                    Digests = extraDigests.Select(x => x.ToString()).Where(d => d != manifestDigest.ToString()).Distinct().ToList(), Added = DateTimeOffset.UtcNow,
                    Size = layers.Sum(l => l.Size), Architecture = config.Architecture, Os = config.Os, Variant = config.Variant, Layers = layers,
                };
                db.Images.Add(rec);
            }
            return (rec, changed);
        }, cancellationToken);
        Log.Information("Stored image {Id} {Names}", record.Id[..12], record.Names);
        return Task.FromResult(ToStoredImage(record));
    }

    private long ReadLayerSize(Digest diffId) => ReadLayerMetadata(diffId)?.Size ?? 0;

    /// <summary>Adds a name to an image (moving it from any other image).</summary>
    public Task<StoredImage> TagAsync(string nameOrId, string newName, CancellationToken cancellationToken = default)
    {
        string name = NormalizeName(newName);
        var rec = Mutate(db =>
        {
            var r = Resolve(db, nameOrId, out _) ?? throw NotFound(nameOrId);
            if (r.Names.Contains(name)) return (r, false);
            foreach (var other in db.Images) other.Names.Remove(name);
            r.Names.Add(name);
            return (r, true);
        }, cancellationToken);
        Log.Information("Tagged image {Id} as {Name}", rec.Id[..12], name);
        Events.EventLog.Image(DataDir, "tag", rec.Id, name);
        return Task.FromResult(ToStoredImage(rec));
    }

    /// <summary>Removes one name from the image that has it; the image stays (dangling if it was its last name).</summary>
    public Task<StoredImage> UntagAsync(string name, CancellationToken cancellationToken = default)
    {
        var rec = Mutate(db =>
        {
            var r = Resolve(db, name, out string? matched);
            if (r is null || matched is null) throw NotFound(name);
            r.Names.Remove(matched);
            return (r, true);
        }, cancellationToken);
        Log.Information("Untagged {Name} from image {Id}", name, rec.Id[..12]);
        Events.EventLog.Image(DataDir, "untag", rec.Id, name);
        return Task.FromResult(ToStoredImage(rec));
    }

    /// <summary>
    /// Removes an image as podman rmi does: by a name that is one of several, only that name goes; by a
    /// last name, an id or a digest, the whole image goes (refused when it has several names or a
    /// container uses it, unless forced), and then its blobs and layers that no other image uses.
    /// </summary>
    public Task<ImageRemoval> RemoveAsync(string nameOrId, bool force = false, CancellationToken cancellationToken = default)
    {
        var result = Mutate(db =>
        {
            var r = Resolve(db, nameOrId, out string? matched) ?? throw NotFound(nameOrId);
            var before = ToStoredImage(r);
            if (matched is not null && r.Names.Count > 1)
            {
                r.Names.Remove(matched);
                return (new ImageRemoval(before, matched, false), true);
            }
            if (!force && r.Names.Count > 1)
                throw new ContainersException("ImageHasSeveralNames", ErrorKind.InvalidState,
                    $"The image {r.Id[..12]} has several names ({string.Join(", ", r.Names)}).", nameOrId,
                    "Remove it by name to untag one name, or use -Force to delete the image with all its names.");
            var users = Options.Users.ContainersUsing(r.Id).ToList();
            if (users.Count > 0 && !force)
                throw new ContainersException("ImageInUse", ErrorKind.InvalidState,
                    $"The image {r.Id[..12]} is used by the container(s) {string.Join(", ", users)}.", nameOrId,
                    "Remove those containers first, or use -Force.");
            db.Images.Remove(r);
            SaveDatabase(db);
            // Layers that containers stack stay (a forced removal keeps them); the next removal or prune after those containers go takes them.
            CollectGarbage(db, [r]);
            return (new ImageRemoval(before, null, true), false);
        }, cancellationToken);
        Log.Information(result.Deleted ? "Removed image {Id}" : "Untagged image {Id}", result.Image.ShortId);
        Events.EventLog.Image(DataDir, result.Deleted ? "remove" : "untag", result.Image.Id, result.UntaggedName ?? (result.Image.Names.Count > 0 ? result.Image.Names[0] : null));
        return Task.FromResult(result);
    }

    /// <summary>
    /// Renames an unpacked layer into layers/. A copy already there that is durable wins; one that is not
    /// (another process's ingest in flight, or the leftover of a crash whose content may be lost) is
    /// replaced under the store lock by ours, which is complete.
    /// </summary>
    private void PublishLayer(string stagedLayer, Digest diffId, CancellationToken ct)
    {
        string target = Path.Combine(LayersDir, diffId.Encoded);
        try
        {
            FileSystemCalls.RenameAt(FileSystemCalls.AT_FDCWD, stagedLayer, FileSystemCalls.AT_FDCWD, target);
            return;
        }
        catch (NativeCallException e) when (e.Errno is FileSystemCalls.EEXIST_ or FileSystemCalls.ENOTEMPTY_) { }
        Mutate(_ =>
        {
            if (HasLayer(diffId))
            {
                Log.Debug("Layer {DiffId} appeared meanwhile; keeping the existing copy", diffId);
                return (0, false);
            }
            string trash = Path.Combine(TmpDir, "trash-" + Guid.NewGuid().ToString("N"));
            if (Directory.Exists(target)) Directory.Move(target, trash);
            FileSystemCalls.RenameAt(FileSystemCalls.AT_FDCWD, stagedLayer, FileSystemCalls.AT_FDCWD, target);
            DirectoryTree.Delete(trash);
            return (0, false);
        }, ct);
    }

    /// <summary>
    /// One barrier for a whole image: syncfs flushes every new layer's files and blob and the staged documents,
    /// then the documents are renamed into blobs/ and each layer gets its durable marker (what HasLayer checks),
    /// and a second syncfs makes names and markers stick before the record that refers to them is written. A
    /// document is never visible before its bytes are on disk. Called under the store lock.
    /// </summary>
    private void MakeDurable(List<Digest> diffIds, List<StagedDocument> documents)
    {
        var staged = documents.FindAll(d => d.StagedPath is not null && !HasBlob(d.Digest));
        if (diffIds.Count == 0 && staged.Count == 0) return;
        SyncStore();
        foreach (var d in staged) PublishBlob(d.StagedPath!, d.Digest, durable: false);
        foreach (var d in diffIds)
        {
            string dir = Path.Combine(LayersDir, d.Encoded);
            // An xattr, not a file: on ext4 without a journal and with many recent deletions (a shared build host) each
            // new inode cost 0.2-0.7 ms in the allocator, serially here under the store lock (200 layers: 40-140 ms).
            if (FileSystemCalls.TrySetXattr(dir, DurableXattr, "1"u8)) continue;
            string marker = Path.Combine(dir, DurableMarker);
            try { SmallFile.WriteNew(marker, []); }
            catch (IOException) when (File.Exists(marker)) { } // already durable: same meaning
        }
        SyncStore();
    }

    private int _writebackRunning;

    /// <summary>Layers from this size (uncompressed) start an early writeback when published.</summary>
    private const long EarlyWritebackBytes = 1L << 20;

    /// <summary>
    /// Starts flushing what this ingest wrote while the other layers still download, so the syncfs of
    /// CommitImageAsync has little left to wait for (measured: the six-layer 64 MiB pull spent 120-140 ms
    /// in that barrier). Durability is unchanged: the barrier still runs before any marker and record;
    /// this only moves the disk writes earlier. At most one runs at a time; a failure is left to the barrier.
    /// </summary>
    private void StartWriteback()
    {
        if (!Options.Durable || Interlocked.Exchange(ref _writebackRunning, 1) == 1) return;
        ThreadPool.UnsafeQueueUserWorkItem(static store =>
        {
            try { store.SyncStore(); }
            catch (Exception e) { Log.Debug("Early writeback of {Root} failed: {Error}", store.Root, e.Message); }
            finally { Volatile.Write(ref store._writebackRunning, 0); }
        }, this, preferLocal: false);
    }

    private void SyncStore()
    {
        if (!Options.Durable) return;
        int fd = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, LayersDir, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY);
        try { FileSystemCalls.SyncFs(fd); }
        finally { FileSystemCalls.Close(fd); }
    }

    /// <summary>A configuration, manifest or index being committed, and where it was staged when the store lacked it.</summary>
    private sealed class StagedDocument(byte[] bytes, Digest digest)
    {
        public byte[] Bytes { get; } = bytes;
        public Digest Digest { get; } = digest;
        public string? StagedPath { get; set; }
    }
}
