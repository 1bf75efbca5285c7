using System.Runtime.InteropServices;

namespace Containers.Core.Native;

internal static unsafe partial class FileStat
{
    private const int ORdOnly = 0, OCloExec = 0x80000, EIntr = 4;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static partial int Fstat(int fd, byte* buf);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, byte* buf, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>
    /// Reads a small file whole with the identity of what was read (inode, change time, size from fstat of the open
    /// file): open, fstat, read, close. File.ReadAllBytes also takes and drops an advisory lock and stats twice, eight
    /// system calls per file, which listing 10,000 containers (two files each) pays 20,000 times. A write after the
    /// fstat changes the change time, so a cache keyed by these values never holds content older than its key.
    /// False when the file cannot be opened or read (gone, no access).
    /// </summary>
    public static bool TryReadAll(string path, out ArraySegment<byte> content, out long inode, out long ctimeNs, out long size)
    {
        content = default;
        inode = ctimeNs = size = 0;
        int fd = Open(path, ORdOnly | OCloExec);
        if (fd < 0) return false;
        try
        {
            byte* st = stackalloc byte[StatSize];
            if (Fstat(fd, st) != 0) return false;
            inode = *(long*)(st + InodeOffset);
            size = *(long*)(st + SizeOffset);
            ctimeNs = Nanoseconds(st + CtimeSecOffset);
            if (size > int.MaxValue / 2) return false;
            // One byte more than fstat said, to see a file that grew since; such a file is read to its end.
            var buffer = new byte[size + 1];
            int total = 0;
            while (true)
            {
                if (total == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                nint n;
                fixed (byte* p = buffer) n = Read(fd, p + total, buffer.Length - total);
                if (n < 0 && Marshal.GetLastPInvokeError() == EIntr) continue;
                if (n < 0) return false;
                if (n == 0) break;
                total += (int)n;
            }
            content = new ArraySegment<byte>(buffer, 0, total);
            return true;
        }
        finally { _ = Close(fd); }
    }
}
