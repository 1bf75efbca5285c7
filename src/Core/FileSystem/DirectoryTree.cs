using Containers.Core.Native;

namespace Containers.Core.FileSystem;

/// <summary>The one recursive delete.</summary>
internal static class DirectoryTree
{
    /// <summary>
    /// Deletes a directory tree (or a file); nothing there is fine. Directories its owner cannot enter or
    /// write (rootless layers can have 0555 dirs, overlayfs leaves work/work at 000) are given u+rwx first,
    /// symlinks are removed, never followed.
    /// </summary>
    public static void Delete(string path)
    {
        if (!Directory.Exists(path))
        {
            File.Delete(path);
            return;
        }
        try
        {
            Directory.Delete(path, recursive: true);
            return;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
        }
        MakeAccessible(path);
        Directory.Delete(path, recursive: true);
    }

    /// <summary>
    /// Deletes <paramref name="name"/> in the directory open at <paramref name="parentFd"/>, by descriptor all the way
    /// down: each directory is opened O_NOFOLLOW relative to its parent's descriptor and its entries unlinked relative to
    /// it, never by path. A tree someone else changes meanwhile (a running container's) therefore cannot redirect the
    /// delete: a directory swapped for a symlink is unlinked as a link, and a directory moved elsewhere is emptied where
    /// it went, inside the same file system. Nothing there is fine.
    /// </summary>
    public static void DeleteAt(int parentFd, string name)
    {
        for (int attempt = 0; ; attempt++)
        {
            bool last = attempt == MaxAttempts;
            if (FileSystemCalls.StatAt(parentFd, name) is not { } st) return;
            if (!st.IsDirectory)
            {
                UnlinkOrChmod(parentFd, name, directory: false);
                return;
            }
            int fd;
            try { fd = OpenDirectory(parentFd, name); }
            catch (NativeCallException e) when (!last && e.Errno is FileSystemCalls.ELOOP_ or FileSystemCalls.ENOTDIR_ or FileSystemCalls.ENOENT_)
            {
                continue; // no longer a directory: look again
            }
            try
            {
                foreach (string child in Directory.EnumerateFileSystemEntries("/proc/self/fd/" + fd))
                    DeleteAt(fd, Path.GetFileName(child));
            }
            finally { FileSystemCalls.Close(fd); }
            try
            {
                UnlinkOrChmod(parentFd, name, directory: true);
                return;
            }
            catch (NativeCallException e) when (!last && e.Errno is FileSystemCalls.ENOTEMPTY_ or FileSystemCalls.ENOTDIR_)
            {
                // refilled, or swapped for a non-directory, meanwhile: look again
            }
        }
    }

    private const int MaxAttempts = 8;

    /// <summary>Opens a directory to empty it; one its owner cannot read or write (rootless 0555, 000) gets u+rwx first.</summary>
    private static int OpenDirectory(int parentFd, string name)
    {
        const int flags = FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY | FileSystemCalls.O_NOFOLLOW;
        try { return FileSystemCalls.OpenAt(parentFd, name, flags); }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.EACCES_)
        {
            int path = FileSystemCalls.OpenAt(parentFd, name, FileSystemCalls.O_PATH | flags);
            try { FileSystemCalls.FchmodAt(FileSystemCalls.AT_FDCWD, "/proc/self/fd/" + path, (FileSystemCalls.StatFd(path).Mode & 0xFFF) | 0x1C0); }
            finally { FileSystemCalls.Close(path); }
            return FileSystemCalls.OpenAt(parentFd, name, flags);
        }
    }

    private static void UnlinkOrChmod(int parentFd, string name, bool directory)
    {
        try { FileSystemCalls.UnlinkAt(parentFd, name, directory); }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.EACCES_)
        {
            FileSystemCalls.Fchmod(parentFd, (FileSystemCalls.StatFd(parentFd).Mode & 0xFFF) | 0x1C0);
            FileSystemCalls.UnlinkAt(parentFd, name, directory);
        }
    }

    private static void MakeAccessible(string dir)
    {
        try
        {
            if (FileSystemCalls.StatAt(FileSystemCalls.AT_FDCWD, dir) is not { IsDirectory: true } s) return;
            FileSystemCalls.FchmodAt(FileSystemCalls.AT_FDCWD, dir, (s.Mode & 0xFFF) | 0x1C0);
        }
        catch (NativeCallException) { return; } // not ours to change: the delete reports it
        foreach (var sub in new DirectoryInfo(dir).EnumerateDirectories())
            if (!sub.Attributes.HasFlag(FileAttributes.ReparsePoint)) MakeAccessible(sub.FullName);
    }
}
