using System.Runtime.InteropServices;
using System.Text;

namespace Containers.Core.Native;

/// <summary>Everything lstat says about a name that a layer tar records (FileStatus lacks rdev and mtime).</summary>
internal readonly record struct LinkStatus(uint Mode, uint Uid, uint Gid, long Size, ulong Rdev, ulong Inode, ulong Device, long Links,
    long MtimeSeconds, long MtimeNanoseconds)
{
    public uint Type => Mode & FileSystemCalls.S_IFMT;
    public uint Permissions => Mode & 0xFFF;
    /// <summary>major(rdev) as glibc's gnu_dev_major.</summary>
    public uint RdevMajor => (uint)(((Rdev >> 32) & 0xFFFFF000) | ((Rdev >> 8) & 0xFFF));
    /// <summary>minor(rdev) as glibc's gnu_dev_minor.</summary>
    public uint RdevMinor => (uint)(((Rdev >> 12) & 0xFFFFFF00) | (Rdev & 0xFF));
    public DateTimeOffset Mtime => DateTimeOffset.FromUnixTimeSeconds(MtimeSeconds).AddTicks(MtimeNanoseconds / 100);
}

/// <summary>lstat(2) and readlink(2) by path, for walking a tree to write it as a tar.</summary>
internal static unsafe partial class LinkStat
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Stat
    {
        public ulong Dev; public ulong Ino; public ulong Nlink; public uint Mode; public uint Uid; public uint Gid; public int Pad0;
        public ulong Rdev; public long Size; public long Blksize; public long Blocks;
        public long AtimeSec, AtimeNsec, MtimeSec, MtimeNsec, CtimeSec, CtimeNsec; public long R0, R1, R2;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lstat(string path, Stat* st);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint readlink(string path, byte* buf, nuint size);

    /// <summary>lstat of a path; null when it does not exist.</summary>
    public static LinkStatus? Get(string path)
    {
        Stat st;
        if (lstat(path, &st) != 0)
        {
            int e = Marshal.GetLastPInvokeError();
            if (e == FileSystemCalls.ENOENT_) return null;
            throw new NativeCallException("lstat", path, e);
        }
        return new LinkStatus(st.Mode, st.Uid, st.Gid, st.Size, st.Rdev, st.Ino, st.Dev, (long)st.Nlink, st.MtimeSec, st.MtimeNsec);
    }

    /// <summary>The target of a symlink, byte for byte (decoded as UTF-8).</summary>
    public static string ReadLink(string path)
    {
        var buf = new byte[4096];
        nint n;
        fixed (byte* b = buf) n = readlink(path, b, (nuint)buf.Length);
        if (n < 0) throw new NativeCallException("readlink", path, Marshal.GetLastPInvokeError());
        return Encoding.UTF8.GetString(buf, 0, (int)n);
    }
}
