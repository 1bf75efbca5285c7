using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// Top-level mount points the image lacks (busybox and other minimal images have no /proc, /dev or /sys) made as plain
/// directories in the overlay's upper directory before it is mounted. Made by the child through the mounted overlay,
/// each was an overlayfs creation on the start's path (made in the work directory, marked opaque, renamed into place:
/// about 0.05 ms each here), and the walk to it found it missing first. Only where the merged view is the one the child
/// would have made: no user namespace (the child would create them as its mapped root; here both are root), an upper
/// directory that is still empty (a first start: nothing a container made, so no link or whiteout of its own), and a
/// name no layer has in any form (file, link, whiteout), so the directory has nothing below it to hide. Mode 0755 and
/// root's, as the child makes them. The store's mount points layer (<see cref="Lowers"/>) already holds the usual ones.
/// </summary>
internal static unsafe class MountPoints
{
    /// <summary>overlayfs' most lower directories (OVL_MAX_STACK): an image that has them all gets no mount points layer.</summary>
    private const int MaxLowerDirs = 500;

    /// <summary>
    /// The lower directories, bottom to top, as the child stacks them: the image's layers, then the store's mount points
    /// layer when there is an upper directory, the config mounts over each of its directories (so nothing of it ever shows
    /// inside) and it is a directory (an admin may have deleted it since Core checked: the child then makes them).
    /// Topmost, it also hides whatever the image has at those names: a link or a file at /proc, /dev or /sys of a hostile
    /// image is no longer followed, the mounts land on these directories. A variant with /etc targets (<see
    /// cref="RootfsLayers.MountPointsEtc"/>) only when the config binds each of them too.
    /// </summary>
    public static List<string> Lowers(RootfsLayers layers, RuntimeSpec spec)
    {
        if (layers is not { MountPointsDir: { Length: > 0 } dir, UpperDir: not null } || layers.LowerDirs.Count >= MaxLowerDirs
            || !MountsOverAll(spec) || !BindsEtc(layers.MountPointsEtc, spec)) return layers.LowerDirs;
        byte* st = stackalloc byte[144];
        fixed (byte* p = NativeString.Z(dir))
            if (stat(p, st) != 0 || (StatMode(st) & S_IFMT) != S_IFDIR) return layers.LowerDirs;
        return [.. layers.LowerDirs, dir];
    }

    /// <summary>
    /// A variant's etc/ files (names the image lacks) show only under a bind: the config must bind each at /etc/NAME. The
    /// merged /etc takes this layer's etc/ attributes, which Core copied from the image's.
    /// </summary>
    private static bool BindsEtc(List<string>? names, RuntimeSpec spec)
    {
        foreach (string name in names ?? [])
        {
            bool bound = false;
            foreach (var m in spec.Mounts ?? [])
                bound |= m.Type == "bind" && m.Destination.Length == name.Length + 5 && m.Destination.StartsWith("/etc/", StringComparison.Ordinal) && m.Destination.EndsWith(name, StringComparison.Ordinal);
            if (!bound) return false;
        }
        return true;
    }

    private static bool MountsOverAll(RuntimeSpec spec)
    {
        foreach (string name in RootfsLayers.MountPointNames)
        {
            bool mounted = false;
            foreach (var m in spec.Mounts ?? []) mounted |= m.Destination.Length == name.Length + 1 && m.Destination[0] == '/' && m.Destination.EndsWith(name, StringComparison.Ordinal);
            if (!mounted) return false;
        }
        return true;
    }

    public static void MakeTopLevel(LaunchPlan plan, RuntimeSpec spec, bool userNamespace)
    {
        if (userNamespace || spec.Mounts is not { Count: > 0 } mounts
            || plan.Rootfs is not { UpperDir: { Length: > 0 } upper, LowerDirs.Count: > 0 } layers) return;
        var lowers = Lowers(layers, spec);
        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(upper).GetEnumerator();
            if (entries.MoveNext()) return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        byte* st = stackalloc byte[144];
        var made = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in mounts)
        {
            string dest = m.Destination.TrimStart('/');
            int slash = dest.IndexOf('/');
            // A single-component bind may be a file (the child makes an empty file for it): only directories here.
            if (slash < 0 && m.Type == "bind") continue;
            string name = slash < 0 ? dest : dest[..slash];
            if (name is "" or "." or ".." || !made.Add(name)) continue;
            bool absent = true;
            for (int i = lowers.Count - 1; i >= 0 && absent; i--) // top first: the mount points layer has the usual ones
                fixed (byte* p = NativeString.Z(Path.Combine(lowers[i], name))) absent = lstat(p, st) != 0 && Errno == ENOENT;
            if (!absent) continue;
            fixed (byte* p = NativeString.Z(Path.Combine(upper, name)))
                if (mkdir(p, 0x1ed) == 0) chmod(p, 0x1ed); // 0755 whatever the caller's umask
        }
    }
}
