using System.Globalization;

namespace Containers.Core.Runtime.RunOptions;

/// <summary>This process's hard resource limits (<c>/proc/self/limits</c>), the most a container it starts can be given.</summary>
internal static class HostRlimits
{
    private static readonly Dictionary<string, string> Rows = new(StringComparer.Ordinal)
    {
        ["Max cpu time"] = "RLIMIT_CPU", ["Max file size"] = "RLIMIT_FSIZE", ["Max data size"] = "RLIMIT_DATA",
        ["Max stack size"] = "RLIMIT_STACK", ["Max core file size"] = "RLIMIT_CORE", ["Max resident set"] = "RLIMIT_RSS",
        ["Max processes"] = "RLIMIT_NPROC", ["Max open files"] = "RLIMIT_NOFILE", ["Max locked memory"] = "RLIMIT_MEMLOCK",
        ["Max address space"] = "RLIMIT_AS", ["Max file locks"] = "RLIMIT_LOCKS", ["Max pending signals"] = "RLIMIT_SIGPENDING",
        ["Max msgqueue size"] = "RLIMIT_MSGQUEUE", ["Max nice priority"] = "RLIMIT_NICE", ["Max realtime priority"] = "RLIMIT_RTPRIO",
        ["Max realtime timeout"] = "RLIMIT_RTTIME",
    };

    private const int CapSysResource = 24;

    /// <summary>The hard limit of <paramref name="type"/> (RLIMIT_*) when this process cannot raise it; null when it can
    /// (CAP_SYS_RESOURCE) or the limit is unknown.</summary>
    public static ulong? HardLimitWithoutPrivilege(string type)
    {
        try
        {
            if (HasCapability(CapSysResource)) return null;
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                // "Max locked memory         8388608              8388608              bytes"
                string? row = Rows.Keys.FirstOrDefault(r => line.StartsWith(r + " ", StringComparison.Ordinal));
                if (row is null || Rows[row] != type) continue;
                string[] values = line[row.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (values.Length < 2) return null;
                return values[1] == "unlimited" ? ulong.MaxValue
                    : ulong.TryParse(values[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong hard) ? hard : null;
            }
        }
        catch (IOException) { }
        return null;
    }

    private static bool HasCapability(int bit)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return (ulong.Parse(line[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) >> bit & 1) == 1;
        return false;
    }
}
