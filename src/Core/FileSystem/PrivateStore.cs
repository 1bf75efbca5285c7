namespace Containers.Core.FileSystem;

/// <summary>
/// Keeps what the module stores private to the user who owns it (Docker's CVE-2021-41091 class: a
/// world-traversable layer directory let any local user run a setuid-root binary from it, and readable
/// records and logs showed a container's environment). Directories are 0700 and files 0600.
/// <para>
/// 0700 all the way down, not 0711 with 0700 below: nothing but the owner ever walks these host paths.
/// Overlay resolves its lower, upper and work directories once, at mount time, with the mounter's
/// credentials (root, or rootless the user itself as root of its own user namespace), and checks later
/// access to lower files with those same credentials; a container's processes, whatever ids they are
/// mapped to, only see paths inside their root; the generated /etc files are bind mounts, checked by their
/// own mode (0644), not by the host path to them.
/// </para>
/// </summary>
internal static class PrivateStore
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupAndOther = (UnixFileMode)0x3F;

    /// <summary>
    /// Written into a store's root once it has been made private: a store made by an older version is
    /// tightened on its first open, every later open costs one stat.
    /// </summary>
    public const string Marker = ".private-v1";

    /// <summary>Creates the directory (and missing parents) 0700, or takes group and other access away from an existing one.</summary>
    public static void EnsureDirectory(string path)
    {
        CreateDirectory(path);
        Restrict(path);
    }

    /// <summary>Creates the directory and missing parents 0700; an existing one is left as it is.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        if (Directory.Exists(path)) return;
        // .NET gives the mode to the last component only: create the missing parents one by one.
        if (Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path))) is { } parent) CreateDirectory(parent);
        Directory.CreateDirectory(path, DirectoryMode);
    }

    /// <summary>Takes group and other access away from a file or directory that has any; false when it does not exist.</summary>
    public static bool Restrict(string path)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        UnixFileMode mode;
        try { mode = File.GetUnixFileMode(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return false; }
        if ((mode & GroupAndOther) != 0) File.SetUnixFileMode(path, mode & ~GroupAndOther);
        return true;
    }

    /// <summary>Runs <paramref name="tighten"/> over a store made before stores were private, once: the marker records that it ran.</summary>
    public static void TightenOnce(string root, Action tighten)
    {
        string marker = Path.Combine(root, Marker);
        if (File.Exists(marker)) return;
        tighten();
        File.WriteAllBytes(marker, []);
        Restrict(marker);
    }

    /// <summary>Options for a new file only its owner can read.</summary>
    public static FileStreamOptions NewFile(System.IO.FileMode mode, int bufferSize = 4096, FileShare share = FileShare.None)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        return new() { Mode = mode, Access = FileAccess.Write, Share = share, BufferSize = bufferSize, UnixCreateMode = FileMode };
    }
}
