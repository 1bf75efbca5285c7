using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>
/// Merges a range of an image's layers into one (squash): the range's directories, stacked as overlayfs
/// stacks them, are written as a single layer. From the first layer on, the merged layer is the plain
/// file system (no whiteouts: nothing is below it); a range higher up keeps whiteouts and opaque markers,
/// so they still hide what lies under the range. History is kept; the entries of folded layers are
/// marked empty_layer, and one entry records the merge.
/// </summary>
internal static class ImageMerger
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<ImageStore>();

    /// <param name="from">First layer of the range, 1-based (default 1).</param>
    /// <param name="to">Last layer of the range, 1-based (default the top layer).</param>
    public static async Task<StoredImage> MergeAsync(ImageStore store, string nameOrId, int? from, int? to, IReadOnlyList<string> destination,
        CancellationToken cancellationToken = default)
    {
        var image = await store.GetAsync(nameOrId, cancellationToken).ConfigureAwait(false);
        int count = image.Layers.Count;
        int first = from ?? 1, last = to ?? count;
        if (count == 0 || first < 1 || last > count || first > last)
            throw new ContainersException("InvalidLayerRange", ErrorKind.InvalidArgument,
                $"Layers {first} to {last} are not a range of {image}, which has {count} layer(s).", nameOrId,
                $"Give -From and -To between 1 and {count}, -From not above -To.");
        var range = image.Layers.Skip(first - 1).Take(last - first + 1).ToList();
        var dirsTopFirst = range.Select(l => l.Directory).Reverse().ToList();
        var mode = first == 1 ? LayeredTreeMode.Flat : LayeredTreeMode.Layer;
        var merged = await store.AddLayerAsync((tar, ct) => new LayeredTreeWriter(dirsTopFirst, mode).Write(tar, ct), cancellationToken).ConfigureAwait(false);

        var layers = image.Layers.Take(first - 1).Append(merged).Concat(image.Layers.Skip(last)).ToList();
        var config = image.Config with { History = FoldHistory(image.Config.History, count, first, last) };
        var result = await store.CreateImageAsync(layers, config, destination, cancellationToken).ConfigureAwait(false);
        Log.Information("Merged layers {First}-{Last} of {Image} into one: {Count} layers in {Result}", first, last, image.ToString(), layers.Count, result.ToString());
        return result;
    }

    /// <summary>
    /// Marks the history entries of layers first..last-1 as empty (their content is now in the entry of
    /// layer last) and adds an entry for the merge. A history that does not list one entry per layer
    /// cannot be matched to layers: it is kept as it is, with the merge entry added.
    /// </summary>
    internal static List<HistoryEntry> FoldHistory(IReadOnlyList<HistoryEntry>? history, int layerCount, int first, int last)
    {
        var result = (history ?? []).ToList();
        if (result.Count(h => h.EmptyLayer != true) == layerCount)
        {
            int layer = 0;
            for (int i = 0; i < result.Count; i++)
            {
                if (result[i].EmptyLayer == true) continue;
                layer++;
                if (layer >= first && layer < last) result[i] = result[i] with { EmptyLayer = true };
            }
        }
        result.Add(new HistoryEntry
        {
            Created = DateTimeOffset.UtcNow, CreatedBy = $"Merge-ContainerImage -From {first} -To {last}",
            Comment = $"layers {first} to {last} merged into one", EmptyLayer = true,
        });
        return result;
    }
}
