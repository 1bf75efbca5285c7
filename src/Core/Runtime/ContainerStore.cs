using System.Text.Json;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// The container records under <see cref="ContainerPaths.ContainersDir"/>: one directory per container
/// (<c>&lt;id&gt;/container.json</c>, Init's <c>state.json</c>, the log, the bundle, the overlay upper/work
/// dirs and the generated /etc files). A store-wide lock file guards name uniqueness; each container
/// has its own lock for start/stop/remove, so concurrent sessions do not step on each other.
/// </summary>
internal sealed class ContainerStore
{
    public const string RecordFile = "container.json";
    public const string LogFile = "ctr.log";
    public const string PlanFile = "plan.json";

    public ContainerStore(ContainerPaths paths)
    {
        Root = paths.ContainersDir;
        Names = new ContainerNameIndex(Root);
        // A store made by an older version was world-readable: take that away on first use (one stat after that).
        try
        {
            PrivateStore.Restrict(paths.DataDir);
            if (PrivateStore.Restrict(Root)) PrivateStore.TightenOnce(Root, Tighten);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warning("Could not make the container store {Root} private: {Error}", Root, e.Message);
        }
    }

    public ContainerStore(string root)
    {
        Root = root;
        Names = new ContainerNameIndex(Root);
    }

    public string Root { get; }

    /// <summary>Name to id links: a lookup by name reads one record (see <see cref="ContainerNameIndex"/>).</summary>
    internal ContainerNameIndex Names { get; }

    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerStore>();

    /// <summary>The files a container's processes read through bind mounts (/etc/hosts...): they keep their 0644.</summary>
    private static readonly string[] SharedFiles = ["hosts", "hostname", "resolv.conf"];

    private bool _placementHinted;

    /// <summary>Creates the store and one container's directory, both private (0700).</summary>
    public void CreateDir(string id)
    {
        PrivateStore.EnsureDirectory(Root);
        if (!_placementHinted)
        {
            // Each container's directory (and the files, upper and work directories in it) in a block group of its own
            // rather than all in the store's: on ext4 without a journal every new inode first skips the group's recently
            // freed ones (the kernel's recently_deleted check), and a loop of New | Start | Remove frees ~20 a run.
            Native.DirectoryPlacement.TrySpreadSubdirectories(Root);
            _placementHinted = true;
        }
        PrivateStore.CreateDirectory(Dir(id));
    }

    /// <summary>Makes the records, logs, state and bundle files of a store written by an older version private.</summary>
    private void Tighten()
    {
        Log.Information("Making the container store {Root} private (directories 0700, records and logs 0600)", Root);
        PrivateStore.Restrict(Path.Combine(Root, ".lock"));
        foreach (string dir in Directory.EnumerateDirectories(Root))
        {
            PrivateStore.Restrict(dir);
            foreach (string file in Directory.EnumerateFiles(dir))
                if (!SharedFiles.Contains(Path.GetFileName(file))) PrivateStore.Restrict(file);
            PrivateStore.Restrict(Path.Combine(dir, "bundle", "config.json"));
        }
    }

    public string Dir(string id) => Path.Combine(Root, id);
    public string RecordPath(string id) => Path.Combine(Dir(id), RecordFile);
    public string StatePath(string id) => Path.Combine(Dir(id), LaunchPlan.StateFileName);
    public string LogPath(string id) => Path.Combine(Dir(id), LogFile);
    public string PlanPath(string id) => Path.Combine(Dir(id), PlanFile);
    public string BundleDir(string id) => Path.Combine(Dir(id), "bundle");
    /// <summary>The bundle's OCI runtime-spec <c>config.json</c>, written once by New-Container.</summary>
    public string SpecPath(string id) => Path.Combine(BundleDir(id), "config.json");
    public string UpperDir(string id) => Path.Combine(Dir(id), "upper");
    public string WorkDir(string id) => Path.Combine(Dir(id), "work");

    /// <summary>Held while names are checked and a record is created or removed.</summary>
    public Task<FileLock> LockStoreAsync(CancellationToken ct) => FileLock.AcquireAsync(Path.Combine(Root, ".lock"), ct);

    /// <summary>Held while one container is started, stopped or removed: an flock of the container's directory itself. It
    /// was a <c>.lock</c> file inside it, one more inode made and deleted per container (about 0.1 ms each on this host's
    /// ext4); a session of an older version still locks that file and so does not exclude a newer one.</summary>
    public Task<FileLock> LockContainerAsync(string id, CancellationToken ct) => FileLock.AcquireDirectoryAsync(Dir(id), ct);

    /// <summary>The container's lock if it is free right now, else null.</summary>
    public FileLock? TryLockContainer(string id) => FileLock.TryAcquireDirectory(Dir(id));

    /// <summary>Every readable record (a directory being created or removed is skipped). A listing that read the store's
    /// directory afresh also checks that every name is in the name index, and repairs the index when one is not.</summary>
    public List<ContainerRecord> List()
    {
        var list = ReadAll(out bool fresh);
        if (fresh) CheckNameIndex(list);
        return list;
    }

    private List<ContainerRecord> ReadAll(out bool fresh)
    {
        fresh = false;
        if (!Native.FileStat.TryGet(Root, out long inode, out long mtime, out _, out _)) return [];
        // Unchanged directory (same inode and entry-change time): the ids are as listed before, and a record, written
        // once before anything lists it, is still what was parsed; only ids whose record was not there yet are read.
        if (KeptListing(inode, mtime) is { } seen)
        {
            var known = new List<ContainerRecord>(seen.Records.Length);
            for (int i = 0; i < seen.Records.Length; i++)
                if ((seen.Records[i] ?? TryRead(seen.Ids[i])) is { } r) known.Add(r);
            return known;
        }
        fresh = true;
        var ids = EnumerateIds();
        // Reading and parsing a record is independent of the others: spread it over the cores (1,000 records
        // are 1,000 small reads plus JSON parses).
        var read = new ContainerRecord?[ids.Count];
        if (ids.Count < 32) for (int i = 0; i < ids.Count; i++) read[i] = TryRead(ids[i]);
        else Parallel.For(0, ids.Count, i => read[i] = TryRead(ids[i]));
        var list = new List<ContainerRecord>(ids.Count);
        foreach (var r in read) if (r is not null) list.Add(r);
        if (Cache.Count > list.Count || States.Count > list.Count) Prune([.. ids]);
        if (Native.FileStat.IsRacy(mtime)) Listings.TryRemove(Root, out _);
        else Listings[Root] = new Listing(inode, mtime, [.. ids], read);
        return list;
    }

    /// <summary>The last listing of each store root, valid while the root's inode and modification time are unchanged
    /// (creating or removing a container adds or removes an entry; nothing else does). Only kept when that time is old
    /// enough to be trusted (<see cref="Native.FileStat.IsRacy"/>). In memory only: a new process lists from disk.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Listing> Listings = new();

    private sealed record Listing(long Inode, long Mtime, string[] Ids, ContainerRecord?[] Records);

    /// <summary>
    /// Parsed records by path, with the file's change time and size when parsed. A record is written once, when the
    /// container is created (temp file + rename, so a new file means a new ctime), and only removed after; one stat
    /// tells whether the parsed copy is still the file's content, which spares Get-Container re-parsing a thousand
    /// records. The cached objects are shared: callers do not modify records they read (Inspect hands out read-only views).
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Inode, long Ctime, long Size, ContainerRecord Record)> Cache = new();

    public ContainerRecord? TryRead(string id)
    {
        string path = RecordPath(id);
        try
        {
            // A cached record costs one stat; a new one is opened without one (open fails when it is gone).
            if (Cache.TryGetValue(path, out var hit))
            {
                if (!Native.FileStat.TryGet(path, out long inode, out _, out long ctime, out long size)) { Cache.TryRemove(path, out _); return null; }
                if (hit.Inode == inode && hit.Ctime == ctime && hit.Size == size) return hit.Record;
            }
            if (!Native.FileStat.TryReadAll(path, out var bytes, out long readInode, out long readCtime, out long readSize)) { Cache.TryRemove(path, out _); return null; }
            var record = JsonSerializer.Deserialize(bytes, RecordJsonContext.Default.ContainerRecord);
            if (record is null) return null;
            // Keyed by what fstat said of the file that was read: a later write or a replacement changes the key.
            Cache[path] = (readInode, readCtime, readSize, record);
            return record;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }

    /// <summary>Drops cached records and states of containers that are gone (called by <see cref="List"/>).</summary>
    private void Prune(HashSet<string> liveIds)
    {
        foreach (string key in Cache.Keys)
            if (IsGone(key)) Cache.TryRemove(key, out _);
        foreach (string key in States.Keys)
            if (IsGone(key)) States.TryRemove(key, out _);

        bool IsGone(string path) => Path.GetDirectoryName(Path.GetDirectoryName(path)) == Root && !liveIds.Contains(Path.GetFileName(Path.GetDirectoryName(path))!);
    }

    /// <summary>Writes the record (atomically: a reader sees the old or the new one, and an empty or torn record left by a
    /// power loss is skipped by <see cref="TryRead"/>). <paramref name="durable"/> also fsyncs it and its directory.</summary>
    public void Write(ContainerRecord record, bool durable = true)
    {
        CreateDir(record.Id);
        string path = RecordPath(record.Id);
        bool rewrite = File.Exists(path);
        AtomicWrite(path, JsonSerializer.SerializeToUtf8Bytes(record, RecordJsonContext.Default.ContainerRecord), durable);
        // The record written is what the next read in this session would parse (Start-Container right after New-Container):
        // cached under the new file's stat, so that read is one stat instead of a read and a parse. Written under the store's
        // or the container's lock, so no other writer replaced the file in between.
        if (Native.FileStat.TryGet(path, out long inode, out _, out long ctime, out long size)) Cache[path] = (inode, ctime, size, record);
        else Cache.TryRemove(path, out _);
        // A session's kept listing holds the parsed record while the store directory's time stands still: a rewrite
        // (Connect-ContainerNetwork, Set-Container...) moves it, as a create or remove does.
        if (rewrite) MarkChanged();
    }

    /// <param name="id">The container.</param>
    /// <param name="rootFd">An open descriptor of <see cref="Root"/> (<see cref="OpenRoot"/>), or -1: a listing stats every
    /// container's state file relative to it, so the kernel walks two path components instead of the whole path.</param>
    public ContainerRuntimeState? ReadState(string id, int rootFd = -1)
    {
        string path = StatePath(id);
        try
        {
            if (States.TryGetValue(path, out var hit))
            {
                long inode, ctime, size;
                bool found = rootFd >= 0
                    ? Native.FileStat.TryGetAt(rootFd, id + "/" + LaunchPlan.StateFileName, out inode, out ctime, out size)
                    : Native.FileStat.TryGet(path, out inode, out _, out ctime, out size);
                if (!found) { States.TryRemove(path, out _); return null; }
                if (hit.Inode == inode && hit.Ctime == ctime && hit.Size == size) return hit.State;
            }
            if (!Native.FileStat.TryReadAll(path, out var bytes, out long readInode, out long readCtime, out long readSize)) { States.TryRemove(path, out _); return null; }
            var state = JsonSerializer.Deserialize(bytes, PlanJsonContext.Default.ContainerRuntimeState);
            if (state is { Status: ContainerStatus.Stopped } && !Native.FileStat.IsRacy(readCtime))
                States[path] = (readInode, readCtime, readSize, state);
            else States.TryRemove(path, out _);
            return state;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }

    /// <summary>A read-only descriptor of the store's directory for <see cref="ReadState(string, int)"/>; null when it is missing.</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle? OpenRoot()
    {
        try
        {
            int fd = Native.FileSystemCalls.OpenAt(Native.FileSystemCalls.AT_FDCWD, Root, Native.FileSystemCalls.O_RDONLY | Native.FileSystemCalls.O_DIRECTORY);
            return new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        }
        catch (IOException) { return null; }
    }

    /// <summary>The one reader of a container's bundle config; null when it is missing or unreadable.</summary>
    public RuntimeSpec? ReadSpec(string id)
    {
        try { return JsonSerializer.Deserialize(File.ReadAllBytes(SpecPath(id)), PlanJsonContext.Default.RuntimeSpec); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }

    /// <summary>The launch plan of the last start; null when it is missing or unreadable.</summary>
    public LaunchPlan? ReadPlan(string id)
    {
        try { return JsonSerializer.Deserialize(File.ReadAllBytes(PlanPath(id)), PlanJsonContext.Default.LaunchPlan); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }

    /// <summary>
    /// Parsed Stopped states by path, with the file's inode, change time and size: a Stopped state is final until the next
    /// start, which replaces the file (rename: a new inode), so listing 10,000 exited containers costs a stat each, not a
    /// read and a parse. Running states are always read (they change, and Stop-Container amends a stale one).
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Inode, long Ctime, long Size, ContainerRuntimeState State)> States = new();

    /// <summary>Not fsynced: the state is only meaningful for the boot it was written in (see <see cref="ContainerRuntimeState.BootId"/>).</summary>
    public void WriteState(ContainerRuntimeState state) =>
        AtomicWrite(StatePath(state.ContainerId), JsonSerializer.SerializeToUtf8Bytes(state, PlanJsonContext.Default.ContainerRuntimeState), durable: false);

    /// <summary>
    /// Deletes a container directory. The kernel leaves overlayfs's work/work with mode 000; rootless, it
    /// belongs to us but cannot be entered: the one recursive delete makes such directories accessible first.
    /// </summary>
    public static void DeleteTree(string dir) => DirectoryTree.Delete(dir);

    /// <summary>
    /// Writes a container's file (0600) with the one atomic writer: a reader sees the old or the new content,
    /// never a torn file. <paramref name="durable"/> also fsyncs the file and its directory, for files that must
    /// survive a power loss (the record, the bundle); files that live for one start or one boot (the launch plan,
    /// an exec's process file, the state) skip the fsync, which cost 3 to 5 ms each on this ext4 disk.
    /// </summary>
    public static void AtomicWrite(string path, byte[] content, bool durable = true) =>
        AtomicFile.Write(path, content, PrivateStore.FileMode, durable);

    /// <summary>
    /// Resolves a full id, an exact name, or a unique id prefix. Null when nothing matches; ambiguous prefixes throw. Reads
    /// the records of the match only: names through the name index, prefixes against the directory's entries.
    /// </summary>
    public ContainerRecord? Find(string nameOrId)
    {
        if (NameGenerator.IsFullId(nameOrId)) return TryRead(nameOrId);
        if (FindByName(nameOrId) is { } byName) return byName;
        return FindByIdPrefix(nameOrId);
    }

    /// <summary>The container with a unique id starting with <paramref name="prefix"/> (any case); null when none. Ambiguous prefixes throw.</summary>
    public ContainerRecord? FindByIdPrefix(string prefix)
    {
        string lower = prefix.ToLowerInvariant();
        if (lower.Length == 0 || !lower.All(char.IsAsciiHexDigitLower)) return null;
        var matches = CurrentIds().Where(id => id.StartsWith(lower, StringComparison.Ordinal)).Select(TryRead).OfType<ContainerRecord>().ToList();
        if (matches.Count > 1)
            throw new ContainersException("AmbiguousContainerId", ErrorKind.InvalidArgument,
                $"The id prefix '{prefix}' matches {matches.Count} containers.", prefix, "Give more digits of the id, or the name.");
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>The container named <paramref name="name"/>: one link and one record read (a full listing while the store has no index).</summary>
    public ContainerRecord? FindByName(string name)
    {
        if (!Names.Exists) return List().FirstOrDefault(r => r.Name == name);
        if (Names.Lookup(name) is not { } id) return null;
        if (NameGenerator.IsFullId(id) && TryRead(id) is { } r && r.Name == name) return r;
        // A create or remove was interrupted between the link and the record (or one is under way right now): no container.
        Log.Debug("The name index links {Name} to {Id}, which has no record of that name; ignoring the link", name, id);
        RepairNameIndex();
        return null;
    }

    /// <summary>The ids of the store's directories, from the last listing while the directory is unchanged.</summary>
    private List<string> CurrentIds() =>
        Native.FileStat.TryGet(Root, out long inode, out long mtime, out _, out _) && KeptListing(inode, mtime) is { } seen
            ? [.. seen.Ids] : EnumerateIds();

    /// <summary>This session's last listing of the store while the directory is unchanged since (same inode and time).</summary>
    private Listing? KeptListing(long inode, long mtime) =>
        Listings.TryGetValue(Root, out var seen) && seen.Inode == inode && seen.Mtime == mtime ? seen : null;

    private List<string> EnumerateIds()
    {
        var ids = new List<string>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories(Root))
            {
                string id = Path.GetFileName(dir);
                if (NameGenerator.IsFullId(id)) ids.Add(id);
            }
        }
        catch (DirectoryNotFoundException) { }
        return ids;
    }

    /// <summary>Repairs the name index when a record's name has no link (a store made by an older version, or records
    /// written around the module). No crash of a create or remove leaves one (see <see cref="ContainerNameIndex"/>).</summary>
    private void CheckNameIndex(List<ContainerRecord> records)
    {
        if (records.Count == 0) return;
        if (Names.Exists)
        {
            var linked = Names.Names();
            if (records.TrueForAll(r => linked.Contains(r.Name) || !NameGenerator.IsValidName(r.Name))) return;
        }
        Log.Debug("The name index of {Root} is missing or lacks names of listed containers; rebuilding it", Root);
        RepairNameIndex();
    }

    /// <summary>Rebuilds the name index from the records if the store lock is free now (else whoever holds it is changing
    /// the store, and a later lookup or listing repairs it).</summary>
    private void RepairNameIndex()
    {
        using var storeLock = FileLock.TryAcquire(Path.Combine(Root, ".lock"), create: true);
        if (storeLock is null) return;
        Names.Rebuild(ReadAll(out _));
    }

    /// <summary>Builds the name index if the store has none (store lock held: before a create links a name).</summary>
    public void EnsureNameIndex()
    {
        if (!Names.Exists) Names.Rebuild(ReadAll(out _));
    }

    /// <summary>Whether a container has the name (store lock held); a link to no such record is deleted on the way.</summary>
    public bool NameTaken(string name)
    {
        if (Names.Lookup(name) is not { } id) return false;
        if (NameGenerator.IsFullId(id) && TryRead(id) is { } r && r.Name == name) return true;
        Log.Debug("Deleting the name index's link {Name} to {Id}: no record of that name (an interrupted create or remove)", name, id);
        Names.Unlink(name, id);
        return false;
    }

    /// <summary>Links the name to the id before the record is written (store lock held, <see cref="NameTaken"/> checked).</summary>
    public void ClaimName(string name, string id)
    {
        if (!Names.TryLink(name, id))
            throw new ContainersException("ContainerNameInUse", ErrorKind.AlreadyExists,
                $"The name '{name}' is already used by another container.", name, "Choose another -Name or remove the other container.");
    }

    /// <summary>Deletes the record and then its name's link (store lock held): a crash in between leaves a link to no record.
    /// The store directory's time is moved too: a session's kept listing (valid while that time is unchanged) would show
    /// the container until its directory is gone, which takes a while for a big one, or forever after a crash.
    /// <paramref name="trashedDir"/>: where the container's directory went (the trash), which takes the link too.</summary>
    public void DeleteRecord(ContainerRecord r, string? trashedDir = null)
    {
        try { File.Delete(RecordPath(r.Id)); }
        catch (DirectoryNotFoundException) { } // gone with its directory into the trash (ContainerTrash)
        MarkChanged();
        Names.Unlink(r.Name, r.Id, trashedDir);
        // Without a listing to prune them, a session's parsed copies would outlive every container it ever removed.
        Cache.TryRemove(RecordPath(r.Id), out _);
        States.TryRemove(StatePath(r.Id), out _);
    }

    /// <summary>Whether this session holds a parsed copy of the container's record or state (tests: nothing outlives a removal).</summary>
    internal bool HoldsParsed(string id) => Cache.ContainsKey(RecordPath(id)) || States.ContainsKey(StatePath(id));

    /// <summary>Moves the store directory's time, which ends every session's kept listing (<see cref="Listings"/>).</summary>
    private void MarkChanged() => Directory.SetLastWriteTimeUtc(Root, DateTime.UtcNow);

    /// <summary>Like <see cref="Find"/> but throws ContainerNotFound.</summary>
    public ContainerRecord Get(string nameOrId) =>
        Find(nameOrId) ?? throw new ContainersException("ContainerNotFound", ErrorKind.NotFound,
            $"No container has the name or id '{nameOrId}'.", nameOrId, "List containers with Get-Container.");

    /// <summary>Ids and names of the containers created from an image (for Remove-ContainerImage).</summary>
    public IReadOnlyList<(string Id, string Name)> ContainersUsingImage(string imageId)
    {
        string bare = imageId.StartsWith("sha256:", StringComparison.Ordinal) ? imageId[7..] : imageId;
        return List().Where(r => r.ImageId == imageId || r.ImageId == bare || r.ImageId == "sha256:" + bare)
            .Select(r => (r.Id, r.Name)).ToList();
    }
}
