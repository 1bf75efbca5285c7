using Containers.Core.Native;

namespace Containers.Core.Images;

/// <summary>Small durable-write helpers.</summary>
internal static class StoreIo
{
    /// <summary>Replaces a store file atomically (0600, in a private directory): the one atomic writer with the store's modes.</summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> data, bool durable = true)
    {
        PrivateStore.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, data, PrivateStore.FileMode, durable);
    }

    /// <summary>
    /// Creates a small new file with these bytes, no flush. Opened with open(2) directly: .NET's file APIs
    /// add a flock/unlock pair to every open to emulate sharing modes (hundreds for a many-layer pull).
    /// </summary>
    public static void WriteNew(string path, ReadOnlySpan<byte> data)
    {
        using var h = new Microsoft.Win32.SafeHandles.SafeFileHandle(
            FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, path, FileSystemCalls.O_WRONLY | FileSystemCalls.O_CREAT | FileSystemCalls.O_EXCL, 0x180 /* 0600 */), ownsHandle: true);
        if (data.Length > 0) RandomAccess.Write(h, data, 0);
    }

    /// <summary>Reads a small file whole, without .NET's sharing flock.</summary>
    public static byte[] ReadSmall(string path)
    {
        using var h = new Microsoft.Win32.SafeHandles.SafeFileHandle(FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, path, FileSystemCalls.O_RDONLY), ownsHandle: true);
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
}
