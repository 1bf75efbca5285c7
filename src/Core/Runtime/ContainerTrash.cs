namespace Containers.Core.Runtime;

/// <summary>
/// Removed containers' directories are deleted off the caller's path. Remove-Container moves the directory into the
/// store's <c>.trash</c> with one rename (under the store and container locks) and a background task deletes what the
/// trash holds: unlinking a container's tree cost Remove-Container about 1 ms on this host's ext4, nearly all of it in the
/// kernel. The rename is also what takes the container out of the store (listings only see id-named directories), so a
/// kill at any point leaves either the whole container or trash; what a killed session left in the trash goes with the
/// next removal in any session, and a session that exits finishes its deletions first.
/// <para>The deletions wait until no removal came for <see cref="Delay"/> (or <see cref="MaxPending"/> removals queued): in a
/// script that creates, runs and removes containers in a loop, deleting each tree at once put a background thread's ext4
/// evictions and discards beside the next container's start on a 2-core host, and every inode the next container made
/// scanned the inodes deleted just before (no-journal ext4's recently-deleted check).</para>
/// </summary>
internal static class ContainerTrash
{
    public const string DirName = ".trash";

    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerStore>();
    /// <summary>How long the trash waits for the next removal before it is emptied.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);
    /// <summary>Removals queued before the trash is emptied without waiting for a pause.</summary>
    public const int MaxPending = 32;

    private static readonly Lock Gate = new();
    private static readonly HashSet<string> Due = new(StringComparer.Ordinal);
    private static int s_pending;
    private static Timer? s_timer;
    private static Task s_emptying = Task.CompletedTask;

    static ContainerTrash() => AppDomain.CurrentDomain.ProcessExit += (_, _) => WaitForDeletions(TimeSpan.FromSeconds(10));

    /// <summary>Moves the container's directory into the trash; false when it could not (then the caller deletes it in place).</summary>
    public static bool Move(ContainerStore store, string id)
    {
        string trash = Path.Combine(store.Root, DirName);
        try
        {
            PrivateStore.CreateDirectory(trash);
            Directory.Move(store.Dir(id), Path.Combine(trash, id));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Debug("Could not move the directory of container {Id} into the trash; deleting it in place: {Error}", id, e.Message);
            return false;
        }
    }

    /// <summary>Deletes what the store's trash holds on the thread pool, once no removal came for <see cref="Delay"/>, after
    /// this session's deletions already queued.</summary>
    public static void EmptyLater(ContainerStore store)
    {
        string trash = Path.Combine(store.Root, DirName);
        lock (Gate)
        {
            Due.Add(trash);
            if (++s_pending >= MaxPending)
            {
                QueueDue();
                return;
            }
            // Not in the caller's context: the call's log scope has ended by the time this runs.
            if (s_timer is null)
                using (ExecutionContext.SuppressFlow())
                    s_timer = new Timer(_ => { lock (Gate) QueueDue(); });
            s_timer.Change(Delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Waits for this session's deletions (the ones still waiting for a pause start now); false when they did not
    /// end within <paramref name="timeout"/>.</summary>
    public static bool WaitForDeletions(TimeSpan timeout)
    {
        Task pending;
        lock (Gate)
        {
            QueueDue();
            pending = s_emptying;
        }
        return pending.Wait(timeout);
    }

    /// <summary>Queues the deletion of every trash a removal named since the last one (called under <see cref="Gate"/>).</summary>
    private static void QueueDue()
    {
        s_pending = 0;
        if (Due.Count == 0) return;
        string[] trashes = [.. Due];
        Due.Clear();
        using (ExecutionContext.SuppressFlow())
            s_emptying = s_emptying.ContinueWith(_ => { foreach (string t in trashes) Empty(t); }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private static void Empty(string trash)
    {
        List<string> entries;
        try { entries = [.. Directory.EnumerateFileSystemEntries(trash)]; }
        catch (DirectoryNotFoundException) { return; }
        // Another session may be deleting the same entries: whatever fails stays for the next removal.
        foreach (string entry in entries)
            try { DirectoryTree.Delete(entry); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.Debug("{Entry} stays in the trash until the next removal: {Error}", entry, e.Message);
            }
    }
}
