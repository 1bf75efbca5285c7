using Containers.Core.Images;
using Containers.Core.Native;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Volumes;

/// <summary>
/// podman's copy-up of a new volume: what the image has at the mount's destination, seen through its layers as overlayfs
/// stacks them (whiteouts and opaque directories honoured), becomes the volume's content with modes, owners, links and
/// xattrs. The layers are written as one tar limited to that path (<see cref="LayeredTreeWriter"/>), unpacked confined
/// to a staging directory (<see cref="LayerUnpacker"/>: rootless, owners stay this user's, i.e. root inside, exactly as
/// the container sees its image), and the destination's directory is renamed into place as the volume's data.
/// A destination that is a symlink, a file or missing in the image copies nothing.
/// </summary>
internal static class VolumeCopyUp
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<VolumeStore>();

    public static void Copy(IReadOnlyList<string> layerDirectoriesBottomFirst, string destination, string staging, string data, bool rootless, CancellationToken ct)
    {
        string? target = Relative(destination);
        if (target is null || layerDirectoriesBottomFirst.Count == 0) return;
        var dirs = layerDirectoriesBottomFirst.Reverse().ToList();
        bool Include(string rel, LinkStatus _) => rel == target || target.StartsWith(rel + "/", StringComparison.Ordinal) || rel.StartsWith(target + "/", StringComparison.Ordinal);
        string tarPath = staging + ".tar";
        try
        {
            using (var file = new FileStream(tarPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                using (var tar = new LayerTarWriter(file)) new LayeredTreeWriter(dirs, LayeredTreeMode.Flat, include: Include).Write(tar, ct);
                file.Position = 0;
                using var unpacker = new LayerUnpacker(staging, new LayerUnpackOptions { Rootless = rootless });
                unpacker.Unpack(file, ct);
            }
            // Every component must be a real directory the unpacker made: never follow a link the image put on the way.
            string current = staging;
            foreach (string part in target.Split('/'))
            {
                current = Path.Combine(current, part);
                if (LinkStat.Get(current) is not { Type: S_IFDIR })
                {
                    Log.Debug("Copy-up: /{Target} is not a directory in the image; the volume stays empty", target);
                    return;
                }
            }
            Directory.Delete(data); // empty: checked under the volume's lock
            Directory.Move(current, data);
            Log.Information("Copied /{Target} of the image into the new volume {Data}", target, data);
        }
        finally
        {
            File.Delete(tarPath);
        }
    }

    /// <summary>"/var/lib/x/" as "var/lib/x"; null for the root or a path that climbs (<c>..</c>).</summary>
    internal static string? Relative(string destination)
    {
        var parts = destination.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToList();
        if (parts.Count == 0 || parts.Contains("..")) return null;
        return string.Join('/', parts);
    }
}
