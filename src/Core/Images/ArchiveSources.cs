using System.Formats.Tar;
using Containers.Core.Errors;

namespace Containers.Core.Images;

/// <summary>Read access to the files of an image archive: an OCI layout directory or a tar file.</summary>
internal interface IArchiveSource : IDisposable
{
    bool Exists(string path);
    long Length(string path);
    Stream Open(string path);
}

internal static class ArchivePaths
{
    /// <summary>
    /// Cleans an archive-relative path lexically: "." and empty parts go, ".." climbs within the archive;
    /// a path that would climb above the archive's root is refused.
    /// </summary>
    public static string Clean(string path, string archive)
    {
        var parts = new List<string>();
        foreach (string p in path.Split('/'))
        {
            if (p.Length == 0 || p == ".") continue;
            if (p == "..")
            {
                if (parts.Count == 0)
                    throw new ContainersException("ArchivePathEscapes", ErrorKind.InvalidData,
                        $"The archive refers to '{path}', outside itself.", archive);
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(p);
        }
        return string.Join('/', parts);
    }
}

internal sealed class DirectorySource(string root) : IArchiveSource
{
    private string Full(string path)
    {
        string full = Path.GetFullPath(Path.Combine(root, ArchivePaths.Clean(path, root)));
        // No symlink games: the file must really lie inside the layout.
        var info = new FileInfo(full);
        if (info.Exists && info.LinkTarget is not null)
            throw new ContainersException("ArchivePathEscapes", ErrorKind.InvalidData, $"'{path}' in the layout is a symbolic link.", root);
        return full;
    }

    public bool Exists(string path) => File.Exists(Full(path));
    public long Length(string path) => new FileInfo(Full(path)).Length;

    public Stream Open(string path)
    {
        try { return new FileStream(Full(path), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ContainersException("ArchiveFileMissing", ErrorKind.InvalidData, $"The image layout {root} has no '{path}'.", root, null, e);
        }
    }

    public void Dispose() { }
}

/// <summary>A tar file indexed once: each regular file's data offset and length, opened later by seeking.</summary>
internal sealed class TarSource : IArchiveSource
{
    private readonly string _path;
    private readonly Dictionary<string, (long Offset, long Length)> _files = new(StringComparer.Ordinal);

    public TarSource(string path)
    {
        _path = path;
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new TarReader(fs, leaveOpen: true);
        try
        {
            while (reader.GetNextEntry(copyData: false) is { } entry)
            {
                string name = Clean(entry.Name);
                switch (entry.EntryType)
                {
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        _files[name] = (entry.DataOffset, entry.Length);
                        break;
                    case TarEntryType.SymbolicLink:
                        string dir = name.Contains('/') ? name[..name.LastIndexOf('/')] : "";
                        links[name] = Clean(entry.LinkName.StartsWith('/') ? entry.LinkName : dir + "/" + entry.LinkName);
                        break;
                    case TarEntryType.HardLink:
                        links[name] = Clean(entry.LinkName);
                        break;
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new ContainersException("ArchiveMalformed", ErrorKind.InvalidData, $"{path} is not a valid tar archive: {e.Message}", path, null, e);
        }
        foreach (var (link, target) in links)
            if (_files.TryGetValue(target, out var f)) _files.TryAdd(link, f);
    }

    private string Clean(string p) => ArchivePaths.Clean(p, _path);

    public bool Exists(string path) => _files.ContainsKey(Clean(path));
    public long Length(string path) => Get(path).Length;

    private (long Offset, long Length) Get(string path) =>
        _files.TryGetValue(Clean(path), out var f) ? f
        : throw new ContainersException("ArchiveFileMissing", ErrorKind.InvalidData, $"The archive {_path} has no '{path}'.", _path);

    public Stream Open(string path)
    {
        var (offset, length) = Get(path);
        var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        fs.Seek(offset, SeekOrigin.Begin);
        return new BoundedStream(fs, length);
    }

    public void Dispose() { }

    private sealed class BoundedStream(Stream inner, long length) : Stream
    {
        private readonly long _length = length;
        private long _left = length;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_left <= 0) return 0;
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _length - _left; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
