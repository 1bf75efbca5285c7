using Containers.Core.Errors;
using Containers.Core.Native;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Images;

/// <summary>What <see cref="LayeredTreeWriter"/> writes.</summary>
internal enum LayeredTreeMode
{
    /// <summary>A layer in OCI form: overlay whiteouts become <c>.wh.name</c> files and opaque directories get <c>.wh..wh..opq</c>.</summary>
    Layer,
    /// <summary>The merged file system: whiteouts hide what is below them and are not written.</summary>
    Flat,
}

/// <summary>
/// Writes one or more directories in overlayfs form (a container's upper dir, unpacked store layers),
/// stacked top first as overlayfs stacks them, as a single tar. With one directory in Layer mode this is
/// a container's diff (what <c>podman commit</c> writes); with several, layers merged into one; in Flat
/// mode, the container's root file system. Overlay whiteouts are 0:0 character devices; an opaque
/// directory has <c>trusted.overlay.opaque</c> (or <c>user.overlay.opaque</c> when mounted with userxattr)
/// set to "y". Overlay's own xattrs are never written. Entries come in name order, so the same tree
/// always gives the same tar.
/// </summary>
internal sealed class LayeredTreeWriter
{
    private readonly List<string> _dirs;
    private readonly LayeredTreeMode _mode;
    private readonly Func<uint, uint> _uid, _gid;
    private readonly string _prefix;
    private readonly Func<string, LinkStatus, bool>? _include;
    private readonly uint? _fileMode;
    private readonly Dictionary<(ulong Dev, ulong Ino), string> _links = [];
    private LayerTarWriter _tar = null!;
    private CancellationToken _ct;

    /// <param name="dirsTopFirst">The directories, the topmost (the one that wins) first.</param>
    /// <param name="uidMap">Maps owners on disk to owners in the image (a rootless container's host ids); identity when null.</param>
    /// <param name="prefix">Written before every name (a COPY destination, e.g. "app/").</param>
    /// <param name="include">Which entries (relative path, stat) to write; a directory left out is left out whole.</param>
    /// <param name="fileMode">Replaces the permission bits of every entry (COPY --chmod).</param>
    public LayeredTreeWriter(IReadOnlyList<string> dirsTopFirst, LayeredTreeMode mode, Func<uint, uint>? uidMap = null, Func<uint, uint>? gidMap = null,
        string prefix = "", Func<string, LinkStatus, bool>? include = null, uint? fileMode = null)
    {
        _prefix = prefix;
        _include = include;
        _fileMode = fileMode;
        if (dirsTopFirst.Count == 0) throw new ArgumentException("No directory to write.", nameof(dirsTopFirst));
        _dirs = dirsTopFirst.Select(Path.GetFullPath).ToList();
        _mode = mode;
        _uid = uidMap ?? (u => u);
        _gid = gidMap ?? (g => g);
    }

    /// <summary>Writes the tree as entries of <paramref name="tar"/> (the caller finishes the archive).</summary>
    public void Write(LayerTarWriter tar, CancellationToken cancellationToken = default)
    {
        _tar = tar;
        _ct = cancellationToken;
        _links.Clear();
        WriteChildren("", Enumerable.Range(0, _dirs.Count).ToList());
    }

    /// <summary>Writes the children of the directory <paramref name="rel"/> as seen through the given layers (top first).</summary>
    private void WriteChildren(string rel, List<int> layers)
    {
        _ct.ThrowIfCancellationRequested();
        // name -> (topmost layer that has it, its stat); lower copies of a name are hidden by the topmost one.
        var seen = new SortedDictionary<string, (int Layer, LinkStatus Stat)>(StringComparer.Ordinal);
        foreach (int layer in layers)
        {
            string dir = Path.Combine(_dirs[layer], rel);
            IEnumerable<string> names;
            try { names = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName)!; }
            catch (DirectoryNotFoundException) { continue; }
            foreach (string name in names)
            {
                if (seen.ContainsKey(name)) continue;
                if (LinkStat.Get(Path.Combine(dir, name)) is { } st) seen[name] = (layer, st);
            }
        }
        foreach (var (name, (layer, st)) in seen)
        {
            string childRel = rel.Length == 0 ? name : rel + "/" + name;
            string path = Path.Combine(_dirs[layer], childRel);
            if (_include is not null && !_include(childRel, st)) continue;
            if (IsWhiteout(st))
            {
                if (_mode == LayeredTreeMode.Layer)
                    _tar.Write(new LayerTarHeader { Name = _prefix + Join(rel, LayerUnpacker.WhiteoutPrefix + name), Mode = 0, MtimeSeconds = st.MtimeSeconds });
                continue;
            }
            if (st.Type == S_IFDIR)
            {
                if (GetXattrOrNull(path, "trusted.overlay.redirect") is not null || GetXattrOrNull(path, "user.overlay.redirect") is not null)
                    throw new ContainersException("OverlayRedirectUnsupported", ErrorKind.NotSupported,
                        $"'{childRel}' is a renamed directory (overlay redirect_dir); it cannot be written as a layer.", childRel,
                        "Mount overlay without redirect_dir (the module never enables it).");
                WriteEntry(childRel + "/", path, st);
                bool opaque = IsOpaque(path);
                if (opaque && _mode == LayeredTreeMode.Layer)
                    _tar.Write(new LayerTarHeader { Name = _prefix + childRel + "/" + LayerUnpacker.OpaqueMarker, Mode = 0, MtimeSeconds = st.MtimeSeconds });
                // The same directory in lower layers shows through, down to an opaque one or a non-directory.
                var below = new List<int> { layer };
                if (!opaque)
                {
                    foreach (int lower in layers.Where(l => l > layer))
                    {
                        string lowerPath = Path.Combine(_dirs[lower], childRel);
                        var ls = LinkStat.Get(lowerPath);
                        if (ls is null) continue;
                        if (ls.Value.Type != S_IFDIR) break; // a file or whiteout there hides everything lower
                        below.Add(lower);
                        if (IsOpaque(lowerPath)) break;
                    }
                }
                WriteChildren(childRel, below);
                continue;
            }
            WriteEntry(childRel, path, st);
        }
    }

    private void WriteEntry(string name, string path, LinkStatus st)
    {
        name = _prefix + name;
        var header = new LayerTarHeader
        {
            Name = name, Mode = _fileMode ?? st.Permissions, Uid = _uid(st.Uid), Gid = _gid(st.Gid), MtimeSeconds = st.MtimeSeconds, Xattrs = Xattrs(path),
        };
        switch (st.Type)
        {
            case S_IFDIR:
                _tar.Write(header with { Type = LayerTarType.Directory });
                return;
            case S_IFLNK:
                _tar.Write(header with { Type = LayerTarType.Symlink, LinkName = LinkStat.ReadLink(path) });
                return;
            case S_IFCHR or S_IFBLK:
                _tar.Write(header with { Type = st.Type == S_IFCHR ? LayerTarType.CharDevice : LayerTarType.BlockDevice, DevMajor = st.RdevMajor, DevMinor = st.RdevMinor });
                return;
            case S_IFIFO:
                _tar.Write(header with { Type = LayerTarType.Fifo });
                return;
            case S_IFREG:
                if (st.Links > 1)
                {
                    if (_links.TryGetValue((st.Device, st.Inode), out string? first))
                    {
                        _tar.Write(header with { Type = LayerTarType.HardLink, LinkName = first });
                        return;
                    }
                    _links[(st.Device, st.Inode)] = name;
                }
                using (var data = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16))
                    _tar.Write(header with { Size = st.Size }, data);
                return;
            default:
                return; // sockets: nothing a layer can carry
        }
    }

    private static bool IsWhiteout(LinkStatus st) => st.Type == S_IFCHR && st.Rdev == 0;

    private static bool IsOpaque(string path) =>
        GetXattrOrNull(path, LayerUnpacker.TrustedOpaqueXattr) is [(byte)'y'] || GetXattrOrNull(path, LayerUnpacker.UserOpaqueXattr) is [(byte)'y'];

    private static byte[]? GetXattrOrNull(string path, string name)
    {
        try { return GetXattr(path, name); }
        catch (NativeCallException) { return null; } // EPERM reading trusted.* rootless: not ours to see
    }

    /// <summary>The file's xattrs, overlay's own excepted.</summary>
    private static List<(string, byte[])> Xattrs(string path)
    {
        var result = new List<(string, byte[])>();
        foreach (string x in ListXattrs(path).Order(StringComparer.Ordinal))
        {
            if (x.StartsWith("trusted.overlay.", StringComparison.Ordinal) || x.StartsWith("user.overlay.", StringComparison.Ordinal)) continue;
            if (GetXattrOrNull(path, x) is { } value) result.Add((x, value));
        }
        return result;
    }

    private static string Join(string rel, string name) => rel.Length == 0 ? name : rel + "/" + name;
}
