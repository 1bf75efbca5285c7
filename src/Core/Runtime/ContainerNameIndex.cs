using Containers.Core.Native;

namespace Containers.Core.Runtime;

/// <summary>
/// The container store's name index: <c>.names/&lt;name&gt;</c> is a symbolic link whose target is the container's id, so a
/// lookup by name reads one link and one record instead of every record. Written only under the store lock: a create links
/// the name before it writes the record, a remove unlinks it after deleting the record. A crash in between leaves a link to
/// no record, which a lookup treats as no container and the next holder of the store lock deletes; no crash leaves a record
/// without its link. A store without the index (made by an older version) gets it built, in a side directory renamed into
/// place, from one full listing.
/// </summary>
internal sealed class ContainerNameIndex(string storeRoot)
{
    public const string DirName = ".names";
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerNameIndex>();

    /// <summary>Links lead to the container's directory: <c>.names/web -> ../&lt;id&gt;</c>.</summary>
    private const string Up = "../";

    public string Dir { get; } = Path.Combine(storeRoot, DirName);

    /// <summary>Built (a store made before the index has none until its first create or lookup).</summary>
    public bool Exists => Directory.Exists(Dir);

    /// <summary>The name's link (it may not exist).</summary>
    public string LinkPath(string name) => Path.Combine(Dir, name);

    /// <summary>The id the name links to; null when it has none.</summary>
    public string? Lookup(string name)
    {
        if (!NameGenerator.IsValidName(name)) return null;
        try { return LinkStat.ReadLink(Path.Combine(Dir, name)) is var target && target.StartsWith(Up, StringComparison.Ordinal) ? target[Up.Length..] : null; }
        catch (NativeCallException) { return null; }
    }

    /// <summary>The names linked (no link is read).</summary>
    public HashSet<string> Names() => DirectoryNames.Read(Dir);

    /// <summary>Links the name to the id (store lock held); false when the name has a link already.</summary>
    public bool TryLink(string name, string id)
    {
        try
        {
            FileSystemCalls.SymlinkAt(Up + id, FileSystemCalls.AT_FDCWD, Path.Combine(Dir, name));
            return true;
        }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.EEXIST_) { return false; }
    }

    /// <summary>
    /// Takes the name's link out of the index if it leads to <paramref name="id"/> (store lock held): moved into
    /// <paramref name="moveInto"/> when given (the removed container's directory in the trash, deleted with it off the
    /// caller's path), else unlinked. A link's target does not fit in its inode, so unlinking it frees a block, and with
    /// ext4's discard option (no journal) the unlink waited for the device: 0.28 ms of every Remove-Container here.
    /// </summary>
    public void Unlink(string name, string id, string? moveInto = null)
    {
        if (Lookup(name) != id) return;
        string link = Path.Combine(Dir, name);
        if (moveInto is not null)
            try
            {
                FileSystemCalls.RenameAt(FileSystemCalls.AT_FDCWD, link, FileSystemCalls.AT_FDCWD, Path.Combine(moveInto, DirName));
                return;
            }
            catch (NativeCallException) { }
        FileSystemCalls.UnlinkAt(FileSystemCalls.AT_FDCWD, link, directory: false);
    }

    /// <summary>
    /// Makes the links match <paramref name="records"/> (store lock held, records read under it): a missing index is built
    /// aside and renamed into place, so a reader never sees a partial one; an existing one gets missing links added, wrong
    /// ones replaced and links to no record removed.
    /// </summary>
    public void Rebuild(IReadOnlyCollection<ContainerRecord> records)
    {
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in records.OrderBy(r => r.Created))
            if (NameGenerator.IsValidName(r.Name) && !byName.TryAdd(r.Name, r.Id))
                Log.Warning("Containers {Id1} and {Id2} have the same name {Name}; the name finds {Id1}", byName[r.Name][..12], r.Id[..12], r.Name);
        if (!Exists)
        {
            string aside = Dir + ".new";
            if (Directory.Exists(aside)) Directory.Delete(aside, recursive: true); // a build that crashed
            PrivateStore.CreateDirectory(aside);
            foreach (var (name, id) in byName) FileSystemCalls.SymlinkAt(Up + id, FileSystemCalls.AT_FDCWD, Path.Combine(aside, name));
            Directory.Move(aside, Dir);
            Log.Debug("Built the name index of {Root} ({Count} names)", storeRoot, byName.Count);
            return;
        }
        int removed = 0, added = 0;
        foreach (string name in Names())
        {
            if (byName.TryGetValue(name, out string? id) && Lookup(name) == id) continue;
            FileSystemCalls.UnlinkAt(FileSystemCalls.AT_FDCWD, Path.Combine(Dir, name), directory: false);
            removed++;
        }
        foreach (var (name, id) in byName)
            if (TryLink(name, id)) added++;
        Log.Debug("Repaired the name index of {Root}: {Removed} stale links removed, {Added} added", storeRoot, removed, added);
    }
}
