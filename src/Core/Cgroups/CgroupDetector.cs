namespace Containers.Core.Cgroups;

/// <summary>Picks the cgroup manager for this host from /proc/self/mountinfo.</summary>
internal static class CgroupDetector
{
    /// <summary>
    /// v1 (or hybrid: any v1 controller hierarchy is mounted) → <see cref="CgroupV1Manager"/>, as runc treats
    /// the hybrid layout (its cgroup2 mount then only carries the device program); a pure cgroup2 mount → <see cref="CgroupV2Manager"/>. Rootless on v1 gets
    /// <see cref="NoCgroupManager"/> (an ordinary user may not create v1 cgroups).
    /// </summary>
    public static ICgroupManager Detect(string mountInfoPath = DefaultMountInfo, bool rootless = false, CgroupFileSystem? fs = null)
    {
        // This process's own table is read once: every cmdlet makes a runtime, and a host does not remount its cgroup
        // hierarchies under a running session (a test's table is read each time).
        var (v1, v2Root) = mountInfoPath == DefaultMountInfo ? Host.Value : Read(mountInfoPath);
        if (v1.Count > 0)
            return rootless
                ? new NoCgroupManager("this host uses cgroup v1, where an unprivileged user cannot create cgroups; the container runs without resource limits")
                : new CgroupV1Manager(v1, fs, unifiedRoot: v2Root);
        if (v2Root is not null) return new CgroupV2Manager(v2Root, fs, rootless: rootless);
        return new NoCgroupManager("no cgroup hierarchy is mounted");
    }

    private const string DefaultMountInfo = "/proc/self/mountinfo";
    private static readonly Lazy<(Dictionary<string, string> V1, string? V2Root)> Host =
        new(() => Read(DefaultMountInfo), LazyThreadSafetyMode.PublicationOnly); // a failed read is tried again

    /// <summary>The v1 controllers' mount points and the first cgroup2 mount point of a mountinfo table.</summary>
    private static (Dictionary<string, string> V1, string? V2Root) Read(string mountInfoPath)
    {
        var v1 = new Dictionary<string, string>(StringComparer.Ordinal);
        string? v2Root = null;
        if (File.Exists(mountInfoPath))
        {
            foreach (string line in File.ReadLines(mountInfoPath))
            {
                int dash = line.IndexOf(" - ", StringComparison.Ordinal);
                if (dash < 0) continue;
                string[] head = line[..dash].Split(' ');
                string[] tail = line[(dash + 3)..].Split(' ');
                if (head.Length < 5 || tail.Length < 3) continue;
                string mountPoint = Unescape(head[4]);
                if (tail[0] == "cgroup")
                {
                    foreach (string opt in tail[2].Split(','))
                        if (CgroupV1Manager.Controllers.Contains(opt)) v1.TryAdd(opt, mountPoint);
                }
                else if (tail[0] == "cgroup2") v2Root ??= mountPoint;
            }
        }
        return (v1, v2Root);
    }

    private static string Unescape(string s) =>
        s.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal).Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
