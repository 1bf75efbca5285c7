using Containers.Core.Errors;
using Containers.Core.Native;

namespace Containers.Core.Runtime;

/// <summary>
/// Remove-ContainerItem: deletes a host file or tree, also when a rootless container filled it (a bind mount) with files
/// of its subordinate ids, which this user cannot unlink. What the user cannot delete itself is deleted by root of a new
/// user namespace with the user's own maps (<c>podman unshare rm -rf</c>): it can only touch files of ids mapped to
/// this user, never another user's.
/// </summary>
internal sealed class HostTreeRemover(ContainerRuntime runtime)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<HostTreeRemover>();

    /// <summary>The full path that <see cref="Remove"/> would delete; ItemNotFound or InvalidItemPath before anything changes.</summary>
    public static string Check(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (full == "/" || full.Length == 0)
            throw new ContainersException("InvalidItemPath", ErrorKind.InvalidArgument, "The root directory cannot be removed.", path);
        if (LinkStat.Get(full) is null)
            throw new ContainersException("ItemNotFound", ErrorKind.NotFound, $"{full} does not exist.", path);
        return full;
    }

    public void Remove(string path)
    {
        string full = Check(path);
        if (LinkStat.Get(full) is not { Type: FileSystemCalls.S_IFDIR })
        {
            File.Delete(full); // a file, or a symlink (itself, never its target)
            return;
        }
        try { FileSystem.DirectoryTree.Delete(full); }
        catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && runtime.Paths.Rootless)
        {
            Log.Debug("Deleting {Dir} as this user failed ({Reason}); deleting it in a user namespace with the user's id maps", full, e.Message);
            var maps = runtime.IdMaps.For(0, 0);
            try { runtime.RemoveTreeInUserNamespace(full, maps.Uid, maps.Gid); }
            catch (IOException inner)
            {
                throw new ContainersException("ItemRemoveFailed", ErrorKind.PermissionDenied, $"{full} could not be deleted, even in a user namespace: {inner.Message}",
                    path, "Files of ids outside your subordinate ranges belong to someone else; ask the administrator.", inner);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersException("ItemRemoveFailed", ErrorKind.PermissionDenied, $"{full} could not be deleted: {e.Message}", path, null, e);
        }
        Log.Information("Removed {Path}", full);
    }
}
