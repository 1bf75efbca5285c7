using System.Runtime.InteropServices;

namespace Containers.Core.Native;

/// <summary>
/// Scheduling policies of threads (sched(7)): SCHED_IDLE runs a thread only on a CPU nothing else wants. Going back from
/// SCHED_IDLE to SCHED_OTHER takes CAP_SYS_NICE (or an RLIMIT_NICE that allows nice 0), so a caller lowers a thread only
/// when <see cref="CanRestore"/> says it can raise it again.
/// </summary>
internal static unsafe partial class Scheduling
{
    private const int SCHED_OTHER = 0, SCHED_IDLE = 5, SCHED_RESET_ON_FORK = 0x40000000;
    private const int CAP_SYS_NICE = 23;

    [LibraryImport("libc", SetLastError = true)] private static partial int sched_setscheduler(int pid, int policy, int* param);
    [LibraryImport("libc", SetLastError = true)] private static partial int sched_getscheduler(int pid);
    [LibraryImport("libc")] private static partial int gettid();

    /// <summary>The calling thread's kernel id (what sched_setscheduler takes).</summary>
    public static int ThreadId() => gettid();

    /// <summary>
    /// A background thread's start: puts it in SCHED_IDLE when this process may raise it again (<see cref="CanRestore"/>);
    /// <paramref name="threadId"/> is its kernel id, for <see cref="Restore"/> by a thread that waits for it. True when
    /// lowered; such a thread calls <see cref="IdleThisThread"/> again before each piece of work, in case it was raised.
    /// </summary>
    public static bool LowerThisThread(out int threadId)
    {
        threadId = gettid();
        return CanRestore() && IdleThisThread();
    }

    /// <summary>True when this process has CAP_SYS_NICE in its effective set (root has).</summary>
    private static bool CanRestore()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << CAP_SYS_NICE)) != 0;
        }
        catch (Exception e) when (e is IOException or FormatException) { }
        return false;
    }

    /// <summary>Puts the calling thread (and what it starts from now on) in SCHED_IDLE; false when refused.</summary>
    public static bool IdleThisThread()
    {
        int priority = 0;
        return sched_setscheduler(0, SCHED_IDLE, &priority) == 0;
    }

    /// <summary>
    /// Puts every thread of process <paramref name="pid"/> that is in SCHED_IDLE back in SCHED_OTHER (threads in another
    /// policy keep theirs). False when one of them could not be changed; a thread that ended meanwhile does not count.
    /// </summary>
    public static bool RestoreProcess(int pid)
    {
        string[] tasks;
        try { tasks = Directory.GetFileSystemEntries($"/proc/{pid}/task"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        foreach (string task in tasks)
            if (int.TryParse(Path.GetFileName(task), out int tid) && !Restore(tid)) return false;
        return true;
    }

    /// <summary>Puts thread <paramref name="tid"/> of this process and the processes it started (its children not yet
    /// reaped) back in SCHED_OTHER where they are in SCHED_IDLE; best effort.</summary>
    public static void RestoreThreadAndChildren(int tid)
    {
        Restore(tid);
        try
        {
            foreach (string child in File.ReadAllText($"/proc/self/task/{tid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (int.TryParse(child, out int pid)) Restore(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Puts thread <paramref name="tid"/> back in SCHED_OTHER if it is in SCHED_IDLE; true when it is not in
    /// SCHED_IDLE now (or has ended).</summary>
    public static bool Restore(int tid)
    {
        int policy = sched_getscheduler(tid);
        if (policy < 0 || (policy & ~SCHED_RESET_ON_FORK) != SCHED_IDLE) return true;
        int priority = 0;
        return sched_setscheduler(tid, SCHED_OTHER, &priority) == 0 || Marshal.GetLastPInvokeError() == 3 /* ESRCH */;
    }
}
