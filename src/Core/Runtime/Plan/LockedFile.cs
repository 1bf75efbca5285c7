using System.Runtime.InteropServices;

namespace Containers.Core.Runtime.Plan;

/// <summary>A blocking flock(2) on a lock file, usable from Init (NativeAOT) and Core alike; the lock goes with the fd.</summary>
internal static partial class LockedFile
{
    private const int LOCK_EX = 2, O_RDWR = 2, O_CREAT = 0x40, O_CLOEXEC = 0x80000, EINTR = 4;

    /// <summary>Opens (creating, 0600) and locks <paramref name="path"/>; returns the fd to pass to <see cref="Unlock"/>.</summary>
    public static int Lock(string path)
    {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x180);
        if (fd < 0) throw new IOException($"opening {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        while (flock(fd, LOCK_EX) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR) continue;
            close(fd);
            throw new IOException($"locking {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return fd;
    }

    public static void Unlock(int fd) => close(fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);
    [LibraryImport("libc", SetLastError = true)] private static partial int flock(int fd, int operation);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);
}
