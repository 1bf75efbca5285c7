using Microsoft.Win32.SafeHandles;

namespace Containers.Core.Runtime;

/// <summary>An exclusive flock(2) on a lock file, shared across processes (two pwsh sessions) and released on dispose or exit.</summary>
public sealed class FileLock : IDisposable
{
    private const int LOCK_EX = 2;
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>Blocks until the lock is held (or the token is cancelled).</summary>
    public static async Task<FileLock> AcquireAsync(string path, CancellationToken ct)
    {
        var handle = Open(path);
        try
        {
            while (true)
            {
                if (TryLock(handle)) return new FileLock(handle);
                await Task.Delay(10, ct).ConfigureAwait(false);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public static FileLock Acquire(string path) => AcquireAsync(path, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>The lock when nobody holds it (not even this process through another handle), else null at once.</summary>
    public static FileLock? TryAcquire(string path)
    {
        var handle = Open(path);
        if (TryLock(handle)) return new FileLock(handle);
        handle.Dispose();
        return null;
    }

    private static SafeFileHandle Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // open(2) directly: .NET's own FileShare emulation takes a shared flock that would collide with ours.
        return new SafeFileHandle(Native.FileSystemCalls.OpenAt(Native.FileSystemCalls.AT_FDCWD, path,
            Native.FileSystemCalls.O_RDWR | Native.FileSystemCalls.O_CREAT, 0x1A4 /* 0644 */), ownsHandle: true);
    }

    private static bool TryLock(SafeFileHandle handle)
    {
        return Native.Flock.flock((int)handle.DangerousGetHandle(), LOCK_EX | Native.Flock.LOCK_NB) == 0;
    }

    public void Dispose() => _handle.Dispose();
}
