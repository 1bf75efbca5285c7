using Containers.Core.Runtime.Plan;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// <c>pscontainers-init spare --idle-seconds N</c>: a monitor a session starts ahead of its next container start, so that
/// the runtime's start-up (about 1.2 ms of CPU and most of the binary's page faults) is paid off that start's path. It
/// waits on stdin for one <c>run</c> command line (each argument ended by a NUL byte, then an empty argument or end-of-file)
/// and runs it as <see cref="Runner.Run"/> would have: from then on it is that container's monitor, outliving the session as
/// any. While it waits it makes a network namespace the container can join (<see cref="Runner.PrepareNetworkNamespace"/>)
/// and rehearses the last start's plan (<see cref="Runner.Rehearse"/>), so neither is on the next start's path.
/// <para>It never outlives its session as a spare: end-of-file on stdin with nothing read (the session closed the pipe,
/// ended, or was killed: the kernel closes the pipe then) or N seconds without input end it with exit code 0. Nothing
/// but its session knows it, so no container ever depends on it.</para>
/// </summary>
internal static unsafe class Spare
{
    /// <summary>More than any plan path needs: a longer input is not a command line.</summary>
    private const int MaxInput = 16 << 10;

    public static int Run(InitSpare spare)
    {
        // While it waits it holds none of the session's leaked descriptors (Runner.Run looks again: by then none is left).
        Runner.CloseInheritedFds();
        // A session of its own at once (the monitor makes one anyway): the terminal's Ctrl+C and hang-up belong to the
        // session's foreground, not to a process that is waiting for work.
        setsid();
        if (spare.WarmPlan is { } warm) Runner.Rehearse(warm);
        int networkNamespace = Runner.PrepareNetworkNamespace();
        byte[]? input = ReadCommand(spare.IdleSeconds * 1000L, out byte[] rest);
        if (input is null) return 0;
        string text = System.Text.Encoding.UTF8.GetString(input);
        if (!text.EndsWith('\0') || InitCommand.Parse(text[..^1].Split('\0')) is not InitRun run)
        {
            Runner.WriteLine(2, "pscontainers-init spare: " + InitCommand.Usage);
            return 2;
        }
        return Runner.Run(run, rest, networkNamespace);
    }

    /// <summary>The command written to stdin: up to an empty argument (two NULs in a row; <paramref name="rest"/> is what
    /// came after them in the same read: the go byte, if the caller was that quick) or end-of-file. Null on end-of-file
    /// with nothing read, after <paramref name="idleMs"/> without input, or when the input is too long.</summary>
    private static byte[]? ReadCommand(long idleMs, out byte[] rest)
    {
        rest = [];
        long deadline = Environment.TickCount64 + idleMs;
        PollFd wait = new() { Fd = 0, Events = 1 /* POLLIN */ };
        while (true)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0) return null;
            int ready = poll(&wait, 1, (int)Math.Min(left, int.MaxValue));
            if (ready > 0) break;
            if (ready < 0 && Errno != EINTR) return null;
        }
        var bytes = new List<byte>(256);
        byte* buf = stackalloc byte[4096];
        while (bytes.Count <= MaxInput)
        {
            nint n = read(0, buf, 4096);
            if (n < 0 && Errno == EINTR) continue;
            if (n <= 0) break;
            bytes.AddRange(new ReadOnlySpan<byte>(buf, (int)n));
            int end = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes).IndexOf("\0\0"u8);
            if (end >= 0)
            {
                rest = [.. bytes.Skip(end + 2)];
                return [.. bytes.Take(end + 1)];
            }
        }
        return bytes.Count is 0 or > MaxInput ? null : [.. bytes];
    }
}
