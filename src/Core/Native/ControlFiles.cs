using System.Runtime.InteropServices;
using System.Text;

namespace Containers.Core.Native;

/// <summary>
/// Reads and writes of small kernel control files (cgroupfs) with plain open, read or write, close. FileStream and
/// File.ReadAllText add an fstatfs, an advisory lock taken and dropped, and a seek: seven system calls per write, and a
/// start writes a dozen control files (the device list, the cpuset).
/// </summary>
internal static unsafe partial class ControlFiles
{
    private const int ORdOnly = 0, OWrOnly = 1, OCloExec = 0x80000, EIntr = 4;

    /// <summary>The whole file as text (ASCII: control files are).</summary>
    public static string ReadText(string path)
    {
        int fd = Open(path, ORdOnly);
        try
        {
            byte* buf = stackalloc byte[4096];
            var text = new StringBuilder();
            while (true)
            {
                nint n = read(fd, buf, 4096);
                if (n < 0 && Marshal.GetLastPInvokeError() == EIntr) continue;
                if (n < 0) throw new NativeCallException("read", path, Marshal.GetLastPInvokeError());
                if (n == 0) return text.ToString();
                text.Append(Encoding.ASCII.GetString(buf, (int)n));
            }
        }
        finally { _ = close(fd); }
    }

    /// <summary>Writes each value with a write(2) of its own on one open file: the kernel takes one value (one device
    /// rule) per write.</summary>
    public static void WriteEach(string path, IEnumerable<string> values)
    {
        int fd = Open(path, OWrOnly);
        try
        {
            foreach (string value in values)
            {
                byte[] bytes = Encoding.ASCII.GetBytes(value);
                nint n;
                fixed (byte* b = bytes)
                    do n = write(fd, b, bytes.Length); while (n < 0 && Marshal.GetLastPInvokeError() == EIntr);
                if (n < 0) throw new NativeCallException("write", path, Marshal.GetLastPInvokeError());
            }
        }
        finally { _ = close(fd); }
    }

    private static int Open(string path, int flags)
    {
        int fd = open(path, flags | OCloExec);
        if (fd >= 0) return fd;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == FileSystemCalls.ENOENT_) throw new FileNotFoundException($"open({path}): no such file", path);
        if (errno is 13 or FileSystemCalls.EPERM_) throw new UnauthorizedAccessException($"open({path}): permission denied");
        throw new NativeCallException("open", path, errno);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int open(string path, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial nint read(int fd, byte* buf, nint count);
    [LibraryImport("libc", SetLastError = true)] private static partial nint write(int fd, byte* buf, nint count);
    [LibraryImport("libc")] private static partial int close(int fd);
}
