using System.Globalization;

namespace Containers.Core.Runtime;

/// <summary>Resource use of a container, from its cgroup.</summary>
public sealed class ContainerStatistic
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    /// <summary>CPU use over a short sample, in percent of one CPU.</summary>
    public double? CpuPercent { get; init; }
    public TimeSpan? CpuTime { get; init; }
    public long? MemoryUsage { get; init; }
    public long? MemoryLimit { get; init; }
    public double? MemoryPercent => MemoryUsage is { } u && MemoryLimit is { } l && l > 0 ? Math.Round(100.0 * u / l, 2) : null;
    public long? Pids { get; init; }
    public long? PidsLimit { get; init; }
    public ulong? BlockRead { get; init; }
    public ulong? BlockWrite { get; init; }
    public long OomKills { get; init; }
}

/// <summary>A process running in a container.</summary>
public sealed class ContainerProcess
{
    public string ContainerName { get; init; } = "";
    /// <summary>Host pid.</summary>
    public int Pid { get; init; }
    public int ParentPid { get; init; }
    /// <summary>Host uid.</summary>
    public uint UserId { get; init; }
    public char State { get; init; }
    public string Command { get; init; } = "";

    internal static ContainerProcess? Read(string container, int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
            string[] f = stat[(close + 2)..].Split(' ');
            string cmd = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
            uint uid = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("Uid:", StringComparison.Ordinal)) { uid = uint.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture); break; }
            return new ContainerProcess
            {
                ContainerName = container, Pid = pid, ParentPid = int.Parse(f[1], CultureInfo.InvariantCulture), UserId = uid, State = f[0][0],
                Command = cmd.Length > 0 ? cmd : "[" + stat[(open + 1)..close] + "]",
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }

    /// <summary>The pid and all its descendants, from /proc (used when the container has no cgroup).</summary>
    internal static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(f[1], CultureInfo.InvariantCulture);
            }
            catch (IOException) { }
        }
        var result = new List<int> { root };
        for (int i = 0; i < result.Count; i++)
            result.AddRange(parents.Where(kv => kv.Value == result[i]).Select(kv => kv.Key));
        return result;
    }
}
