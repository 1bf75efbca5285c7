namespace Containers.Core.Runtime.Plan;

/// <summary>
/// What a runtime-spec mount of type <c>cgroup</c> becomes on this host, as runc lays it out. cgroup v2 only: one
/// cgroup2 mount (inside the container's cgroup namespace it shows the container's own cgroup as its root). cgroup v1 or
/// hybrid: a tmpfs at the destination with, for each hierarchy the container was placed in, a read-only bind of the
/// container's own directory under the hierarchy's name (<c>memory</c>, <c>cpu,cpuacct</c> plus a link per co-mounted
/// controller, <c>systemd</c>), then the tmpfs made read-only (runc leaves it writable). A hierarchy the container has no
/// cgroup in is left out, so the host's tree is never shown; so is a hybrid host's cgroup2 (runc and crun show none).
/// Shared by Core (tests) and Init (which executes the steps in the child).
/// </summary>
internal static class CgroupMountLayout
{
    public enum StepKind
    {
        /// <summary>A cgroup2 file system on <see cref="Step.Destination"/>.</summary>
        Cgroup2,
        /// <summary>A tmpfs (mode 755) on <see cref="Step.Destination"/>.</summary>
        Tmpfs,
        /// <summary>A bind of the host directory <see cref="Step.Source"/> on <see cref="Step.Destination"/>.</summary>
        Bind,
        /// <summary>A symbolic link at <see cref="Step.Destination"/> pointing to <see cref="Step.Source"/> (a sibling name).</summary>
        Link,
        /// <summary>The mount at <see cref="Step.Destination"/> remounted read-only.</summary>
        Readonly,
    }

    public sealed record Step(StepKind Kind, string Destination, string? Source = null);

    /// <summary>A cgroup file system mounted on the host: its mount point and whether it is cgroup2.</summary>
    public sealed record Hierarchy(string MountPoint, bool Unified);

    /// <summary>The cgroup mounts of /proc/self/mountinfo (fields: id parent dev root mountpoint opts ... - fstype source superopts).</summary>
    public static List<Hierarchy> Hierarchies(IEnumerable<string> mountInfoLines)
    {
        var result = new List<Hierarchy>();
        foreach (string line in mountInfoLines)
        {
            // Only a cgroup mount has " - cgroup" (its file system type after the separator; paths escape spaces as \040):
            // the others are not split at all. Init reads this on every start.
            if (!line.Contains(" - cgroup", StringComparison.Ordinal)) continue;
            string[] f = line.Split(' ');
            int dash = Array.IndexOf(f, "-");
            if (f.Length < 5 || dash < 0 || dash + 1 >= f.Length) continue;
            string fsType = f[dash + 1];
            if (fsType is not ("cgroup" or "cgroup2")) continue;
            result.RemoveAll(h => h.MountPoint == f[4]);
            result.Add(new Hierarchy(f[4], fsType == "cgroup2"));
        }
        return result;
    }

    /// <param name="destination">The mount's destination in the container (normally /sys/fs/cgroup).</param>
    /// <param name="hierarchies">The host's cgroup mounts (<see cref="Hierarchies"/>).</param>
    /// <param name="containerDirs">The container's cgroup directories on the host (the parents of the plan's cgroup.procs files).</param>
    /// <param name="readOnly">The mount asked for <c>ro</c>.</param>
    /// <remarks>Plain loops, no LINQ: in Init (NativeAOT) each generic LINQ operator's first call resolves its generic
    /// virtual methods at run time, a measurable part of every container start.</remarks>
    public static List<Step> Steps(string destination, IReadOnlyList<Hierarchy> hierarchies, IReadOnlyList<string> containerDirs, bool readOnly)
    {
        string dest = destination.TrimEnd('/');
        bool v1 = false;
        foreach (var h in hierarchies) v1 |= !h.Unified;
        if (!v1) return [new Step(StepKind.Cgroup2, destination)];

        var steps = new List<Step> { new(StepKind.Tmpfs, dest) };
        var dirs = new List<string>(containerDirs.Count);
        foreach (string d in containerDirs) dirs.Add(d.TrimEnd('/'));
        foreach (var h in hierarchies)
        {
            if (h.Unified) continue;
            string root = h.MountPoint.TrimEnd('/') + "/";
            // The deepest match: the container's own directory, not a parent that happens to be a mount point too.
            string? own = null;
            foreach (string d in dirs)
                if (d.StartsWith(root, StringComparison.Ordinal) && (own is null || d.Length > own.Length)) own = d;
            if (own is null) continue;
            string name = Path.GetFileName(h.MountPoint.TrimEnd('/'));
            if (name.Length == 0 || name is "." or "..") continue;
            steps.Add(new Step(StepKind.Bind, dest + "/" + name, own));
            if (name.Contains(','))
                foreach (string controller in name.Split(',', StringSplitOptions.RemoveEmptyEntries))
                    steps.Add(new Step(StepKind.Link, dest + "/" + controller, name));
        }
        if (readOnly) steps.Add(new Step(StepKind.Readonly, dest));
        return steps;
    }
}
