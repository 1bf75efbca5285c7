using Containers.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Containers.Core.Images;

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
        PrivateStore.CreateDirectory(tmpDir);
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
            DirectoryTree.Delete(dir);
            File.Delete(lockPath);
        }
        foreach (string dir in Directory.GetDirectories(tmpDir))
        {
            // A directory without a lock file is never live: staging creates the lock first and removes it last.
            if (!File.Exists(dir + ".lock")) DirectoryTree.Delete(dir);
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
            DirectoryTree.Delete(Path);
            File.Delete(Path + ".lock");
        }
        finally { _lock.Dispose(); }
    }
}
