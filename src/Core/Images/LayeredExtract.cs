using Containers.Core.Native;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Images;

/// <summary>
/// Copies one path of a stack of overlay directories (an image's layers, a stopped container's upper dir over them) out
/// to a staging directory, as the merged file system shows it: whiteouts and opaque directories honoured, modes,
/// owners, links and xattrs kept (<see cref="LayeredTreeWriter"/> to a tar, <see cref="LayerUnpacker"/> confined to the
/// staging directory). Symlinks on the way are followed inside the stack's root, never on the host, like
/// openat2(RESOLVE_IN_ROOT): an absolute target starts again at the root and <c>..</c> stops there.
/// </summary>
internal static class LayeredExtract
{
    private const int MaxLinks = 40;

    /// <summary>Extracts <paramref name="path"/>; returns where it landed under <paramref name="staging"/>, or null when the stack has no such path.</summary>
    public static string? Extract(IReadOnlyList<string> dirsTopFirst, string path, string staging, bool rootless, CancellationToken ct)
    {
        var target = Clean([], path);
        for (int hop = 0; hop <= MaxLinks; hop++)
        {
            if (Directory.Exists(staging)) DirectoryTree.Delete(staging);
            if (target.Count == 0) return null; // the root itself is not extracted this way
            string rel = string.Join('/', target);
            bool Include(string entry, LinkStatus _) => entry == rel || rel.StartsWith(entry + "/", StringComparison.Ordinal) || entry.StartsWith(rel + "/", StringComparison.Ordinal);
            string tarPath = staging + ".tar";
            try
            {
                using var file = new FileStream(tarPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
                using (var tar = new LayerTarWriter(file)) new LayeredTreeWriter(dirsTopFirst, LayeredTreeMode.Flat, include: Include).Write(tar, ct);
                file.Position = 0;
                using var unpacker = new LayerUnpacker(staging, new LayerUnpackOptions { Rootless = rootless });
                unpacker.Unpack(file, ct);
            }
            finally { File.Delete(tarPath); }

            // Walk what was extracted by lstat: a symlink on the way restarts the walk at its target, inside the root.
            string current = staging;
            List<string>? next = null;
            for (int i = 0; i < target.Count && next is null; i++)
            {
                current = Path.Combine(current, target[i]);
                var st = LinkStat.Get(current);
                if (st is null) return null;
                if (st.Value.Type == S_IFLNK) next = Clean(LinkStat.ReadLink(current).StartsWith('/') ? [] : target[..i], LinkStat.ReadLink(current)).Concat(target[(i + 1)..]).ToList();
                else if (st.Value.Type != S_IFDIR && i < target.Count - 1) return null;
            }
            if (next is null) return current;
            target = next;
        }
        throw new Errors.ContainersException("TooManySymlinks", Errors.ErrorKind.InvalidData, $"'{path}' goes through more than {MaxLinks} symbolic links.", path);
    }

    /// <summary>Components of <paramref name="path"/> taken from <paramref name="from"/>; <c>..</c> at the root stays at the root.</summary>
    internal static List<string> Clean(IEnumerable<string> from, string path)
    {
        var parts = from.ToList();
        foreach (string p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == ".") continue;
            if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return parts;
    }
}
