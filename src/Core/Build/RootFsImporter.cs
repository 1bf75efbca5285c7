using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Logging;
using Containers.Core.Spec;

namespace Containers.Core.Build;

/// <summary>
/// Makes an image of one layer from a root file system tar (Export-Container's, or any rootfs tarball),
/// as <c>podman import</c>: the config is empty but for the host platform and the -Change instructions.
/// </summary>
internal static class RootFsImporter
{
    private static readonly Serilog.ILogger Log = ModuleLog.Logger.ForContext(typeof(RootFsImporter));

    public static async Task<StoredImage> ImportAsync(ImageStore store, string tarball, IReadOnlyList<string> names, IReadOnlyList<string> changes,
        string? message, CancellationToken cancellationToken = default)
    {
        var config = ConfigChanges.Apply(null, changes);
        if (!File.Exists(tarball))
            throw new ContainersException("ArchiveNotFound", ErrorKind.NotFound, $"There is no file {tarball}.", tarball, "Give the path of a tar file.");
        var layer = await store.AddLayerFromFileAsync(tarball, cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        var platform = ImageArchive.HostPlatform;
        var imageConfig = new ImageConfig
        {
            Created = now, Architecture = platform.Architecture, Os = platform.Os, Config = config,
            History = [new HistoryEntry { Created = now, CreatedBy = "Import-ContainerImage -RootFsTarball " + Path.GetFileName(tarball), Comment = message }],
        };
        var image = await store.CreateImageAsync([layer], imageConfig, names, cancellationToken).ConfigureAwait(false);
        Log.Information("Imported the root file system {Path} as image {Id}", tarball, image.ShortId);
        return image;
    }
}
