using static Containers.Init.Native.Sys;

namespace Containers.Init.Native;

/// <summary>
/// Whole reads and writes through plain system calls, for the monitor's small files (state, procfs, cgroupfs) and its
/// relays: FileStream's machinery (strategy objects, an advisory lock taken and dropped, a SafeHandle) costs more than
/// the I/O on the start's path.
/// </summary>
internal static unsafe class NativeFile
{
    /// <summary>Reads a small file (procfs, cgroupfs) into <paramref name="buffer"/> with one open and read; -1 when it cannot.</summary>
    public static int ReadSmall(string path, Span<byte> buffer)
    {
        int fd;
        fixed (byte* p = NativeString.Z(path)) fd = open(p, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) return -1;
        nint n;
        fixed (byte* b = buffer)
            while ((n = read(fd, b, buffer.Length)) < 0 && Errno == EINTR) { }
        close(fd);
        return (int)n;
    }

    /// <summary>The lines of a procfs file of any size (mountinfo) read through plain system calls; null when it cannot be read.</summary>
    public static string[]? ReadLines(string path)
    {
        int fd;
        fixed (byte* p = NativeString.Z(path)) fd = open(p, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) return null;
        byte[] buffer = new byte[16384];
        int length = 0;
        nint n;
        do
        {
            if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
            fixed (byte* b = buffer)
                while ((n = read(fd, b + length, buffer.Length - length)) < 0 && Errno == EINTR) { }
            if (n > 0) length += (int)n;
        }
        while (n > 0);
        close(fd);
        return n < 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, length).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Writes all of <paramref name="count"/> bytes, across short writes and EINTR; false on an error or a closed reader.</summary>
    public static bool WriteAll(int fd, byte* b, nint count)
    {
        nint done = 0;
        while (done < count)
        {
            nint w = write(fd, b + done, count - done);
            if (w < 0 && Errno == EINTR) continue;
            if (w <= 0) return false;
            done += w;
        }
        return true;
    }
}
