using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Logging;
using Containers.Core.Runtime;

namespace Containers.Core.Build;

/// <summary>
/// Writes a container's root file system (its image's layers with its own changes on top, as overlayfs
/// shows them) as one plain tar, as <c>podman export</c>. Whiteouts hide what they delete and are not
/// written. The tar appears at the path only when complete.
/// </summary>
internal static class ContainerExporter
{
    private static readonly Serilog.ILogger Log = ModuleLog.Logger.ForContext(typeof(ContainerExporter));

    public static async Task<FileInfo> ExportAsync(ContainerRuntime runtime, string nameOrId, string path, CancellationToken cancellationToken = default)
    {
        var record = runtime.Store.Get(nameOrId);
        var dirs = new List<string> { runtime.Store.UpperDir(record.Id) };
        dirs.AddRange(record.LayerDirectories.AsEnumerable().Reverse());
        foreach (string d in dirs.Where(d => !Directory.Exists(d)))
            throw new ContainersException("ContainerLayerMissing", ErrorKind.InvalidState,
                $"The layer directory {d} of container {record.Name} is gone (its image was removed and collected).", record.Name,
                "Remove the container; its file system cannot be rebuilt.");
        var (uidMap, gidMap) = ContainerCommitter.IdMaps(runtime, record);
        string full = Path.GetFullPath(path);
        if (!Directory.Exists(Path.GetDirectoryName(full)))
            throw new ContainersException("ExportPathUnusable", ErrorKind.InvalidArgument, $"The directory of {full} does not exist.", full,
                "Give a path in an existing directory you can write to.");
        string partial = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".partial");
        try
        {
            await Task.Run(() =>
            {
                using var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                using (var tar = new LayerTarWriter(file))
                    new LayeredTreeWriter(dirs, LayeredTreeMode.Flat, uidMap, gidMap).Write(tar, cancellationToken);
                file.Flush(flushToDisk: true);
            }, cancellationToken).ConfigureAwait(false);
            File.Move(partial, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(partial); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (e is UnauthorizedAccessException)
                throw new ContainersException("ExportPathUnusable", ErrorKind.InvalidArgument, $"Cannot write the tar at {full}: {e.Message}", full,
                    "Give a path in an existing directory you can write to.", e);
            throw;
        }
        Log.Information("Exported the file system of container {Name} to {Path}", record.Name, full);
        return new FileInfo(full);
    }
}
