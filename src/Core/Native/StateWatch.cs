using System.Runtime.InteropServices;

namespace Containers.Core.Native;

/// <summary>
/// Waits for a monitor to record something (a file renamed into the container's directory: its state file) or to end,
/// whichever comes first: inotify (IN_MOVED_TO) on the directory and a pidfd of the monitor in one poll. A monitor records
/// a container's exit a few hundred microseconds before it ends (it then removes the cgroups and exits), and a caller that
/// waited for its end paid those on every Start-Container -Wait.
/// </summary>
internal sealed unsafe partial class StateWatch : IDisposable
{
    private const int IN_MOVED_TO = 0x80, IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000;
    private const long SYS_pidfd_open = 434;
    private const short POLLIN = 1;
    private int _fd;

    private StateWatch(int fd) => _fd = fd;

    /// <summary>A watch of <paramref name="dir"/> armed now (set it up before reading the state it guards), or null when
    /// inotify is unavailable (the caller then waits for the monitor's end alone).</summary>
    public static StateWatch? Open(string dir)
    {
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0) return null;
        if (inotify_add_watch(fd, dir, IN_MOVED_TO) < 0) { close(fd); return null; }
        return new StateWatch(fd);
    }

    /// <summary>
    /// Blocks until a file is renamed into the directory (events are drained), <paramref name="pid"/> ends, or
    /// <paramref name="timeoutMs"/> passes. True when the process ended; false when something was recorded or the time
    /// passed (look again); null when no pidfd could be opened (no such process).
    /// </summary>
    public bool? WaitForRecordOrExit(int pid, int timeoutMs)
    {
        if (pid <= 0) return null;
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) return null;
        try
        {
            PollFd* fds = stackalloc PollFd[2];
            fds[0] = new PollFd { Fd = pidfd, Events = POLLIN };
            fds[1] = new PollFd { Fd = _fd, Events = POLLIN };
            if (poll(fds, 2, timeoutMs) <= 0) return false;
            if (fds[1].Revents != 0)
            {
                byte* drain = stackalloc byte[1024];
                while (read(_fd, drain, 1024) > 0) { }
            }
            return fds[0].Revents != 0;
        }
        finally { close(pidfd); }
    }

    public void Dispose()
    {
        if (_fd >= 0) close(_fd);
        _fd = -1;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport("libc", SetLastError = true)] private static partial int inotify_init1(int flags);
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int inotify_add_watch(int fd, string path, int mask);
    [LibraryImport("libc", SetLastError = true)] private static partial long syscall(long nr, int pid, uint flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint nfds, int timeout);
    [LibraryImport("libc", SetLastError = true)] private static partial nint read(int fd, byte* buf, nuint count);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);
}
