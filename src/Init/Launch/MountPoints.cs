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
/// root's, as the child makes them.
/// </summary>
internal static unsafe class MountPoints
{
    public static void MakeTopLevel(LaunchPlan plan, RuntimeSpec spec, bool userNamespace)
    {
        if (userNamespace || spec.Mounts is not { Count: > 0 } mounts
            || plan.Rootfs is not { UpperDir: { Length: > 0 } upper, LowerDirs: { Count: > 0 } lowers }) return;
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
            foreach (string lower in lowers)
                fixed (byte* p = NativeString.Z(Path.Combine(lower, name))) absent &= lstat(p, st) != 0 && Errno == ENOENT;
            if (!absent) continue;
            fixed (byte* p = NativeString.Z(Path.Combine(upper, name)))
                if (mkdir(p, 0x1ed) == 0) chmod(p, 0x1ed); // 0755 whatever the caller's umask
        }
    }

}
