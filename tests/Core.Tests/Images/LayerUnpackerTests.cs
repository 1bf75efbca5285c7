using System.Text;
using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Native;

namespace Containers.Core.Tests.Images;

public sealed class LayerUnpackerTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private string Layer => _tmp.Sub("layer");
    private string Outside => _tmp.Sub("outside");

    public LayerUnpackerTests() => Directory.CreateDirectory(Outside);

    public void Dispose() => _tmp.Dispose();

    private LayerUnpacker Unpack(byte[] tar, bool rootless = false)
    {
        var u = new LayerUnpacker(Layer, new LayerUnpackOptions { Rootless = rootless });
        try { u.Unpack(new MemoryStream(tar)); }
        finally { u.Dispose(); }
        return u;
    }

    private static FileStatus Stat(string path) => FileSystemCalls.StatAt(FileSystemCalls.AT_FDCWD, path) ?? throw new FileNotFoundException(path);

    private void AssertNothingOutside() => Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));

    [Fact]
    public void UnpacksFilesDirectoriesModesOwnershipAndTimes()
    {
        var tar = new TarBuilder()
            .Dir("./").Dir("./bin", 0x1ED).File("./bin/tool", "#!/bin/sh\n", 0x9ED /* 4755 */)
            .File("bin/sgid", "g", 0x5E8 /* 2750 */).Dir("tmp", 0x3FF /* 1777 */)
            .Dir("home/user", 0x1E8 /* 0750 */, 1000, 1000).File("home/user/owned.txt", "mine", 0x1A4, 1000, 1000)
            .File("implicit/parent/file", "x").Dir("ro", 0x16D /* 0555 */).File("ro/inside", "y")
            .Build();
        Unpack(tar);
        Assert.Equal("#!/bin/sh\n", File.ReadAllText(Path.Combine(Layer, "bin/tool")));
        Assert.Equal(0x9EDu, Stat(Path.Combine(Layer, "bin/tool")).Mode & 0xFFF);
        Assert.Equal(0x5E8u, Stat(Path.Combine(Layer, "bin/sgid")).Mode & 0xFFF);
        Assert.Equal(0x3FFu, Stat(Path.Combine(Layer, "tmp")).Mode & 0xFFF);
        Assert.Equal(0x16Du, Stat(Path.Combine(Layer, "ro")).Mode & 0xFFF);
        Assert.Equal(0x1EDu, Stat(Path.Combine(Layer, "implicit")).Mode & 0xFFF);
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(Layer, "bin/tool")));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc), Directory.GetLastWriteTimeUtc(Path.Combine(Layer, "ro")));
        if (Identity.IsRoot)
        {
            var st = Stat(Path.Combine(Layer, "home/user/owned.txt"));
            Assert.Equal((1000u, 1000u), (st.Uid, st.Gid));
            Assert.Equal(1000u, Stat(Path.Combine(Layer, "home/user")).Uid);
        }
    }

    [Fact]
    public void StoresSymlinksAsWrittenAndHardlinksShareTheInode()
    {
        var tar = new TarBuilder()
            .File("a.txt", "content").Hardlink("b.txt", "a.txt").Hardlink("/c.txt", "./a.txt")
            .Symlink("abs", "/etc/passwd").Symlink("rel", "a.txt").Symlink("escaping", "../../../../etc/shadow")
            .Symlink("to-outside", Outside).Hardlink("link-to-symlink", "to-outside")
            .Build();
        Unpack(tar);
        var a = Stat(Path.Combine(Layer, "a.txt"));
        Assert.Equal(a.Inode, Stat(Path.Combine(Layer, "b.txt")).Inode);
        Assert.Equal(a.Inode, Stat(Path.Combine(Layer, "c.txt")).Inode);
        Assert.Equal(3, a.Links);
        Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(Layer, "abs")).LinkTarget);
        Assert.Equal("../../../../etc/shadow", new FileInfo(Path.Combine(Layer, "escaping")).LinkTarget);
        // A hardlink to a symlink links the symlink itself, never what it points at.
        Assert.True(Stat(Path.Combine(Layer, "link-to-symlink")).IsSymlink);
        AssertNothingOutside();
    }

    [Fact]
    public void ConvertsWhiteoutsAndOpaqueDirectoriesToOverlayForm()
    {
        var tar = new TarBuilder()
            .Dir("data").File("data/.wh.deleted.txt", "").Dir("opaque").File("opaque/.wh..wh..opq", "").File("opaque/new.txt", "n")
            .File("gone/x", "1").File(".wh.gone", "")
            .Build();
        Unpack(tar, rootless: !Identity.IsRoot);
        var wh = Stat(Path.Combine(Layer, "data/deleted.txt"));
        Assert.True(wh.IsCharDevice);
        Assert.False(File.Exists(Path.Combine(Layer, "data/.wh.deleted.txt")));
        Assert.True(Stat(Path.Combine(Layer, "gone")).IsCharDevice);
        Assert.False(File.Exists(Path.Combine(Layer, "opaque/.wh..wh..opq")));
        Assert.Equal("n", File.ReadAllText(Path.Combine(Layer, "opaque/new.txt")));
        string xattr = Identity.IsRoot ? LayerUnpacker.TrustedOpaqueXattr : LayerUnpacker.UserOpaqueXattr;
        Assert.Equal("y"u8.ToArray(), FileSystemCalls.GetXattr(Path.Combine(Layer, "opaque"), xattr));
        Assert.Null(FileSystemCalls.GetXattr(Path.Combine(Layer, "data"), xattr));
    }

    [Fact]
    public void RootlessMarksOpaqueWithTheUserXattrAndSkipsDevices()
    {
        var tar = new TarBuilder().Dir("o").File("o/.wh..wh..opq", "").CharDevice("dev/null", 1, 3).File("keep", "k").Build();
        var u = Unpack(tar, rootless: true);
        Assert.Equal("y"u8.ToArray(), FileSystemCalls.GetXattr(Path.Combine(Layer, "o"), LayerUnpacker.UserOpaqueXattr));
        Assert.Null(FileSystemCalls.StatAt(FileSystemCalls.AT_FDCWD, Path.Combine(Layer, "dev/null")));
        Assert.Contains(u.Warnings, w => w.Contains("dev/null"));
        Assert.True(File.Exists(Path.Combine(Layer, "keep")));
    }

    [RootFact]
    public void CreatesDeviceNodesAndFifosAsRoot()
    {
        Unpack(new TarBuilder().CharDevice("dev/null", 1, 3).Fifo("pipe").Build());
        Assert.True(Stat(Path.Combine(Layer, "dev/null")).IsCharDevice);
        Assert.Equal(0x1000u, Stat(Path.Combine(Layer, "pipe")).Type);
    }

    [Fact]
    public void AppliesPaxXattrsButNeverOverlayOnes()
    {
        var pax = new Dictionary<string, string> { ["SCHILY.xattr.user.fixture"] = "layer-two", ["SCHILY.xattr.trusted.overlay.opaque"] = "y" };
        var u = Unpack(new TarBuilder().File("x.txt", "x", pax: pax).Build(), rootless: true);
        Assert.Equal(Encoding.UTF8.GetBytes("layer-two"), FileSystemCalls.GetXattr(Path.Combine(Layer, "x.txt"), "user.fixture"));
        Assert.Null(FileSystemCalls.GetXattr(Path.Combine(Layer, "x.txt"), "trusted.overlay.opaque"));
        Assert.Contains(u.Warnings, w => w.Contains("trusted.overlay.opaque"));
    }

    [Fact]
    public void KeepsBinaryXattrValuesByteForByte()
    {
        // security.capability for cap_net_raw+ep (VFS_CAP_REVISION_2): not valid UTF-8, NULs inside.
        byte[] caps = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
        byte[] binary = [0xff, 0xfe, 0x00, 0x0a, 0x3d, 0x80];
        var tar = new RawTar()
            .Pax(("SCHILY.xattr.user.binary", binary), ("SCHILY.xattr.security.capability", caps), ("mtime", "1704164645.5"u8.ToArray()))
            .Entry("ping", '0', "elf"u8.ToArray(), 0x1ED)
            .Pax(("LIBARCHIVE.xattr.user.b64%20name", Encoding.ASCII.GetBytes(Convert.ToBase64String(binary))))
            .Entry("other", '0', "o"u8.ToArray())
            .Build();
        var u = Unpack(tar, rootless: !Identity.IsRoot);
        Assert.Equal(binary, FileSystemCalls.GetXattr(Path.Combine(Layer, "ping"), "user.binary"));
        Assert.Equal(binary, FileSystemCalls.GetXattr(Path.Combine(Layer, "other"), "user.b64 name"));
        Assert.Null(FileSystemCalls.GetXattr(Path.Combine(Layer, "other"), "user.binary"));
        Assert.Equal("elf", File.ReadAllText(Path.Combine(Layer, "ping")));
        if (Identity.IsRoot) Assert.Equal(caps, FileSystemCalls.GetXattr(Path.Combine(Layer, "ping"), "security.capability"));
        else Assert.Contains(u.Warnings, w => w.Contains("security.capability"));
    }

    [Fact]
    public void ReadsGnuLongNamesBase256SizesAndPaxOverrides()
    {
        string longName = "dir/" + new string('n', 150) + "/leaf.txt";
        byte[] big = new byte[70000];
        new Random(3).NextBytes(big);
        var tar = new RawTar()
            .GnuLongName(longName).Entry("truncated", '0', "long"u8.ToArray(), gnu: true)
            .Entry("sized", '0', big, base256Size: true, gnu: true)
            .Pax(("path", Encoding.UTF8.GetBytes("pax/ŝ-name")), ("uid", "0"u8.ToArray()))
            .Entry("ignored", '0', "p"u8.ToArray())
            .Entry("v7dir/", '\0', [], 0x1ED)
            .Build();
        var u = Unpack(tar);
        Assert.Equal("long", File.ReadAllText(Path.Combine(Layer, longName)));
        Assert.Equal(big, File.ReadAllBytes(Path.Combine(Layer, "sized")));
        Assert.Equal("p", File.ReadAllText(Path.Combine(Layer, "pax/ŝ-name")));
        Assert.False(File.Exists(Path.Combine(Layer, "ignored")));
        Assert.True(Directory.Exists(Path.Combine(Layer, "v7dir")));
        Assert.Equal(4, u.Entries);
    }

    [Theory]
    [InlineData("bad-length")]
    [InlineData("truncated")]
    [InlineData("checksum")]
    [InlineData("huge-pax")]
    public void MalformedStructureIsATypedError(string kind)
    {
        byte[] tar = kind switch
        {
            "bad-length" => Corrupt(new RawTar().Pax(("path", "x"u8.ToArray())).Entry("f", '0', "d"u8.ToArray()).Build(), 512, (byte)'5'),
            "truncated" => new RawTar().Entry("f", '0', new byte[5000]).Build()[..2048],
            "checksum" => Corrupt(new RawTar().Entry("f", '0', "d"u8.ToArray()).Build(), 0, (byte)'g'),
            _ => HugePax(),
        };
        var e = Assert.Throws<ContainersException>(() => Unpack(tar));
        Assert.Equal("LayerMalformed", e.ErrorId);

        static byte[] Corrupt(byte[] b, int at, byte value) { b[at] = value; return b; }
        static byte[] HugePax()
        {
            var b = new RawTar().Entry("PaxHeaders/x", 'x', []).Build();
            var h = b.AsSpan(0, 512);
            System.Text.Encoding.ASCII.GetBytes("77777777777").CopyTo(h[124..]); // 8 GiB of PAX records
            h.Slice(148, 8).Fill((byte)' ');
            int sum = 0;
            foreach (byte x in h) sum += x;
            System.Text.Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(h[148..]);
            return b;
        }
    }

    [Fact]
    public void ARunOfPaxHeadersBeforeOneEntryIsRefusedWithBoundedMemory()
    {
        // 200 consecutive PAX headers of 512 KiB, each a fresh xattr of the same entry: 100 MiB of metadata
        // for one file (the reported bomb took a shell to 1.1 GB from an 826 KB layer), fed gzipped as a pull would.
        byte[] one = new RawTar().Pax(("SCHILY.xattr.user.pad", new byte[512 << 10])).Build()[..^1024];
        byte[] entry = new RawTar().Entry("victim", '0', "v"u8.ToArray()).Build();
        var gz = new MemoryStream();
        using (var z = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            for (int i = 0; i < 200; i++) z.Write(one);
            z.Write(entry);
        }
        gz.Position = 0;
        using var tar = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionMode.Decompress);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ContainersException>(() =>
        {
            using var u = new LayerUnpacker(Layer, new LayerUnpackOptions { Rootless = !Identity.IsRoot });
            u.Unpack(tar);
        });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("LayerMalformed", e.ErrorId);
        Assert.Contains("metadata", e.Message);
        Assert.InRange(allocated, 0, 16L << 20);
        Assert.False(File.Exists(Path.Combine(Layer, "victim")));
    }

    [Theory]
    // A name that is not UTF-8 would come out as U+FFFD (another name; "\xff" and "\xfe" would even collide).
    [InlineData("path", new byte[] { (byte)'n', 0xff, (byte)'x' }, "LayerMalformed", "UTF-8")]
    [InlineData("linkpath", new byte[] { (byte)'t', 0xfe }, "LayerMalformed", "UTF-8")]
    // (uid_t)-1 means "leave unchanged" to chown(2); larger ids were truncated: never the owner the entry names.
    [InlineData("uid", new byte[] { (byte)'4', (byte)'2', (byte)'9', (byte)'4', (byte)'9', (byte)'6', (byte)'7', (byte)'2', (byte)'9', (byte)'5' }, "LayerOwnerOutOfRange", "4294967295")]
    [InlineData("gid", new byte[] { (byte)'4', (byte)'2', (byte)'9', (byte)'4', (byte)'9', (byte)'6', (byte)'7', (byte)'2', (byte)'9', (byte)'6' }, "LayerOwnerOutOfRange", "4294967296")]
    public void AnEntryThatCannotBeReproducedExactlyIsRefusedWithItsReason(string key, byte[] value, string errorId, string said)
    {
        var tar = new RawTar().Pax((key, value)).Entry("plain", key == "linkpath" ? '2' : '0', []).Build();
        var e = Assert.Throws<ContainersException>(() => Unpack(tar));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Contains(said, e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Layer));
    }

    [Theory]
    [InlineData('5')]
    [InlineData('2')]
    [InlineData('1')]
    [InlineData('6')]
    public void AHeaderOnlyEntryThatCarriesDataIsRefused(char type)
    {
        // The "data" is a header that Go's tar reader (docker, umoci) sees as the next entry and a skipping reader does not.
        byte[] smuggled = new RawTar().Entry("smuggled", '0', "s"u8.ToArray()).Build()[..1024];
        var tar = new RawTar().Entry("plain", '0', "p"u8.ToArray()).Entry("carrier", type, smuggled).Build();
        var e = Assert.Throws<ContainersException>(() => Unpack(tar));
        Assert.Equal("LayerMalformed", e.ErrorId);
        Assert.Contains("carrier", e.Message);
    }

    [Fact]
    public void TheRootEntryGivesTheLayerRootItsModeOwnerAndTime()
    {
        var tar = new TarBuilder().Dir("./", 0x1E8 /* 0750 */, 1000, 1001).File("f", "x").Build();
        Unpack(tar, rootless: !Identity.IsRoot);
        var st = Stat(Layer);
        Assert.Equal(0x1E8u, st.Mode & 0xFFF);
        if (Identity.IsRoot) Assert.Equal((1000u, 1001u), (st.Uid, st.Gid));
        var e = Assert.Throws<ContainersException>(() => Unpack(new RawTar().Entry("./", '0', "x"u8.ToArray()).Build()));
        Assert.Equal("LayerMalformed", e.ErrorId);
    }

    [Fact]
    public void LaterEntriesReplaceEarlierOnes()
    {
        var tar = new TarBuilder()
            .File("a", "file first").Dir("a").File("a/inside", "i")
            .Dir("b").File("b/child", "c").File("b", "now a file")
            .Symlink("c", "/etc").Dir("c")
            .Build();
        Unpack(tar);
        Assert.Equal("i", File.ReadAllText(Path.Combine(Layer, "a/inside")));
        Assert.Equal("now a file", File.ReadAllText(Path.Combine(Layer, "b")));
        Assert.True(Stat(Path.Combine(Layer, "c")).IsDirectory);
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("a/../../evil")]
    [InlineData("./../outside/evil")]
    public void RefusesDotDotEntries(string name)
    {
        var e = Assert.Throws<ContainersException>(() => Unpack(new TarBuilder().File(name, "pwned").Build()));
        Assert.Equal("LayerPathEscapes", e.ErrorId);
        Assert.False(File.Exists(Path.Combine(_tmp.Path, "evil")));
        AssertNothingOutside();
    }

    [Fact]
    public void AbsoluteNamesStayInsideTheLayer()
    {
        Unpack(new TarBuilder().File(Path.Combine(Outside, "abs.txt"), "inside").Build());
        AssertNothingOutside();
        Assert.Equal("inside", File.ReadAllText(Path.Combine(Layer, Outside.TrimStart('/'), "abs.txt")));
    }

    [Theory]
    [InlineData("abs-link")]
    [InlineData("rel-link")]
    public void RefusesWritingThroughASymlinkTheTarMade(string link)
    {
        var tar = new TarBuilder()
            .Symlink("abs-link", Outside).Symlink("rel-link", "../outside")
            .File(link + "/evil.txt", "pwned").Build();
        var e = Assert.Throws<ContainersException>(() => Unpack(tar));
        Assert.Equal("LayerEntryThroughSymlink", e.ErrorId);
        AssertNothingOutside();
    }

    [Fact]
    public void RefusesDirectoriesAndWhiteoutsThroughSymlinks()
    {
        File.WriteAllText(Path.Combine(Outside, "victim"), "keep me");
        foreach (var tar in new[]
                 {
                     new TarBuilder().Symlink("l", Outside).File("l/.wh.victim", "").Build(),
                     new TarBuilder().Symlink("l", Outside).File("l/.wh..wh..opq", "").Build(),
                     new TarBuilder().Symlink("l", Outside).Dir("l/newdir").Build(),
                     new TarBuilder().Symlink("l", Outside).Hardlink("x", "l/victim").Build(),
                 })
        {
            if (Directory.Exists(Layer)) Directory.Delete(Layer, true);
            var e = Assert.Throws<ContainersException>(() => Unpack(tar));
            Assert.Equal("LayerEntryThroughSymlink", e.ErrorId);
            Assert.Equal("keep me", File.ReadAllText(Path.Combine(Outside, "victim")));
            Assert.Single(Directory.EnumerateFileSystemEntries(Outside));
            Assert.Null(FileSystemCalls.GetXattr(Outside, LayerUnpacker.UserOpaqueXattr));
        }
    }

    [Theory]
    [InlineData("../outside/victim", "LayerPathEscapes")]
    [InlineData("missing", "LayerHardlinkTargetMissing")]
    public void RefusesHardlinksOutOfTheLayer(string target, string errorId)
    {
        File.WriteAllText(Path.Combine(Outside, "victim"), "keep me");
        var e = Assert.Throws<ContainersException>(() => Unpack(new TarBuilder().Hardlink("h", target).Build()));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(1, Stat(Path.Combine(Outside, "victim")).Links);
    }

    [Theory]
    [InlineData(".wh..")]
    [InlineData("d/.wh...")]
    [InlineData(".wh.")]
    public void RefusesWhiteoutsThatNameTheParent(string name)
    {
        var e = Assert.Throws<ContainersException>(() => Unpack(new TarBuilder().Dir("d").File(name, "").Build()));
        Assert.True(e.ErrorId is "LayerInvalidWhiteout" or "LayerPathEscapes", e.ErrorId);
        Assert.True(Directory.Exists(Layer));
    }

    [Fact]
    public void GarbageIsATypedError()
    {
        var junk = new byte[4096];
        new Random(7).NextBytes(junk);
        var e = Assert.Throws<ContainersException>(() => Unpack(junk));
        Assert.Equal("LayerMalformed", e.ErrorId);
    }
}

public sealed class LayerUnpackerAufsTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void SkipsAufsMetadataEntries()
    {
        var tar = new TarBuilder().Dir(".wh..wh.plnk").File(".wh..wh.plnk/123.456", "x").File(".wh..wh.aufs", "").File("keep", "k").Build();
        using (var u = new LayerUnpacker(_tmp.Sub("l"), new LayerUnpackOptions { Rootless = true })) u.Unpack(new MemoryStream(tar));
        Assert.Equal(["keep"], Directory.EnumerateFileSystemEntries(_tmp.Sub("l")).Select(Path.GetFileName));
    }
}
