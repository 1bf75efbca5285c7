using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// Mount destinations opened inside the container root, for <see cref="ContainerChild"/> (same rules: runs in the
/// cloned child before execve, so raw syscalls, stack buffers and no allocation).
/// </summary>
internal static unsafe class InRoot
{
    private const int PathMax = 4096;

    /// <summary>
    /// Opens <paramref name="dest"/> (a path relative to the container root) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    /// creating each missing component in its already-resolved parent (mkdirat, or an empty file for the last one of a
    /// file bind). A dangling link on the way is replaced by its target and the walk starts again, so the target is
    /// created inside the root (as runc does). Returns an O_PATH fd, or -errno.
    /// </summary>
    public static int OpenDestination(int root, byte* dest, bool file)
    {
        const ulong resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        byte* path = stackalloc byte[PathMax];
        byte* spliced = stackalloc byte[PathMax];
        byte* empty = stackalloc byte[1];
        empty[0] = 0;
        int length = 0;
        while (dest[length] != 0) { if (length == PathMax - 1) return -ENAMETOOLONG; path[length] = dest[length]; length++; }
        path[length] = 0;
        for (int hops = 0; hops <= 40; hops++)
        {
            int fd = Openat2(root, path, O_PATH | O_CLOEXEC, resolve);
            if (fd >= 0) return fd;
            if (Errno != ENOENT) return -Errno;
            int made = MakeLast(root, path, file, spliced, empty);
            if (made == Spliced) continue;
            if (made != WalkNeeded) return made;
            int parent = -1, start = 0;
            for (int i = 0; ; i++)
            {
                byte c = path[i];
                if (c != '/' && c != 0) continue;
                if (i == start) { if (c == 0) return parent >= 0 ? parent : -ENOENT; start = i + 1; continue; }
                path[i] = 0;
                int next = Openat2(root, path, O_PATH | O_CLOEXEC, resolve);
                if (next < 0 && Errno == ENOENT)
                {
                    int dir = parent >= 0 ? parent : root;
                    byte* name = path + start;
                    int link = Openat2(root, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, resolve);
                    int n = link >= 0 ? Readlinkat(link, empty, spliced, PathMax) : -1;
                    if (link >= 0) close(link);
                    if (n > 0)
                    {
                        path[i] = c;
                        if (parent >= 0) close(parent);
                        if (!Splice(path, start, i, spliced, n)) return -ENAMETOOLONG;
                        break; // walk the new path from the root
                    }
                    // Create the component in its parent as resolved (never through a path), then resolve again.
                    int rc = c == 0 && file ? Openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0x1a4) : Mkdirat(dir, name, 0x1ed);
                    if (rc >= 0 && c == 0 && file) close(rc);
                    if (rc >= 0 || Errno == EEXIST) next = Openat2(root, path, O_PATH | O_CLOEXEC, resolve);
                }
                int err = Errno;
                path[i] = c;
                if (parent >= 0) close(parent);
                if (next < 0) return -err;
                if (c == 0) return next;
                parent = next;
                start = i + 1;
            }
        }
        return -ELOOP;
    }

    private const int WalkNeeded = int.MinValue, Spliced = int.MinValue + 1;

    /// <summary>
    /// The common case of a missing destination, a mount point the image lacks under a directory it has: the parent resolved
    /// as a whole (one lookup instead of one per component from the root), then the last component handled exactly as
    /// <see cref="OpenDestination"/>'s walk does (a dangling link spliced in, else created in the resolved parent and the
    /// path resolved again). <see cref="WalkNeeded"/> when the parent is missing too (or the last component is odd),
    /// <see cref="Spliced"/> when the path now holds a link's target; else the fd or -errno.
    /// </summary>
    private static int MakeLast(int root, byte* path, bool file, byte* target, byte* empty)
    {
        const ulong resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        int length = 0, slash = -1;
        for (; path[length] != 0; length++) if (path[length] == '/') slash = length;
        byte* name = path + slash + 1;
        int nameLength = length - slash - 1;
        if (nameLength == 0 || (name[0] == '.' && (nameLength == 1 || (nameLength == 2 && name[1] == '.')))) return WalkNeeded;
        int parent = -1;
        if (slash >= 0)
        {
            path[slash] = 0;
            parent = Openat2(root, path, O_PATH | O_CLOEXEC, resolve);
            int err = Errno;
            path[slash] = (byte)'/';
            if (parent < 0) return err == ENOENT ? WalkNeeded : -err;
        }
        int link = Openat2(root, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, resolve);
        int n = link >= 0 ? Readlinkat(link, empty, target, PathMax) : -1;
        if (link >= 0) close(link);
        if (n > 0)
        {
            if (parent >= 0) close(parent);
            return Splice(path, slash + 1, length, target, n) ? Spliced : -ENAMETOOLONG;
        }
        int dir = parent >= 0 ? parent : root;
        int rc = file ? Openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0x1a4) : Mkdirat(dir, name, 0x1ed);
        if (rc >= 0 && file) close(rc);
        int fd = rc >= 0 || Errno == EEXIST ? Openat2(root, path, O_PATH | O_CLOEXEC, resolve) : -1;
        int error = Errno;
        if (parent >= 0) close(parent);
        return fd >= 0 ? fd : -error;
    }

    /// <summary>Replaces the component path[start..end) (a dangling link) by its target: relative to its directory, or
    /// absolute (which RESOLVE_IN_ROOT takes from the container root). <paramref name="target"/> is reused as scratch.</summary>
    private static bool Splice(byte* path, int start, int end, byte* target, int targetLength)
    {
        byte* rest = path + end; // "" or "/..."
        int restLength = 0;
        while (rest[restLength] != 0) restLength++;
        int keep = target[0] == '/' ? 0 : start;
        if (keep + targetLength + restLength >= PathMax) return false;
        // Move the rest out of the way, put the target in place, the rest after it.
        for (int j = restLength - 1; j >= 0; j--) target[targetLength + j] = rest[j];
        for (int j = 0; j < targetLength + restLength; j++) path[keep + j] = target[j];
        path[keep + targetLength + restLength] = 0;
        return true;
    }

    /// <summary>Writes "/proc/self/fd/N" (the magic link to fd N) into <paramref name="buf"/> (32 bytes).</summary>
    public static void FdPath(byte* buf, int fd)
    {
        ReadOnlySpan<byte> prefix = "/proc/self/fd/"u8; // data in the binary: no allocation
        for (int i = 0; i < 14; i++) buf[i] = prefix[i];
        int n = 14, digits = 1;
        for (int v = fd; v >= 10; v /= 10) digits++;
        for (int d = digits - 1, v = fd; d >= 0; d--, v /= 10) buf[n + d] = (byte)('0' + v % 10);
        buf[n + digits] = 0;
    }

    /// <summary>
    /// After pivot_root: creates a missing working directory (and missing parents), owned by the process's user, as podman
    /// does; an existing one is left as it is. Failures are left to chdir, which reports them.
    /// </summary>
    public static void MakeWorkdir(ChildSpec s)
    {
        byte* p = s.Cwd;
        for (int i = 1; ; i++)
        {
            byte c = p[i];
            if (c != '/' && c != 0) continue;
            if (p[i - 1] != '/')
            {
                p[i] = 0;
                if (mkdir(p, 0x1ed) == 0) chown(p, s.Uid, s.Gid);
                p[i] = c;
            }
            if (c == 0) break;
        }
    }
}
