using Containers.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Containers.Core.FileSystem;

/// <summary>
/// Small files read and written with open(2) and pread/pwrite directly: .NET's file APIs add an fstat and a flock/unlock
/// pair to every open to emulate sharing modes, which hot paths (a many-layer pull, every container start) pay many times.
/// </summary>
internal static class SmallFile
{
    /// <summary>Reads a small file whole (a /proc file too: its size is read, not stat'ed).</summary>
    public static byte[] Read(string path)
    {
        using var h = new SafeFileHandle(FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, path, FileSystemCalls.O_RDONLY), ownsHandle: true);
        var data = new byte[16 << 10];
        int done = 0, n;
        while ((n = RandomAccess.Read(h, data.AsSpan(done), done)) > 0)
        {
            done += n;
            if (done == data.Length)
            {
                if (data.Length >= 16 << 20) throw new IOException($"{path} is larger than expected.");
                Array.Resize(ref data, data.Length * 4);
            }
        }
        return data[..done];
    }

    /// <summary>Creates a new file (0600, exclusively) with these bytes, no flush.</summary>
    public static void WriteNew(string path, ReadOnlySpan<byte> data)
    {
        using var h = new SafeFileHandle(
            FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, path, FileSystemCalls.O_WRONLY | FileSystemCalls.O_CREAT | FileSystemCalls.O_EXCL, 0x180 /* 0600 */), ownsHandle: true);
        if (data.Length > 0) RandomAccess.Write(h, data, 0);
    }

    /// <summary>Writes a text file as File.WriteAllText does (UTF-8, created or truncated, mode 0666 less the umask), no flush.</summary>
    public static void Write(string path, string text)
    {
        const int flags = FileSystemCalls.O_WRONLY | FileSystemCalls.O_CREAT | FileSystemCalls.O_TRUNC;
        using var h = new SafeFileHandle(FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, path, flags, 0x1B6 /* 0666 */), ownsHandle: true);
        RandomAccess.Write(h, System.Text.Encoding.UTF8.GetBytes(text), 0);
    }
}
