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
/// </summary>
internal static unsafe class StateFile
{
    public static void Write(string stateDir, ContainerRuntimeState state)
    {
        state.BootId ??= BootId();
        var json = new MemoryStream(2048);
        PlanWriter.WriteState(json, state);
        fixed (byte* dir = NativeString.Z(stateDir))
            if (mkdir(dir, 0x1ff) != 0 && Errno != EEXIST) Directory.CreateDirectory(stateDir); // its parents too, or the reason
        string path = Path.Combine(stateDir, LaunchPlan.StateFileName);
        string temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        fixed (byte* t = NativeString.Z(temp))
        fixed (byte* p = NativeString.Z(path))
        {
            int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0x180 /* 0600 */);
            if (fd < 0) throw new IOException($"{temp}: {StrError(Errno)}");
            bool written;
            fixed (byte* b = json.GetBuffer()) written = NativeFile.WriteAll(fd, b, (nint)json.Length);
            int err = Errno;
            close(fd);
            if (!written) throw new IOException($"{temp}: {StrError(err)}");
            if (rename(t, p) != 0) throw new IOException($"{path}: {StrError(Errno)}");
        }
    }

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
