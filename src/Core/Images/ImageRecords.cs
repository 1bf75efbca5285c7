using System.Text.Json.Serialization;
using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>Who uses an image (containers created from it); the runtime implements it.</summary>
internal interface IImageUsers
{
    /// <summary>Ids or names of the containers created from the image with this id (64 hex digits).</summary>
    IEnumerable<string> ContainersUsing(string imageId);

    /// <summary>
    /// The unpacked layer directories containers stack (their records name them): garbage collection keeps
    /// these whatever happened to the images, so a forced removal never pulls a layer from under a container.
    /// </summary>
    IEnumerable<string> LayerDirectoriesInUse() => [];
}

/// <summary>Nobody uses any image (the default until the runtime supplies its own).</summary>
internal sealed class NoImageUsers : IImageUsers
{
    public static readonly NoImageUsers Instance = new();
    public IEnumerable<string> ContainersUsing(string imageId) => [];
}

/// <summary>One layer of a stored image, as recorded.</summary>
internal sealed record LayerRecord
{
    /// <summary>Digest of the uncompressed tar (the key of the unpacked layer).</summary>
    public string DiffId { get; init; } = "";
    /// <summary>Digest of the layer blob as distributed (compressed or not).</summary>
    public string Digest { get; init; } = "";
    public string MediaType { get; init; } = MediaTypes.OciLayerGzip;
    /// <summary>Size of the layer blob.</summary>
    public long CompressedSize { get; init; }
    /// <summary>Size of the uncompressed tar.</summary>
    public long Size { get; init; }
}

/// <summary>An image as the store records it in images.json.</summary>
internal sealed record ImageRecord
{
    /// <summary>The config digest's hex (64 digits), as podman shows image ids.</summary>
    public string Id { get; init; } = "";
    public List<string> Names { get; init; } = [];
    /// <summary>The manifest digest.</summary>
    public string Digest { get; init; } = "";
    public string ManifestMediaType { get; init; } = MediaTypes.OciManifest;
    /// <summary>Other digests the image was fetched by (the index digest of a multi-arch pull).</summary>
    public List<string> Digests { get; init; } = [];
    public string ConfigDigest { get; init; } = "";
    public DateTimeOffset? Created { get; init; }
    public DateTimeOffset Added { get; init; }
    public long Size { get; init; }
    public string Architecture { get; init; } = "";
    public string Os { get; init; } = "";
    public string? Variant { get; init; }
    public List<LayerRecord> Layers { get; init; } = [];
}

/// <summary>The whole images.json: replaced atomically on every change.</summary>
internal sealed record ImageDatabase
{
    public int Version { get; init; } = 1;
    public List<ImageRecord> Images { get; init; } = [];
}

/// <summary>layer.json beside an unpacked layer.</summary>
internal sealed record LayerMetadata
{
    public string DiffId { get; init; } = "";
    public long Size { get; init; }
    public int Entries { get; init; }
    public DateTimeOffset Unpacked { get; init; }
    public bool Rootless { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ImageDatabase))]
[JsonSerializable(typeof(LayerMetadata))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;

/// <summary>A layer of an image in the store.</summary>
public sealed record StoredLayer(Digest DiffId, Digest Digest, string MediaType, long CompressedSize, long Size, string Directory);

/// <summary>An image in the local store, with its configuration.</summary>
internal sealed record StoredImage
{
    /// <summary>The image id: the hex of the config digest (64 digits).</summary>
    public required string Id { get; init; }
    /// <summary>Every name, fully qualified: registry/repository:tag.</summary>
    public required IReadOnlyList<string> Names { get; init; }
    /// <summary>The manifest digest.</summary>
    public required Digest Digest { get; init; }
    public required string ManifestMediaType { get; init; }
    /// <summary>Other digests the image is known by (an index digest).</summary>
    public IReadOnlyList<Digest> ExtraDigests { get; init; } = [];
    public required Digest ConfigDigest { get; init; }
    public DateTimeOffset? Created { get; init; }
    public DateTimeOffset Added { get; init; }
    /// <summary>Sum of the uncompressed layer sizes.</summary>
    public long Size { get; init; }
    public required string Architecture { get; init; }
    public required string Os { get; init; }
    public string? Variant { get; init; }
    public required ImageConfig Config { get; init; }
    /// <summary>Layers bottom to top.</summary>
    public required IReadOnlyList<StoredLayer> Layers { get; init; }
    public IReadOnlyDictionary<string, string> Labels => Config.Config?.Labels ?? new Dictionary<string, string>();
    /// <summary>Absolute unpacked layer directories, bottom to top (overlay wants lowerdir top first: reverse them).</summary>
    public IReadOnlyList<string> LayerDirectories => Layers.Select(l => l.Directory).ToList();

    /// <summary>
    /// The layer directories a container stacks, bottom to top. overlayfs ignores the opaque mark on the root
    /// of a lower layer, so a layer whose root is opaque (a <c>.wh..wh..opq</c> at its top) would still show
    /// every layer below it: those are left out instead, which is what the mark means.
    /// </summary>
    public IReadOnlyList<string> StackedLayerDirectories()
    {
        var dirs = LayerDirectories;
        for (int i = dirs.Count - 1; i > 0; i--)
            if (LayerUnpacker.RootIsOpaque(dirs[i])) return dirs.Skip(i).ToList();
        return dirs;
    }
    public string ShortId => Id[..12];
    public bool IsDangling => Names.Count == 0;

    public override string ToString() => (Names.Count > 0 ? Names[0] : "<none>") + " (" + ShortId + ")";
}

/// <summary>What a caller hands the store to record an image whose blobs and layers are already in it.</summary>
internal sealed record ImageCommit
{
    /// <summary>The manifest bytes exactly as received (their digest is the image's digest).</summary>
    public required byte[] Manifest { get; init; }
    /// <summary>The manifest media type when the document does not declare it (a registry's Content-Type).</summary>
    public string? ManifestMediaType { get; init; }
    /// <summary>The config blob bytes exactly as received.</summary>
    public required byte[] Config { get; init; }
    /// <summary>Names to give the image (normalized: a short name gets localhost/, no tag gets :latest).</summary>
    public IReadOnlyList<string> Names { get; init; } = [];
    /// <summary>Further digests that identify the image, e.g. the index it was chosen from; FindAsync matches them too.</summary>
    public IReadOnlyList<Digest> ExtraDigests { get; init; } = [];
    /// <summary>
    /// The index (manifest list) the image was chosen from, exactly as received: stored as a blob and its
    /// digest recorded with the image, so the whole index can be pushed again once every platform is here.
    /// </summary>
    public byte[]? Index { get; init; }
}

/// <summary>Progress of one layer during an ingest.</summary>
internal sealed record LayerProgress(int Index, int Count, Digest Digest, long BytesDone, long BytesTotal, bool Skipped = false);

/// <summary>What removing an image did.</summary>
internal sealed record ImageRemoval(StoredImage Image, string? UntaggedName, bool Deleted);
