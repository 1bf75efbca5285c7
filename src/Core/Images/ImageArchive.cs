using System.Runtime.InteropServices;
using System.Text.Json;
using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Spec;
using Serilog;

namespace Containers.Core.Images;

/// <summary>The on-disk image formats Save/Import speak.</summary>
public enum ImageArchiveFormat
{
    /// <summary>An OCI image layout directory (oci-layout, index.json, blobs/).</summary>
    OciLayout,
    /// <summary>An OCI image layout in a tar file.</summary>
    OciArchive,
    /// <summary>The `docker save` format: manifest.json, config JSON and layer tars.</summary>
    DockerArchive,
}

/// <summary>Imports images from OCI layouts, oci-archives and docker-archives into the store, and saves them back.</summary>
internal static partial class ImageArchive
{
    private static readonly ILogger Log = ModuleLog.For<ImageStore>();

    /// <summary>The host platform in OCI terms (linux/amd64, linux/arm64 ...).</summary>
    public static Platform HostPlatform => new()
    {
        Os = "linux",
        Architecture = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "amd64",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            Architecture.X86 => "386",
            Architecture.S390x => "s390x",
            Architecture.Ppc64le => "ppc64le",
            Architecture.RiscV64 => "riscv64",
            _ => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
        },
    };

    /// <summary>Tells the format of a path: a directory with oci-layout, or a tar with oci-layout or manifest.json.</summary>
    public static ImageArchiveFormat Detect(string path)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, "oci-layout"))) return ImageArchiveFormat.OciLayout;
            throw new ContainersException("UnknownArchiveFormat", ErrorKind.InvalidData,
                $"The directory {path} is not an OCI image layout (it has no oci-layout file).", path);
        }
        if (!File.Exists(path))
            throw new ContainersException("ArchiveNotFound", ErrorKind.NotFound, $"{path} does not exist.", path);
        using var src = new TarSource(path);
        if (src.Exists("oci-layout")) return ImageArchiveFormat.OciArchive;
        if (src.Exists("manifest.json")) return ImageArchiveFormat.DockerArchive;
        throw new ContainersException("UnknownArchiveFormat", ErrorKind.InvalidData,
            $"{path} is neither an oci-archive (no oci-layout) nor a docker-archive (no manifest.json).", path);
    }

    /// <summary>
    /// Imports every image of an archive (for an index, the manifest for this host's platform) and returns
    /// the stored images. names, when given, replaces the names the archive carries (one image only).
    /// </summary>
    public static async Task<IReadOnlyList<StoredImage>> ImportAsync(ImageStore store, string path, IReadOnlyList<string>? names = null,
        IProgress<LayerProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        var format = Detect(path);
        using IArchiveSource source = format == ImageArchiveFormat.OciLayout ? new DirectorySource(path) : new TarSource(path);
        var found = format == ImageArchiveFormat.DockerArchive
            ? ReadDockerArchive(source, path)
            : ReadOciLayout(source, path);
        if (found.Count == 0)
            throw new ContainersException("ArchiveEmpty", ErrorKind.InvalidData, $"{path} holds no image for {HostPlatform}.", path);
        if (names is { Count: > 0 } && found.Count > 1)
            throw new ContainersException("AmbiguousArchive", ErrorKind.InvalidArgument,
                $"{path} holds {found.Count} images; a name can only be given to one.", path, "Import without -Name, then tag the images.");

        var result = new List<StoredImage>();
        foreach (var image in found)
        {
            var imageNames = names is { Count: > 0 } ? names : image.Names;
            if (imageNames.Count == 0 && format == ImageArchiveFormat.OciLayout && image.Tag is not null)
                imageNames = [$"{ImageStore.LocalRegistry}/{LocalRepositoryFrom(path)}:{image.Tag}"];
            result.Add(await ImportOneAsync(store, source, image, imageNames, progress, cancellationToken).ConfigureAwait(false));
        }
        return result;
    }

    private static string LocalRepositoryFrom(string path)
    {
        string name = Path.GetFileName(path.TrimEnd('/')).ToLowerInvariant();
        foreach (string ext in new[] { ".tar", ".oci", ".oci-archive" })
            if (name.EndsWith(ext, StringComparison.Ordinal)) name = name[..^ext.Length];
        var clean = new string(name.Select(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray()).Trim('-', '.', '_');
        return clean.Length == 0 ? "image" : clean;
    }

    /// <summary>One image found in an archive, before import.</summary>
    private sealed record FoundImage(byte[] Manifest, string ManifestMediaType, Manifest Parsed, byte[] Config, ImageConfig ParsedConfig,
        IReadOnlyList<string> LayerPaths, IReadOnlyList<string> Names, string? Tag);

    private static async Task<StoredImage> ImportOneAsync(ImageStore store, IArchiveSource source, FoundImage image, IReadOnlyList<string> names,
        IProgress<LayerProgress>? progress, CancellationToken ct)
    {
        var layers = image.Parsed.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var desc = layers[i];
            var diffId = Digest.Parse(image.ParsedConfig.RootFs.DiffIds[i]);
            var digest = desc.ParsedDigest;
            if (store.LayerSatisfied(diffId, digest, keepBlob: false))
            {
                progress?.Report(new LayerProgress(i, layers.Count, digest, desc.Size, desc.Size, Skipped: true));
                continue;
            }
            int index = i;
            var layerProgress = progress is null ? null : new Diagnostics.SyncProgress<long>(n => progress.Report(new LayerProgress(index, layers.Count, digest, n, desc.Size)));
            progress?.Report(new LayerProgress(i, layers.Count, digest, 0, desc.Size));
            await using var blob = source.Open(image.LayerPaths[i]);
            await store.IngestLayerAsync(blob, desc, diffId, layerProgress, cancellationToken: ct).ConfigureAwait(false);
            progress?.Report(new LayerProgress(i, layers.Count, digest, desc.Size, desc.Size));
        }
        return await store.CommitImageAsync(new ImageCommit
        {
            Manifest = image.Manifest, ManifestMediaType = image.ManifestMediaType, Config = image.Config, Names = names,
        }, ct).ConfigureAwait(false);
    }

    private static string BlobPath(Digest d) => $"blobs/{d.Algorithm}/{d.Encoded}";

    private static byte[] ReadVerified(IArchiveSource source, Descriptor d, long limit, string archive)
    {
        var digest = d.ParsedDigest;
        string path = BlobPath(digest);
        long length = source.Length(path);
        if (length > limit)
            throw new ContainersException("ManifestTooLarge", ErrorKind.LimitExceeded, $"{path} in {archive} is {length} bytes, over the {limit}-byte limit.", archive);
        using var s = source.Open(path);
        var data = new byte[length];
        s.ReadExactly(data);
        if (!digest.Matches(data)) throw ImageStore.DigestMismatch(digest, Digest.Sha256(data), path);
        if (d.Size > 0 && d.Size != length)
            throw new ContainersException("SizeMismatch", ErrorKind.InvalidData, $"{path} has {length} bytes, not the {d.Size} its descriptor declares.", archive);
        return data;
    }

    private static byte[] ReadSmall(IArchiveSource source, string path, string archive)
    {
        long length = source.Length(path);
        if (length > SpecJson.MaxManifestBytes)
            throw new ContainersException("ManifestTooLarge", ErrorKind.LimitExceeded, $"{path} in {archive} is over {SpecJson.MaxManifestBytes} bytes.", archive);
        using var s = source.Open(path);
        var data = new byte[length];
        s.ReadExactly(data);
        return data;
    }

    private static List<FoundImage> ReadOciLayout(IArchiveSource source, string archive)
    {
        if (!source.Exists("oci-layout"))
            throw new ContainersException("UnknownArchiveFormat", ErrorKind.InvalidData, $"{archive} has no oci-layout file.", archive);
        var index = SpecJson.ParseIndex(ReadSmall(source, "index.json", archive), archive);
        var found = new List<FoundImage>();
        var host = HostPlatform;
        foreach (var top in index.Manifests)
        {
            // A layout's index may list platform manifests itself: take this host's only.
            if (top.Platform is { } p && (p.Os != host.Os || p.Architecture != host.Architecture)) continue;
            CollectManifest(source, archive, top, top, found, depth: 0);
        }
        // The same manifest under several ref names is one image with several names.
        return found.GroupBy(f => Digest.Sha256(f.Manifest))
            .Select(g => g.First() with
            {
                Names = g.SelectMany(f => f.Names).Distinct().ToList(),
                Tag = g.Select(f => f.Tag).FirstOrDefault(t => t is not null),
            })
            .ToList();
    }

    private static void CollectManifest(IArchiveSource source, string archive, Descriptor named, Descriptor d, List<FoundImage> found, int depth)
    {
        if (depth > 4) throw new ContainersException("MalformedManifest", ErrorKind.InvalidData, "Indexes nest too deeply.", archive);
        var data = ReadVerified(source, d, SpecJson.MaxManifestBytes, archive);
        string mediaType = SpecJson.DetectMediaType(data, d.MediaType, archive);
        if (MediaTypes.IsIndex(mediaType))
        {
            var nested = SpecJson.ParseIndex(data, archive);
            var host = HostPlatform;
            var match = nested.Manifests.FirstOrDefault(m => m.Platform is { } p && p.Os == host.Os && p.Architecture == host.Architecture)
                ?? throw new ContainersException("NoMatchingPlatform", ErrorKind.NotFound,
                    $"The index {d.Digest} in {archive} has no manifest for {host}.", archive);
            CollectManifest(source, archive, named, match, found, depth + 1);
            return;
        }
        if (!MediaTypes.IsManifest(mediaType))
        {
            Log.Warning("Skipped {Digest} in {Archive}: media type {MediaType} is not an image", d.Digest, archive, mediaType);
            return;
        }
        var manifest = SpecJson.ParseManifest(data, archive);
        var config = ReadVerified(source, manifest.Config, SpecJson.MaxConfigBytes, archive);
        var parsedConfig = SpecJson.ParseConfig(config, archive);
        if (parsedConfig.RootFs.DiffIds.Count != manifest.Layers.Count)
            throw new ContainersException("LayerCountMismatch", ErrorKind.InvalidData,
                $"The manifest {d.Digest} lists {manifest.Layers.Count} layers but its configuration has {parsedConfig.RootFs.DiffIds.Count} diff ids.", archive);
        var names = new List<string>();
        string? tag = null;
        if (named.Annotations?.GetValueOrDefault(AnnotationKeys.ContainerdImageName) is { } full && ImageReference.TryParse(full, out _))
            names.Add(full);
        else if (named.RefName is { } refName)
        {
            // A ref name is usually just a tag (skopeo, umoci); some tools store a whole reference.
            if ((refName.Contains('/') || refName.Contains(':')) && ImageReference.TryParse(refName, out _)) names.Add(refName);
            else tag = refName;
        }
        found.Add(new FoundImage(data, mediaType, manifest, config, parsedConfig,
            manifest.Layers.Select(l => BlobPath(l.ParsedDigest)).ToList(), names, tag));
    }

    private static List<FoundImage> ReadDockerArchive(IArchiveSource source, string archive)
    {
        List<DockerArchiveEntry> entries;
        try
        {
            entries = JsonSerializer.Deserialize(ReadSmall(source, "manifest.json", archive), SpecJsonContext.Default.ListDockerArchiveEntry) ?? [];
        }
        catch (JsonException e)
        {
            throw new ContainersException("MalformedManifest", ErrorKind.InvalidData, $"The manifest.json of {archive} is not valid: {e.Message}", archive, null, e);
        }
        var found = new List<FoundImage>();
        foreach (var entry in entries)
        {
            long configLength = source.Length(entry.Config);
            if (configLength > SpecJson.MaxConfigBytes)
                throw new ContainersException("ConfigTooLarge", ErrorKind.LimitExceeded, $"{entry.Config} in {archive} is too large.", archive);
            byte[] config;
            using (var s = source.Open(entry.Config)) { config = new byte[configLength]; s.ReadExactly(config); }
            var parsedConfig = SpecJson.ParseConfig(config, archive);
            if (parsedConfig.RootFs.DiffIds.Count != entry.Layers.Count)
                throw new ContainersException("LayerCountMismatch", ErrorKind.InvalidData,
                    $"{archive} lists {entry.Layers.Count} layers but the configuration has {parsedConfig.RootFs.DiffIds.Count} diff ids.", archive);
            var layers = new List<Descriptor>();
            for (int i = 0; i < entry.Layers.Count; i++)
            {
                string layerPath = entry.Layers[i];
                var head = new byte[4];
                int got;
                using (var s = source.Open(layerPath)) got = s.ReadAtLeast(head, 4, throwOnEndOfStream: false);
                var compression = LayerDecompression.Sniff(head.AsSpan(0, got));
                long size = source.Length(layerPath);
                Digest digest;
                if (compression == LayerCompression.None) digest = Digest.Parse(parsedConfig.RootFs.DiffIds[i]);
                else
                {
                    using var s = source.Open(layerPath);
                    using var sha = System.Security.Cryptography.SHA256.Create();
                    digest = Digest.FromHash("sha256", sha.ComputeHash(s));
                }
                layers.Add(new Descriptor
                {
                    MediaType = compression switch
                    {
                        LayerCompression.Gzip => MediaTypes.OciLayerGzip,
                        LayerCompression.Zstd => MediaTypes.OciLayerZstd,
                        _ => MediaTypes.OciLayer,
                    },
                    Digest = digest.ToString(),
                    Size = size,
                });
            }
            // docker save has no manifest: synthesise an OCI one around the original config (so the id is kept).
            var manifest = new Manifest
            {
                SchemaVersion = 2,
                MediaType = MediaTypes.OciManifest,
                Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Sha256(config).ToString(), Size = config.Length },
                Layers = layers,
            };
            var manifestBytes = SpecJson.Serialize(manifest, SpecJsonContext.Default.Manifest);
            found.Add(new FoundImage(manifestBytes, MediaTypes.OciManifest, manifest, config, parsedConfig, entry.Layers.ToList(),
                (entry.RepoTags ?? []).Where(t => ImageReference.TryParse(t, out _)).ToList(), null));
        }
        return found;
    }
}
