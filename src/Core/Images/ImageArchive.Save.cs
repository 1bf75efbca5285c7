using System.Formats.Tar;
using System.Text.Json;
using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Images;

internal static partial class ImageArchive
{
    /// <summary>The format a path suggests: a .tar file is an oci-archive, anything else an OCI layout directory.</summary>
    public static ImageArchiveFormat FormatFromPath(string path) =>
        path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) || File.Exists(path) ? ImageArchiveFormat.OciArchive : ImageArchiveFormat.OciLayout;

    /// <summary>
    /// Saves images from the store. An OCI layout directory is created or extended (blobs added, index
    /// entries with the same name replaced); an archive file is written to a temporary name and renamed
    /// into place, and replaces an existing file only when overwrite is set.
    /// </summary>
    public static async Task SaveAsync(ImageStore store, IReadOnlyList<StoredImage> images, string path, ImageArchiveFormat format,
        bool overwrite = false, IProgress<LayerProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        if (images.Count == 0) throw new ContainersException("NoImageToSave", ErrorKind.InvalidArgument, "No image to save.", path);
        // Layers whose blobs were not kept are saved recompressed, under a new manifest; the blobs written for that go afterwards.
        var sendables = new List<SendableImage>();
        try
        {
            foreach (var image in images) sendables.Add(await store.PrepareToSendAsync(image, cancellationToken).ConfigureAwait(false));
            await SaveSendableAsync(store, sendables.Select(s => s.Image).ToList(), path, format, overwrite, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var s in sendables) s.Dispose();
        }
    }

    private static async Task SaveSendableAsync(ImageStore store, IReadOnlyList<StoredImage> images, string path, ImageArchiveFormat format,
        bool overwrite, IProgress<LayerProgress>? progress, CancellationToken cancellationToken)
    {
        if (format == ImageArchiveFormat.OciLayout)
        {
            if (File.Exists(path))
                throw new ContainersException("ArchiveExists", ErrorKind.AlreadyExists, $"{path} is a file, not an OCI layout directory.", path);
            await Task.Run(() => SaveLayoutDirectory(store, images, path, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
            return;
        }
        if ((File.Exists(path) || Directory.Exists(path)) && !overwrite)
            throw new ContainersException("ArchiveExists", ErrorKind.AlreadyExists, $"{path} already exists.", path, "Use -Force to replace it.");
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await Task.Run(() =>
            {
                using var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                using (var writer = new TarWriter(fs, TarEntryFormat.Pax, leaveOpen: true))
                {
                    if (format == ImageArchiveFormat.OciArchive) WriteOciArchive(store, images, writer, progress, cancellationToken);
                    else WriteDockerArchive(store, images, writer, progress, cancellationToken);
                }
                fs.Flush(flushToDisk: true);
            }, cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static Descriptor IndexEntry(StoredImage image, string? name, bool tagOnly)
    {
        var annotations = new Dictionary<string, string>();
        if (name is not null)
        {
            annotations[AnnotationKeys.RefName] = tagOnly ? ImageStore.SplitName(name).Tag : name;
            annotations[AnnotationKeys.ContainerdImageName] = name;
        }
        return new Descriptor
        {
            MediaType = image.ManifestMediaType,
            Digest = image.Digest.ToString(),
            Annotations = annotations.Count > 0 ? annotations : null,
        };
    }

    private static IEnumerable<Digest> BlobsOf(StoredImage image) =>
        image.Layers.Select(l => l.Digest).Append(image.ConfigDigest).Append(image.Digest).Distinct();

    private static void SaveLayoutDirectory(ImageStore store, IReadOnlyList<StoredImage> images, string path, IProgress<LayerProgress>? progress, CancellationToken ct)
    {
        Directory.CreateDirectory(path);
        string layoutFile = Path.Combine(path, "oci-layout");
        if (!File.Exists(layoutFile))
            StoreIo.WriteAtomic(layoutFile, SpecJson.Serialize(new OciLayoutFile(), SpecJsonContext.Default.OciLayoutFile), durable: false);
        string indexPath = Path.Combine(path, "index.json");
        var manifests = File.Exists(indexPath) ? SpecJson.ParseIndex(File.ReadAllBytes(indexPath), indexPath).Manifests.ToList() : [];
        foreach (var image in images)
        {
            int i = 0;
            foreach (var digest in BlobsOf(image))
            {
                ct.ThrowIfCancellationRequested();
                string target = Path.Combine(path, "blobs", digest.Algorithm, digest.Encoded);
                long size = new FileInfo(store.BlobPath(digest)).Length;
                int li = image.Layers.ToList().FindIndex(l => l.Digest == digest);
                if (li >= 0) progress?.Report(new LayerProgress(li, image.Layers.Count, digest, 0, size));
                if (!File.Exists(target))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    string temp = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
                    File.Copy(store.BlobPath(digest), temp);
                    File.Move(temp, target, overwrite: true);
                }
                if (li >= 0) progress?.Report(new LayerProgress(li, image.Layers.Count, digest, size, size));
                i++;
            }
            foreach (var entry in EntriesFor(store, image, images.Count == 1))
            {
                manifests.RemoveAll(m => m.RefName is { } r && r == entry.RefName);
                manifests.Add(entry);
            }
        }
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = manifests };
        StoreIo.WriteAtomic(indexPath, SpecJson.Serialize(index, SpecJsonContext.Default.ImageIndex), durable: false);
    }

    private static IEnumerable<Descriptor> EntriesFor(ImageStore store, StoredImage image, bool tagOnly)
    {
        long size = new FileInfo(store.BlobPath(image.Digest)).Length;
        if (image.Names.Count == 0) { yield return IndexEntry(image, null, tagOnly) with { Size = size }; yield break; }
        // With one image, ref names are plain tags as skopeo and umoci write them; with several, whole names.
        foreach (string name in tagOnly ? image.Names.Take(1) : image.Names)
            yield return IndexEntry(image, name, tagOnly) with { Size = size };
    }

    private static void AddFile(TarWriter writer, string name, Stream data)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = data, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            ModificationTime = DateTimeOffset.UnixEpoch,
        };
        writer.WriteEntry(entry);
    }

    private static void AddBytes(TarWriter writer, string name, byte[] data)
    {
        using var ms = new MemoryStream(data);
        AddFile(writer, name, ms);
    }

    private static void WriteOciArchive(ImageStore store, IReadOnlyList<StoredImage> images, TarWriter writer, IProgress<LayerProgress>? progress, CancellationToken ct)
    {
        AddBytes(writer, "oci-layout", SpecJson.Serialize(new OciLayoutFile(), SpecJsonContext.Default.OciLayoutFile));
        var written = new HashSet<Digest>();
        var manifests = new List<Descriptor>();
        foreach (var image in images)
        {
            foreach (var digest in BlobsOf(image))
            {
                ct.ThrowIfCancellationRequested();
                if (!written.Add(digest)) continue;
                int li = image.Layers.ToList().FindIndex(l => l.Digest == digest);
                using var blob = store.OpenBlob(digest);
                if (li >= 0) progress?.Report(new LayerProgress(li, image.Layers.Count, digest, 0, blob.Length));
                AddFile(writer, $"blobs/{digest.Algorithm}/{digest.Encoded}", blob);
                if (li >= 0) progress?.Report(new LayerProgress(li, image.Layers.Count, digest, blob.Length, blob.Length));
            }
            manifests.AddRange(EntriesFor(store, image, images.Count == 1));
        }
        AddBytes(writer, "index.json", SpecJson.Serialize(new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = manifests },
            SpecJsonContext.Default.ImageIndex));
    }

    private static void WriteDockerArchive(ImageStore store, IReadOnlyList<StoredImage> images, TarWriter writer, IProgress<LayerProgress>? progress, CancellationToken ct)
    {
        var entries = new List<DockerArchiveEntry>();
        var written = new HashSet<string>();
        using var staging = Staging.Create(store.TmpDir);
        foreach (var image in images)
        {
            string configName = image.ConfigDigest.Encoded + ".json";
            if (written.Add(configName))
            {
                using var config = store.OpenBlob(image.ConfigDigest);
                AddFile(writer, configName, config);
            }
            var layerNames = new List<string>();
            for (int i = 0; i < image.Layers.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var layer = image.Layers[i];
                string name = layer.DiffId.Encoded + "/layer.tar";
                layerNames.Add(name);
                if (!written.Add(name)) continue;
                progress?.Report(new LayerProgress(i, image.Layers.Count, layer.Digest, 0, layer.CompressedSize));
                // docker-archive layers are uncompressed tars: decompress to a staging file (the tar writer needs the length).
                string temp = Path.Combine(staging.Path, layer.DiffId.Encoded);
                using (var blob = store.OpenBlob(layer.Digest))
                using (var plain = LayerDecompression.Open(blob, MediaTypes.CompressionOf(layer.MediaType) ?? LayerCompression.None))
                using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                    plain.CopyTo(file);
                using (var file = new FileStream(temp, FileMode.Open, FileAccess.Read))
                    AddFile(writer, name, file);
                File.Delete(temp);
                progress?.Report(new LayerProgress(i, image.Layers.Count, layer.Digest, layer.CompressedSize, layer.CompressedSize));
            }
            entries.Add(new DockerArchiveEntry
            {
                Config = configName,
                RepoTags = image.Names.Select(DockerName).ToList(),
                Layers = layerNames,
            });
        }
        AddBytes(writer, "manifest.json", JsonSerializer.SerializeToUtf8Bytes(entries, SpecJsonContext.Default.ListDockerArchiveEntry));
    }

    // docker load shows localhost/ names as they are; nothing to strip.
    private static string DockerName(string name) => name;
}
