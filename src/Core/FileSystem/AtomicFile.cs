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
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        UnixFileMode effective = mode ?? ExistingMode(path) ?? NewFileMode;
        string temp = Path.Combine(dir, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 0, UnixCreateMode = effective }))
            {
                stream.Write(data);
                if (durable) stream.Flush(flushToDisk: true);
            }
            // The umask may have narrowed the create mode: set it exactly.
            File.SetUnixFileMode(temp, effective);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        if (durable) FileSystemCalls.FsyncDirectory(dir);
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
