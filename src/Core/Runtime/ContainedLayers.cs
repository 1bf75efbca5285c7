using Containers.Core.Images;
using Containers.Core.Native;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Runtime;

/// <summary>
/// A stopped container's file system as overlayfs would show it (its upper directory over its image layers), looked up
/// without mounting it: for Copy-ContainerItem into a container that is not running. Every lookup is relative to a
/// layer directory's descriptor and never follows a link on the host; the container's own symlinks resolve inside its
/// root as openat2(RESOLVE_IN_ROOT) would (an absolute target starts again at the root, <c>..</c> stops there).
/// Whiteouts hide what is below them, an opaque directory hides the lower ones, a non-directory ends the merge.
/// </summary>
internal sealed class ContainedLayers(IReadOnlyList<string> dirsTopFirst)
{
    private const int MaxLinks = 40;
    private const ulong Beneath = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

    /// <summary>A directory of the merged view: its clean path and, per component, the topmost layer's lstat of it.</summary>
    public sealed record MergedDirectory(List<string> Parts, List<FileStatus> Stats);

    /// <summary>The directory <paramref name="parts"/> leads to, its symlinks followed inside the root; null when it is not one.</summary>
    /// <exception cref="Errors.ContainersException">TooManySymlinks.</exception>
    public MergedDirectory? ResolveDirectory(List<string> parts)
    {
        var target = parts;
        for (int hop = 0; hop <= MaxLinks; hop++)
        {
            var resolved = new List<string>();
            var stats = new List<FileStatus>();
            var layers = dirsTopFirst.Select(d => OpenAt(AT_FDCWD, d, O_PATH | O_DIRECTORY)).ToList();
            try
            {
                List<string>? next = null;
                for (int i = 0; i < target.Count && next is null; i++)
                {
                    var (found, below, link) = Lookup(layers, target[i]);
                    CloseAll(layers);
                    layers = below;
                    if (found is null) return null;
                    if (found.Value.IsSymlink)
                        next = [.. LayeredExtract.Clean(link!.StartsWith('/') ? [] : resolved, link), .. target[(i + 1)..]];
                    else if (!found.Value.IsDirectory) return null;
                    else
                    {
                        resolved.Add(target[i]);
                        stats.Add(found.Value);
                    }
                }
                if (next is null) return new MergedDirectory(resolved, stats);
                target = next;
            }
            finally { CloseAll(layers); }
        }
        throw new Errors.ContainersException("TooManySymlinks", Errors.ErrorKind.InvalidData,
            $"'/{string.Join('/', parts)}' goes through more than {MaxLinks} symbolic links.", "/" + string.Join('/', parts));
    }

    /// <summary>
    /// The merged entry <paramref name="name"/> of the directory whose layers are open at <paramref name="layers"/>
    /// (top first): its topmost lstat (null when absent or whited out), the layers where it is a directory that
    /// shows through, and its target when it is a symlink.
    /// </summary>
    private static (FileStatus? Found, List<int> Below, string? Link) Lookup(List<int> layers, string name)
    {
        var below = new List<int>();
        FileStatus? found = null;
        foreach (int fd in layers)
        {
            if (StatAt(fd, name) is not { } st) continue;
            if (st.IsCharDevice && st.Rdev == 0) break; // a whiteout hides it and everything lower
            if (!st.IsDirectory)
            {
                if (found is not null) break; // a file under a directory: the directory alone shows
                return (st, below, st.IsSymlink ? LinkStat.ReadLink($"/proc/self/fd/{fd}/{name}") : null);
            }
            found ??= st;
            int child = OpenAt(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW);
            below.Add(child);
            if (IsOpaque(child)) break;
        }
        return (found, below, null);
    }

    /// <summary>Whether the directory open at <paramref name="fd"/> is marked opaque (either form).</summary>
    public static bool IsOpaque(int fd) =>
        Xattr(fd, LayerUnpacker.TrustedOpaqueXattr) is [(byte)'y'] || Xattr(fd, LayerUnpacker.UserOpaqueXattr) is [(byte)'y'];

    private static byte[]? Xattr(int fd, string name)
    {
        try { return GetXattr("/proc/self/fd/" + fd, name); }
        catch (NativeCallException) { return null; }
    }

    /// <summary>
    /// Makes <paramref name="dir"/> exist in the upper layer open at <paramref name="upperFd"/>, as overlayfs copies a
    /// directory up: each missing component with the mode and owner the merged view shows. Returns its descriptor.
    /// </summary>
    public static int CopyUp(int upperFd, MergedDirectory dir, bool rootless)
    {
        int cur = OpenAt(upperFd, ".", O_RDONLY | O_DIRECTORY);
        try
        {
            for (int i = 0; i < dir.Parts.Count; i++)
            {
                string name = dir.Parts[i];
                bool made = false;
                if (StatAt(cur, name) is null)
                {
                    MkdirAt(cur, name, 0x1C0);
                    made = true;
                }
                int next = OpenBeneath(cur, name, O_RDONLY | O_DIRECTORY, 0, Beneath);
                Close(cur);
                cur = next;
                if (!made) continue;
                if (!rootless) Fchown(cur, dir.Stats[i].Uid, dir.Stats[i].Gid);
                Fchmod(cur, dir.Stats[i].Mode & 0xFFF);
            }
            return cur;
        }
        catch
        {
            Close(cur);
            throw;
        }
    }

    /// <summary>
    /// The directories of the tar at <paramref name="tar"/> that will be written where the upper directory open at
    /// <paramref name="upperFd"/> has a non-directory (a whiteout, a file, a link): each must become opaque, or the
    /// lower layers' directory there would show through it again.
    /// </summary>
    public static List<string> HiddenDirectories(int upperFd, Stream tar)
    {
        var result = new List<string>();
        var reader = new LayerTarReader(tar);
        while (reader.Next() is { } entry)
        {
            if (entry.Type != LayerEntryType.Directory) continue;
            string[] parts = LayerUnpacker.CleanPath(entry.Name);
            if (parts.Length == 0) continue;
            int dir;
            try { dir = parts.Length == 1 ? OpenAt(upperFd, ".", O_PATH | O_DIRECTORY) : OpenBeneath(upperFd, string.Join('/', parts[..^1]), O_PATH | O_DIRECTORY, 0, Beneath); }
            catch (NativeCallException) { continue; } // not in the upper yet: nothing there hides a lower directory
            try
            {
                if (StatAt(dir, parts[^1]) is { IsDirectory: false }) result.Add(string.Join('/', parts));
            }
            finally { Close(dir); }
        }
        return result;
    }

    /// <summary>Marks the directory <paramref name="path"/> beneath <paramref name="upperFd"/> opaque, in the form the mount reads.</summary>
    public static void MarkOpaque(int upperFd, string path, bool rootless)
    {
        int fd = OpenBeneath(upperFd, path, O_RDONLY | O_DIRECTORY, 0, Beneath);
        try { SetXattr(fd, rootless ? LayerUnpacker.UserOpaqueXattr : LayerUnpacker.TrustedOpaqueXattr, "y"u8); }
        finally { Close(fd); }
    }

    private static void CloseAll(List<int> fds)
    {
        foreach (int fd in fds) Close(fd);
        fds.Clear();
    }
}
