using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Containers.Core.Native;

/// <summary>Signals and process facts from /proc.</summary>
internal static unsafe partial class Processes
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>kill(2); false when the process does not exist or may not be signalled.</summary>
    public static bool Kill(int pid, int signal) => pid > 0 && LibC.kill(pid, signal) == 0;

    /// <summary>True when a process with this pid exists (zombies included).</summary>
    public static bool Exists(int pid) => pid > 0 && (LibC.kill(pid, 0) == 0 || Directory.Exists("/proc/" + pid));

    /// <summary>Field 22 of /proc/pid/stat (start time in clock ticks since boot), or null when the process is gone.</summary>
    public static ulong? StartTime(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            string[] fields = stat[(close + 2)..].Split(' ');
            // fields[0] is field 3 (state); field 22 is fields[19].
            return ulong.TryParse(fields[19], out ulong t) ? t : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The state letter of /proc/pid/stat (R, S, Z ...), or null.</summary>
    public static char? State(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return stat[close + 2];
        }
        catch (IOException) { return null; }
    }

    private static readonly Lazy<string?> CurrentBootId = new(() =>
    {
        try { return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(); }
        catch (IOException) { return null; }
    });

    /// <summary>/proc/sys/kernel/random/boot_id (constant for the life of this process).</summary>
    public static string? BootId() => CurrentBootId.Value;

    private const long SYS_pidfd_open = 434;
    private const short POLLIN = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport("libc", SetLastError = true)] private static partial long syscall(long nr, int pid, uint flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint nfds, int timeout);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);

    /// <summary>Blocks until <paramref name="fd"/> has data or end-of-file, or <paramref name="timeoutMs"/> passes; false on
    /// timeout (or an interrupted wait: the caller looks again).</summary>
    public static bool WaitReadable(SafeHandle fd, int timeoutMs)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            var p = new PollFd { Fd = (int)fd.DangerousGetHandle(), Events = POLLIN };
            return poll(&p, 1, timeoutMs) > 0;
        }
        finally { if (added) fd.DangerousRelease(); }
    }

    /// <summary>
    /// Blocks until the process ends or <paramref name="timeoutMs"/> passes, through a pidfd (no polling of /proc), or until
    /// <paramref name="alsoFd"/> (when not -1) is readable. True when it ended (or had already ended); false on timeout or
    /// <paramref name="alsoFd"/>; null when no pidfd could be opened (old kernel, no such process), so the caller falls
    /// back to polling.
    /// </summary>
    public static bool? WaitForExit(int pid, int timeoutMs, int alsoFd = -1)
    {
        if (pid <= 0) return null;
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0) return null;
        try
        {
            PollFd* p = stackalloc PollFd[2];
            p[0] = new PollFd { Fd = fd, Events = POLLIN };
            p[1] = new PollFd { Fd = alsoFd, Events = POLLIN }; // poll skips a negative fd
            int rc = poll(p, 2, timeoutMs);
            if (rc < 0) return null; // EINTR and the like: the caller looks again
            return p[0].Revents != 0;
        }
        finally { close(fd); }
    }
}
