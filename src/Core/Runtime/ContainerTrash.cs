namespace Containers.Core.Runtime;

/// <summary>
/// Removed containers' directories are deleted off the caller's path. Remove-Container moves the directory into the
/// store's <c>.trash</c> with one rename (under the store and container locks) and a background task deletes what the
/// trash holds: unlinking a container's tree cost Remove-Container about 1 ms on this host's ext4, nearly all of it in the
/// kernel. The rename is also what takes the container out of the store (listings only see id-named directories), so a
/// kill at any point leaves either the whole container or trash; what a killed session left in the trash goes with the
/// next removal in any session, and a session that exits finishes its deletions first.
/// </summary>
internal static class ContainerTrash
{
    public const string DirName = ".trash";

    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerStore>();
    private static readonly Lock Gate = new();
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

    /// <summary>Deletes what the store's trash holds on the thread pool, after this session's deletions already queued.</summary>
    public static void EmptyLater(ContainerStore store)
    {
        string trash = Path.Combine(store.Root, DirName);
        // Not in the caller's context: the call's log scope has ended by the time this runs.
        using (ExecutionContext.SuppressFlow())
            lock (Gate) s_emptying = s_emptying.ContinueWith(_ => Empty(trash), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Waits for this session's queued deletions; false when they did not end within <paramref name="timeout"/>.</summary>
    public static bool WaitForDeletions(TimeSpan timeout)
    {
        Task pending;
        lock (Gate) pending = s_emptying;
        return pending.Wait(timeout);
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
