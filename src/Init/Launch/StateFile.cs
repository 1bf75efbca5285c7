using System.Globalization;
using System.Text;
using System.Text.Json;
using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// Writes <c>state.json</c> atomically: temp file in the same directory, then rename, so a reader never sees a
/// torn file. No fsync: the state describes processes of this boot only (readers treat a state with another
/// <c>bootId</c> as stale, and after a power loss no container is running anyway), while the two fsyncs sat on
/// the critical path of every start (before the handshake) and every wait (before the monitor exits).
/// Plain system calls (<see cref="NativeFile"/>), not FileStream: both writes sit on that path.
/// <para>The writes that callers wait for (running, before the handshake; stopped, before Wait returns) stay cheap on
/// ext4: their temp files are made ahead (<see cref="MakeAhead"/>, while the child sets itself up: a new inode in a churned
/// directory cost 15-100 us), and a state that replaces another is swapped in with <c>RENAME_EXCHANGE</c>, not renamed
/// over it. ext4 flushes a file renamed over another at once (auto_da_alloc: block allocation and a write, 130 us median
/// and 0.7 ms at p90 here, and the discard of those blocks when the old state is deleted); an exchange costs 8 us. The
/// old state, left at the temp name, is deleted by <see cref="ReleaseReplaced"/> once the caller has its record.</para>
/// </summary>
internal static unsafe class StateFile
{
    /// <summary>Temp files made ahead, in the order the writes use them.</summary>
    private static readonly Queue<(string Dir, string Path, int Fd)> Ahead = new();
    private static int s_made;
    /// <summary>The temp name that holds the state the last write replaced.</summary>
    private static string? s_replaced;

    /// <summary>Creates the temp files of the next <paramref name="count"/> writes (the directory too); best effort.</summary>
    public static void MakeAhead(string stateDir, int count)
    {
        fixed (byte* dir = NativeString.Z(stateDir))
            if (mkdir(dir, 0x1ff) != 0 && Errno != EEXIST) return; // Write then makes it, or says why
        for (int i = 0; i < count; i++)
        {
            string temp = TempPath(stateDir);
            int fd;
            fixed (byte* t = NativeString.Z(temp)) fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0x180 /* 0600 */);
            if (fd < 0) return;
            Ahead.Enqueue((stateDir, temp, fd));
        }
    }

    public static void Write(string stateDir, ContainerRuntimeState state)
    {
        state.BootId ??= BootId();
        var json = new MemoryStream(2048);
        PlanWriter.WriteState(json, state);
        ReleaseReplaced();
        string path = Path.Combine(stateDir, LaunchPlan.StateFileName);
        string temp;
        int fd;
        if (Ahead.TryPeek(out var made) && made.Dir == stateDir) (_, temp, fd) = Ahead.Dequeue();
        else
        {
            fixed (byte* dir = NativeString.Z(stateDir))
                if (mkdir(dir, 0x1ff) != 0 && Errno != EEXIST) Directory.CreateDirectory(stateDir); // its parents too, or the reason
            temp = TempPath(stateDir);
            fixed (byte* t = NativeString.Z(temp)) fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0x180 /* 0600 */);
            if (fd < 0) throw new IOException($"{temp}: {StrError(Errno)}");
        }
        fixed (byte* t = NativeString.Z(temp))
        fixed (byte* p = NativeString.Z(path))
        {
            bool written;
            fixed (byte* b = json.GetBuffer()) written = NativeFile.WriteAll(fd, b, (nint)json.Length);
            int err = Errno;
            close(fd);
            if (!written) { unlink(t); throw new IOException($"{temp}: {StrError(err)}"); }
            if (RenameExchange(t, p) == 0) { s_replaced = temp; return; }
            // No state yet (ENOENT), or a file system without exchange: a plain rename.
            if (rename(t, p) != 0) { err = Errno; unlink(t); throw new IOException($"{path}: {StrError(err)}"); }
        }
    }

    /// <summary>Deletes the state the last write replaced (after the record it waited for is written).</summary>
    public static void ReleaseReplaced()
    {
        if (s_replaced is null) return;
        fixed (byte* t = NativeString.Z(s_replaced)) unlink(t);
        s_replaced = null;
    }

    /// <summary>Deletes the temp files made ahead that no write used (a start that failed).</summary>
    public static void DiscardAhead()
    {
        while (Ahead.TryDequeue(out var made))
        {
            close(made.Fd);
            fixed (byte* t = NativeString.Z(made.Path)) unlink(t);
        }
    }

    private static string TempPath(string stateDir) => Path.Combine(stateDir, LaunchPlan.StateFileName) + ".tmp-"
        + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + (s_made++).ToString(CultureInfo.InvariantCulture);

    public static ContainerRuntimeState? Read(string stateDir)
    {
        string path = Path.Combine(stateDir, LaunchPlan.StateFileName);
        if (!File.Exists(path)) return null;
        using var fs = File.OpenRead(path);
        return JsonSerializer.Deserialize(fs, PlanJsonContext.Default.ContainerRuntimeState);
    }

    public static string? BootId()
    {
        Span<byte> buf = stackalloc byte[64];
        int n = NativeFile.ReadSmall("/proc/sys/kernel/random/boot_id", buf);
        return n < 0 ? null : Encoding.ASCII.GetString(buf[..n]).Trim();
    }

    /// <summary>Field 22 of /proc/pid/stat: the process's start time in clock ticks since boot (0 when gone).</summary>
    public static ulong StartTime(int pid)
    {
        Span<byte> stat = stackalloc byte[1024];
        int n = NativeFile.ReadSmall("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat", stat);
        if (n <= 0) return 0;
        // After "pid (comm) ": comm may hold spaces and parentheses, so count from the last ')'. Field 22 is the 20th after it.
        var rest = stat[..n];
        int paren = rest.LastIndexOf((byte)')');
        if (paren < 0) return 0;
        rest = rest[(paren + 1)..];
        for (int field = 0; field < 20; field++)
        {
            int space = rest.IndexOf((byte)' ');
            if (space < 0) return 0;
            rest = rest[(space + 1)..];
        }
        int end = rest.IndexOfAny((byte)' ', (byte)'\n');
        return ulong.TryParse(end < 0 ? rest : rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out ulong ticks) ? ticks : 0;
    }
}
