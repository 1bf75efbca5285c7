namespace Containers.Core.Runtime;

/// <summary>
/// Removed containers' directories are deleted off the caller's path. Remove-Container moves the directory into the
/// store's <c>.trash</c> with one rename (under the store and container locks) and a background thread deletes what the
/// trash holds: unlinking a container's tree cost Remove-Container about 1 ms on this host's ext4, nearly all of it in the
/// kernel. The rename is also what takes the container out of the store (listings only see id-named directories), so a
/// kill at any point leaves either the whole container or trash; what a killed session left in the trash goes with the
/// next removal in any session, and a session that exits finishes its deletions first.
/// <para>Where the session may raise it again (CAP_SYS_NICE) the thread deletes in SCHED_IDLE: the ~0.4 ms of kernel CPU a
/// container's tree costs then fills CPU time nothing else wants instead of competing with the next container's start
/// on a busy host; a caller that waits for the deletions raises it.</para>
/// </summary>
internal static class ContainerTrash
{
    public const string DirName = ".trash";

    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerStore>();

    // One thread of its own, asleep between removals: a thread-pool task per removal left a worker spinning for more work
    // (sched_yield) after each, CPU taken from the next container's start on a 2-core host.
    private static readonly object Gate = new();
    private static readonly HashSet<string> Pending = new(StringComparer.Ordinal);
    private static long s_requested, s_done;
    private static Thread? s_thread;
    private static volatile bool s_idle;
    private static int s_threadId;

    static ContainerTrash() => AppDomain.CurrentDomain.ProcessExit += (_, _) => WaitForDeletions(TimeSpan.FromSeconds(10));

    /// <summary>Where <see cref="Move"/> puts the container's directory.</summary>
    public static string PathOf(ContainerStore store, string id) => Path.Combine(store.Root, DirName, id);

    /// <summary>Moves the container's directory into the trash; false when it could not (then the caller deletes it in place).</summary>
    public static bool Move(ContainerStore store, string id)
    {
        string trash = Path.Combine(store.Root, DirName);
        try
        {
            PrivateStore.CreateDirectory(trash);
            Directory.Move(store.Dir(id), PathOf(store, id));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Debug("Could not move the directory of container {Id} into the trash; deleting it in place: {Error}", id, e.Message);
            return false;
        }
    }

    /// <summary>Deletes what the store's trash holds in the background, after this session's deletions already queued.</summary>
    public static void EmptyLater(ContainerStore store)
    {
        lock (Gate)
        {
            Pending.Add(Path.Combine(store.Root, DirName));
            s_requested++;
            if (s_thread is null)
            {
                // Not in the caller's context: the call's log scope has ended by the time this runs.
                using (ExecutionContext.SuppressFlow())
                {
                    s_thread = new Thread(EmptyLoop) { IsBackground = true, Name = "pscontainers trash" };
                    s_thread.Start();
                }
            }
            Monitor.PulseAll(Gate);
        }
    }

    /// <summary>Waits for this session's queued deletions; false when they did not end within <paramref name="timeout"/>.</summary>
    public static bool WaitForDeletions(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        // Someone waits now: the deletions get a normal share of the CPU until they are done.
        if (s_idle) Native.Scheduling.Restore(s_threadId);
        lock (Gate)
        {
            long target = s_requested;
            while (s_done < target)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0) return false;
                Monitor.Wait(Gate, (int)Math.Min(left, int.MaxValue));
            }
            return true;
        }
    }

    private static void EmptyLoop()
    {
        s_idle = Native.Scheduling.LowerThisThread(out s_threadId);
        while (true)
        {
            string[] trashes;
            long requested;
            lock (Gate)
            {
                while (Pending.Count == 0) Monitor.Wait(Gate);
                // Back to SCHED_IDLE if a waiter raised this thread.
                if (s_idle) Native.Scheduling.IdleThisThread();
                trashes = [.. Pending];
                Pending.Clear();
                requested = s_requested;
            }
            foreach (string trash in trashes)
            {
                // Nothing may end this thread (nor, unhandled, the session): what was not deleted goes with the next removal.
                try { Empty(trash); }
                catch (Exception e) { Log.Debug("The trash {Trash} was not emptied: {Error}", trash, e.Message); }
            }
            lock (Gate)
            {
                s_done = requested;
                Monitor.PulseAll(Gate);
            }
        }
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
