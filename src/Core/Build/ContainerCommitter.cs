using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Logging;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;
using Containers.Core.Spec;

namespace Containers.Core.Build;

/// <summary>What New-ContainerImage -Container makes.</summary>
internal sealed record CommitOptions
{
    /// <summary>Names for the new image (none: a dangling image).</summary>
    public IReadOnlyList<string> Names { get; init; } = [];
    /// <summary>Config edits in Containerfile syntax (CMD, ENV, LABEL, ...).</summary>
    public IReadOnlyList<string> Changes { get; init; } = [];
    /// <summary>The history entry's comment.</summary>
    public string? Message { get; init; }
    public string? Author { get; init; }
    /// <summary>Freeze a running container while its upper dir is read, so the layer is one moment's state.</summary>
    public bool Pause { get; init; } = true;
}

/// <summary>
/// Commits a container: its overlay upper dir becomes one new layer in OCI form on top of its image's
/// layers, its image's config (with the changes applied) the new config. A build step is the same
/// commit of a RUN container.
/// </summary>
internal static class ContainerCommitter
{
    private static readonly Serilog.ILogger Log = ModuleLog.Logger.ForContext(typeof(ContainerCommitter));

    public static async Task<StoredImage> CommitAsync(ContainerRuntime runtime, ImageStore store, string nameOrId, CommitOptions options,
        CancellationToken cancellationToken = default)
    {
        var record = runtime.Store.Get(nameOrId);
        var baseImage = await store.FindAsync(record.ImageId, cancellationToken).ConfigureAwait(false)
            ?? throw new ContainersException("ContainerImageMissing", ErrorKind.InvalidState,
                $"The image {record.ImageId[..12]} of container {record.Name} is no longer in the store; its layers cannot be the new image's base.",
                record.Name, "Export the container's file system with Export-Container and import it with Import-ContainerImage -RootFsTarball.");
        // Changes are checked before the container is paused or anything is written.
        var config = ConfigChanges.Apply(baseImage.Config.Config, options.Changes);
        var (uidMap, gidMap) = IdMaps(runtime, record);

        bool paused = false;
        if (options.Pause && runtime.Inspect(record).State == ContainerState.Running)
        {
            runtime.Pause(record.Id);
            paused = true;
        }
        StoredLayer layer;
        try
        {
            var writer = new LayeredTreeWriter([runtime.Store.UpperDir(record.Id)], LayeredTreeMode.Layer, uidMap, gidMap);
            layer = await store.AddLayerAsync((tar, ct) => writer.Write(tar, ct), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (paused) runtime.Resume(record.Id);
        }

        var now = DateTimeOffset.UtcNow;
        var history = (baseImage.Config.History ?? []).ToList();
        history.Add(new HistoryEntry
        {
            Created = now, CreatedBy = "New-ContainerImage -Container " + record.Name, Author = options.Author, Comment = options.Message,
        });
        var imageConfig = baseImage.Config with { Created = now, Author = options.Author ?? baseImage.Config.Author, Config = config, History = history };
        var image = await store.CreateImageAsync([.. baseImage.Layers, layer], imageConfig, options.Names, cancellationToken).ConfigureAwait(false);
        Log.Information("Committed container {Name} as image {Id} ({Bytes} bytes in the new layer)", record.Name, image.ShortId, layer.Size);
        return image;
    }

    /// <summary>
    /// Owners on disk to owners in the image: identity as root; for a rootless container, the inverse of
    /// its bundle's id maps (its files belong to the user and the subordinate ranges on the host).
    /// </summary>
    internal static (Func<uint, uint>?, Func<uint, uint>?) IdMaps(ContainerRuntime runtime, ContainerRecord record)
    {
        if (!record.Rootless) return (null, null);
        var spec = runtime.Store.ReadSpec(record.Id);
        return (Inverse(spec?.Linux?.UidMappings), Inverse(spec?.Linux?.GidMappings));
    }

    private static Func<uint, uint>? Inverse(List<LinuxIdMapping>? maps)
    {
        if (maps is not { Count: > 0 }) return null;
        return host =>
        {
            foreach (var m in maps)
                if (host >= m.HostId && host - m.HostId < m.Size) return m.ContainerId + (host - m.HostId);
            return 65534; // unmapped on the host side: nobody, as the kernel shows it inside
        };
    }
}
