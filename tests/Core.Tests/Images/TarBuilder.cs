using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Containers.Core.Tests.Images;

/// <summary>Crafts layer tars in memory, including the malicious ones a real tar tool would refuse to write.</summary>
internal sealed class TarBuilder : IDisposable
{
    private readonly MemoryStream _ms = new();
    private readonly TarWriter _writer;
    private static readonly DateTimeOffset Mtime = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public TarBuilder() => _writer = new TarWriter(_ms, TarEntryFormat.Pax, leaveOpen: true);

    public void Dispose()
    {
        _writer.Dispose();
        _ms.Dispose();
    }

    public TarBuilder Dir(string name, int mode = 0x1ED, int uid = 0, int gid = 0)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)mode, Uid = uid, Gid = gid, ModificationTime = Mtime });
        return this;
    }

    public TarBuilder File(string name, string content, int mode = 0x1A4, int uid = 0, int gid = 0, IDictionary<string, string>? pax = null)
    {
        var entry = pax is null ? new PaxTarEntry(TarEntryType.RegularFile, name) : new PaxTarEntry(TarEntryType.RegularFile, name, pax);
        entry.Mode = (UnixFileMode)mode;
        entry.Uid = uid;
        entry.Gid = gid;
        entry.ModificationTime = Mtime;
        entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        _writer.WriteEntry(entry);
        return this;
    }

    public TarBuilder Symlink(string name, string target)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, ModificationTime = Mtime, Mode = (UnixFileMode)0x1FF });
        return this;
    }

    public TarBuilder Hardlink(string name, string target)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target, ModificationTime = Mtime });
        return this;
    }

    public TarBuilder CharDevice(string name, int major, int minor)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, name) { DeviceMajor = major, DeviceMinor = minor, Mode = (UnixFileMode)0x1B6, ModificationTime = Mtime });
        return this;
    }

    public TarBuilder Fifo(string name)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, name) { Mode = (UnixFileMode)0x1A4, ModificationTime = Mtime });
        return this;
    }

    public byte[] Build()
    {
        _writer.Dispose();
        return _ms.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    public static byte[] Zstd(byte[] data)
    {
        using var c = new ZstdSharp.Compressor(3);
        return c.Wrap(data).ToArray();
    }
}

/// <summary>A temp directory removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pscontainers-xunit-" + Guid.NewGuid().ToString("N")[..10]));
    public string Path { get; }
    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, true); }
        catch (Exception) { /* read-only trees: best effort */ }
    }
}

/// <summary>
/// Writes tar blocks byte by byte, for what TarWriter cannot express: PAX records with binary values,
/// GNU long names, base-256 numbers, libarchive's base64 xattrs.
/// </summary>
internal sealed class RawTar : IDisposable
{
    private readonly MemoryStream _ms = new();

    public void Dispose() => _ms.Dispose();

    public RawTar Pax(params (string Key, byte[] Value)[] records)
    {
        var body = new MemoryStream();
        foreach (var (key, value) in records)
        {
            byte[] k = Encoding.UTF8.GetBytes(key);
            int rest = 1 + k.Length + 1 + value.Length + 1; // " key=value\n"
            int len = rest + 1;
            while (len.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + rest != len) len++;
            body.Write(Encoding.ASCII.GetBytes(len.ToString(System.Globalization.CultureInfo.InvariantCulture) + " "));
            body.Write(k); body.WriteByte((byte)'='); body.Write(value); body.WriteByte((byte)'\n');
        }
        return Entry("PaxHeaders/x", 'x', body.ToArray());
    }

    public RawTar GnuLongName(string name) => Entry("././@LongLink", 'L', [.. Encoding.UTF8.GetBytes(name), 0], gnu: true);

    public RawTar Entry(string name, char type, byte[] data, int mode = 0x1A4, bool gnu = false, bool base256Size = false, long mtime = 1704164645)
    {
        var h = new byte[512];
        Encoding.UTF8.GetBytes(name.Length > 100 ? name[..100] : name).CopyTo(h, 0);
        Octal(h, 100, 8, mode);
        Octal(h, 108, 8, 0);
        Octal(h, 116, 8, 0);
        if (base256Size)
        {
            h[124] = 0x80;
            for (int i = 0; i < 8; i++) h[135 - i] = (byte)((long)data.Length >> (8 * i));
        }
        else Octal(h, 124, 12, data.Length);
        Octal(h, 136, 12, mtime);
        h[156] = (byte)type;
        (gnu ? "ustar  \0"u8 : "ustar\u000000"u8).CopyTo(h.AsSpan(257));
        h.AsSpan(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in h) sum += b;
        Octal(h, 148, 7, sum);
        h[155] = (byte)' ';
        _ms.Write(h);
        _ms.Write(data);
        _ms.Write(new byte[(512 - data.Length % 512) % 512]);
        return this;
    }

    private static void Octal(byte[] h, int at, int width, long value)
    {
        string s = Convert.ToString(value, 8).PadLeft(width - 1, '0');
        Encoding.ASCII.GetBytes(s).CopyTo(h, at);
        h[at + width - 1] = 0;
    }

    public byte[] Build()
    {
        _ms.Write(new byte[1024]);
        return _ms.ToArray();
    }
}
