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

/// <summary>A process running in a container, as the host and as the container see it (podman top's HPID/PID, HUSER/USER).</summary>
public sealed class ContainerProcess
{
    public string ContainerName { get; init; } = "";
    /// <summary>Host pid.</summary>
    public int Pid { get; init; }
    public int ParentPid { get; init; }
    /// <summary>The pid inside the container's pid namespace (the last NSpid of /proc/&lt;pid&gt;/status).</summary>
    public int? ContainerPid { get; init; }
    /// <summary>Host uid.</summary>
    public uint UserId { get; init; }
    /// <summary>The uid inside the container's user namespace (through /proc/&lt;pid&gt;/uid_map); null when unmapped.</summary>
    public uint? ContainerUserId { get; init; }
    /// <summary>The user name the container's own /etc/passwd gives <see cref="ContainerUserId"/>, else the uid.</summary>
    public string? ContainerUser { get; init; }
    public char State { get; init; }
    public string Command { get; init; } = "";

    /// <param name="names">User names by uid from the container's /etc/passwd.</param>
    internal static ContainerProcess? Read(string container, int pid, IReadOnlyDictionary<uint, string> names)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
            string[] f = stat[(close + 2)..].Split(' ');
            string cmd = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
            uint uid = 0;
            int? nsPid = null;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                string[] fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
                if (line.StartsWith("Uid:", StringComparison.Ordinal)) uid = uint.Parse(fields[1], CultureInfo.InvariantCulture);
                else if (line.StartsWith("NSpid:", StringComparison.Ordinal)) nsPid = int.Parse(fields[^1], CultureInfo.InvariantCulture);
            }
            uint? inside = MapToNamespace(File.ReadAllLines($"/proc/{pid}/uid_map"), uid);
            return new ContainerProcess
            {
                ContainerName = container, Pid = pid, ParentPid = int.Parse(f[1], CultureInfo.InvariantCulture), UserId = uid, State = f[0][0],
                ContainerPid = nsPid, ContainerUserId = inside,
                ContainerUser = inside is { } u ? names.TryGetValue(u, out string? name) ? name : u.ToString(CultureInfo.InvariantCulture) : null,
                Command = cmd.Length > 0 ? cmd : "[" + stat[(open + 1)..close] + "]",
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }

    /// <summary>The id inside a namespace for a host id, from uid_map lines "inside outside count" (null when unmapped).</summary>
    internal static uint? MapToNamespace(IEnumerable<string> map, uint hostId)
    {
        foreach (string line in map)
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 3 || !uint.TryParse(f[0], CultureInfo.InvariantCulture, out uint inside)
                || !uint.TryParse(f[1], CultureInfo.InvariantCulture, out uint outside) || !uint.TryParse(f[2], CultureInfo.InvariantCulture, out uint count)) continue;
            if (hostId >= outside && hostId - outside < count) return inside + (hostId - outside);
        }
        return null;
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
