namespace Containers.Core.FileSystem;

/// <summary>
/// Lets a lock wait tell a lock held by the session's own background spawn. Process.Start forks: until the child execs, it
/// holds a copy of every descriptor the session had open at the fork, so a lock another thread released meanwhile stays
/// held by the child, and the next <see cref="FileLock"/> wait polled for it (10 ms). Measured on a loaded 2-core host: 6 %
/// of New | Start -Wait | Remove cycles, the spare monitor forked while Start-Container held the container's lock and
/// exec'd 1 to 4 ms later, while Remove-Container was already waiting. A lock found taken while such a fork is under way
/// (or after one began) is tried again as soon as it is done. The spare is not held back until no lock is open: that made
/// it late for the next start (a fresh monitor instead) in 13 % of cycles.
/// </summary>
internal static class ForkGate
{
    private static readonly object Gate = new();
    private static int s_running;
    private static long s_started;
    /// <summary>Kernel ids of the threads forking now.</summary>
    private static readonly HashSet<int> Forking = [];

    /// <summary>Forks begun so far (pass it to <see cref="WaitForForksSince"/>).</summary>
    public static long Started
    {
        get { lock (Gate) return s_started; }
    }

    /// <summary>Runs <paramref name="start"/> (a Process.Start, which returns once the child has exec'd) as a fork lock waits know of.</summary>
    public static T Fork<T>(Func<T> start)
    {
        int thread = Native.Scheduling.ThreadId();
        lock (Gate)
        {
            s_running++;
            s_started++;
            Forking.Add(thread);
        }
        try { return start(); }
        finally
        {
            lock (Gate)
            {
                s_running--;
                Forking.Remove(thread);
                Monitor.PulseAll(Gate);
            }
        }
    }

    /// <summary>After a lock was found taken: waits for the forks under way, and says whether any ran since
    /// <paramref name="started"/> (<see cref="Started"/> before the try), when the lock may be free now.</summary>
    public static bool WaitForForksSince(long started)
    {
        lock (Gate)
        {
            if (s_running == 0 && s_started == started) return false;
            // The spare's fork runs in SCHED_IDLE (SpareMonitor), slow on a host busy with other work: a wait raises the
            // forking thread and the child it has not yet seen exec.
            foreach (int thread in Forking) Native.Scheduling.RestoreThreadAndChildren(thread);
            while (s_running > 0) Monitor.Wait(Gate);
            return true;
        }
    }
}
