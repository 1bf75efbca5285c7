using System.Globalization;
using System.Text;

namespace Containers.Core.Images;

/// <summary>The tar entry types a layer carries.</summary>
internal enum LayerTarType : byte
{
    File = (byte)'0',
    HardLink = (byte)'1',
    Symlink = (byte)'2',
    CharDevice = (byte)'3',
    BlockDevice = (byte)'4',
    Directory = (byte)'5',
    Fifo = (byte)'6',
}

/// <summary>One entry to write: the header fields of a layer tar entry (data, if any, is passed separately).</summary>
internal sealed record LayerTarHeader
{
    public required string Name { get; init; }
    public LayerTarType Type { get; init; } = LayerTarType.File;
    public uint Mode { get; init; } = 0x1A4;
    public long Uid { get; init; }
    public long Gid { get; init; }
    public long Size { get; init; }
    public long MtimeSeconds { get; init; }
    public string LinkName { get; init; } = "";
    public uint DevMajor { get; init; }
    public uint DevMinor { get; init; }
    /// <summary>Extended attributes as raw bytes (written as PAX <c>SCHILY.xattr.*</c> records, binary-safe).</summary>
    public IReadOnlyList<(string Name, byte[] Value)> Xattrs { get; init; } = [];
}

/// <summary>
/// Writes a POSIX (ustar + PAX) tar as layers need it: exact modes and numeric owners, binary-safe
/// xattrs (file capabilities are not text, so System.Formats.Tar's string records cannot carry them),
/// long names and large ids through PAX records only when the ustar fields cannot hold them.
/// </summary>
internal sealed class LayerTarWriter(Stream output) : IDisposable
{
    private const int Block = 512;
    private const long MaxOctal7 = 0x1FFFFF, MaxOctal11 = 0x1FFFFFFFF;
    private readonly byte[] _header = new byte[Block];
    private bool _finished;

    /// <summary>Entries written so far.</summary>
    public int Entries { get; private set; }

    /// <summary>Writes one entry; for a regular file, exactly <see cref="LayerTarHeader.Size"/> bytes are copied from data.</summary>
    public void Write(LayerTarHeader h, Stream? data = null)
    {
        var pax = new List<(string, byte[])>();
        byte[] name = Encoding.UTF8.GetBytes(h.Name), link = Encoding.UTF8.GetBytes(h.LinkName);
        if (name.Length > 100 || !IsAscii(name)) pax.Add(("path", name));
        if (link.Length > 100 || !IsAscii(link)) pax.Add(("linkpath", link));
        if (h.Uid > MaxOctal7) pax.Add(("uid", Ascii(h.Uid)));
        if (h.Gid > MaxOctal7) pax.Add(("gid", Ascii(h.Gid)));
        if (h.Size > MaxOctal11) pax.Add(("size", Ascii(h.Size)));
        foreach (var (xname, value) in h.Xattrs) pax.Add(("SCHILY.xattr." + xname, value));
        if (pax.Count > 0)
        {
            byte[] body = PaxBody(pax);
            string paxName = "PaxHeaders.0/" + Path.GetFileName(h.Name.TrimEnd('/'));
            WriteHeader(Truncate(paxName), (byte)'x', 0x1A4, 0, 0, body.Length, h.MtimeSeconds, [], 0, 0);
            output.Write(body);
            Pad(body.Length);
        }
        WriteHeader(name.Length > 100 ? name[..100] : name, (byte)h.Type, h.Mode & 0xFFF, Math.Min(h.Uid, MaxOctal7), Math.Min(h.Gid, MaxOctal7),
            h.Type == LayerTarType.File ? Math.Min(h.Size, MaxOctal11) : 0, h.MtimeSeconds, link.Length > 100 ? link[..100] : link, h.DevMajor, h.DevMinor);
        if (h.Type == LayerTarType.File && h.Size > 0)
        {
            if (data is null) throw new ArgumentException($"The entry '{h.Name}' has {h.Size} bytes but no data.", nameof(data));
            CopyExactly(data, h.Size, h.Name);
            Pad(h.Size);
        }
        Entries++;
    }

    /// <summary>Writes the two zero blocks that end an archive.</summary>
    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        output.Write(new byte[2 * Block]);
        output.Flush();
    }

    public void Dispose() => Finish();

    private void CopyExactly(Stream data, long size, string name)
    {
        var buf = new byte[Math.Min(size, 1 << 16)];
        long left = size;
        while (left > 0)
        {
            int n = data.Read(buf, 0, (int)Math.Min(buf.Length, left));
            if (n == 0) throw new IOException($"'{name}' shrank while it was archived ({size - left} of {size} bytes read).");
            output.Write(buf, 0, n);
            left -= n;
        }
    }

    private void WriteHeader(byte[] name, byte type, uint mode, long uid, long gid, long size, long mtime, byte[] link, uint major, uint minor)
    {
        var h = _header;
        Array.Clear(h);
        name.CopyTo(h, 0);
        Octal(h, 100, 8, mode);
        Octal(h, 108, 8, uid);
        Octal(h, 116, 8, gid);
        Octal(h, 124, 12, size);
        Octal(h, 136, 12, Math.Clamp(mtime, 0, MaxOctal11));
        h[156] = type;
        link.CopyTo(h, 157);
        "ustar\u000000"u8.CopyTo(h.AsSpan(257));
        if (type is (byte)LayerTarType.CharDevice or (byte)LayerTarType.BlockDevice)
        {
            Octal(h, 329, 8, major);
            Octal(h, 337, 8, minor);
        }
        h.AsSpan(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in h) sum += b;
        Octal(h, 148, 7, sum);
        output.Write(h);
    }

    private void Pad(long length)
    {
        int rest = (int)(length % Block);
        if (rest != 0) output.Write(new byte[Block - rest]);
    }

    private static void Octal(byte[] h, int at, int width, long value)
    {
        string s = Convert.ToString(value, 8).PadLeft(width - 1, '0');
        Encoding.ASCII.GetBytes(s, 0, width - 1, h, at);
        h[at + width - 1] = 0;
    }

    private static byte[] PaxBody(List<(string Key, byte[] Value)> records)
    {
        using var body = new MemoryStream();
        foreach (var (key, value) in records)
        {
            byte[] k = Encoding.UTF8.GetBytes(key);
            int rest = 1 + k.Length + 1 + value.Length + 1; // " key=value\n"
            int len = rest + 1;
            while (len.ToString(CultureInfo.InvariantCulture).Length + rest != len) len++;
            body.Write(Ascii(len));
            body.WriteByte((byte)' ');
            body.Write(k);
            body.WriteByte((byte)'=');
            body.Write(value);
            body.WriteByte((byte)'\n');
        }
        return body.ToArray();
    }

    private static byte[] Ascii(long n) => Encoding.ASCII.GetBytes(n.ToString(CultureInfo.InvariantCulture));
    private static byte[] Truncate(string s) { var b = Encoding.UTF8.GetBytes(s); return b.Length > 100 ? b[..100] : b; }
    private static bool IsAscii(byte[] b) => Array.TrueForAll(b, x => x < 0x80);
}
