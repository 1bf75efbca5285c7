using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Containers.Core.Native;

/// <summary>A failed system call: the call, the path it concerned and errno.</summary>
internal sealed class NativeCallException(string call, string? path, int errno)
    : IOException($"{call}({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno)
{
    public string Call { get; } = call;
    public string? PathName { get; } = path;
    public int Errno { get; } = errno;
}

/// <summary>
/// The file-system system calls the image store needs, fd-relative so a path is always resolved
/// beneath a directory the caller holds open. Tmds.LibC where it has the call, libc directly for
/// the few it lacks (xattrs, flock, syncfs, renameat).
/// </summary>
internal static unsafe partial class FileSystemCalls
{
    public const int EEXIST_ = 17, ENOENT_ = 2, ELOOP_ = 40, EXDEV_ = 18, ENOTDIR_ = 20, EPERM_ = 1, ENOTEMPTY_ = 39,
        EWOULDBLOCK_ = 11, EISDIR_ = 21, EINTR_ = 4, ENOTSUP_ = 95, EACCES_ = 13, EINVAL_ = 22;

    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200;
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200, O_NONBLOCK = 0x800,
        O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000, O_PATH = 0x200000;
    public const ulong RESOLVE_NO_XDEV = 1, RESOLVE_NO_MAGICLINKS = 2, RESOLVE_NO_SYMLINKS = 4, RESOLVE_BENEATH = 8, RESOLVE_IN_ROOT = 0x10;
    public const uint S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFBLK = 0x6000, S_IFREG = 0x8000, S_IFIFO = 0x1000, S_IFLNK = 0xA000;
    private const long SYS_openat2 = 437;

    private static int errno => Marshal.GetLastPInvokeError();

    public const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

    private static byte[] Z(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        var b = new byte[n + 1];
        Encoding.UTF8.GetBytes(s, b);
        return b;
    }

    private static int Check(int rc, string call, string? path)
    {
        if (rc < 0) throw new NativeCallException(call, path, errno);
        return rc;
    }

    /// <summary>openat2 with the given resolve flags (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS ...); returns the fd.</summary>
    public static int OpenBeneath(int dirfd, string path, int flags, uint mode, ulong resolve)
    {
        var how = new OpenHow { Flags = (ulong)(uint)(flags | O_CLOEXEC), Mode = mode, Resolve = resolve };
        fixed (byte* p = Z(path))
        {
            // EAGAIN: a rename or mount anywhere on the host raced a lookup of ".." under RESOLVE_IN_ROOT or RESOLVE_BENEATH,
            // and the kernel asks for a retry (seen in the full suite on a busy host). Retried, a bounded number of times: a lookup
            // loses to a rename only while it walks "..", so even a process renaming nonstop lets one of them through.
            for (int again = 0; ;)
            {
                int fd = (int)syscall(SYS_openat2, dirfd, p, &how, (nuint)sizeof(OpenHow));
                if (fd >= 0) return fd;
                int e = errno;
                if (e != EINTR_ && !(e == EWOULDBLOCK_ && ++again < 10_000)) throw new NativeCallException("openat2", path, e);
            }
        }
    }

    public static int OpenAt(int dirfd, string path, int flags, uint mode = 0)
    {
        fixed (byte* p = Z(path)) return Check(openat(dirfd, p, flags | O_CLOEXEC, mode), "openat", path);
    }

    public static void MkdirAt(int dirfd, string name, uint mode)
    {
        fixed (byte* p = Z(name)) Check(mkdirat(dirfd, p, mode), "mkdirat", name);
    }

    public static void MknodAt(int dirfd, string name, uint mode, ulong dev)
    {
        fixed (byte* p = Z(name)) Check(mknodat(dirfd, p, mode, dev), "mknodat", name);
    }

    public static void SymlinkAt(string target, int dirfd, string name)
    {
        fixed (byte* t = Z(target))
        fixed (byte* p = Z(name)) Check(symlinkat(t, dirfd, p), "symlinkat", name);
    }

    public static void LinkAt(int olddirfd, string oldname, int newdirfd, string newname)
    {
        fixed (byte* o = Z(oldname))
        fixed (byte* n = Z(newname)) Check(linkat(olddirfd, o, newdirfd, n, 0), "linkat", newname);
    }

    /// <summary>Removes a name; returns false when it did not exist.</summary>
    public static bool UnlinkAt(int dirfd, string name, bool directory)
    {
        fixed (byte* p = Z(name))
        {
            if (unlinkat(dirfd, p, directory ? AT_REMOVEDIR : 0) == 0) return true;
            if (errno == ENOENT_) return false;
            throw new NativeCallException("unlinkat", name, errno);
        }
    }

    public static void FchownAt(int dirfd, string name, uint uid, uint gid)
    {
        fixed (byte* p = Z(name)) Check(fchownat(dirfd, p, uid, gid, AT_SYMLINK_NOFOLLOW), "fchownat", name);
    }

    public static void Fchown(int fd, uint uid, uint gid) => Check(fchown(fd, uid, gid), "fchown", null);

    public static void Fchmod(int fd, uint mode) => Check(fchmod(fd, mode), "fchmod", null);

    public static void FchmodAt(int dirfd, string name, uint mode)
    {
        fixed (byte* p = Z(name)) Check(fchmodat(dirfd, p, mode, 0), "fchmodat", name);
    }

    /// <summary>Sets atime and mtime of a name without following a final symlink.</summary>
    public static void SetTimesAt(int dirfd, string name, DateTimeOffset atime, DateTimeOffset mtime)
    {
        var times = stackalloc Timespec[2];
        times[0] = ToTimespec(atime);
        times[1] = ToTimespec(mtime);
        fixed (byte* p = Z(name)) Check(utimensat(dirfd, p, times, AT_SYMLINK_NOFOLLOW), "utimensat", name);
    }

    public static void SetTimes(int fd, DateTimeOffset atime, DateTimeOffset mtime)
    {
        var times = stackalloc Timespec[2];
        times[0] = ToTimespec(atime);
        times[1] = ToTimespec(mtime);
        Check(futimens(fd, times), "futimens", null);
    }

    private static Timespec ToTimespec(DateTimeOffset t)
    {
        long ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long sec = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0) { sec--; rem += TimeSpan.TicksPerSecond; }
        return new Timespec { Sec = sec, Nsec = rem * 100 };
    }

    /// <summary>lstat relative to a directory fd; null when the name does not exist.</summary>
    public static FileStatus? StatAt(int dirfd, string name)
    {
        Stat st;
        fixed (byte* p = Z(name))
        {
            if (fstatat(dirfd, p, &st, AT_SYMLINK_NOFOLLOW) != 0)
            {
                if (errno == ENOENT_) return null;
                throw new NativeCallException("fstatat", name, errno);
            }
        }
        return new FileStatus(st.Mode, st.Uid, st.Gid, st.Size, st.Ino, st.Dev, (long)st.Nlink, st.Rdev);
    }

    /// <summary>stat(2), following links: the file type bits and the device number; null when the path does not exist.</summary>
    public static (uint Mode, ulong Rdev)? StatDevice(string path)
    {
        Stat st;
        fixed (byte* p = Z(path))
        {
            if (fstatat(AT_FDCWD, p, &st, 0) != 0)
            {
                if (errno is ENOENT_ or ENOTDIR_) return null;
                throw new NativeCallException("stat", path, errno);
            }
        }
        return (st.Mode, st.Rdev);
    }

    /// <summary>fstat of an open fd.</summary>
    public static FileStatus StatFd(int fd)
    {
        Stat st;
        fixed (byte* p = Z("")) Check(fstatat(fd, p, &st, 0x1000 /* AT_EMPTY_PATH */), "fstat", null);
        return new FileStatus(st.Mode, st.Uid, st.Gid, st.Size, st.Ino, st.Dev, (long)st.Nlink, st.Rdev);
    }

    public static void Fsync(int fd) => Check(fsync(fd), "fsync", null);

    public static void Close(int fd) => close(fd);

    public static void SetXattr(int fd, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* v = value)
            if (fsetxattr(fd, name, v, (nuint)value.Length, 0) != 0)
                throw new NativeCallException("fsetxattr", name, Marshal.GetLastPInvokeError());
    }

    /// <summary>Sets an xattr on a path without following a final symlink; false when its filesystem takes no such xattr
    /// (ENOTSUP, or EPERM for a user.* name where user xattrs are not allowed).</summary>
    public static bool TrySetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* v = value)
        {
            if (lsetxattr(path, name, v, (nuint)value.Length, 0) == 0) return true;
            int e = Marshal.GetLastPInvokeError();
            if (e is ENOTSUP_ or EPERM_) return false;
            throw new NativeCallException("lsetxattr", path, e);
        }
    }

    /// <summary>Whether a path has an xattr: one lgetxattr that asks only for its size (no buffer).</summary>
    public static bool HasXattr(string path, string name) => lgetxattr(path, name, null, 0) >= 0;

    /// <summary>Reads an xattr of a path without following a final symlink; null when absent.</summary>
    /// <param name="max">The largest value expected (a larger one fails with ERANGE).</param>
    public static byte[]? GetXattr(string path, string name, int max = 65536)
    {
        var buf = new byte[max];
        nint n;
        fixed (byte* b = buf) n = lgetxattr(path, name, b, (nuint)buf.Length);
        if (n < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            if (e is 61 or ENOTSUP_) return null; // ENODATA
            throw new NativeCallException("lgetxattr", path, e);
        }
        return buf[..(int)n];
    }

    /// <summary>Names of a path's xattrs (not following a final symlink).</summary>
    public static string[] ListXattrs(string path)
    {
        var buf = new byte[65536];
        nint n;
        fixed (byte* b = buf) n = llistxattr(path, b, (nuint)buf.Length);
        if (n < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            if (e == ENOTSUP_) return [];
            throw new NativeCallException("llistxattr", path, e);
        }
        return Encoding.UTF8.GetString(buf, 0, (int)n).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>flock; returns false when LOCK_NB was given and another holder has it.</summary>
    public static bool Flock(SafeFileHandle handle, int operation)
    {
        while (true)
        {
            if (flock((int)handle.DangerousGetHandle(), operation) == 0) return true;
            int e = Marshal.GetLastPInvokeError();
            if (e == EINTR_) continue;
            if (e == EWOULDBLOCK_ && (operation & LOCK_NB) != 0) return false;
            throw new NativeCallException("flock", null, e);
        }
    }

    public static void SyncFs(int fd)
    {
        if (syncfs(fd) != 0) throw new NativeCallException("syncfs", null, Marshal.GetLastPInvokeError());
    }

    /// <summary>
    /// Starts writing back a written range of a file (sync_file_range SYNC_FILE_RANGE_WRITE): the disk writes begin
    /// now instead of at a later syncfs. Nothing is made durable by it (no flush, no metadata); a failure is ignored.
    /// </summary>
    public static void StartWriteback(int fd, long offset, long length) => _ = sync_file_range(fd, offset, length, 2 /* SYNC_FILE_RANGE_WRITE */);

    /// <summary>fsyncs a directory so a rename or create inside it is durable.</summary>
    public static void FsyncDirectory(string path)
    {
        int fd = OpenAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY);
        try { Fsync(fd); }
        finally { close(fd); }
    }

    public static void RenameAt(int olddirfd, string oldname, int newdirfd, string newname)
    {
        if (renameat(olddirfd, oldname, newdirfd, newname) != 0)
            throw new NativeCallException("renameat", newname, Marshal.GetLastPInvokeError());
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow { public ulong Flags; public ulong Mode; public ulong Resolve; }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Sec; public long Nsec; }

    // struct stat on x86_64 and arm64 differ; this is the x86_64 layout (the only platform the module ships for).
    [StructLayout(LayoutKind.Sequential)]
    private struct Stat
    {
        public ulong Dev; public ulong Ino; public ulong Nlink; public uint Mode; public uint Uid; public uint Gid; public int Pad0;
        public ulong Rdev; public long Size; public long Blksize; public long Blocks;
        public Timespec Atime; public Timespec Mtime; public Timespec Ctime; public long R0, R1, R2;
    }

    [LibraryImport("libc", SetLastError = true)] private static partial long syscall(long nr, int dirfd, byte* path, OpenHow* how, nuint size);
    [LibraryImport("libc", SetLastError = true)] private static partial int openat(int dirfd, byte* path, int flags, uint mode);
    [LibraryImport("libc", SetLastError = true)] private static partial int mkdirat(int dirfd, byte* path, uint mode);
    [LibraryImport("libc", SetLastError = true)] private static partial int mknodat(int dirfd, byte* path, uint mode, ulong dev);
    [LibraryImport("libc", SetLastError = true)] private static partial int symlinkat(byte* target, int dirfd, byte* path);
    [LibraryImport("libc", SetLastError = true)] private static partial int linkat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int unlinkat(int dirfd, byte* path, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int fchownat(int dirfd, byte* path, uint uid, uint gid, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int fchown(int fd, uint uid, uint gid);
    [LibraryImport("libc", SetLastError = true)] private static partial int fchmod(int fd, uint mode);
    [LibraryImport("libc", SetLastError = true)] private static partial int fchmodat(int dirfd, byte* path, uint mode, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int utimensat(int dirfd, byte* path, Timespec* times, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int futimens(int fd, Timespec* times);
    [LibraryImport("libc", SetLastError = true)] private static partial int fstatat(int dirfd, byte* path, Stat* st, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int fsync(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int fsetxattr(int fd, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint lgetxattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint llistxattr(string path, byte* list, nuint size);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int syncfs(int fd);

    [LibraryImport("libc")]
    private static partial int sync_file_range(int fd, long offset, long nbytes, uint flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat(int olddirfd, string oldpath, int newdirfd, string newpath);
}

/// <summary>What lstat says about a name (<see cref="Rdev"/>: the device number of a device node).</summary>
internal readonly record struct FileStatus(uint Mode, uint Uid, uint Gid, long Size, ulong Inode, ulong Device, long Links, ulong Rdev = 0)
{
    public uint Type => Mode & 0xF000;
    public bool IsDirectory => Type == 0x4000;
    public bool IsSymlink => Type == 0xA000;
    public bool IsRegular => Type == 0x8000;
    public bool IsCharDevice => Type == 0x2000;
}
