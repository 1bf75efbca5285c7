using Containers.Core.Native;

namespace Containers.Core.FileSystem;

/// <summary>
/// The one atomic file writer: the content goes to a sibling with a random name, created exclusively with
/// the final mode, then is renamed over the target, so a reader sees the old or the new content, never half.
/// Durable writes fsync the file before the rename and the directory after it; a failure removes the sibling.
/// </summary>
internal static class AtomicFile
{
    private const UnixFileMode NewFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="data"/>. The mode is <paramref name="mode"/>, else the
    /// replaced file's, else 0644. The directory is created when missing (callers that want it private create it first).
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> data, UnixFileMode? mode = null, bool durable = true)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        UnixFileMode effective = mode ?? ExistingMode(path) ?? NewFileMode;
        string temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        // Plain system calls: a FileStream adds an fstatfs, two flocks and an lseek, Directory.CreateDirectory a mkdir and a
        // stat, File.Move an lstat, to every write (three to each container's create and start).
        int fd = OpenNew(temp, dir, (uint)effective);
        try
        {
            using (var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true))
            {
                RandomAccess.Write(handle, data, 0);
                // The umask may have narrowed the create mode: set it exactly.
                FileSystemCalls.Fchmod(fd, (uint)effective);
                if (durable) FileSystemCalls.Fsync(fd);
            }
            FileSystemCalls.RenameAt(FileSystemCalls.AT_FDCWD, temp, FileSystemCalls.AT_FDCWD, full);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        if (durable) FileSystemCalls.FsyncDirectory(dir);
    }

    /// <summary>Creates <paramref name="temp"/> exclusively, and its directory first when that is missing.</summary>
    private static int OpenNew(string temp, string dir, uint mode)
    {
        const int flags = FileSystemCalls.O_WRONLY | FileSystemCalls.O_CREAT | FileSystemCalls.O_EXCL;
        try { return FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, temp, flags, mode); }
        catch (NativeCallException e) when (e.Errno == FileSystemCalls.ENOENT_)
        {
            Directory.CreateDirectory(dir);
            return FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, temp, flags, mode);
        }
        catch (NativeCallException e) when (e.Errno is FileSystemCalls.EACCES_ or FileSystemCalls.EPERM_)
        {
            throw new UnauthorizedAccessException($"Access to the path '{temp}' is denied.", e);
        }
    }

    /// <summary>Replaces a text file (UTF-8 without BOM), durably.</summary>
    public static void WriteAllText(string path, string text, UnixFileMode? mode = null) =>
        Write(path, new System.Text.UTF8Encoding(false).GetBytes(text), mode);

    private static UnixFileMode? ExistingMode(string path)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        try { return File.GetUnixFileMode(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }
}
