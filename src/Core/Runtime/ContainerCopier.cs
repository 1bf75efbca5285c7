using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Native;
using Microsoft.Win32.SafeHandles;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Runtime;

/// <summary>
/// Copy-ContainerItem: files between the host and a container's file system, with Copy-Item's rules (an existing
/// directory as the destination receives the source under its own name; otherwise the destination is the new name).
/// The container side is never walked by host path: a running container is reached through its root
/// (<c>/proc/&lt;pid&gt;/root</c>) with openat2(RESOLVE_IN_ROOT), so its symlinks (<c>/etc/nginx -&gt; /etc</c>,
/// <c>../../..</c>) resolve inside it; its tree is read by descriptor (<see cref="ContainedTreeWriter"/>) and written
/// confined beneath the resolved directory (<see cref="LayerUnpacker"/>: no symlink, no other mount). A stopped
/// container is read from its layers and upper directory (<see cref="LayeredExtract"/>), where nothing runs to race.
/// </summary>
internal sealed class ContainerCopier(ContainerRuntime runtime)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerCopier>();

    /// <summary>Copies <paramref name="containerPath"/> of the container to the host; returns the host path written.</summary>
    public async Task<string> CopyOutAsync(string container, string containerPath, string hostDestination, bool recurse, CancellationToken ct)
    {
        var record = runtime.Store.Get(container);
        var parts = CheckContainerPath(containerPath, container);
        string dest = Path.GetFullPath(hostDestination);
        string parent, name;
        if (Directory.Exists(dest)) (parent, name) = (dest, parts.Count == 0 ? record.Name : parts[^1]);
        else
        {
            parent = Path.GetDirectoryName(dest) ?? "/";
            name = Path.GetFileName(dest);
            if (!Directory.Exists(parent))
                throw new ContainersException("CopyDestinationNotFound", ErrorKind.NotFound, $"The folder {parent} does not exist.", hostDestination,
                    "Create it first, or give an existing folder as -Destination.");
        }
        string tarPath = Path.Combine(parent, ".pscontainers-copy-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await Task.Run(() =>
            {
                using (var file = new FileStream(tarPath + ".tar", FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                using (var tar = new LayerTarWriter(file))
                    WriteContainerTree(record, containerPath, parts, name, recurse, tar, tarPath + "-staging", ct);
                using var input = File.OpenRead(tarPath + ".tar");
                using var unpacker = new LayerUnpacker(parent, new LayerUnpackOptions { Rootless = runtime.Paths.Rootless });
                unpacker.Unpack(input, ct);
            }, ct).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(tarPath + ".tar");
            if (Directory.Exists(tarPath + "-staging")) FileSystem.DirectoryTree.Delete(tarPath + "-staging");
        }
        string written = Path.Combine(parent, name);
        Log.Information("Copied {Path} of container {Name} to {Destination}", containerPath, record.Name, written);
        return written;
    }

    /// <summary>Copies a host file or directory into a container, running or not; returns the container path written.</summary>
    public async Task<string> CopyInAsync(string hostSource, string container, string containerPath, bool recurse, CancellationToken ct)
    {
        var record = runtime.Store.Get(container);
        var parts = CheckContainerPath(containerPath, container);
        string source = Path.GetFullPath(hostSource);
        if (LinkStat.Get(source) is null)
            throw new ContainersException("CopySourceNotFound", ErrorKind.NotFound, $"The path {source} does not exist.", hostSource);
        string sourceName = Path.GetFileName(source.TrimEnd('/'));
        // Held while a stopped container's upper directory is written, so Start-Container (which takes it too) waits.
        using (await runtime.Store.LockContainerAsync(record.Id, ct).ConfigureAwait(false))
        {
            if (!runtime.Inspect(record).State.IsActive())
            {
                await Task.Run(() => CopyIntoStopped(record, source, sourceName, containerPath, parts, recurse, ct), ct).ConfigureAwait(false);
                return containerPath;
            }
        }
        using var root = OpenRunningRoot(record, "It stopped while the copy began; copy again.");
        // An existing directory receives the source under its own name; otherwise the last component is the new name.
        int parentFd;
        string name;
        try
        {
            parentFd = OpenBeneath((int)root.DangerousGetHandle(), "/" + string.Join('/', parts), O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
            name = sourceName;
        }
        catch (NativeCallException e) when (e.Errno is ENOENT_ or ENOTDIR_ && parts.Count > 0)
        {
            parentFd = OpenInRoot(root, "/" + string.Join('/', parts[..^1]), O_PATH | O_DIRECTORY, record, containerPath);
            name = parts[^1];
        }
        using var parent = new SafeFileHandle(parentFd, ownsHandle: true);
        await Task.Run(() => WriteInto(parent, source, name, recurse, upper: false, ct), ct).ConfigureAwait(false);
        Log.Information("Copied {Source} into container {Name} at {Path}", source, record.Name, containerPath);
        return containerPath;
    }

    /// <summary>
    /// A container that is not running: the path is resolved in the merged view of its upper directory over its layers
    /// (<see cref="ContainedLayers"/>: its symlinks inside its root), the directories on the way are copied up into the
    /// upper directory as overlayfs would, and the source is written there, confined beneath them.
    /// </summary>
    private void CopyIntoStopped(ContainerRecord record, string source, string sourceName, string containerPath, List<string> parts, bool recurse, CancellationToken ct)
    {
        string upperDir = runtime.Store.UpperDir(record.Id);
        Directory.CreateDirectory(upperDir);
        // A volume, bind or tmpfs mounted there at start would hide what was written beneath its mount point.
        CheckNotMounted(record, "/" + string.Join('/', parts), containerPath);
        var layers = new ContainedLayers([upperDir, .. record.LayerDirectories.AsEnumerable().Reverse()]);
        var (dir, name) = layers.ResolveDirectory(parts) is { } d ? (d, sourceName)
            : parts.Count > 0 && layers.ResolveDirectory(parts[..^1]) is { } p ? (p, parts[^1])
            : throw NotFound(record, containerPath);
        string written = "/" + string.Join('/', [.. dir.Parts, name]);
        CheckNotMounted(record, written, containerPath);
        using var upper = new SafeFileHandle(OpenAt(AT_FDCWD, upperDir, O_RDONLY | O_DIRECTORY), ownsHandle: true);
        using var parent = new SafeFileHandle(ContainedLayers.CopyUp((int)upper.DangerousGetHandle(), dir, runtime.Paths.Rootless), ownsHandle: true);
        WriteInto(parent, source, name, recurse, upper: true, ct);
        Log.Information("Copied {Source} into the stopped container {Name} at {Path}", source, record.Name, written);
    }

    private static void CheckNotMounted(ContainerRecord record, string path, string containerPath)
    {
        foreach (var mount in record.Mounts)
        {
            string m = "/" + string.Join('/', LayeredExtract.Clean([], mount.Destination));
            if (path != m && !path.StartsWith(m == "/" ? m : m + "/", StringComparison.Ordinal)) continue;
            throw new ContainersException("CopyTargetIsMounted", ErrorKind.InvalidState,
                $"{path} of container {record.Name} lies under its {mount.Type} mount at {mount.Destination}, which is mounted only while it runs.",
                $"{record.Name}:{containerPath}", mount.Source is null ? "Start the container first." : $"Copy into {mount.Source} on the host, or start the container first.");
        }
    }

    /// <summary>
    /// Writes the host tree at <paramref name="source"/> as <paramref name="name"/> in the directory open at
    /// <paramref name="parent"/>, confined beneath it (RESOLVE_BENEATH: no symlink, no other mount on the way). In an
    /// <paramref name="upper"/> directory, a directory written where the upper had a non-directory (a whiteout, a file)
    /// is marked opaque, as overlayfs marks one made over a whiteout, so what the lower layers have there stays hidden.
    /// </summary>
    private void WriteInto(SafeFileHandle parent, string source, string name, bool recurse, bool upper, CancellationToken ct)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        using var tarFile = new FileStream(Path.Combine(Path.GetTempPath(), ".pscontainers-copy-" + Guid.NewGuid().ToString("N")[..12] + ".tar"),
            new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Options = FileOptions.DeleteOnClose, UnixCreateMode = PrivateStore.FileMode });
        using (var host = new SafeFileHandle(OpenAt(AT_FDCWD, source, O_PATH), ownsHandle: true))
        using (var tar = new LayerTarWriter(tarFile))
            new ContainedTreeWriter(tar, recurse, ct).Write((int)host.DangerousGetHandle(), name);
        int parentFd = (int)parent.DangerousGetHandle();
        tarFile.Position = 0;
        var opaque = upper ? ContainedLayers.HiddenDirectories(parentFd, tarFile) : [];
        tarFile.Position = 0;
        using (var unpacker = new LayerUnpacker("/proc/self/fd/" + parentFd, new LayerUnpackOptions { Rootless = runtime.Paths.Rootless }))
            unpacker.Unpack(tarFile, ct);
        foreach (string dir in opaque) ContainedLayers.MarkOpaque(parentFd, dir, runtime.Paths.Rootless);
    }

    private void WriteContainerTree(ContainerRecord record, string containerPath, List<string> parts, string name, bool recurse, LayerTarWriter tar, string staging, CancellationToken ct)
    {
        var state = runtime.Inspect(record).State;
        if (state.IsActive())
        {
            using var root = OpenRunningRoot(record, null);
            using var source = new SafeFileHandle(OpenInRoot(root, containerPath, O_PATH, record, containerPath), ownsHandle: true);
            new ContainedTreeWriter(tar, recurse, ct).Write((int)source.DangerousGetHandle(), name);
            return;
        }
        // Stopped: its upper directory over its layers; no process of it runs, so nothing can change them meanwhile.
        var dirs = new List<string> { runtime.Store.UpperDir(record.Id) };
        dirs.AddRange(record.LayerDirectories.AsEnumerable().Reverse());
        string? extracted = parts.Count == 0 ? null : LayeredExtract.Extract(dirs, containerPath, staging, runtime.Paths.Rootless, ct);
        if (extracted is null) throw NotFound(record, containerPath);
        using var fd = new SafeFileHandle(OpenAt(AT_FDCWD, extracted, O_PATH | O_NOFOLLOW), ownsHandle: true);
        new ContainedTreeWriter(tar, recurse, ct).Write((int)fd.DangerousGetHandle(), name);
    }

    private SafeFileHandle OpenRunningRoot(ContainerRecord record, string? whenStopped)
    {
        var c = runtime.Inspect(record);
        if (!c.State.IsActive())
            throw new ContainersException("ContainerNotRunning", ErrorKind.InvalidState, $"Container {c} is {c.State.ToString().ToLowerInvariant()}.", c.Name, whenStopped);
        try { return new SafeFileHandle(OpenAt(AT_FDCWD, $"/proc/{c.Pid}/root", O_PATH | O_DIRECTORY), ownsHandle: true); }
        catch (NativeCallException e)
        {
            throw new ContainersException("ContainerNotRunning", ErrorKind.InvalidState, $"The root of container {c} cannot be opened ({e.Message}).", c.Name, whenStopped, e);
        }
    }

    private static int OpenInRoot(SafeFileHandle root, string path, int flags, ContainerRecord record, string shown)
    {
        try { return OpenBeneath((int)root.DangerousGetHandle(), path, flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); }
        catch (NativeCallException e) when (e.Errno is ENOENT_ or ENOTDIR_) { throw NotFound(record, shown); }
    }

    private static ContainersException NotFound(ContainerRecord record, string path) =>
        new("ContainerPathNotFound", ErrorKind.NotFound, $"{path} does not exist in container {record.Name}.", $"{record.Name}:{path}",
            "Check the path with Invoke-ContainerCommand <container> ls.");

    /// <summary>
    /// <c>container:/path</c> as (container, path); (null, text) for a host path. The container part is a container
    /// name or id (letters, digits, <c>_ . -</c>), so a host path such as <c>./a:b</c> or <c>/x:y</c> stays a host path.
    /// </summary>
    public static (string? Container, string Path) ParseSpec(string text)
    {
        int colon = text.IndexOf(':');
        if (colon <= 0) return (null, text);
        string head = text[..colon];
        return NameGenerator.IsValidName(head) ? (head, text[(colon + 1)..]) : (null, text);
    }

    /// <summary>An absolute container path whose <c>..</c> never climbs above the root; its components.</summary>
    internal static List<string> CheckContainerPath(string path, string container)
    {
        if (!path.StartsWith('/'))
            throw new ContainersException("InvalidContainerPath", ErrorKind.InvalidArgument, $"'{path}' in {container}:{path} is not an absolute path.",
                $"{container}:{path}", "Give the container path from its root, e.g. web:/etc/nginx.");
        int depth = 0;
        foreach (string p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            depth += p switch { ".." => -1, "." => 0, _ => 1 };
            if (depth < 0)
                throw new ContainersException("CopyPathEscapesRoot", ErrorKind.InvalidArgument, $"'{path}' climbs above the root of container {container}.",
                    $"{container}:{path}", "Give a path inside the container, without '..' above its root.");
        }
        return LayeredExtract.Clean([], path);
    }
}
