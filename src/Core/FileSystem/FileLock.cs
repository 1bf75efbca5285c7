using Containers.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Containers.Core.FileSystem;

/// <summary>
/// The one file lock: an flock(2) on a lock file, shared across processes (two pwsh sessions) and released on
/// dispose or exit. Waiting polls with LOCK_NB, so a cancelled cmdlet never hangs on another process's lock.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle) => _handle = handle;

    internal SafeFileHandle Handle => _handle;

    /// <summary>Blocks until the lock is held: exclusive for writers, shared for readers that need a stable view.</summary>
    public static FileLock Acquire(string path, bool exclusive = true, CancellationToken cancellationToken = default)
    {
        var handle = Open(path, create: true)!;
        try
        {
            while (!TryLock(handle, exclusive))
            {
                cancellationToken.ThrowIfCancellationRequested();
                Thread.Sleep(20);
            }
            return new FileLock(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the exclusive lock without blocking a thread; creates the lock file's directory when missing.</summary>
    public static async Task<FileLock> AcquireAsync(string path, CancellationToken ct)
    {
        SafeFileHandle handle;
        // Opened first: the directory nearly always exists, and making it first cost a mkdir and a stat per lock.
        try { handle = Open(path, create: true)!; }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.ENOENT_)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            handle = Open(path, create: true)!;
        }
        return await WaitAsync(handle, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the exclusive lock on a directory itself (flock works on a directory's descriptor), made when missing: a
    /// lock that needs no lock file inside it, so taking it creates no inode.
    /// </summary>
    public static Task<FileLock> AcquireDirectoryAsync(string dir, CancellationToken ct) => WaitAsync(OpenDirectory(dir), ct);

    /// <summary>Polls for the exclusive lock of an open file without blocking a thread; the handle is the lock's or disposed.</summary>
    private static async Task<FileLock> WaitAsync(SafeFileHandle handle, CancellationToken ct)
    {
        try
        {
            while (!TryLock(handle, exclusive: true)) await Task.Delay(10, ct).ConfigureAwait(false);
            return new FileLock(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The directory's exclusive lock if it is free right now (the directory made when missing), else null.</summary>
    public static FileLock? TryAcquireDirectory(string dir)
    {
        var handle = OpenDirectory(dir);
        if (TryLock(handle, exclusive: true)) return new FileLock(handle);
        handle.Dispose();
        return null;
    }

    private static SafeFileHandle OpenDirectory(string dir)
    {
        // Opened first: the directory nearly always exists, and a stat before would cost as much as the open.
        try { return new SafeFileHandle(FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, dir, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY), ownsHandle: true); }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.ENOENT_) { }
        Directory.CreateDirectory(dir);
        return new SafeFileHandle(FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, dir, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY), ownsHandle: true);
    }

    /// <summary>
    /// Takes the exclusive lock only when free (not even this process holds it through another handle); null when
    /// someone holds it, or when the file is gone unless <paramref name="create"/> (then it and its directory are made).
    /// </summary>
    public static FileLock? TryAcquire(string path, bool create = false)
    {
        if (create) Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var handle = Open(path, create);
        if (handle is null) return null;
        if (TryLock(handle, exclusive: true)) return new FileLock(handle);
        handle.Dispose();
        return null;
    }

    /// <summary>One try, and one more at once when a child this session forked meanwhile could hold the lock (see <see cref="ForkGate"/>).</summary>
    private static bool TryLock(SafeFileHandle handle, bool exclusive)
    {
        int operation = (exclusive ? FileSystemCalls.LOCK_EX : FileSystemCalls.LOCK_SH) | FileSystemCalls.LOCK_NB;
        long forks = ForkGate.Started;
        return FileSystemCalls.Flock(handle, operation) || ForkGate.WaitForForksSince(forks) && FileSystemCalls.Flock(handle, operation);
    }

    // open(2) directly: .NET's FileStream takes its own flock to emulate FileShare, which would collide with ours.
    private static SafeFileHandle? Open(string path, bool create)
    {
        try
        {
            int fd = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, path,
                FileSystemCalls.O_RDWR | (create ? FileSystemCalls.O_CREAT : 0), 0x180 /* 0600 */);
            return new SafeFileHandle(fd, ownsHandle: true);
        }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.ENOENT_ && !create)
        {
            return null;
        }
    }

    public void Dispose() => _handle.Dispose();
}
