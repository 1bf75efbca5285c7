using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init;

/// <summary>
/// Copies between Init's stdio and a pseudo-terminal's master for exec with a terminal: stdin to the master,
/// the master to stdout, until the terminal is hung up (every slave fd closed: read gives EIO). When Init's
/// stdin is itself a terminal it is put in raw mode for the duration (the container's line discipline does the
/// editing and turns Ctrl+C into SIGINT) and its window size is copied to the pty, again on each SIGWINCH.
/// When stdin ends (a pipe or /dev/null), one end-of-file character (Ctrl+D) is written to the pty.
/// </summary>
internal static unsafe class TerminalRelay
{
    private static volatile int s_master = -1;

    public static void Run(int master)
    {
        s_master = master;
        bool raw = isatty(0) == 1;
        byte* saved = stackalloc byte[64];
        if (raw && tcgetattr(0, saved) == 0)
        {
            byte* t = stackalloc byte[64];
            for (int i = 0; i < 64; i++) t[i] = saved[i];
            cfmakeraw(t);
            tcsetattr(0, 0 /* TCSANOW */, t);
        }
        else raw = false;
        CopyWindowSize();
        using var winch = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGWINCH, _ => CopyWindowSize());
        try { Pump(master); }
        finally
        {
            if (raw) tcsetattr(0, 0, saved);
        }
        close(master);
    }

    private static void CopyWindowSize()
    {
        ushort* ws = stackalloc ushort[4];
        // A terminal that knows no size (0 rows) leaves the pty's own default.
        if (s_master >= 0 && ioctl(0, TIOCGWINSZ, (ulong)ws) == 0 && ws[0] != 0 && ws[1] != 0) ioctl(s_master, TIOCSWINSZ, (ulong)ws);
    }

    private static void Pump(int master)
    {
        var fds = stackalloc PollFd[2];
        byte* buf = stackalloc byte[16384];
        bool input = true, output = true;
        while (true)
        {
            int n = 0;
            fds[n++] = new PollFd { Fd = master, Events = POLLIN };
            if (input) fds[n++] = new PollFd { Fd = 0, Events = POLLIN };
            int rc = poll(fds, (ulong)n, -1);
            if (rc < 0) { if (Errno == EINTR) continue; return; }
            if (fds[0].Revents != 0)
            {
                nint got = read(master, buf, 16384);
                if (got < 0 && Errno is EINTR or EAGAIN) continue;
                if (got <= 0) return; // EIO: the process and everything holding its terminal are gone
                if (output && !NativeFile.WriteAll(1, buf, got)) output = false; // our reader left: keep draining the pty
            }
            if (input && n > 1 && fds[1].Revents != 0)
            {
                nint got = read(0, buf, 16384);
                if (got < 0 && Errno is EINTR or EAGAIN) continue;
                if (got <= 0)
                {
                    input = false;
                    byte eof = 4;
                    write(master, &eof, 1);
                }
                else NativeFile.WriteAll(master, buf, got);
            }
        }
    }
}
