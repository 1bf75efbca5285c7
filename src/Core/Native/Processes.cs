using Tmds.Linux;

namespace Containers.Core.Native;

/// <summary>Signals and process facts from /proc.</summary>
public static class Processes
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
}
