using System.Runtime.InteropServices;
using System.Text;

namespace Containers.Core.Native;

/// <summary>
/// A directory's entry names from getdents64(2) alone: .NET's enumeration stats every symbolic link to learn whether it
/// leads to a directory (two calls per link of the container store's name index).
/// </summary>
internal static unsafe partial class DirectoryNames
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial nint getdents64(int fd, byte* buffer, nuint count);

    /// <summary>The names in <paramref name="path"/> but <c>.</c> and <c>..</c>; empty when it does not exist.</summary>
    public static HashSet<string> Read(string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        int fd;
        try { fd = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, path, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY); }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.ENOENT_) { return names; }
        try
        {
            byte[] buffer = new byte[64 * 1024];
            fixed (byte* b = buffer)
            {
                nint n;
                while ((n = getdents64(fd, b, (nuint)buffer.Length)) > 0)
                {
                    // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[] (NUL-terminated).
                    for (nint at = 0; at < n; at += *(ushort*)(b + at + 16))
                    {
                        var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(b + at + 19);
                        if (name is not ([(byte)'.'] or [(byte)'.', (byte)'.'])) names.Add(Encoding.UTF8.GetString(name));
                    }
                }
                if (n < 0) throw new NativeCallException("getdents64", path, Marshal.GetLastPInvokeError());
            }
        }
        finally { FileSystemCalls.Close(fd); }
        return names;
    }
}
