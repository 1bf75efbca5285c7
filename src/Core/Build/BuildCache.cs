using System.Text.Json;
using Containers.Core.Images;
using Containers.Core.Spec;

namespace Containers.Core.Build;

/// <summary>
/// The layer cache: each build step's result is an image in the store, found again by a key of the parent
/// image, the instruction (variables expanded) and the content of its inputs. The index is one JSON file;
/// an entry whose image is gone (or a file damaged by a kill) is a miss, never an error.
/// </summary>
internal sealed class BuildCache(string directory)
{
    private string IndexPath => Path.Combine(directory, "cache.json");

    /// <summary>The cache of this user's data directory.</summary>
    public static string DirectoryFor(Configuration.ContainerPaths paths) => Path.Combine(paths.DataDir, "build");

    public static string Key(string parentId, string instruction, string inputs) =>
        Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(parentId + "\n" + instruction + "\n" + inputs)).Encoded;

    public async Task<StoredImage?> LookupAsync(ImageStore store, string key, CancellationToken ct)
    {
        var index = Load();
        return index.TryGetValue(key, out string? id) ? await store.FindAsync(id, ct).ConfigureAwait(false) : null;
    }

    /// <summary>Every image id the cache refers to (for storage usage and pruning).</summary>
    public IReadOnlyCollection<string> ImageIds => Load().Values.Distinct().ToList();

    public void Add(string key, string imageId)
    {
        PrivateStore.EnsureDirectory(directory);
        using var held = FileLock.Acquire(Path.Combine(directory, "cache.lock"));
        var index = Load();
        index[key] = imageId;
        AtomicFile.Write(IndexPath, JsonSerializer.SerializeToUtf8Bytes(index), PrivateStore.FileMode, durable: false);
    }

    /// <summary>The RUN --mount=type=cache directories (one per cache id).</summary>
    public IReadOnlyList<string> MountDirectories =>
        Directory.Exists(MountsPath) ? Directory.EnumerateDirectories(MountsPath).Where(d => !Path.GetFileName(d).Contains('.', StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList() : [];

    /// <summary>Where cache mounts live.</summary>
    public string MountsPath => Path.Combine(directory, "mounts");

    /// <summary>Removes one cache mount, waiting for a build that holds it locked.</summary>
    public static void RemoveMount(string dir)
    {
        using var held = FileLock.Acquire(dir + ".lock");
        DirectoryTree.Delete(dir);
    }

    /// <summary>Forgets every entry (the images themselves are removed by the pruner).</summary>
    public void Clear()
    {
        // File.Delete throws when the folder is missing: a store that never built has no cache folder.
        if (File.Exists(IndexPath)) File.Delete(IndexPath);
    }

    private Dictionary<string, string> Load()
    {
        try { return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllBytes(IndexPath)) ?? []; }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return []; }
    }
}
