using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>What the store holds on disk, for storage usage and pruning.</summary>
internal sealed partial class ImageStore
{
    /// <summary>The files and directories an image occupies: its unpacked layer directories and its blobs (layers, config, manifests).</summary>
    public IReadOnlyList<string> ImagePaths(StoredImage image) =>
        image.Layers.Select(l => Path.Combine(LayersDir, l.DiffId.Encoded))
            .Concat(image.Layers.Select(l => BlobPath(l.Digest)))
            .Append(BlobPath(image.ConfigDigest)).Append(BlobPath(image.Digest)).Concat(image.ExtraDigests.Select(BlobPath))
            .Distinct(StringComparer.Ordinal).Where(p => File.Exists(p) || Directory.Exists(p)).ToList();

    /// <summary>
    /// Layer directories and blobs no image record refers to: leftovers of interrupted pulls and of images
    /// force-removed under running containers. What <see cref="PruneUnreferencedAsync"/> deletes.
    /// </summary>
    public IReadOnlyList<string> UnreferencedPaths()
    {
        var db = LoadDatabase();
        var usedLayers = db.Images.SelectMany(i => i.Layers).Select(l => Digest.Parse(l.DiffId).Encoded).ToHashSet(StringComparer.Ordinal);
        var usedBlobs = db.Images.SelectMany(i => i.Layers.Select(l => l.Digest).Append(i.Digest).Append(i.ConfigDigest).Concat(i.Digests))
            .Select(b => Digest.Parse(b).Encoded).ToHashSet(StringComparer.Ordinal);
        return Directory.GetDirectories(LayersDir).Where(d => !usedLayers.Contains(Path.GetFileName(d)))
            .Concat(Directory.GetFiles(Path.Combine(BlobsDir, "sha256")).Where(f => !usedBlobs.Contains(Path.GetFileName(f))))
            .Order(StringComparer.Ordinal).ToList();
    }
}
