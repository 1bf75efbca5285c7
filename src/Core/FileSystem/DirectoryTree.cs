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
