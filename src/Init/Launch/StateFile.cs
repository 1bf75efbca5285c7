using System.Globalization;
using System.Text.Json;
using Containers.Core.Runtime.Plan;

namespace Containers.Init.Launch;

/// <summary>
/// Writes <c>state.json</c> atomically: temp file in the same directory, then rename, so a reader never sees a
/// torn file. No fsync: the state describes processes of this boot only (readers treat a state with another
/// <c>bootId</c> as stale, and after a power loss no container is running anyway), while the two fsyncs sat on
/// the critical path of every start (before the handshake) and every wait (before the monitor exits).
/// </summary>
internal static class StateFile
{
    public static void Write(string stateDir, ContainerRuntimeState state)
    {
        Directory.CreateDirectory(stateDir);
        string path = Path.Combine(stateDir, LaunchPlan.StateFileName);
        string temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        state.BootId ??= BootId();
        using (var fs = new FileStream(temp, new FileStreamOptions
        { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            PlanWriter.WriteState(fs, state);
        }
        File.Move(temp, path, overwrite: true);
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
        try { return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(); }
        catch (IOException) { return null; }
    }

    /// <summary>Field 22 of /proc/pid/stat: the process's start time in clock ticks since boot (0 when gone).</summary>
    public static ulong StartTime(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return ulong.Parse(fields[19], CultureInfo.InvariantCulture); // field 22 is the 20th after "pid (comm)"
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return 0;
        }
    }
}
