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
/// Its variants (<see cref="EnsureEtc"/>) also hold <c>etc/</c> with empty files for the generated files a container
/// bind-mounts there and its image lacks (<see cref="EtcMountPoints"/>): without them each start copied /etc up into
/// the upper directory to make the targets (four inodes made at start, four deleted at removal).
/// </summary>
internal static class MountPointsLayer
{
    public const string DirectoryName = "mountpoints";
    private const uint DirMode = 0x1ED; // 0755
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.Logger.ForContext(typeof(MountPointsLayer));

    /// <summary>
    /// The layer's path under <paramref name="dataDir"/>, made when missing or incomplete (an admin may delete it; a start
    /// never fails for it: null when it cannot be made). One lstat when it is in place: a directory whose link count says it holds its three directories.
    /// </summary>
    public static string? Ensure(string dataDir) => Ensure(dataDir, DirectoryName, null);

    /// <summary>
    /// The variant of the layer for <paramref name="etc"/> (its name says what it holds, so containers of images whose
    /// /etc has the same mode and owner share it): the three mount points, <c>etc/</c> with the image's mode, uid and gid
    /// (overlay shows the topmost layer's attributes for the merged /etc) and an empty file per name. Null when it cannot
    /// be made (a rootless user cannot give etc/ an owner other than itself): the start then takes the plain layer.
    /// </summary>
    public static string? EnsureEtc(string dataDir, EtcMountPoints etc) =>
        etc.Names.Count == 0 || etc.Names.Any(n => !GeneratedNames.Contains(n)) ? null : Ensure(dataDir, VariantName(etc), etc);

    /// <summary>The generated files a container may bind at /etc (see <see cref="ContainerRecord.GeneratedFiles"/>).</summary>
    public static readonly string[] GeneratedNames = ["hosts", "hostname", "resolv.conf"];

    /// <summary><c>mountpoints-etc-0755-0-0-hosts+hostname+resolv.conf</c>: mode (octal), uid, gid, the names.</summary>
    public static string VariantName(EtcMountPoints etc) =>
        $"{DirectoryName}-etc-{Convert.ToString(etc.Mode & 0xFFF, 8).PadLeft(4, '0')}-{etc.Uid}-{etc.Gid}-{string.Join('+', etc.Names)}";

    /// <summary>
    /// At New: what the variant must hold for a container with these layers (bottom to top) and these generated files:
    /// the names no layer has in any form (file, link, directory, whiteout), when the image's /etc (in the topmost layer
    /// that has the name) is a real directory. Null when there is none: an image without /etc or whose /etc is a link
    /// or a whiteout, or that has all three; the start then makes what it lacks through the overlay, as before.
    /// </summary>
    public static EtcMountPoints? FindEtc(IReadOnlyList<string> layerDirs, IEnumerable<string> generatedFiles)
    {
        var wanted = GeneratedNames.Where(n => generatedFiles.Any(f => Path.GetFileName(f) == n)).ToList();
        if (wanted.Count == 0) return null;
        try
        {
            LinkStatus? top = null;
            for (int i = layerDirs.Count - 1; i >= 0; i--)
            {
                string etc = Path.Combine(layerDirs[i], "etc");
                if (LinkStat.Get(etc) is not { } st) continue;
                if (st.Type != FileSystemCalls.S_IFDIR) break; // a link, file or whiteout hides the layers below
                top ??= st;
                wanted.RemoveAll(n => LinkStat.Get(Path.Combine(etc, n)) is not null);
                if (wanted.Count == 0) break;
            }
            return top is { } t && wanted.Count > 0 ? new EtcMountPoints { Mode = t.Permissions, Uid = t.Uid, Gid = t.Gid, Names = wanted } : null;
        }
        catch (IOException e)
        {
            Log.Debug("No /etc mount points layer: {Error}", e.Message);
            return null;
        }
    }

    private static string? Ensure(string dataDir, string name, EtcMountPoints? etc)
    {
        try { return Make(dataDir, name, etc); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without it a start makes its mount points itself, as before.
            Log.Warning("Could not make the mount points layer {Name} in {DataDir}: {Error}", name, dataDir, e.Message);
            return null;
        }
    }

    private static string Make(string dataDir, string name, EtcMountPoints? etc)
    {
        string dir = Path.Combine(dataDir, name);
        int entries = RootfsLayers.MountPointNames.Length + (etc is null ? 0 : 1);
        if (LinkStat.Get(dir) is { Type: FileSystemCalls.S_IFDIR } st && st.Links == 2 + entries)
            return dir;
        if (Directory.Exists(dir))
        {
            // Incomplete: containers running now may have it as a layer, so it is completed in place, never replaced.
            Fill(dir, etc);
            return dir;
        }
        // Made whole beside it and renamed into place, so no start ever stacks a half-made layer.
        string temp = Path.Combine(dataDir, "." + name + "-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            FileSystem.PrivateStore.CreateDirectory(temp);
            Fill(temp, etc);
            Directory.Move(temp, dir);
            return dir;
        }
        catch (IOException) when (Directory.Exists(dir)) { return dir; } // another session made it first
        finally { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
    }

    private static void Fill(string dir, EtcMountPoints? etc)
    {
        foreach (string name in RootfsLayers.MountPointNames) MakeDirectory(Path.Combine(dir, name), DirMode);
        if (etc is null) return;
        string etcDir = Path.Combine(dir, "etc");
        MakeDirectory(etcDir, DirMode);
        foreach (string name in etc.Names)
            using (File.Open(Path.Combine(etcDir, name), FileMode.OpenOrCreate, FileAccess.Write)) { }
        // Owner first: chown may clear set-id bits the mode then restores. A user that cannot give it this owner gets none.
        int fd = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, etcDir, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY | FileSystemCalls.O_NOFOLLOW);
        try
        {
            FileSystemCalls.Fchown(fd, etc.Uid, etc.Gid);
            FileSystemCalls.Fchmod(fd, etc.Mode & 0xFFF);
        }
        finally { FileSystemCalls.Close(fd); }
    }

    private static void MakeDirectory(string path, uint mode)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        if (!Directory.Exists(path)) Directory.CreateDirectory(path, (UnixFileMode)mode);
        File.SetUnixFileMode(path, (UnixFileMode)mode); // whatever the umask
    }
}

/// <summary>
/// What a container's /etc mount points variant holds (<see cref="MountPointsLayer.EnsureEtc"/>), decided at New from its
/// image's layers and kept in its record, so a start walks no layer: the image's /etc mode and owner and the generated
/// files' names (of hosts, hostname, resolv.conf) that the image lacks.
/// </summary>
internal sealed class EtcMountPoints
{
    public uint Mode { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public List<string> Names { get; set; } = [];
}
