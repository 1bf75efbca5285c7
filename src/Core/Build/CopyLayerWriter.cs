using Containers.Core.Images;
using Containers.Core.Native;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Build;

/// <summary>
/// Writes the layer of a COPY or ADD: the destination's parent directories with the metadata they have in
/// the stage (so a copy into /tmp does not turn it into 0755), then the sources under the destination.
/// </summary>
internal sealed class CopyLayerWriter(LayerTarWriter tar, IReadOnlyList<string> stageLayersTopFirst, long newDirectoryTime)
{
    private readonly HashSet<string> _dirsWritten = new(StringComparer.Ordinal);

    /// <summary>Owner for every entry (--chown, or root for context files); null keeps the source's.</summary>
    public (uint Uid, uint Gid)? Owner { get; init; }
    /// <summary>Permission bits for every entry (--chmod).</summary>
    public uint? Mode { get; init; }
    /// <summary>Which context-relative entries a directory source may contribute (the ignore file).</summary>
    public Func<string, bool>? Include { get; init; }
    /// <summary>The directory Include's paths are relative to.</summary>
    public string? IncludeRoot { get; init; }

    /// <summary>Copies a directory's contents into destDir (relative, no leading slash; "" is the root).</summary>
    public void CopyDirectory(string source, string destDir)
    {
        WriteDirectoryChain(destDir);
        Func<uint, uint>? uid = Owner is { } o ? _ => o.Uid : null, gid = Owner is { } g ? _ => g.Gid : null;
        Func<string, LinkStatus, bool>? include = Include is null ? null : (rel, _) => Include(Path.GetRelativePath(IncludeRoot!, Path.Combine(source, rel)));
        new LayeredTreeWriter([source], LayeredTreeMode.Flat, uid, gid, destDir.Length == 0 ? "" : destDir + "/", include, Mode).Write(tar);
    }

    /// <summary>Copies one file, symlink or other non-directory to destPath (relative).</summary>
    public void CopyFile(string source, string destPath)
    {
        WriteDirectoryChain(Parent(destPath));
        var st = LinkStat.Get(source) ?? throw new FileNotFoundException(source);
        var h = new LayerTarHeader
        {
            Name = destPath, Mode = Mode ?? st.Permissions, Uid = Owner?.Uid ?? st.Uid, Gid = Owner?.Gid ?? st.Gid, MtimeSeconds = st.MtimeSeconds,
        };
        if (st.Type == S_IFLNK) tar.Write(h with { Type = LayerTarType.Symlink, LinkName = LinkStat.ReadLink(source) });
        else if (st.Type == S_IFREG)
        {
            using var data = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            tar.Write(h with { Size = st.Size }, data);
        }
    }

    /// <summary>Unpacks an archive's entries under destDir (ADD of a local tar).</summary>
    public void Extract(Stream archive, string destDir)
    {
        WriteDirectoryChain(destDir);
        string prefix = destDir.Length == 0 ? "" : destDir + "/";
        var reader = new LayerTarReader(archive);
        while (reader.Next() is { } e)
        {
            string name = string.Join('/', LayerUnpacker.CleanPath(e.Name));
            if (name.Length == 0) continue;
            var type = e.Type switch
            {
                LayerEntryType.Directory => LayerTarType.Directory,
                LayerEntryType.SymbolicLink => LayerTarType.Symlink,
                LayerEntryType.HardLink => LayerTarType.HardLink,
                LayerEntryType.CharacterDevice => LayerTarType.CharDevice,
                LayerEntryType.BlockDevice => LayerTarType.BlockDevice,
                LayerEntryType.Fifo => LayerTarType.Fifo,
                _ => LayerTarType.File,
            };
            string link = type == LayerTarType.HardLink ? prefix + string.Join('/', LayerUnpacker.CleanPath(e.LinkName)) : e.LinkName;
            tar.Write(new LayerTarHeader
            {
                Name = prefix + name + (type == LayerTarType.Directory ? "/" : ""), Type = type, Mode = e.Mode & 0xFFF, Uid = e.Uid, Gid = e.Gid,
                Size = type == LayerTarType.File ? e.Size : 0, MtimeSeconds = e.ModificationTime.ToUnixTimeSeconds(), LinkName = link,
                DevMajor = e.DeviceMajor, DevMinor = e.DeviceMinor, Xattrs = e.Xattrs.Select(x => (x.Key, x.Value)).ToList(),
            }, e.Data);
        }
    }

    /// <summary>Writes each directory of the path (relative) once, with its metadata in the stage, or 0755 root when new.</summary>
    private void WriteDirectoryChain(string dir)
    {
        if (dir.Length == 0) return;
        string path = "";
        foreach (string part in dir.Split('/'))
        {
            path = path.Length == 0 ? part : path + "/" + part;
            if (!_dirsWritten.Add(path)) continue;
            var existing = stageLayersTopFirst.Select(l => LinkStat.Get(Path.Combine(l, path))).FirstOrDefault(s => s is not null);
            var h = existing is { Type: S_IFDIR } st
                ? new LayerTarHeader { Name = path + "/", Type = LayerTarType.Directory, Mode = st.Permissions, Uid = st.Uid, Gid = st.Gid, MtimeSeconds = st.MtimeSeconds }
                : new LayerTarHeader { Name = path + "/", Type = LayerTarType.Directory, Mode = 0x1ED, MtimeSeconds = newDirectoryTime };
            tar.Write(h);
        }
    }

    private static string Parent(string path) => path.Contains('/') ? path[..path.LastIndexOf('/')] : "";
}
