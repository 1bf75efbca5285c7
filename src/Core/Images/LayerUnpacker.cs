using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Native;
using Microsoft.Win32.SafeHandles;
using Serilog;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Images;

/// <summary>How a layer is unpacked.</summary>
internal sealed record LayerUnpackOptions
{
    /// <summary>
    /// Rootless: ownership is not applied, device nodes are skipped with a warning and opaque
    /// directories get <c>user.overlay.opaque</c> (what overlayfs reads when mounted with <c>userxattr</c>)
    /// instead of <c>trusted.overlay.opaque</c>.
    /// </summary>
    public bool Rootless { get; init; } = !Identity.IsRoot;
}

/// <summary>
/// Unpacks one layer tar into a directory in overlayfs form, confined to that directory: every
/// path is resolved beneath the layer root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so
/// no entry, link or whiteout can reach outside it, not even through a symlink the same tar made.
/// </summary>
internal sealed class LayerUnpacker : IDisposable
{
    public const string WhiteoutPrefix = ".wh.";
    public const string OpaqueMarker = ".wh..wh..opq";
    public const string TrustedOpaqueXattr = "trusted.overlay.opaque";
    public const string UserOpaqueXattr = "user.overlay.opaque";
    private const ulong Beneath = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

    private static readonly ILogger Log = ModuleLog.For<LayerUnpacker>();
    private readonly string _root;
    private readonly int _rootFd;
    private readonly LayerUnpackOptions _options;
    private readonly List<(string Path, uint Mode, DateTimeOffset Mtime)> _directories = [];
    private byte[]? _buffer;
    private string? _cachedParent;
    private int _cachedParentFd = -1;

    public LayerUnpacker(string layerDirectory, LayerUnpackOptions? options = null)
    {
        _root = Path.GetFullPath(layerDirectory);
        try { _rootFd = OpenAt(AT_FDCWD, _root, O_RDONLY | O_DIRECTORY); }
        catch (NativeCallException e) when (e.Errno == ENOENT_)
        {
            Directory.CreateDirectory(_root);
            _rootFd = OpenAt(AT_FDCWD, _root, O_RDONLY | O_DIRECTORY);
        }
        _options = options ?? new LayerUnpackOptions();
    }

    /// <summary>Called with each entry as it is read, before its data (the store records its tar-split here).</summary>
    public Action<LayerTarEntry>? EntryRead { get; init; }

    /// <summary>Start the disk writes of a big file's data while it is written (the store's barrier then has less to wait for).</summary>
    public bool EarlyWriteback { get; init; }

    /// <summary>How much of a file is written before its writeback is started.</summary>
    private const long WritebackBytes = 4L << 20;

    /// <summary>Entries written (for logging and tests).</summary>
    public int Entries { get; private set; }
    /// <summary>Warnings raised (device nodes skipped rootless, xattrs refused by the file system).</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Reads the tar stream to its end and writes every entry; directory modes and times are applied last.</summary>
    public void Unpack(Stream tar, CancellationToken cancellationToken = default)
    {
        var reader = new LayerTarReader(tar);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LayerTarEntry? entry;
            try { entry = reader.Next(); }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                throw Invalid("LayerMalformed", $"The layer is not a valid tar stream: {e.Message}", null, e);
            }
            if (entry is null) break;
            EntryRead?.Invoke(entry);
            try { Write(entry); }
            catch (InvalidDataException e)
            {
                // The entry's data ended early: a truncated stream.
                throw Invalid("LayerMalformed", $"The layer is not a valid tar stream: {e.Message}", entry.Name, e);
            }
            catch (NativeCallException e)
            {
                throw new ContainersException(e.Errno == 28 ? "DiskFull" : "LayerUnpackFailed", e.Errno == 28 ? ErrorKind.ResourceUnavailable : ErrorKind.InvalidData,
                    $"Cannot unpack the layer entry '{entry.Name}': {e.Message}", entry.Name, null, e);
            }
            Entries++;
        }
        FinishDirectories();
    }

    private void Write(LayerTarEntry entry)
    {
        string[] parts = CleanPath(entry.Name);
        if (entry.Uid >= uint.MaxValue || entry.Gid >= uint.MaxValue)
            // chown(2) reads (uid_t)-1 as "leave unchanged" and truncates larger ids: neither is the owner the entry names.
            throw Invalid("LayerOwnerOutOfRange", $"The layer entry '{entry.Name}' is owned by {entry.Uid}:{entry.Gid}, beyond the ids Linux has.", entry.Name);
        if (parts.Length == 0)
        {
            // "./" itself: the layer root takes the entry's owner, xattrs, mode and time, as for any directory.
            if (entry.Type != LayerEntryType.Directory)
                throw Invalid("LayerMalformed", $"The layer's root entry '{entry.Name}' is not a directory.", entry.Name);
            Own(_rootFd, entry);
            SetXattrs(_rootFd, entry);
            _directories.Add(("", entry.Mode & 0xFFF, entry.ModificationTime));
            return;
        }
        string name = parts[^1];
        string parentPath = string.Join('/', parts[..^1]);
        if (parts.Any(p => p.StartsWith(WhiteoutPrefix + WhiteoutPrefix, StringComparison.Ordinal) && p != OpaqueMarker))
        {
            // aufs metadata (.wh..wh.plnk/..., .wh..wh.aufs): meaningless for overlayfs, skipped as docker does.
            Warn($"Skipped the aufs metadata entry '{entry.Name}'.");
            return;
        }

        if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            int pfdW = OpenParent(parentPath, entry.Name);
            if (name == OpaqueMarker)
            {
                MarkOpaque(pfdW, parentPath);
                return;
            }
            string hidden = name[WhiteoutPrefix.Length..];
            if (hidden.Length == 0 || hidden is "." or ".." || hidden.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
                throw Invalid("LayerInvalidWhiteout", $"'{entry.Name}' is not a valid whiteout.", entry.Name);
            RemoveExisting(pfdW, parentPath, hidden);
            try
            {
                MknodAt(pfdW, hidden, S_IFCHR, 0);
                // The marker keeps the entry's time, so a layer written back from this tree (commit) is the same.
                SetTimesAt(pfdW, hidden, AccessTime(entry), entry.ModificationTime);
            }
            catch (NativeCallException e)
            {
                throw new ContainersException("LayerWhiteoutFailed", ErrorKind.PermissionDenied,
                    $"Cannot create the overlay whiteout for '{Join(parentPath, hidden)}': {e.Message}", entry.Name, null, e);
            }
            return;
        }

        int pfd = OpenParent(parentPath, entry.Name);
        uint perm = entry.Mode & 0xFFF;
        switch (entry.Type)
        {
            case LayerEntryType.Directory:
            {
                var existing = StatAt(pfd, name);
                if (existing is { IsDirectory: true }) { }
                else
                {
                    if (existing is not null) RemoveExisting(pfd, parentPath, name);
                    MkdirAt(pfd, name, 0x1C0 /* 0700 */);
                }
                int dfd = OpenAt(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                try
                {
                    Own(dfd, entry);
                    SetXattrs(dfd, entry);
                }
                finally { Close(dfd); }
                _directories.Add((Join(parentPath, name), perm, entry.ModificationTime));
                break;
            }
            case LayerEntryType.RegularFile:
            {
                RemoveExisting(pfd, parentPath, name);
                int fd = OpenAt(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0x180 /* 0600 */);
                using (var handle = new SafeFileHandle(fd, ownsHandle: true))
                {
                    if (entry.Size > 0)
                    {
                        var buffer = _buffer ??= System.Buffers.ArrayPool<byte>.Shared.Rent(128 * 1024);
                        long offset = 0, started = 0;
                        int n;
                        while ((n = entry.Data.Read(buffer, 0, buffer.Length)) > 0)
                        {
                            RandomAccess.Write(handle, buffer.AsSpan(0, n), offset);
                            offset += n;
                            if (EarlyWriteback && offset - started >= WritebackBytes)
                            {
                                StartWriteback(fd, started, offset - started);
                                started = offset;
                            }
                        }
                    }
                    int raw = (int)handle.DangerousGetHandle();
                    Own(raw, entry);
                    Fchmod(raw, perm);
                    SetXattrs(raw, entry);
                    SetTimes(raw, AccessTime(entry), entry.ModificationTime);
                }
                break;
            }
            case LayerEntryType.SymbolicLink:
            {
                RemoveExisting(pfd, parentPath, name);
                // Stored as written; it is only ever resolved inside the container's root.
                SymlinkAt(entry.LinkName, pfd, name);
                if (!_options.Rootless) FchownAt(pfd, name, (uint)entry.Uid, (uint)entry.Gid);
                SetTimesAt(pfd, name, AccessTime(entry), entry.ModificationTime);
                break;
            }
            case LayerEntryType.HardLink:
            {
                string[] target = CleanPath(entry.LinkName);
                if (target.Length == 0) throw Invalid("LayerInvalidHardlink", $"The hardlink '{entry.Name}' has no target.", entry.Name);
                string targetParent = string.Join('/', target[..^1]);
                int tfd = OpenBeneath(targetParent, entry.LinkName, create: false);
                try
                {
                    var st = StatAt(tfd, target[^1]);
                    if (st is null)
                        throw Invalid("LayerHardlinkTargetMissing",
                            $"The hardlink '{entry.Name}' points at '{entry.LinkName}', which is not in this layer.", entry.Name);
                    if (st.Value.IsDirectory)
                        throw Invalid("LayerInvalidHardlink", $"The hardlink '{entry.Name}' points at a directory.", entry.Name);
                    var mine = StatAt(pfd, name);
                    if (mine is { } m && m.Inode == st.Value.Inode && m.Device == st.Value.Device) break;
                    RemoveExisting(pfd, parentPath, name);
                    LinkAt(tfd, target[^1], pfd, name);
                }
                finally { if (tfd != _rootFd && tfd != _cachedParentFd) Close(tfd); }
                break;
            }
            case LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice:
            {
                if (_options.Rootless)
                {
                    Warn($"Skipped the device node '{Join(parentPath, name)}' ({entry.DeviceMajor}:{entry.DeviceMinor}): device nodes need root.");
                    break;
                }
                RemoveExisting(pfd, parentPath, name);
                uint type = entry.Type == LayerEntryType.CharacterDevice ? S_IFCHR : S_IFBLK;
                MknodAt(pfd, name, type | perm, MakeDev(entry.DeviceMajor, entry.DeviceMinor));
                FinishSpecial(pfd, name, entry, perm);
                break;
            }
            case LayerEntryType.Fifo:
            {
                RemoveExisting(pfd, parentPath, name);
                MknodAt(pfd, name, S_IFIFO | perm, 0);
                FinishSpecial(pfd, name, entry, perm);
                break;
            }
            default:
                throw new ContainersException("LayerEntryNotSupported", ErrorKind.NotSupported,
                    $"The layer entry '{entry.Name}' has the unsupported type '{entry.TypeFlag}'.", entry.Name);
        }
    }

    private void FinishSpecial(int pfd, string name, LayerTarEntry entry, uint perm)
    {
        if (!_options.Rootless) FchownAt(pfd, name, (uint)entry.Uid, (uint)entry.Gid);
        FchmodAt(pfd, name, perm);
        SetTimesAt(pfd, name, AccessTime(entry), entry.ModificationTime);
    }

    private static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    private static DateTimeOffset AccessTime(LayerTarEntry entry) => entry.AccessTime ?? entry.ModificationTime;

    private void Own(int fd, LayerTarEntry entry)
    {
        if (_options.Rootless) return;
        Fchown(fd, (uint)entry.Uid, (uint)entry.Gid);
    }

    private void SetXattrs(int fd, LayerTarEntry entry)
    {
        foreach (var (name, bytes) in entry.Xattrs)
        {
            // A layer must not smuggle in overlayfs' own metadata (redirects, opaque marks, metacopy).
            if (name.StartsWith("trusted.overlay.", StringComparison.Ordinal) || name.StartsWith("user.overlay.", StringComparison.Ordinal))
            {
                Warn($"Ignored the overlay xattr {name} on '{entry.Name}'.");
                continue;
            }
            if (_options.Rootless && !name.StartsWith("user.", StringComparison.Ordinal))
            {
                Warn($"Skipped the xattr {name} on '{entry.Name}': only user.* xattrs can be set rootless.");
                continue;
            }
            try { SetXattr(fd, name, bytes); }
            catch (NativeCallException e) { Warn($"Could not set the xattr {name} on '{entry.Name}': {e.Message}"); }
        }
    }

    private void MarkOpaque(int dirFd, string path)
    {
        string xattr = _options.Rootless ? UserOpaqueXattr : TrustedOpaqueXattr;
        try { SetXattr(dirFd, xattr, "y"u8); }
        catch (NativeCallException e)
        {
            throw new ContainersException("LayerOpaqueFailed", ErrorKind.PermissionDenied,
                $"Cannot mark '{(path.Length == 0 ? "/" : path)}' opaque with {xattr}: {e.Message}", path, null, e);
        }
    }

    /// <summary>Whether an unpacked layer's root carries the opaque mark (either form).</summary>
    public static bool RootIsOpaque(string layerDirectory) =>
        FileSystemCalls.GetXattr(layerDirectory, TrustedOpaqueXattr) is [(byte)'y'] || FileSystemCalls.GetXattr(layerDirectory, UserOpaqueXattr) is [(byte)'y'];

    private void Warn(string message)
    {
        Warnings.Add(message);
        Log.Warning("{Message}", message);
    }

    /// <summary>
    /// Splits a tar name into clean components. Leading "/" and "./" are dropped (names are relative to
    /// the layer root, as tar -x takes them); any ".." component is refused outright.
    /// </summary>
    public static string[] CleanPath(string name)
    {
        var parts = new List<string>();
        foreach (string part in name.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..")
                throw Invalid("LayerPathEscapes", $"The layer entry '{name}' climbs out of the layer with '..'.", name);
            if (part.Contains('\0'))
                throw Invalid("LayerMalformed", "A layer entry name contains a NUL byte.", name);
            parts.Add(part);
        }
        return [.. parts];
    }

    private int OpenParent(string parentPath, string entryName)
    {
        if (parentPath.Length == 0) return _rootFd;
        if (_cachedParent == parentPath) return _cachedParentFd;
        int fd = OpenBeneath(parentPath, entryName, create: true);
        DropCache();
        _cachedParent = parentPath;
        _cachedParentFd = fd;
        return fd;
    }

    private void DropCache()
    {
        if (_cachedParentFd >= 0) Close(_cachedParentFd);
        _cachedParentFd = -1;
        _cachedParent = null;
    }

    /// <summary>Opens a directory beneath the root, refusing symlinks on the way; creates missing components when asked.</summary>
    private int OpenBeneath(string relative, string entryName, bool create)
    {
        if (relative.Length == 0) return _rootFd;
        try
        {
            return FileSystemCalls.OpenBeneath(_rootFd, relative, O_RDONLY | O_DIRECTORY, 0, Beneath);
        }
        catch (NativeCallException e) when (e.Errno == ENOENT_ && create)
        {
            // Walk component by component, creating what is missing (tars may omit parent directories).
            int cur = _rootFd;
            foreach (string part in relative.Split('/'))
            {
                int next;
                try { next = FileSystemCalls.OpenBeneath(cur, part, O_RDONLY | O_DIRECTORY, 0, Beneath); }
                catch (NativeCallException inner) when (inner.Errno == ENOENT_)
                {
                    MkdirAt(cur, part, 0x1ED /* 0755 */);
                    next = FileSystemCalls.OpenBeneath(cur, part, O_RDONLY | O_DIRECTORY, 0, Beneath);
                }
                catch (NativeCallException inner)
                {
                    if (cur != _rootFd) Close(cur);
                    throw Translate(inner, entryName);
                }
                if (cur != _rootFd) Close(cur);
                cur = next;
            }
            return cur;
        }
        catch (NativeCallException e)
        {
            throw Translate(e, entryName);
        }
    }

    private static ContainersException Translate(NativeCallException e, string entryName) => e.Errno switch
    {
        ELOOP_ or EXDEV_ => Invalid("LayerEntryThroughSymlink",
            $"The layer entry '{entryName}' would be written through a symbolic link; refused to keep the layer confined.", entryName, e),
        ENOTDIR_ => Invalid("LayerPathNotDirectory", $"A parent of the layer entry '{entryName}' is not a directory.", entryName, e),
        ENOENT_ => Invalid("LayerHardlinkTargetMissing", $"The layer entry '{entryName}' refers to a path that is not in this layer.", entryName, e),
        _ => Invalid("LayerUnpackFailed", $"Cannot unpack '{entryName}': {e.Message}", entryName, e),
    };

    /// <summary>Removes whatever this layer already has at name (a directory with its contents).</summary>
    private void RemoveExisting(int pfd, string parentPath, string name)
    {
        var st = StatAt(pfd, name);
        if (st is null) return;
        if (!st.Value.IsDirectory)
        {
            UnlinkAt(pfd, name, directory: false);
            return;
        }
        string prefix = Join(parentPath, name) + "/";
        // The cached parent is pfd's own path or elsewhere; drop it only when it lies inside what goes away.
        if (_cachedParent is not null && (_cachedParent + "/").StartsWith(prefix, StringComparison.Ordinal)) DropCache();
        // By descriptor from pfd, never by path: the tree may be a running container's (Copy-ContainerItem), whose
        // process can swap a directory on the way for a symlink out of its root between our lookups.
        FileSystem.DirectoryTree.DeleteAt(pfd, name);
        _directories.RemoveAll(d => d.Path == Join(parentPath, name) || d.Path.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    private void FinishDirectories()
    {
        DropCache();
        // Deepest first, so setting a parent read-only never blocks a child, and children's times settle first.
        foreach (var (path, mode, mtime) in _directories.OrderByDescending(d => d.Path.Count(c => c == '/')))
        {
            int fd;
            if (path.Length == 0)
            {
                Fchmod(_rootFd, mode);
                SetTimes(_rootFd, mtime, mtime);
                continue;
            }
            try { fd = FileSystemCalls.OpenBeneath(_rootFd, path, O_RDONLY | O_DIRECTORY, 0, Beneath); }
            catch (NativeCallException) { continue; } // replaced later in the tar by a non-directory
            try
            {
                Fchmod(fd, mode);
                SetTimes(fd, mtime, mtime);
            }
            finally { Close(fd); }
        }
        _directories.Clear();
    }

    private static ContainersException Invalid(string id, string message, string? target, Exception? inner = null) =>
        new(id, ErrorKind.InvalidData, message, target, "The layer is malformed or malicious; get the image from a source you trust.", inner);

    public void Dispose()
    {
        DropCache();
        Close(_rootFd);
        if (_buffer is not null) System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }
}
