using Containers.Core.Runtime.Plan;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// Copies the container's stdout and stderr pipes into the log file in the CRI format
/// (<see cref="ContainerLogLine"/>), one record per line, long lines split into P records of at most
/// <see cref="MaxRecord"/> bytes. Single-threaded: poll(2) on both pipes and a pidfd of the container.
/// </summary>
internal sealed unsafe class LogPump(FileStream log)
{
    public const int MaxRecord = 16 * 1024;
    // Not zeroed: only the bytes read are ever used, and an idle monitor whose container writes little never touches
    // (so never holds) most of these 96 KiB. Pinned (the pinned-object heap, never compacted): the idle monitor's
    // compacting collection moved them, writing every page of the copy, 84 KiB of the idle monitor's Private memory.
    private readonly byte[] _pending0 = GC.AllocateUninitializedArray<byte>(MaxRecord, pinned: true);
    private readonly byte[] _pending1 = GC.AllocateUninitializedArray<byte>(MaxRecord, pinned: true);
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
    private int _len0, _len1;

    /// <summary>The stdout fd is a pseudo-terminal's master: a line ends in CR LF there (onlcr); the CR is not logged.
    /// End-of-file is EIO once every slave fd is closed.</summary>
    public bool Terminal { get; init; }

    /// <summary>Pumps until both pipes reach end-of-file, or the process exited and the pipes stayed quiet for a while
    /// (a grandchild outside the pid namespace could keep them open). <paramref name="onIdle"/> runs once the running
    /// container has been quiet for <paramref name="idleMs"/>, and again after each later burst of output.</summary>
    public void Run(int stdoutFd, int stderrFd, int pidfd, Action? onIdle = null, int idleMs = 1000)
    {
        var fds = stackalloc PollFd[3];
        bool out0 = stdoutFd >= 0, out1 = stderrFd >= 0, exited = pidfd < 0, idle = onIdle is null;
        byte[] buf = _buffer;
        while (out0 || out1)
        {
            int n = 0;
            int i0 = -1, i1 = -1, ip = -1;
            if (out0) { i0 = n; fds[n++] = new PollFd { Fd = stdoutFd, Events = POLLIN }; }
            if (out1) { i1 = n; fds[n++] = new PollFd { Fd = stderrFd, Events = POLLIN }; }
            if (!exited) { ip = n; fds[n++] = new PollFd { Fd = pidfd, Events = POLLIN }; }
            int rc = poll(fds, (ulong)n, exited ? 2000 : idle ? -1 : idleMs);
            if (rc < 0) { if (Errno == EINTR) continue; break; }
            if (rc == 0 && exited) break; // exited and quiet
            if (rc == 0)
            {
                onIdle!();
                idle = true;
                continue;
            }
            idle = onIdle is null;
            if (ip >= 0 && fds[ip].Revents != 0) exited = true;
            if (i0 >= 0 && fds[i0].Revents != 0) out0 = Drain(stdoutFd, LogStream.Stdout, buf);
            if (i1 >= 0 && fds[i1].Revents != 0) out1 = Drain(stderrFd, LogStream.Stderr, buf);
            log.Flush();
        }
        Finish();
    }

    /// <summary>Reads once; false at end-of-file.</summary>
    private bool Drain(int fd, LogStream stream, byte[] buf)
    {
        nint n;
        fixed (byte* b = buf) n = read(fd, b, buf.Length);
        if (n < 0 && Errno is EINTR or EAGAIN) return true;
        if (n <= 0) { FlushPartial(stream); return false; }
        Append(stream, buf.AsSpan(0, (int)n));
        return true;
    }

    private void Append(LogStream stream, ReadOnlySpan<byte> data)
    {
        var ts = DateTimeOffset.UtcNow;
        byte[] pending = stream == LogStream.Stdout ? _pending0 : _pending1;
        ref int len = ref stream == LogStream.Stdout ? ref _len0 : ref _len1;
        while (data.Length > 0)
        {
            int nl = data.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                if (len + nl <= MaxRecord)
                {
                    data[..nl].CopyTo(pending.AsSpan(len));
                    Record(ts, stream, false, pending.AsSpan(0, len + nl));
                    len = 0;
                    data = data[(nl + 1)..];
                    continue;
                }
            }
            int take = Math.Min(MaxRecord - len, nl >= 0 ? nl : data.Length);
            data[..take].CopyTo(pending.AsSpan(len));
            len += take;
            data = data[take..];
            if (len == MaxRecord)
            {
                Record(ts, stream, true, pending.AsSpan(0, len));
                len = 0;
            }
        }
    }

    private void FlushPartial(LogStream stream)
    {
        ref int len = ref stream == LogStream.Stdout ? ref _len0 : ref _len1;
        if (len == 0) return;
        Record(DateTimeOffset.UtcNow, stream, true, (stream == LogStream.Stdout ? _pending0 : _pending1).AsSpan(0, len));
        len = 0;
    }

    private void Finish()
    {
        FlushPartial(LogStream.Stdout);
        FlushPartial(LogStream.Stderr);
        log.Flush();
    }

    private void Record(DateTimeOffset ts, LogStream stream, bool partial, ReadOnlySpan<byte> text)
    {
        if (Terminal && !partial && text.Length > 0 && text[^1] == (byte)'\r') text = text[..^1];
        string head = ContainerLogLine.FormatTimestamp(ts) + (stream == LogStream.Stdout ? " stdout " : " stderr ") + (partial ? "P " : "F ");
        Span<byte> h = stackalloc byte[64];
        int hn = System.Text.Encoding.ASCII.GetBytes(head, h);
        log.Write(h[..hn]);
        log.Write(text);
        log.WriteByte((byte)'\n');
    }
}
