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
    /// <summary>The whole file as text (ASCII: control files are).</summary>
    public static string ReadText(string path)
    {
        int fd = Open(path, FileSystemCalls.O_RDONLY);
        try
        {
            byte* buf = stackalloc byte[4096];
            var text = new StringBuilder();
            while (true)
            {
                nint n = read(fd, buf, 4096);
                if (n < 0 && Marshal.GetLastPInvokeError() == FileSystemCalls.EINTR_) continue;
                if (n < 0) throw new NativeCallException("read", path, Marshal.GetLastPInvokeError());
                if (n == 0) return text.ToString();
                text.Append(Encoding.ASCII.GetString(buf, (int)n));
            }
        }
        finally { FileSystemCalls.Close(fd); }
    }

    /// <summary>Writes each value with a write(2) of its own on one open file: the kernel takes one value (one device
    /// rule) per write.</summary>
    public static void WriteEach(string path, IEnumerable<string> values)
    {
        int fd = Open(path, FileSystemCalls.O_WRONLY);
        try
        {
            foreach (string value in values)
            {
                byte[] bytes = Encoding.ASCII.GetBytes(value);
                nint n;
                fixed (byte* b = bytes)
                    do n = write(fd, b, bytes.Length); while (n < 0 && Marshal.GetLastPInvokeError() == FileSystemCalls.EINTR_);
                if (n < 0) throw new NativeCallException("write", path, Marshal.GetLastPInvokeError());
            }
        }
        finally { FileSystemCalls.Close(fd); }
    }

    /// <summary>open(2) with the errors a caller of File.ReadAllText expects: FileNotFound, UnauthorizedAccess, else IOException.</summary>
    private static int Open(string path, int flags)
    {
        try { return FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, path, flags); }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.ENOENT_) { throw new FileNotFoundException($"open({path}): no such file", path, e); }
        catch (NativeCallException e) when (e.Errno is FileSystemCalls.EACCES_ or FileSystemCalls.EPERM_) { throw new UnauthorizedAccessException($"open({path}): permission denied", e); }
    }

    [LibraryImport("libc", SetLastError = true)] private static partial nint read(int fd, byte* buf, nint count);
    [LibraryImport("libc", SetLastError = true)] private static partial nint write(int fd, byte* buf, nint count);
}
