using System.Buffers.Text;
using System.Text;

namespace Containers.Core.Images;

/// <summary>The kind of a layer tar entry (the ustar type flags a layer may carry).</summary>
internal enum LayerEntryType
{
    RegularFile,
    HardLink,
    SymbolicLink,
    CharacterDevice,
    BlockDevice,
    Directory,
    Fifo,
    /// <summary>Anything else (GNU sparse or dump-dir, volume labels, vendor types): refused by the unpacker.</summary>
    Other,
}

/// <summary>
/// One entry of a layer tar with its extended attributes as raw bytes. PAX <c>SCHILY.xattr.*</c> values
/// are binary (file capabilities, ACLs): they are kept exactly as the archive holds them, never decoded as text.
/// </summary>
internal sealed class LayerTarEntry
{
    public required string Name { get; init; }
    public string LinkName { get; init; } = "";
    public LayerEntryType Type { get; init; }
    /// <summary>The raw type flag ('0', '5', 'S', ...), for messages about unsupported entries.</summary>
    public char TypeFlag { get; init; }
    public uint Mode { get; init; }
    public long Uid { get; init; }
    public long Gid { get; init; }
    public long Size { get; init; }
    public DateTimeOffset ModificationTime { get; init; }
    public DateTimeOffset? AccessTime { get; init; }
    public uint DeviceMajor { get; init; }
    public uint DeviceMinor { get; init; }
    /// <summary>Extended attributes in archive order: name and raw value.</summary>
    public IReadOnlyList<KeyValuePair<string, byte[]>> Xattrs { get; init; } = [];
    /// <summary>The entry's data; valid until the next entry is read. Empty for entries without data.</summary>
    public required Stream Data { get; init; }
}

/// <summary>
/// A forward-only reader of layer tars (ustar, POSIX pax, GNU long names, old GNU and v7 headers) that
/// reads the stream once and keeps PAX records as bytes. It parses structure only; the unpacker decides
/// what an entry may do. Malformed structure throws <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class LayerTarReader : IDisposable
{
    /// <summary>
    /// Most metadata one entry may carry, PAX headers, GNU long names and long link names together
    /// (xattrs are at most 64 KiB each on Linux): a run of headers before one entry cannot grow without bound.
    /// </summary>
    public const int MaxMetadataBytes = 1 << 20;
    private const int Block = 512;
    private const string SchilyXattr = "SCHILY.xattr.";
    private const string LibarchiveXattr = "LIBARCHIVE.xattr.";

    private readonly Stream _stream;
    private readonly byte[] _header = new byte[Block];
    private long _skip; // bytes of the current entry (data + padding) not yet consumed
    private EntryData? _current;

    /// <summary>Ends the current entry's data view (the underlying stream belongs to the caller).</summary>
    public void Dispose() => _current?.Dispose();
    private bool _done;

    public LayerTarReader(Stream stream) => _stream = stream;

    /// <summary>The next entry, or null at the end of the archive (a zero block or the end of the stream).</summary>
    public LayerTarEntry? Next()
    {
        if (_done) return null;
        Skip();
        Dictionary<string, byte[]>? pax = null;
        List<KeyValuePair<string, byte[]>>? xattrs = null;
        string? longName = null, longLink = null;
        long metadata = 0;
        while (true)
        {
            if (!ReadBlock()) { _done = true; return null; }
            if (IsZero(_header)) { _done = true; return null; }
            VerifyChecksum();
            char flag = (char)_header[156];
            long size = ParseNumber(_header.AsSpan(124, 12), "size");
            if (size < 0) throw new InvalidDataException("A tar header declares a negative size.");
            switch (flag)
            {
                case 'x':
                {
                    var records = ReadMetadata(size, "PAX header", ref metadata);
                    pax ??= [];
                    ParsePax(records, pax, ref xattrs);
                    continue;
                }
                case 'g':
                    // Global records (comments, tool hints) say nothing a layer entry may use.
                    Discard(Padded(size));
                    continue;
                case 'L':
                    longName = CString(ReadMetadata(size, "GNU long name", ref metadata));
                    continue;
                case 'K':
                    longLink = CString(ReadMetadata(size, "GNU long link name", ref metadata));
                    continue;
            }
            return Build(flag, size, pax, xattrs, longName, longLink);
        }
    }

    private LayerTarEntry Build(char flag, long size, Dictionary<string, byte[]>? pax, List<KeyValuePair<string, byte[]>>? xattrs, string? longName, string? longLink)
    {
        var h = _header.AsSpan();
        bool ustar = h[257..263].SequenceEqual("ustar\0"u8);
        bool gnu = h[257..265].SequenceEqual("ustar  \0"u8);
        string name = CString(h[..100]);
        if (ustar && h[345] != 0) name = CString(h.Slice(345, 155)) + "/" + name;
        name = Text(pax, "path") ?? longName ?? name;
        string link = Text(pax, "linkpath") ?? longLink ?? CString(h.Slice(157, 100));
        if (pax is not null && pax.TryGetValue("size", out var ps)) size = PaxInteger(ps, "size");
        long uid = pax is not null && pax.TryGetValue("uid", out var pu) ? PaxInteger(pu, "uid") : ParseNumber(h.Slice(108, 8), "uid");
        long gid = pax is not null && pax.TryGetValue("gid", out var pg) ? PaxInteger(pg, "gid") : ParseNumber(h.Slice(116, 8), "gid");
        var mtime = pax is not null && pax.TryGetValue("mtime", out var pm) ? PaxTime(pm, "mtime") : FromSeconds(ParseNumber(h.Slice(136, 12), "mtime"));
        DateTimeOffset? atime = pax is not null && pax.TryGetValue("atime", out var pa) ? PaxTime(pa, "atime")
            : gnu && h[345] != 0 ? FromSeconds(ParseNumber(h.Slice(345, 12), "atime")) : null;
        var type = flag switch
        {
            '0' or '\0' or '7' => LayerEntryType.RegularFile,
            '1' => LayerEntryType.HardLink,
            '2' => LayerEntryType.SymbolicLink,
            '3' => LayerEntryType.CharacterDevice,
            '4' => LayerEntryType.BlockDevice,
            '5' => LayerEntryType.Directory,
            '6' => LayerEntryType.Fifo,
            _ => LayerEntryType.Other,
        };
        // v7 archives mark directories only by a trailing slash.
        if (flag == '\0' && name.EndsWith('/')) type = LayerEntryType.Directory;
        uint major = 0, minor = 0;
        if (type is LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice)
        {
            long ma = ParseNumber(h.Slice(329, 8), "devmajor"), mi = ParseNumber(h.Slice(337, 8), "devminor");
            if (ma > uint.MaxValue || mi > uint.MaxValue) throw new InvalidDataException("A device number is out of range.");
            (major, minor) = ((uint)ma, (uint)mi);
        }
        if (pax is not null && pax.Keys.Any(k => k.StartsWith("GNU.sparse.", StringComparison.Ordinal))) type = LayerEntryType.Other;
        // Go's archive/tar (docker, containerd, umoci, podman) reads these types as having no data and takes the
        // next block for a header; skipping the declared bytes instead would unpack entries those tools never see.
        if (size > 0 && type is LayerEntryType.HardLink or LayerEntryType.SymbolicLink or LayerEntryType.CharacterDevice
                or LayerEntryType.BlockDevice or LayerEntryType.Directory or LayerEntryType.Fifo)
            throw new InvalidDataException($"The {type} entry '{name}' declares {size} bytes of data, which other tar readers would read as headers.");
        _current = new EntryData(_stream, size);
        _skip = Padded(size);
        return new LayerTarEntry
        {
            Name = name, LinkName = link, Type = type, TypeFlag = flag,
            Mode = (uint)(ParseNumber(h.Slice(100, 8), "mode") & 0xFFF), Uid = uid, Gid = gid, Size = size,
            ModificationTime = mtime, AccessTime = atime, DeviceMajor = major, DeviceMinor = minor,
            Xattrs = (IReadOnlyList<KeyValuePair<string, byte[]>>?)xattrs ?? [], Data = _current,
        };
    }

    /// <summary>Consumes what is left of the previous entry's data and its padding.</summary>
    private void Skip()
    {
        if (_current is not null)
        {
            _skip -= _current.Consumed;
            _current.Close();
            _current = null;
        }
        Discard(_skip);
        _skip = 0;
    }

    private void Discard(long count)
    {
        if (count == 0) return;
        var buf = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (count > 0)
            {
                int n = _stream.Read(buf, 0, (int)Math.Min(buf.Length, count));
                if (n == 0) throw new InvalidDataException("The tar stream ends inside an entry.");
                count -= n;
            }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buf); }
    }

    private static long Padded(long n) => (n + Block - 1) & ~(long)(Block - 1);

    private byte[] ReadMetadata(long size, string what, ref long total)
    {
        if (size > MaxMetadataBytes - total)
            throw new InvalidDataException($"A {what} of {size} bytes takes the entry's metadata over the {MaxMetadataBytes} bytes allowed.");
        total += size;
        var data = new byte[(int)size];
        _stream.ReadExactly(data);
        long pad = Padded(size) - size;
        if (pad > 0) Discard(pad);
        return data;
    }

    private bool ReadBlock()
    {
        int got = _stream.ReadAtLeast(_header, Block, throwOnEndOfStream: false);
        if (got == 0) return false;
        if (got < Block) throw new InvalidDataException("The tar stream ends inside a header.");
        return true;
    }

    private static bool IsZero(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);

    private void VerifyChecksum()
    {
        long declared = ParseNumber(_header.AsSpan(148, 8), "checksum");
        long unsigned = 0, signed = 0;
        for (int i = 0; i < Block; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : _header[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        if (declared != unsigned && declared != signed) throw new InvalidDataException("A tar header has a bad checksum.");
    }

    /// <summary>An octal field (NUL or space padded) or a GNU base-256 number.</summary>
    private static long ParseNumber(ReadOnlySpan<byte> field, string what)
    {
        if (field.Length > 0 && (field[0] & 0x80) != 0)
        {
            // GNU base-256: big-endian, the top bit of the first byte set. Negative values mean nothing here.
            if ((field[0] & 0x40) != 0) throw new InvalidDataException($"The tar field {what} is negative.");
            long v = field[0] & 0x3F;
            foreach (byte b in field[1..])
            {
                if (v > (long.MaxValue >> 8)) throw new InvalidDataException($"The tar field {what} is out of range.");
                v = (v << 8) | b;
            }
            return v;
        }
        long value = 0;
        int i = 0;
        while (i < field.Length && field[i] == ' ') i++;
        bool any = false;
        for (; i < field.Length; i++)
        {
            byte b = field[i];
            if (b is 0 or (byte)' ') break;
            if (b is < (byte)'0' or > (byte)'7') throw new InvalidDataException($"The tar field {what} is not an octal number.");
            if (value > (long.MaxValue >> 3)) throw new InvalidDataException($"The tar field {what} is out of range.");
            value = value * 8 + (b - '0');
            any = true;
        }
        return any ? value : 0;
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Utf8(end < 0 ? field : field[..end]);
    }

    private static string? Text(Dictionary<string, byte[]>? pax, string key) =>
        pax is not null && pax.TryGetValue(key, out var v) ? Utf8(v) : null;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Names are handled as text: bytes that are not UTF-8 would be rewritten to U+FFFD (another name, and two
    /// names could collide), so such an entry is refused rather than unpacked under a name it does not have.
    /// </summary>
    private static string Utf8(ReadOnlySpan<byte> bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"An entry name or link target is not valid UTF-8 ({Convert.ToHexString(bytes[..Math.Min(bytes.Length, 64)])}); it cannot be reproduced exactly.");
        }
    }

    /// <summary>Parses "&lt;length&gt; &lt;key&gt;=&lt;value&gt;\n" records; values stay bytes.</summary>
    private static void ParsePax(byte[] data, Dictionary<string, byte[]> pax, ref List<KeyValuePair<string, byte[]>>? xattrs)
    {
        int pos = 0;
        while (pos < data.Length)
        {
            if (data[pos] == 0) break; // some writers pad the header with NULs
            int space = data.AsSpan(pos).IndexOf((byte)' ');
            if (space <= 0 || !Utf8Parser.TryParse(data.AsSpan(pos, space), out int length, out int used) || used != space
                || length <= space + 1 || length > data.Length - pos)
                throw new InvalidDataException("A PAX record has a bad length.");
            var record = data.AsSpan(pos + space + 1, length - space - 1);
            if (record[^1] != (byte)'\n') throw new InvalidDataException("A PAX record does not end with a newline.");
            record = record[..^1];
            int eq = record.IndexOf((byte)'=');
            if (eq <= 0) throw new InvalidDataException("A PAX record has no key.");
            string key = Encoding.UTF8.GetString(record[..eq]);
            byte[] value = record[(eq + 1)..].ToArray();
            pos += length;
            if (key.StartsWith(SchilyXattr, StringComparison.Ordinal))
                (xattrs ??= []).Add(new(key[SchilyXattr.Length..], value));
            else if (key.StartsWith(LibarchiveXattr, StringComparison.Ordinal))
            {
                // libarchive: the name is URL-encoded and the value base64.
                string name = Uri.UnescapeDataString(key[LibarchiveXattr.Length..]);
                try { (xattrs ??= []).Add(new(name, Convert.FromBase64String(Encoding.ASCII.GetString(value)))); }
                catch (FormatException) { throw new InvalidDataException($"The PAX record {key} is not base64."); }
            }
            else pax[key] = value;
        }
    }

    private static long PaxInteger(byte[] value, string key)
    {
        if (!Utf8Parser.TryParse(value, out long v, out int used) || used != value.Length || v < 0)
            throw new InvalidDataException($"The PAX record {key} is not a number.");
        return v;
    }

    private static DateTimeOffset PaxTime(byte[] value, string key)
    {
        if (!Utf8Parser.TryParse(value, out decimal secs, out int used) || used != value.Length)
            throw new InvalidDataException($"The PAX record {key} is not a time.");
        try { return DateTimeOffset.UnixEpoch.AddTicks((long)(secs * TimeSpan.TicksPerSecond)); }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
        {
            throw new InvalidDataException($"The PAX record {key} is out of range.");
        }
    }

    private static DateTimeOffset FromSeconds(long secs)
    {
        try { return DateTimeOffset.FromUnixTimeSeconds(secs); }
        catch (ArgumentOutOfRangeException) { throw new InvalidDataException("A tar header has a time out of range."); }
    }

    /// <summary>A view of the current entry's data that never reads past it.</summary>
    private sealed class EntryData(Stream inner, long length) : Stream
    {
        private readonly long _length = length;
        private long _left = length;
        private bool _closed;
        public long Consumed => _length - _left;
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_left == 0 || buffer.Length == 0) return 0;
            int want = (int)Math.Min(buffer.Length, _left);
            // All that was asked for, not the 8 KiB a decompressor hands out per read: the unpacker writes each read at once.
            int n = inner.ReadAtLeast(buffer[..want], want, throwOnEndOfStream: false);
            if (n < want) throw new InvalidDataException("The tar stream ends inside an entry's data.");
            _left -= n;
            return n;
        }

        public override void Close() { _closed = true; base.Close(); }
        public override bool CanRead => !_closed;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => Consumed; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
