using System.Formats.Tar;
using System.Text;
using Containers.Core.Images;
using Containers.Core.Native;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Tests.Images;

/// <summary>
/// The tree writer (commit, export, merge) against real files in overlay form, read back by the project's
/// own tar reader and unpacker and by System.Formats.Tar as an independent reader.
/// </summary>
public sealed class LayeredTreeWriterTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static byte[] WriteTar(LayeredTreeWriter writer)
    {
        var ms = new MemoryStream();
        using (var tar = new LayerTarWriter(ms)) writer.Write(tar);
        return ms.ToArray();
    }

    private static List<LayerTarEntry> Read(byte[] tar, Dictionary<string, byte[]>? contents = null)
    {
        var reader = new LayerTarReader(new MemoryStream(tar));
        var list = new List<LayerTarEntry>();
        while (reader.Next() is { } e)
        {
            list.Add(e);
            if (contents is not null && e.Type == LayerEntryType.RegularFile) { var ms = new MemoryStream(); e.Data.CopyTo(ms); contents[e.Name] = ms.ToArray(); }
        }
        return list;
    }

    private static void Mknod(string path, uint type, ulong dev)
    {
        int fd = OpenAt(AT_FDCWD, Path.GetDirectoryName(path)!, O_RDONLY | O_DIRECTORY);
        try { MknodAt(fd, Path.GetFileName(path), type | 0x1A4, dev); }
        finally { Close(fd); }
    }

    private static void SetXattr(string path, string name, byte[] value)
    {
        int fd = OpenAt(AT_FDCWD, path, O_RDONLY);
        try { FileSystemCalls.SetXattr(fd, name, value); }
        finally { Close(fd); }
    }

    /// <summary>An overlay upper dir as a container leaves it: whiteout, opaque dir, links, devices, binary xattrs, big ids, long names.</summary>
    private string MakeUpper()
    {
        string up = _tmp.Sub("upper");
        Directory.CreateDirectory(Path.Combine(up, "etc"));
        Directory.CreateDirectory(Path.Combine(up, "opaque"));
        File.WriteAllText(Path.Combine(up, "opaque/kept"), "k");
        SetXattr(Path.Combine(up, "opaque"), LayerUnpacker.TrustedOpaqueXattr, "y"u8.ToArray());
        Mknod(Path.Combine(up, "etc/gone"), S_IFCHR, 0);
        // A whiteout made long ago: its time must survive a round trip, not become the time of the unpack.
        var past = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);
        SetTimesAt(AT_FDCWD, Path.Combine(up, "etc/gone"), past, past);
        File.WriteAllText(Path.Combine(up, "etc/file"), "content");
        File.CreateSymbolicLink(Path.Combine(up, "etc/link"), "file");
        LinkAt(AT_FDCWD, Path.Combine(up, "etc/file"), AT_FDCWD, Path.Combine(up, "etc/hard"));
        SetXattr(Path.Combine(up, "etc/file"), "user.bin", [0x00, 0xFF, 0x0A, 0x3D]);
        SetXattr(Path.Combine(up, "etc/file"), "trusted.overlay.origin", [1, 2, 3]);
        Mknod(Path.Combine(up, "etc/null"), S_IFCHR, (1UL << 8) | 3);
        Mknod(Path.Combine(up, "etc/fifo"), S_IFIFO, 0);
        string longDir = Path.Combine(up, new string('d', 90), new string('e', 60));
        Directory.CreateDirectory(longDir);
        File.WriteAllText(Path.Combine(longDir, "f"), "long");
        FchownAt(AT_FDCWD, Path.Combine(longDir, "f"), 3_000_000, 3_000_001); // before chmod: chown clears setuid
        FchmodAt(AT_FDCWD, Path.Combine(longDir, "f"), 0x9ED);
        return up;
    }

    [RootFact]
    public void WritesAnUpperDirAsAnOciLayer()
    {
        // mknod, trusted.* xattrs and chown need root
        string up = MakeUpper();
        var contents = new Dictionary<string, byte[]>();
        var entries = Read(WriteTar(new LayeredTreeWriter([up], LayeredTreeMode.Layer)), contents).ToDictionary(e => e.Name);

        Assert.Equal(LayerEntryType.RegularFile, entries["etc/.wh.gone"].Type);
        Assert.False(entries.ContainsKey("etc/gone"));
        Assert.True(entries.ContainsKey("opaque/" + LayerUnpacker.OpaqueMarker));
        Assert.Equal(LayerEntryType.SymbolicLink, entries["etc/link"].Type);
        Assert.Equal("file", entries["etc/link"].LinkName);
        // One of the two names carries the data; the other links to it.
        var (data, link) = entries["etc/file"].Type == LayerEntryType.RegularFile ? ("etc/file", "etc/hard") : ("etc/hard", "etc/file");
        Assert.Equal(LayerEntryType.HardLink, entries[link].Type);
        Assert.Equal(data, entries[link].LinkName);
        Assert.Equal("content", Encoding.UTF8.GetString(contents[data]));
        var xattrs = entries[data].Xattrs.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x0A, 0x3D }, xattrs["user.bin"]);
        Assert.DoesNotContain("trusted.overlay.origin", xattrs.Keys);
        Assert.DoesNotContain(entries["opaque/"].Xattrs, x => x.Key.Contains("overlay"));
        Assert.Equal((1u, 3u), (entries["etc/null"].DeviceMajor, entries["etc/null"].DeviceMinor));
        Assert.Equal(LayerEntryType.Fifo, entries["etc/fifo"].Type);
        string longName = new string('d', 90) + "/" + new string('e', 60) + "/f";
        Assert.Equal(0x9EDu, entries[longName].Mode & 0xFFF);
        Assert.Equal((3_000_000L, 3_000_001L), (entries[longName].Uid, entries[longName].Gid));
    }

    [RootFact]
    public void TheLayerUnpacksBackToTheSameTree()
    {
        string up = MakeUpper();
        byte[] tar = WriteTar(new LayeredTreeWriter([up], LayeredTreeMode.Layer));
        string back = _tmp.Sub("back");
        using (var u = new LayerUnpacker(back, new LayerUnpackOptions { Rootless = false })) u.Unpack(new MemoryStream(tar));
        // Written again from the unpacked copy, the tar is the same byte for byte (times included).
        Assert.Equal(tar, WriteTar(new LayeredTreeWriter([back], LayeredTreeMode.Layer)));
        Assert.Equal("y", Encoding.ASCII.GetString(GetXattr(Path.Combine(back, "opaque"), LayerUnpacker.TrustedOpaqueXattr)!));
        Assert.Equal(0UL, LinkStat.Get(Path.Combine(back, "etc/gone"))!.Value.Rdev);
    }

    [Fact]
    public void SystemFormatsTarReadsTheArchive()
    {
        string dir = _tmp.Sub("plain");
        string deep = Path.Combine(dir, new string('x', 120));
        Directory.CreateDirectory(deep);
        File.WriteAllText(Path.Combine(deep, "ü.txt"), "unicode name");
        File.CreateSymbolicLink(Path.Combine(dir, "far"), "/" + new string('t', 150));
        var ms = new MemoryStream(WriteTar(new LayeredTreeWriter([dir], LayeredTreeMode.Flat)));
        using var reader = new TarReader(ms);
        var names = new Dictionary<string, TarEntry>();
        while (reader.GetNextEntry(copyData: true) is { } e) names[e.Name] = e;
        Assert.Equal(TarEntryType.Directory, names[new string('x', 120) + "/"].EntryType);
        var file = names[new string('x', 120) + "/ü.txt"];
        Assert.Equal("unicode name", new StreamReader(file.DataStream!).ReadToEnd());
        Assert.Equal("/" + new string('t', 150), names["far"].LinkName);
    }

    [RootFact]
    public void StacksDirectoriesAsOverlayDoes()
    {
        // whiteouts are device nodes
        string lower = _tmp.Sub("lower"), upper = _tmp.Sub("upper2");
        foreach (string d in new[] { "a", "b/old", "c" }) Directory.CreateDirectory(Path.Combine(lower, d));
        File.WriteAllText(Path.Combine(lower, "a/x"), "x");
        File.WriteAllText(Path.Combine(lower, "a/y"), "lower y");
        File.WriteAllText(Path.Combine(lower, "b/old/f"), "hidden");
        File.WriteAllText(Path.Combine(lower, "c/f"), "hidden by a file");
        Directory.CreateDirectory(Path.Combine(upper, "a"));
        Directory.CreateDirectory(Path.Combine(upper, "b"));
        Mknod(Path.Combine(upper, "a/x"), S_IFCHR, 0);
        File.WriteAllText(Path.Combine(upper, "a/y"), "upper y");
        SetXattr(Path.Combine(upper, "b"), LayerUnpacker.TrustedOpaqueXattr, "y"u8.ToArray());
        File.WriteAllText(Path.Combine(upper, "b/new"), "new");
        File.WriteAllText(Path.Combine(upper, "c"), "now a file");

        var flat = new Dictionary<string, byte[]>();
        var flatNames = Read(WriteTar(new LayeredTreeWriter([upper, lower], LayeredTreeMode.Flat)), flat).Select(e => e.Name).ToList();
        Assert.Equal(["a/", "a/y", "b/", "b/new", "c"], flatNames);
        Assert.Equal("upper y", Encoding.UTF8.GetString(flat["a/y"]));

        var merged = Read(WriteTar(new LayeredTreeWriter([upper, lower], LayeredTreeMode.Layer))).Select(e => e.Name).ToList();
        Assert.Equal(["a/", "a/.wh.x", "a/y", "b/", "b/.wh..wh..opq", "b/new", "c"], merged);
    }
}
