using System.Runtime.InteropServices;

namespace Containers.Core.Native;

/// <summary>One stat(2) for a file's change time and size (cache validation without opening the file).</summary>
internal static unsafe partial class FileStat
{
    // struct stat: st_ino at 8, st_size at 48, st_mtim at 88 and st_ctim at 104 on both x86_64 and aarch64 (144 and 128
    // bytes long).
    private const int StatSize = 144, InodeOffset = 8, SizeOffset = 48, MtimeSecOffset = 88, CtimeSecOffset = 104;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int stat(string path, byte* buf);

    /// <summary>False when the file cannot be stat'ed (gone, no access).</summary>
    public static bool TryGet(string path, out long ctimeNs, out long size) => TryGet(path, out _, out _, out ctimeNs, out size);

    /// <summary>Also the inode (a file replaced by rename gets a new one) and the modification time (a directory's
    /// changes when an entry is added or removed).</summary>
    public static bool TryGet(string path, out long inode, out long mtimeNs, out long ctimeNs, out long size)
    {
        byte* buf = stackalloc byte[StatSize];
        if (stat(path, buf) != 0) { inode = mtimeNs = ctimeNs = size = 0; return false; }
        inode = *(long*)(buf + InodeOffset);
        size = *(long*)(buf + SizeOffset);
        mtimeNs = Nanoseconds(buf + MtimeSecOffset);
        ctimeNs = Nanoseconds(buf + CtimeSecOffset);
        return true;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int fstatat(int dirFd, string path, byte* buf, int flags);

    /// <summary><see cref="TryGet(string, out long, out long, out long, out long)"/> of a path relative to an open directory:
    /// the kernel walks only the relative part (a listing stats thousands of files under one directory).</summary>
    public static bool TryGetAt(int dirFd, string relative, out long inode, out long ctimeNs, out long size)
    {
        byte* buf = stackalloc byte[StatSize];
        if (fstatat(dirFd, relative, buf, 0) != 0) { inode = ctimeNs = size = 0; return false; }
        inode = *(long*)(buf + InodeOffset);
        size = *(long*)(buf + SizeOffset);
        ctimeNs = Nanoseconds(buf + CtimeSecOffset);
        return true;
    }

    private static long Nanoseconds(byte* timespec) => *(long*)timespec * 1_000_000_000 + *(long*)(timespec + 8);

    /// <summary>
    /// Whether a time read from a file is too recent to tell a later change apart: the kernel stamps files with a
    /// coarse clock (one tick, up to 10 ms), so a change in the same tick can leave the time as it was. A cache keyed
    /// by such a time is not kept (git's "racy" rule).
    /// </summary>
    public static bool IsRacy(long timeNs) => timeNs > (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000) * 1_000_000;
}
