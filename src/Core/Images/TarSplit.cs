using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Containers.Core.Errors;
using Containers.Core.Native;

namespace Containers.Core.Images;

/// <summary>
/// A layer tar without its file contents (tar-split.gz beside the unpacked layer): every header, pax record
/// and padding byte as read, and for each regular file's data only its path and length. With the unpacked
/// files it gives back the exact tar, so the layer's diff id holds and its compressed blob need not be kept.
/// Records: 0 = raw bytes (int32 length, bytes), 1 = file data (int32 name length, UTF-8 name, int64 size), 2 = end.
/// </summary>
internal sealed class TarSplitRecorder : Stream
{
    public const string FileName = "tar-split.gz";
    private const int FlushBytes = 1 << 16;
    private readonly GZipStream _out;
    private readonly MemoryStream _raw = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private long _skip;

    public TarSplitRecorder(string path) =>
        _out = new GZipStream(new FileStream(path, PrivateStore.NewFile(FileMode.CreateNew, 1 << 16, FileShare.ReadWrite)), CompressionLevel.Fastest);

    /// <summary>The regular files whose data the split leaves out (cleaned path to size).</summary>
    public Dictionary<string, long> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>False once a path came twice (a later entry may change an earlier file's data): such a layer keeps its blob.</summary>
    public bool Reproducible { get; private set; } = true;

    /// <summary>Called with each entry as the reader returns it, before its data is read.</summary>
    public void OnEntry(LayerTarEntry entry)
    {
        string name = Clean(entry.Name);
        if (!_names.Add(name) || Files.ContainsKey(name)) Reproducible = false;
        if (entry.Type != LayerEntryType.RegularFile || entry.Size == 0) return;
        FlushRaw();
        byte[] utf8 = Encoding.UTF8.GetBytes(name);
        Span<byte> head = stackalloc byte[5];
        head[0] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(head[1..], utf8.Length);
        _out.Write(head);
        _out.Write(utf8);
        Span<byte> size = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(size, entry.Size);
        _out.Write(size);
        Files[name] = entry.Size;
        _skip = entry.Size;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        int skip = (int)Math.Min(_skip, buffer.Length);
        _skip -= skip;
        _raw.Write(buffer[skip..]);
        if (_raw.Length >= FlushBytes) FlushRaw();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Writes the end record and closes the file.</summary>
    public void Complete()
    {
        FlushRaw();
        _out.WriteByte(2);
        _out.Dispose();
    }

    private void FlushRaw()
    {
        if (_raw.Length == 0) return;
        Span<byte> head = stackalloc byte[5];
        head[0] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(head[1..], (int)_raw.Length);
        _out.Write(head);
        _out.Write(_raw.GetBuffer().AsSpan(0, (int)_raw.Length));
        _raw.SetLength(0);
    }

    /// <summary>The entry's path relative to the layer root, as the unpacker places it.</summary>
    internal static string Clean(string name) =>
        string.Join('/', name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."));

    protected override void Dispose(bool disposing)
    {
        if (disposing) _out.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Rebuilds a layer's tar from its tar-split and unpacked files.</summary>
internal static class TarSplit
{
    private const ulong Resolve = FileSystemCalls.RESOLVE_BENEATH | FileSystemCalls.RESOLVE_NO_SYMLINKS | FileSystemCalls.RESOLVE_NO_MAGICLINKS;

    /// <summary>Whether every file the split names is in the unpacked layer with its length (a cheap check at ingest).</summary>
    public static bool FilesPresent(string diffDir, IReadOnlyDictionary<string, long> files)
    {
        int root = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, diffDir, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY);
        try
        {
            foreach (var (name, size) in files)
            {
                using var handle = OpenFile(root, name);
                if (handle is null || RandomAccess.GetLength(handle) != size) return false;
            }
            return true;
        }
        finally { FileSystemCalls.Close(root); }
    }

    /// <summary>Writes the tar the split describes to <paramref name="output"/>, the file data read from <paramref name="diffDir"/> (never through a symlink).</summary>
    public static void Reassemble(string splitFile, string diffDir, Stream output, CancellationToken ct)
    {
        using var input = new GZipStream(File.OpenRead(splitFile), CompressionMode.Decompress);
        int root = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, diffDir, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY);
        try
        {
            var head = new byte[5];
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                int kind = input.ReadByte();
                if (kind == 2) return;
                input.ReadExactly(head.AsSpan(0, 4));
                int length = BinaryPrimitives.ReadInt32LittleEndian(head);
                if (kind == 0) { CopyExactly(input, output, length, splitFile); continue; }
                if (kind != 1) throw NotReproducible(diffDir, $"{splitFile} is damaged");
                var name = new byte[length];
                input.ReadExactly(name);
                var sizeBytes = new byte[8];
                input.ReadExactly(sizeBytes);
                long size = BinaryPrimitives.ReadInt64LittleEndian(sizeBytes);
                string path = Encoding.UTF8.GetString(name);
                using var handle = OpenFile(root, path) ?? throw NotReproducible(diffDir, $"'{path}' is missing");
                using var file = new FileStream(handle, FileAccess.Read, 1 << 16);
                CopyExactly(file, output, size, path);
            }
        }
        catch (EndOfStreamException e) { throw NotReproducible(diffDir, e.Message); }
        finally { FileSystemCalls.Close(root); }
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle? OpenFile(int root, string name)
    {
        try { return new(FileSystemCalls.OpenBeneath(root, name, FileSystemCalls.O_RDONLY, 0, Resolve), ownsHandle: true); }
        catch (NativeCallException) { return null; }
    }

    private static void CopyExactly(Stream from, Stream to, long count, string what)
    {
        var buf = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (count > 0)
            {
                int n = from.Read(buf, 0, (int)Math.Min(buf.Length, count));
                if (n == 0) throw new EndOfStreamException($"'{what}' ended {count} bytes early");
                to.Write(buf, 0, n);
                count -= n;
            }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buf); }
    }

    internal static ContainersException NotReproducible(string layer, string why) =>
        new("LayerNotReproducible", ErrorKind.InvalidState,
            $"The layer in {layer} cannot be written back as the tar it was unpacked from ({why}); its blob was not kept.", layer,
            "Pull the image again with -KeepBlobs (or with PSCONTAINERS_KEEP_BLOBS=1) to keep the registry's blobs.");
}
