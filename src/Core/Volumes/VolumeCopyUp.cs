using Containers.Core.Images;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Volumes;

/// <summary>
/// podman's copy-up of a new volume: what the image has at the mount's destination, seen through its layers as overlayfs
/// stacks them, becomes the volume's content with modes, owners, links and xattrs (<see cref="LayeredExtract"/>: rootless,
/// owners stay this user's, i.e. root inside, exactly as the container sees its image). The extracted directory is renamed
/// into place as the volume's data. A destination that is a file or missing in the image copies nothing; the empty
/// volume then belongs to the container's user, as podman chowns a new volume (the owner given, in host ids).
/// </summary>
internal static class VolumeCopyUp
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<VolumeStore>();

    public static void Copy(IReadOnlyList<string> layerDirectoriesBottomFirst, string destination, string staging, string data, bool rootless,
        (uint Uid, uint Gid)? owner, CancellationToken ct)
    {
        string? extracted = layerDirectoriesBottomFirst.Count == 0 ? null
            : LayeredExtract.Extract(layerDirectoriesBottomFirst.Reverse().ToList(), destination, staging, rootless, ct);
        if (extracted is null || Native.LinkStat.Get(extracted) is not { Type: S_IFDIR })
        {
            if (owner is { } o) FchownAt(AT_FDCWD, data, o.Uid, o.Gid);
            Log.Debug("Copy-up: {Destination} is not a directory in the image; the volume stays empty, owned by {Owner}", destination, owner);
            return;
        }
        Directory.Delete(data); // empty: checked under the volume's lock
        Directory.Move(extracted, data);
        Log.Information("Copied {Destination} of the image into the new volume {Data}", destination, data);
    }
}
