using System.Runtime.InteropServices;

namespace Containers.Core.Native;

/// <summary>
/// Waits for a monitor to record something (a file renamed into the container's directory: its state file) or to end,
/// whichever comes first: inotify (IN_MOVED_TO) on the directory and a pidfd of the monitor in one poll. A monitor records
/// a container's exit a few hundred microseconds before it ends (it then removes the cgroups and exits), and a caller that
/// waited for its end paid those on every Start-Container -Wait.
/// <para>One inotify instance serves the whole process, a watch added and removed per wait: closing an instance that had
/// a watch waits for an SRCU grace period, 0.05 to 16 ms here, which cost Start-Container -Wait more than it saved. Waiters
/// share the instance's queue, so one may take another's event; that one then wakes on its monitor's end, as before.</para>
/// </summary>
internal sealed unsafe partial class StateWatch : IDisposable
{
    private const int IN_MOVED_TO = 0x80, IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000;

    private static readonly Lock Gate = new();
    private static int s_fd = -1;
    /// <summary>Waits per watch descriptor (the kernel hands the same one for the same directory).</summary>
    private static readonly Dictionary<int, int> Users = [];
    private int _wd;

    private StateWatch(int wd) => _wd = wd;

    /// <summary>A watch of <paramref name="dir"/> armed now (set it up before reading the state it guards), or null when
    /// inotify is unavailable (the caller then waits for the monitor's end alone).</summary>
    public static StateWatch? Open(string dir)
    {
        lock (Gate)
        {
            if (s_fd < 0) s_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
            if (s_fd < 0) return null;
            int wd = inotify_add_watch(s_fd, dir, IN_MOVED_TO);
            if (wd < 0) return null;
            Users[wd] = Users.GetValueOrDefault(wd) + 1;
            return new StateWatch(wd);
        }
    }

    /// <summary>
    /// Blocks until a file is renamed into a watched directory (events are drained), <paramref name="pid"/> ends, or
    /// <paramref name="timeoutMs"/> passes. True when the process ended; false when something was recorded or the time
    /// passed (look again); null when no pidfd could be opened (no such process) or the wait was interrupted.
    /// </summary>
    public bool? WaitForRecordOrExit(int pid, int timeoutMs)
    {
        bool? ended = Processes.WaitForExit(pid, timeoutMs, s_fd);
        // The instance is non-blocking: what is queued is drained, nothing else waits.
        byte* drain = stackalloc byte[1024];
        while (read(s_fd, drain, 1024) > 0) { }
        return ended;
    }

    public void Dispose()
    {
        lock (Gate)
        {
            if (_wd < 0) return;
            // The last wait on this directory removes the watch (gone already when the directory was deleted: ignored).
            if (Users.TryGetValue(_wd, out int n) && n > 1) Users[_wd] = n - 1;
            else
            {
                Users.Remove(_wd);
                inotify_rm_watch(s_fd, _wd);
            }
            _wd = -1;
        }
    }

    [LibraryImport("libc", SetLastError = true)] private static partial int inotify_init1(int flags);
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int inotify_add_watch(int fd, string path, int mask);
    [LibraryImport("libc", SetLastError = true)] private static partial int inotify_rm_watch(int fd, int wd);
    [LibraryImport("libc", SetLastError = true)] private static partial nint read(int fd, byte* buf, nuint count);
}
