namespace Containers.Core.FileSystem;

/// <summary>
/// Keeps the session's background spawns from holding its file locks. Process.Start forks: until the child execs, it holds
/// a copy of every descriptor the session had open at the fork, so a lock another thread releases meanwhile stays held by
/// the child, and the next <see cref="FileLock"/> wait polled for it (10 ms). Measured on a loaded 2-core host: 6 % of
/// New | Start -Wait | Remove cycles, the spare monitor forked while Start-Container held the container's lock and exec'd
/// 1 to 4 ms later, while Remove-Container was already waiting. The spare monitor is now forked while this session holds
/// no lock (waiting at most a second), and a lock found taken while a fork is under way is tried again once it is done.
/// </summary>
internal static class ForkGate
{
    private static readonly object Gate = new();
    private static int s_held;
    private static int s_running;
    private static long s_started;

    /// <summary>Forks begun so far (pass it to <see cref="WaitForForksSince"/>).</summary>
    public static long Started
    {
        get { lock (Gate) return s_started; }
    }

    /// <summary>A lock descriptor is about to be opened.</summary>
    public static void Opening()
    {
        lock (Gate) s_held++;
    }

    /// <summary>A lock descriptor that <see cref="Opening"/> counted is closed.</summary>
    public static void Closed()
    {
        lock (Gate)
            if (--s_held == 0) Monitor.PulseAll(Gate);
    }

    /// <summary>Runs <paramref name="start"/> (a Process.Start) once no lock descriptor is open, or after <paramref name="maxWaitMs"/>.</summary>
    public static T Fork<T>(Func<T> start, int maxWaitMs = 1000)
    {
        lock (Gate)
        {
            long deadline = Environment.TickCount64 + maxWaitMs;
            while (s_held > 0 && Environment.TickCount64 < deadline) Monitor.Wait(Gate, (int)Math.Max(1, deadline - Environment.TickCount64));
            s_running++;
            s_started++;
        }
        try { return start(); }
        finally
        {
            lock (Gate)
            {
                s_running--;
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
            while (s_running > 0) Monitor.Wait(Gate);
            return true;
        }
    }
}
