using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// The store's read-only layer of empty mount points: <c>proc</c>, <c>dev</c> and <c>sys</c> (0755, as crun and runc
/// make missing ones), which the monitor stacks above a container's image layers when its config mounts over each
/// (<see cref="RootfsLayers.MountPointsDir"/>). Made once per data directory; before it, every start made these three
/// directories in the container's upper directory (busybox and other small images lack them) and every removal deleted
/// them again: six inode operations per run, each costly on a file system without a journal, and three empty
/// directories in every commit and diff of a container that changed nothing.
/// </summary>
internal static class MountPointsLayer
{
    public const string DirectoryName = "mountpoints";
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.Logger.ForContext(typeof(MountPointsLayer));

    /// <summary>
    /// The layer's path under <paramref name="dataDir"/>, made when missing or incomplete (an admin may delete it; a start
    /// never fails for it: null when it cannot be made). One lstat when it is in place: a directory whose link count says it holds its three directories.
    /// </summary>
    public static string? Ensure(string dataDir)
    {
        try { return Make(dataDir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without it a start makes its mount points itself, as before.
            Log.Warning("Could not make the mount points layer in {DataDir}: {Error}", dataDir, e.Message);
            return null;
        }
    }

    private static string Make(string dataDir)
    {
        string dir = Path.Combine(dataDir, DirectoryName);
        if (LinkStat.Get(dir) is { Type: FileSystemCalls.S_IFDIR } st && st.Links == 2 + RootfsLayers.MountPointNames.Length)
            return dir;
        if (Directory.Exists(dir))
        {
            // Incomplete: containers running now may have it as a layer, so it is completed in place, never replaced.
            foreach (string name in RootfsLayers.MountPointNames) MakeMountPoint(Path.Combine(dir, name));
            return dir;
        }
        // Made whole beside it and renamed into place, so no start ever stacks a half-made layer.
        string temp = Path.Combine(dataDir, "." + DirectoryName + "-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            FileSystem.PrivateStore.CreateDirectory(temp);
            foreach (string name in RootfsLayers.MountPointNames) MakeMountPoint(Path.Combine(temp, name));
            Directory.Move(temp, dir);
            return dir;
        }
        catch (IOException) when (Directory.Exists(dir)) { return dir; } // another session made it first
        finally { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
    }

    private static void MakeMountPoint(string path)
    {
        const UnixFileMode Mode = (UnixFileMode)0x1ED; // 0755 whatever the umask
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        if (!Directory.Exists(path)) Directory.CreateDirectory(path, Mode);
        File.SetUnixFileMode(path, Mode);
    }
}
