using Containers.Core.Build;
using Containers.Core.Images;
using Containers.Core.Native;
using Containers.Core.Runtime;

namespace Containers.Core.Storage;

/// <summary>One kind of stored thing (podman system df's rows): Images, BuildCache, Containers, Orphans.</summary>
public sealed record StorageUsage(string Type, int Total, int Active, long Size, long SharedSize, long Reclaimable);

/// <summary>One item that Clear-ContainerStorage would remove, with the bytes its removal frees.</summary>
public sealed record StorageItem(string Type, string Name, string Id, DateTimeOffset? Created, long Size, long Reclaimable)
{
    public override string ToString() => $"{Type} {Name} ({Reclaimable} bytes)";
}

/// <summary>What to prune: stopped containers (finished before Until), unused images (all, or only dangling ones), the build cache, orphans.</summary>
internal sealed record PruneOptions(bool All, DateTimeOffset? Until)
{
    /// <summary>Also the named volumes no container uses (podman system prune --volumes); never by default: they hold data.</summary>
    public bool Volumes { get; init; }
}

/// <summary>
/// Sizes are apparent bytes of every file and directory (as <c>du -sb --apparent-size</c>, a hard link once)
/// of the image store's layers and blobs and of the containers' directories. Reclaimable is exactly what
/// <see cref="PlanAsync"/> with -All frees: stopped containers, images no remaining container uses, the build
/// cache and orphaned layers and blobs.
/// </summary>
internal sealed class StorageAnalyzer(ContainerRuntime runtime, ImageStore store, BuildCache cache)
{
    /// <summary>Everything Clear-ContainerStorage would remove with these options, each with the bytes it frees, in removal order.</summary>
    public async Task<List<StorageItem>> PlanAsync(PruneOptions options, CancellationToken ct = default)
    {
        var items = new List<StorageItem>();
        var containers = runtime.List();
        // A pod's infra goes with its pod (Remove-ContainerPod), as podman's prune leaves infra containers.
        var removedContainers = containers.Where(c => c.State is ContainerState.Exited or ContainerState.Created && !c.PodInfra
            && (options.Until is null || (c.FinishedAt ?? c.Created) < options.Until)).ToList();
        foreach (var c in removedContainers)
        {
            long size = Size(Paths(c));
            items.Add(new StorageItem("Containers", c.Name, c.Id, c.Created, size, size));
        }

        var keptContainerImages = containers.Except(removedContainers).Select(c => c.ImageId).ToHashSet(StringComparer.Ordinal);
        var images = await store.ListAsync(ct).ConfigureAwait(false);
        var cacheIds = cache.ImageIds.ToHashSet(StringComparer.Ordinal);
        var removed = images.Where(i => !keptContainerImages.Contains(i.Id) && (options.All || i.IsDangling)).ToList();
        var keptPaths = images.Except(removed).SelectMany(store.ImagePaths).ToHashSet(StringComparer.Ordinal);
        var freed = new HashSet<string>(StringComparer.Ordinal);
        // Named images first: a path shared with a build cache image is counted where a named image frees it.
        foreach (var image in removed.OrderBy(i => i.IsDangling && cacheIds.Contains(i.Id)))
        {
            var paths = store.ImagePaths(image);
            var mine = paths.Where(p => !keptPaths.Contains(p) && freed.Add(p)).ToList();
            string type = image.IsDangling && cacheIds.Contains(image.Id) ? "BuildCache" : "Images";
            items.Add(new StorageItem(type, image.ToString(), image.Id, image.Created, Size(paths), Size(mine)));
        }
        foreach (string mount in cache.MountDirectories)
            items.Add(new StorageItem("BuildCache", "cache mount " + Path.GetFileName(mount)[..12], mount, Directory.GetLastWriteTimeUtc(mount), Size([mount]), Size([mount])));
        foreach (string orphan in store.UnreferencedPaths())
            items.Add(new StorageItem("Orphans", (Directory.Exists(orphan) ? "layer " : "blob ") + Path.GetFileName(orphan)[..12], orphan, null, Size([orphan]), Size([orphan])));
        // Volumes go last: those only the removed containers used are unused by then.
        var removedNames = removedContainers.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        if (options.Volumes)
            foreach (var (volume, size) in new ContainerVolumes(runtime).WithSizes(Size).Where(v => v.Volume.InUseBy.All(removedNames.Contains)))
                items.Add(new StorageItem("Volumes", volume.Name, volume.Name, volume.CreatedAt.ToUniversalTime(), size, size));
        return items;
    }

    /// <summary>The usage rows: totals, what is in use, shared bytes and what Clear-ContainerStorage -All would free.</summary>
    public async Task<List<StorageUsage>> UsageAsync(CancellationToken ct = default)
    {
        var plan = await PlanAsync(new PruneOptions(All: true, Until: null), ct).ConfigureAwait(false);
        var containers = runtime.List();
        var images = await store.ListAsync(ct).ConfigureAwait(false);
        var cacheIds = cache.ImageIds.ToHashSet(StringComparer.Ordinal);
        var usedImages = containers.Select(c => c.ImageId).ToHashSet(StringComparer.Ordinal);
        var pathUsers = images.SelectMany(i => store.ImagePaths(i)).GroupBy(p => p, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        StorageUsage Images(string type, IEnumerable<StoredImage> set)
        {
            var list = set.ToList();
            var paths = list.SelectMany(store.ImagePaths).Distinct(StringComparer.Ordinal).ToList();
            return new StorageUsage(type, list.Count, list.Count(i => usedImages.Contains(i.Id)), Size(paths), Size(paths.Where(p => pathUsers[p] > 1)),
                plan.Where(p => p.Type == type).Sum(p => p.Reclaimable));
        }
        bool IsCache(StoredImage i) => i.IsDangling && cacheIds.Contains(i.Id);
        var orphans = store.UnreferencedPaths();
        var cached = Images("BuildCache", images.Where(IsCache));
        var mounts = cache.MountDirectories; // RUN --mount=type=cache directories, all reclaimable
        var volumes = new ContainerVolumes(runtime).WithSizes(Size);
        return
        [
            Images("Images", images.Where(i => !IsCache(i))),
            cached with { Total = cached.Total + mounts.Count, Size = cached.Size + Size(mounts) },
            new StorageUsage("Containers", containers.Count, containers.Count(c => c.State.IsActive()),
                Size(containers.SelectMany(Paths)), 0, plan.Where(p => p.Type == "Containers").Sum(p => p.Reclaimable)),
            new StorageUsage("Orphans", orphans.Count, 0, Size(orphans), 0, plan.Where(p => p.Type == "Orphans").Sum(p => p.Reclaimable)),
            // Reclaimable here is what -Volumes frees (the unused volumes), not part of -All.
            new StorageUsage("Volumes", volumes.Count, volumes.Count(v => v.Volume.InUseBy.Count > 0), volumes.Sum(v => v.Size), 0,
                volumes.Where(v => v.Volume.InUseBy.Count == 0).Sum(v => v.Size)),
        ];
    }

    /// <summary>Removes one planned item.</summary>
    public async Task RemoveAsync(StorageItem item, CancellationToken ct)
    {
        switch (item.Type)
        {
            case "Containers":
                await runtime.RemoveAsync(item.Id, force: false, ct).ConfigureAwait(false);
                // The bytes are what this call reports freed: the directory's background deletion ends first.
                ContainerTrash.WaitForDeletions(TimeSpan.FromSeconds(60));
                break;
            case "BuildCache" when item.Id.StartsWith('/'):
                BuildCache.RemoveMount(item.Id);
                break;
            case "Images" or "BuildCache":
                if (await store.FindAsync(item.Id, ct).ConfigureAwait(false) is not null) await store.RemoveAsync(item.Id, force: true, ct).ConfigureAwait(false);
                break;
            case "Volumes":
                await new ContainerVolumes(runtime).RemoveAsync(item.Name, force: false, ct).ConfigureAwait(false);
                break;
            case "Orphans":
                break; // all at once, under the store's lock: FinishAsync
        }
    }

    /// <summary>Deletes the orphans (unreferenced layers and blobs) and, when the build cache was pruned, its index.</summary>
    public async Task FinishAsync(bool orphans, bool buildCache, CancellationToken ct)
    {
        if (orphans) await store.PruneUnreferencedAsync(ct).ConfigureAwait(false);
        if (buildCache) cache.Clear();
    }

    /// <summary>What a container takes: its directory and its name's link in the store's name index.</summary>
    private string[] Paths(Container c) => [runtime.Store.Dir(c.Id), runtime.Store.Names.LinkPath(c.Name)];

    /// <summary>Apparent bytes of files and directories under the paths, each inode once.</summary>
    public static long Size(IEnumerable<string> paths)
    {
        var seen = new HashSet<(ulong, ulong)>();
        long total = 0;
        void Walk(string p)
        {
            if (LinkStat.Get(p) is not { } st || !seen.Add((st.Device, st.Inode))) return;
            total += st.Size;
            if (st.Type != FileSystemCalls.S_IFDIR) return;
            IEnumerable<string> children;
            try { children = Directory.EnumerateFileSystemEntries(p); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
            foreach (string c in children) Walk(c);
        }
        foreach (string p in paths) Walk(p);
        return total;
    }
}
