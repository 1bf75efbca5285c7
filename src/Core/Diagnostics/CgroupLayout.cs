namespace Containers.Core.Diagnostics;

/// <summary>Reads which cgroup hierarchies are mounted and with which controllers, from mountinfo.</summary>
internal static class CgroupLayout
{
    /// <returns>("v1" when any v1 hierarchy is mounted, as in the hybrid layout; "v2" otherwise) and the controllers.</returns>
    public static (string Version, IReadOnlyList<string> Controllers) Read(string mountInfoPath)
    {
        var v1 = new SortedSet<string>(StringComparer.Ordinal);
        var v2 = new SortedSet<string>(StringComparer.Ordinal);
        if (!File.Exists(mountInfoPath)) return ("none", []);
        foreach (string line in File.ReadLines(mountInfoPath))
        {
            // "36 25 0:31 / /sys/fs/cgroup/memory rw,... shared:14 - cgroup cgroup rw,memory"
            int dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0) continue;
            string[] head = line[..dash].Split(' ');
            string[] tail = line[(dash + 3)..].Split(' ');
            if (head.Length < 5 || tail.Length < 3) continue;
            string mountPoint = head[4].Replace("\\040", " ");
            if (tail[0] == "cgroup")
            {
                foreach (string opt in tail[2].Split(','))
                    if (IsController(opt)) v1.Add(opt);
            }
            else if (tail[0] == "cgroup2")
            {
                string file = Path.Combine(mountPoint, "cgroup.controllers");
                if (File.Exists(file))
                    foreach (string c in File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        v2.Add(c);
            }
        }
        if (v1.Count > 0) return ("v1", v1.Concat(v2.Where(c => !v1.Contains(c)).Select(c => c + " (v2)")).ToList());
        return ("v2", v2.ToList());
    }

    private static readonly HashSet<string> MountOptions = new(StringComparer.Ordinal)
    {
        "rw", "ro", "nosuid", "nodev", "noexec", "relatime", "noatime", "xattr", "clone_children", "cpuset_v2_mode",
        "noprefix", "nsdelegate", "memory_recursiveprot", "favordynmods", "memory_localevents",
    };

    private static bool IsController(string option) =>
        !MountOptions.Contains(option) && !option.Contains('=');
}
