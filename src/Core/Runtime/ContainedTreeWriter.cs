using Containers.Core.Images;
using Containers.Core.Native;
using Microsoft.Win32.SafeHandles;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Runtime;

/// <summary>
/// Writes a tree as tar entries by file descriptor, never by path: every child is opened with O_PATH|O_NOFOLLOW relative
/// to its parent's descriptor, so a running container that swaps a directory for a symlink while it is read cannot send
/// the walk out of its root (a path walk would follow it on the host). Symlinks are written as links (their target is
/// text), hard links once, modes, owners, times and xattrs as they are; sockets are skipped.
/// </summary>
internal sealed class ContainedTreeWriter(LayerTarWriter tar, bool recurse, CancellationToken ct)
{
    private readonly Dictionary<(ulong Dev, ulong Ino), string> _links = [];

    /// <summary>Writes the tree at <paramref name="fd"/> (an O_PATH descriptor, already resolved) under <paramref name="name"/>.</summary>
    public void Write(int fd, string name) => Entry(fd, name, parentFd: -1, childName: null);

    private void Entry(int fd, string name, int parentFd, string? childName)
    {
        ct.ThrowIfCancellationRequested();
        var st = StatFd(fd);
        string self = "/proc/self/fd/" + fd;
        var header = new LayerTarHeader
        {
            Name = name, Mode = st.Mode & 0xFFF, Uid = st.Uid, Gid = st.Gid,
            MtimeSeconds = st.IsSymlink ? 0 : new DateTimeOffset(File.GetLastWriteTimeUtc(self)).ToUnixTimeSeconds(),
            Xattrs = st.IsSymlink ? [] : Xattrs(self),
        };
        switch (st.Type)
        {
            case S_IFDIR:
                tar.Write(header with { Name = name + "/", Type = LayerTarType.Directory });
                if (!recurse) return;
                foreach (string child in Directory.EnumerateFileSystemEntries(self).Select(Path.GetFileName).Order(StringComparer.Ordinal)!)
                {
                    int cfd;
                    try { cfd = OpenAt(fd, child!, O_PATH | O_NOFOLLOW); }
                    catch (NativeCallException e) when (e.Errno == ENOENT_) { continue; } // gone while we read
                    try { Entry(cfd, name + "/" + child, fd, child); }
                    finally { Close(cfd); }
                }
                return;
            case S_IFLNK:
                // The parent's descriptor, then the name: readlink does not follow the last component.
                tar.Write(header with { Type = LayerTarType.Symlink, LinkName = LinkStat.ReadLink("/proc/self/fd/" + parentFd + "/" + childName) });
                return;
            case S_IFREG:
                if (st.Links > 1)
                {
                    if (_links.TryGetValue((st.Device, st.Inode), out string? first))
                    {
                        tar.Write(header with { Type = LayerTarType.HardLink, LinkName = first });
                        return;
                    }
                    _links[(st.Device, st.Inode)] = name;
                }
                // Reopen the inode already resolved; O_NONBLOCK and O_NOCTTY in case it changed type since.
                using (var file = new SafeFileHandle(OpenAt(AT_FDCWD, self, O_RDONLY | O_NONBLOCK | O_NOCTTY), ownsHandle: true))
                using (var data = new FileStream(file, FileAccess.Read, 1 << 16))
                {
                    var opened = StatFd((int)file.DangerousGetHandle());
                    if (!opened.IsRegular) return;
                    tar.Write(header with { Size = opened.Size }, data);
                }
                return;
            case S_IFCHR or S_IFBLK:
                tar.Write(header with
                {
                    Type = st.Type == S_IFCHR ? LayerTarType.CharDevice : LayerTarType.BlockDevice,
                    DevMajor = (uint)(((st.Rdev >> 32) & 0xFFFFF000) | ((st.Rdev >> 8) & 0xFFF)),
                    DevMinor = (uint)(((st.Rdev >> 12) & 0xFFFFFF00) | (st.Rdev & 0xFF)),
                });
                return;
            case S_IFIFO:
                tar.Write(header with { Type = LayerTarType.Fifo });
                return;
            default:
                return; // sockets
        }
    }

    private static List<(string, byte[])> Xattrs(string path)
    {
        var result = new List<(string, byte[])>();
        try
        {
            foreach (string x in ListXattrs(path).Order(StringComparer.Ordinal))
            {
                if (x.StartsWith("trusted.overlay.", StringComparison.Ordinal) || x.StartsWith("user.overlay.", StringComparison.Ordinal)) continue;
                try { if (GetXattr(path, x) is { } v) result.Add((x, v)); }
                catch (NativeCallException) { } // not ours to read (trusted.* rootless)
            }
        }
        catch (NativeCallException) { } // a file system without xattrs
        return result;
    }
}
