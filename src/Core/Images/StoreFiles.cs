using Containers.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Containers.Core.Images;

/// <summary>An flock held on a lock file; released on dispose.</summary>
internal sealed class FileLock : IDisposable
{
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>Blocks until the lock is held (exclusive for writers, shared for readers that need a stable view).</summary>
    public static FileLock Acquire(string path, bool exclusive, CancellationToken cancellationToken = default)
    {
        var handle = OpenRaw(path, create: true)!;
        int op = exclusive ? FileSystemCalls.LOCK_EX : FileSystemCalls.LOCK_SH;
        // Poll with LOCK_NB so a cancelled cmdlet never hangs on another process's lock.
        while (!FileSystemCalls.Flock(handle, op | FileSystemCalls.LOCK_NB))
        {
            if (cancellationToken.IsCancellationRequested)
            {
                handle.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }
            Thread.Sleep(20);
        }
        return new FileLock(handle);
    }

    /// <summary>Takes the lock only when free; null when someone holds it.</summary>
    public static FileLock? TryAcquire(string path)
    {
        var handle = OpenRaw(path, create: false);
        if (handle is null) return null;
        if (FileSystemCalls.Flock(handle, FileSystemCalls.LOCK_EX | FileSystemCalls.LOCK_NB)) return new FileLock(handle);
        handle.Dispose();
        return null;
    }

    public SafeFileHandle Handle => _handle;

    // Opened with open(2) directly: .NET's FileStream takes its own flock to emulate FileShare, which would collide with ours.
    private static SafeFileHandle? OpenRaw(string path, bool create)
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

/// <summary>
/// A private working directory under tmp/ for one ingest. Its lock file is held while the owner lives,
/// so a later process can tell the leftovers of a killed ingest (lock free) from work in progress.
/// </summary>
internal sealed class Staging : IDisposable
{
    private readonly FileLock _lock;

    private Staging(string path, FileLock held)
    {
        Path = path;
        _lock = held;
    }

    public string Path { get; }

    public static Staging Create(string tmpDir)
    {
        Directory.CreateDirectory(tmpDir);
        while (true)
        {
            string id = Guid.NewGuid().ToString("N");
            string lockPath = System.IO.Path.Combine(tmpDir, id + ".lock");
            var held = FileLock.Acquire(lockPath, exclusive: true);
            // A cleaner may have unlinked the file between our open and our flock: then start over.
            if (!SameFile(held.Handle, lockPath)) { held.Dispose(); continue; }
            string dir = System.IO.Path.Combine(tmpDir, id);
            Directory.CreateDirectory(dir);
            return new Staging(dir, held);
        }
    }

    /// <summary>Removes staging directories whose owner is gone (their lock is free) and stray trash.</summary>
    public static void CleanAbandoned(string tmpDir)
    {
        if (!Directory.Exists(tmpDir)) return;
        foreach (string lockPath in Directory.GetFiles(tmpDir, "*.lock"))
        {
            using var held = FileLock.TryAcquire(lockPath);
            if (held is null || !SameFile(held.Handle, lockPath)) continue;
            string dir = lockPath[..^".lock".Length];
            StoreIo.DeleteTree(dir);
            File.Delete(lockPath);
        }
        foreach (string dir in Directory.GetDirectories(tmpDir))
        {
            // A directory without a lock file is never live: staging creates the lock first and removes it last.
            if (!File.Exists(dir + ".lock")) StoreIo.DeleteTree(dir);
        }
    }

    private static bool SameFile(SafeFileHandle handle, string path)
    {
        var held = FileSystemCalls.StatFd((int)handle.DangerousGetHandle());
        var now = FileSystemCalls.StatAt(FileSystemCalls.AT_FDCWD, path);
        return now is { } n && n.Inode == held.Inode && n.Device == held.Device;
    }

    public void Dispose()
    {
        try
        {
            StoreIo.DeleteTree(Path);
            File.Delete(Path + ".lock");
        }
        finally { _lock.Dispose(); }
    }
}

/// <summary>
/// One staging directory for a whole pull: every layer ingest of the pull stages its blob and layer
/// under numbered names in it, so a pull of many small layers pays for one lock file and one directory
/// instead of a lock file and a directory (made and removed) per layer. Crash safety is the same as per-layer staging: the session's lock is held while
/// the pull runs, and a later Open removes the whole directory of a session whose owner is gone.
/// </summary>
public sealed class IngestSession : IDisposable
{
    private readonly Staging _staging;
    private int _next;

    internal IngestSession(Staging staging) => _staging = staging;

    /// <summary>A fresh path inside the session directory (nothing is created): the ingest adds its own suffixes.</summary>
    internal string NewName() =>
        System.IO.Path.Combine(_staging.Path, Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose() => _staging.Dispose();
}

/// <summary>Small durable-write helpers.</summary>
internal static class StoreIo
{
    /// <summary>Writes a file atomically: temp file, fsync, rename over, fsync the directory.</summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> data, bool durable = true)
    {
        string dir = System.IO.Path.GetDirectoryName(path)!;
        FileSystem.PrivateStore.CreateDirectory(dir);
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var fs = new FileStream(temp, FileSystem.PrivateStore.NewFile(FileMode.CreateNew, bufferSize: 1)))
            {
                fs.Write(data);
                if (durable) fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            if (durable) FileSystemCalls.FsyncDirectory(dir);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
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

    /// <summary>Deletes a tree, making read-only directories writable first (rootless layers can have 0555 dirs).</summary>
    public static void DeleteTree(string path)
    {
        if (!Directory.Exists(path) && !File.Exists(path)) return;
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            foreach (var dir in new DirectoryInfo(path).EnumerateDirectories("*", new EnumerationOptions
                     { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false }).Prepend(new DirectoryInfo(path)))
            {
                try
                {
                    var st = FileSystemCalls.StatAt(FileSystemCalls.AT_FDCWD, dir.FullName);
                    if (st is { IsDirectory: true } s) FileSystemCalls.FchmodAt(FileSystemCalls.AT_FDCWD, dir.FullName, (s.Mode & 0xFFF) | 0x1C0);
                }
                catch (Exception) { /* best effort */ }
            }
            Directory.Delete(path, recursive: true);
        }
    }
}
