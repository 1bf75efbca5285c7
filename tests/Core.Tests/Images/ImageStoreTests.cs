using System.Text;
using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Images;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class ImageStoreTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private ImageStore NewStore(long maxLayer = 64L << 20, IImageUsers? users = null) =>
        ImageStore.OpenAt(_tmp.Sub("store"), new ImageStoreOptions
        {
            MaxLayerBytes = maxLayer, Durable = false, Users = users ?? NoImageUsers.Instance,
            Unpack = new LayerUnpackOptions { Rootless = !Native.Identity.IsRoot },
        });

    public void Dispose() => _tmp.Dispose();

    /// <summary>A built image: layers as blobs, with manifest and config bytes.</summary>
    private sealed record TestImage(byte[] Manifest, byte[] Config, List<(Descriptor Desc, Digest DiffId, byte[] Blob)> Layers);

    private static TestImage BuildImage(string label, params (byte[] Tar, LayerCompression Compression)[] layers)
    {
        var list = new List<(Descriptor, Digest, byte[])>();
        foreach (var (tar, compression) in layers)
        {
            byte[] blob = compression switch { LayerCompression.Gzip => TarBuilder.Gzip(tar), LayerCompression.Zstd => TarBuilder.Zstd(tar), _ => tar };
            string mt = compression switch { LayerCompression.Gzip => MediaTypes.OciLayerGzip, LayerCompression.Zstd => MediaTypes.OciLayerZstd, _ => MediaTypes.OciLayer };
            list.Add((new Descriptor { MediaType = mt, Digest = Digest.Sha256(blob).ToString(), Size = blob.Length }, Digest.Sha256(tar), blob));
        }
        var config = new ImageConfig
        {
            Architecture = "amd64", Os = "linux", Created = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero),
            Config = new ContainerConfig { Cmd = ["/bin/sh"], Labels = new Dictionary<string, string> { ["which"] = label } },
            RootFs = new RootFs { DiffIds = list.Select(l => l.Item2.ToString()).ToList() },
        };
        byte[] configBytes = SpecJson.Serialize(config, SpecJsonContext.Default.ImageConfig);
        var manifest = new Manifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Sha256(configBytes).ToString(), Size = configBytes.Length },
            Layers = list.Select(l => l.Item1).ToList(),
        };
        return new TestImage(SpecJson.Serialize(manifest, SpecJsonContext.Default.Manifest), configBytes, list);
    }

    private static async Task<StoredImage> Store(ImageStore store, TestImage image, params string[] names)
    {
        foreach (var (desc, diff, blob) in image.Layers)
            if (!store.HasLayer(diff) || !store.HasBlob(desc.ParsedDigest))
                await store.IngestLayerAsync(new MemoryStream(blob), desc, diff);
        return await store.CommitImageAsync(new ImageCommit { Manifest = image.Manifest, Config = image.Config, Names = names });
    }

    private static byte[] Base => new TarBuilder().Dir("bin").File("bin/sh", "#!fake\n", 0x1ED).Dir("etc").File("etc/passwd", "root:x:0:0::/:/bin/sh\n").Build();
    private static byte[] Top => new TarBuilder().File("etc/.wh.passwd", "").File("app.txt", "app").Build();

    private static void AssertNoStaging(ImageStore store) => Assert.Empty(Directory.EnumerateFileSystemEntries(store.TmpDir));

    [Fact]
    public async Task StoresAnImageAndFindsItLikePodman()
    {
        var store = NewStore();
        var image = await Store(store, BuildImage("a", (Base, LayerCompression.Gzip), (Top, LayerCompression.Zstd)), "busybox", "quay.io/ns/tool:1.0");
        Assert.Equal(["localhost/busybox:latest", "quay.io/ns/tool:1.0"], image.Names);
        Assert.Equal(2, image.LayerDirectories.Count);
        Assert.True(File.Exists(Path.Combine(image.LayerDirectories[0], "bin/sh")));
        Assert.True(File.Exists(Path.Combine(image.LayerDirectories[1], "app.txt")));
        Assert.Equal("a", image.Labels["which"]);
        Assert.Equal(Base.Length + Top.Length, image.Size);

        foreach (string q in new[] { "busybox", "busybox:latest", "localhost/busybox", "localhost/busybox:latest", "tool:1.0", "ns/tool:1.0",
                     image.Id, image.Id[..3], image.Id[..12], image.ConfigDigest.ToString(), image.Digest.ToString(), "quay.io/ns/tool@" + image.Digest })
            Assert.Equal(image.Id, (await store.FindAsync(q))?.Id);
        foreach (string q in new[] { "busybox:other", "tool", "other.io/ns/tool:1.0", "usybox", "zzz", "12" })
            Assert.Null(await store.FindAsync(q));
        AssertNoStaging(store);
    }

    [Fact]
    public async Task KeepsSignaturesPerManifestDigestUntilTheLastImageWithThatDigestGoes()
    {
        var store = NewStore();
        var a = await Store(store, BuildImage("a", (Base, LayerCompression.Gzip)), "a", "a2");
        var other = Digest.Sha256("no such manifest"u8);
        Assert.Null(store.ReadSignatures(a.Digest));
        store.WriteSignatures(a.Digest, "one"u8);
        store.WriteSignatures(a.Digest, "two"u8);
        Assert.Equal("two"u8.ToArray(), store.ReadSignatures(a.Digest));
        Assert.Null(store.ReadSignatures(other));
        await store.RemoveAsync("a"); // one of two names: the image stays, so do its signatures
        Assert.NotNull(store.ReadSignatures(a.Digest));
        await store.RemoveAsync("a2");
        Assert.Null(store.ReadSignatures(a.Digest));
    }

    [Fact]
    public async Task SharesIdenticalLayersBetweenImagesAndCollectsThemWithTheLast()
    {
        var store = NewStore();
        var a = await Store(store, BuildImage("a", (Base, LayerCompression.Gzip)), "a");
        var b = await Store(store, BuildImage("b", (Base, LayerCompression.Gzip), (Top, LayerCompression.Gzip)), "b");
        Assert.Equal(a.LayerDirectories[0], b.LayerDirectories[0]);
        Assert.Single(Directory.GetDirectories(store.LayersDir), d => d.EndsWith(a.Layers[0].DiffId.Encoded));

        var removal = await store.RemoveAsync("a");
        Assert.True(removal.Deleted);
        Assert.True(Directory.Exists(b.LayerDirectories[0]));
        Assert.False(store.HasBlob(a.ConfigDigest));
        await store.RemoveAsync("b");
        Assert.Empty(Directory.GetDirectories(store.LayersDir));
        Assert.Empty(Directory.GetFiles(Path.Combine(store.BlobsDir, "sha256")));
        Assert.Empty(await store.ListAsync());
    }

    [Fact]
    public async Task TagUntagAndRemoveFollowPodmanRules()
    {
        var store = NewStore();
        var img = await Store(store, BuildImage("a", (Base, LayerCompression.Gzip)), "one");
        await store.TagAsync("one", "registry.example.com/x/two:2");
        Assert.Equal(2, (await store.GetAsync(img.Id)).Names.Count);

        var e = await Assert.ThrowsAsync<ContainersException>(() => store.RemoveAsync(img.Id[..8]));
        Assert.Equal("ImageHasSeveralNames", e.ErrorId);

        var untag = await store.RemoveAsync("two:2");
        Assert.False(untag.Deleted);
        Assert.Equal(["localhost/one:latest"], (await store.GetAsync(img.Id)).Names);

        // A name moves to the newest image that takes it; the old one becomes dangling.
        var other = await Store(store, BuildImage("b", (Base, LayerCompression.Gzip)), "one");
        Assert.Empty((await store.GetAsync(img.Id)).Names);
        Assert.Equal(other.Id, (await store.GetAsync("one")).Id);

        await store.UntagAsync("one");
        Assert.True((await store.GetAsync(other.Id)).IsDangling);
        var nf = await Assert.ThrowsAsync<ContainersException>(() => store.RemoveAsync("nothing-here"));
        Assert.Equal("ImageNotFound", nf.ErrorId);
    }

    /// <summary>Stands in for the container records (the runtime's ContainerImageUsers reads the real ones).</summary>
    private sealed class Users(string imageId, IReadOnlyList<string>? layers = null) : IImageUsers
    {
        public IEnumerable<string> ContainersUsing(string id) => id == imageId ? ["web"] : [];
        public IEnumerable<string> LayerDirectoriesInUse() => layers ?? [];
    }

    [Fact]
    public async Task RefusesToRemoveAnImageInUseUnlessForced()
    {
        var img = await Store(NewStore(), BuildImage("a", (Base, LayerCompression.Gzip)), "used");
        var store = NewStore(users: new Users(img.Id, img.LayerDirectories));
        var e = await Assert.ThrowsAsync<ContainersException>(() => store.RemoveAsync("used"));
        Assert.Equal("ImageInUse", e.ErrorId);
        Assert.NotNull(await store.FindAsync("used"));
        await store.RemoveAsync("used", force: true);
        Assert.Null(await store.FindAsync("used"));
        // The container's layer stays, also through a prune, until the container is gone.
        Assert.True(Directory.Exists(img.LayerDirectories[0]));
        await store.PruneUnreferencedAsync();
        Assert.True(Directory.Exists(img.LayerDirectories[0]));
        Assert.True(await NewStore().PruneUnreferencedAsync() > 0);
        Assert.False(Directory.Exists(img.LayerDirectories[0]));
    }

    [Fact]
    public async Task ALayerAContainerStacksSurvivesTheRemovalOfEveryImageThatHadIt()
    {
        // The reported attack: force-remove the container's image, then remove a second image sharing the layer.
        var used = await Store(NewStore(), BuildImage("a", (Base, LayerCompression.Gzip), (Top, LayerCompression.Gzip)), "used");
        await Store(NewStore(), BuildImage("b", (Base, LayerCompression.Gzip)), "other");
        var store = NewStore(users: new Users(used.Id, used.LayerDirectories));
        await store.RemoveAsync("used", force: true);
        await store.RemoveAsync("other");
        Assert.All(used.LayerDirectories, d => Assert.True(Directory.Exists(d), d));
        Assert.True(File.Exists(Path.Combine(used.LayerDirectories[0], "etc/passwd")));
    }

    private static int Mode(string path) => (int)File.GetUnixFileMode(path);

    /// <summary>What an older version left: every directory 0755 and file 0644 except the layers' own trees, no marker.</summary>
    private static void MakeWorldReadable(ImageStore store)
    {
        File.Delete(Path.Combine(store.Root, Containers.Core.FileSystem.PrivateStore.Marker));
        foreach (string dir in Directory.EnumerateDirectories(store.Root, "*", SearchOption.AllDirectories).Append(store.Root))
            if (!dir.Contains("/diff")) File.SetUnixFileMode(dir, (UnixFileMode)0x1ED);
        foreach (string file in Directory.EnumerateFiles(store.Root, "*", SearchOption.AllDirectories))
            if (!file.Contains("/diff/")) File.SetUnixFileMode(file, (UnixFileMode)0x1A4);
    }

    /// <summary>Every path of the store outside the layers' own trees, with its mode when group or other may use it.</summary>
    private static List<string> OpenToOthers(ImageStore store) =>
        Directory.EnumerateFileSystemEntries(store.Root, "*", SearchOption.AllDirectories).Append(store.Root)
            .Where(p => !p.Contains("/diff/") && !p.EndsWith("/diff", StringComparison.Ordinal) && (Mode(p) & 0x3F) != 0)
            .Select(p => $"{p} {Convert.ToString(Mode(p), 8)}").ToList();

    [Fact]
    public async Task TheStoreIsPrivateToItsOwner()
    {
        var store = NewStore();
        var img = await Store(store, BuildImage("a", (Base, LayerCompression.Gzip), (Top, LayerCompression.Gzip)), "private");
        store.WriteSignatures(img.Digest, "{}"u8);
        Assert.Empty(OpenToOthers(store));
        Assert.Equal(0x1C0, Mode(store.Root));
        Assert.Equal(0x1C0, Mode(Path.GetDirectoryName(img.LayerDirectories[0])!));
        Assert.Equal(0x180, Mode(store.BlobPath(img.ConfigDigest)));
        // The layer's own tree keeps the modes its image gives it.
        Assert.Equal(0x1ED, Mode(Path.Combine(img.LayerDirectories[0], "bin/sh")));
    }

    [Fact]
    public async Task AnOlderWorldReadableStoreIsMadePrivateOnItsFirstOpenOnly()
    {
        var img = await Store(NewStore(), BuildImage("a", (Base, LayerCompression.Gzip)), "old");
        var store = NewStore();
        MakeWorldReadable(store);
        Assert.NotEmpty(OpenToOthers(store));

        store = NewStore();
        Assert.Empty(OpenToOthers(store));
        Assert.Equal(0x1ED, Mode(Path.Combine(img.LayerDirectories[0], "bin/sh")));
        Assert.NotNull(await store.FindAsync("old"));

        // Once marked, an open checks the root only: it does not walk every layer again.
        string layer = Path.GetDirectoryName(img.LayerDirectories[0])!;
        File.SetUnixFileMode(layer, (UnixFileMode)0x1ED);
        File.SetUnixFileMode(store.Root, (UnixFileMode)0x1ED);
        NewStore();
        Assert.Equal(0x1C0, Mode(store.Root));
        Assert.Equal(0x1ED, Mode(layer));
    }

    [Fact]
    public async Task ALayerWhoseRootIsOpaqueHidesEveryLayerBelowIt()
    {
        // overlayfs ignores the opaque mark on a lower layer's root, so the store leaves the layers below out of the stack.
        var opaqueTop = new TarBuilder().File(".wh..wh..opq", "").File("top.txt", "top").Build();
        var img = await Store(NewStore(), BuildImage("o", (Base, LayerCompression.Gzip), (Top, LayerCompression.Gzip), (opaqueTop, LayerCompression.Gzip)), "opaque");
        Assert.Equal([img.LayerDirectories[2]], img.StackedLayerDirectories());
        var plain = await Store(NewStore(), BuildImage("p", (Base, LayerCompression.Gzip), (Top, LayerCompression.Gzip)), "plain");
        Assert.Equal(plain.LayerDirectories, plain.StackedLayerDirectories());
    }

    [Fact]
    public async Task ACorruptLayerLeavesNothingVisible()
    {
        var store = NewStore();
        var image = BuildImage("a", (Base, LayerCompression.Gzip));
        var (desc, diff, blob) = image.Layers[0];
        var tampered = (byte[])blob.Clone();
        tampered[^10] ^= 0xff; // inside the gzip trailer's CRC/size or data

        var e = await Assert.ThrowsAnyAsync<ContainersException>(() => store.IngestLayerAsync(new MemoryStream(tampered), desc, diff));
        Assert.True(e.ErrorId is "DigestMismatch" or "LayerMalformed", e.ErrorId);
        Assert.False(store.HasLayer(diff));
        Assert.False(store.HasBlob(desc.ParsedDigest));

        var wrongDiff = await Assert.ThrowsAsync<ContainersException>(() => store.IngestLayerAsync(new MemoryStream(blob), desc, Digest.Sha256("other"u8)));
        Assert.Equal("DiffIdMismatch", wrongDiff.ErrorId);
        var wrongSize = await Assert.ThrowsAsync<ContainersException>(() => store.IngestLayerAsync(new MemoryStream(blob), desc with { Size = blob.Length - 1 }, diff));
        Assert.Equal("SizeMismatch", wrongSize.ErrorId);
        Assert.Empty(Directory.GetDirectories(store.LayersDir));
        Assert.Empty(Directory.GetFiles(Path.Combine(store.BlobsDir, "sha256")));
        AssertNoStaging(store);

        // Committing without the layer is refused, and nothing is recorded.
        var missing = await Assert.ThrowsAsync<ContainersException>(() => store.CommitImageAsync(new ImageCommit { Manifest = image.Manifest, Config = image.Config }));
        Assert.Equal("ImageLayerMissing", missing.ErrorId);
        Assert.Empty(await store.ListAsync());

        // And the honest blob still goes in afterwards.
        await Store(store, image, "ok");
        Assert.NotNull(await store.FindAsync("ok"));
    }

    [Fact]
    public async Task TheIndexAnImageWasChosenFromIsKeptWithItAndCollectedWithIt()
    {
        var store = NewStore();
        var image = BuildImage("i", (Base, LayerCompression.Gzip));
        byte[] Index(string manifestDigest) => System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciIndex}}}","manifests":[{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{manifestDigest}}}","size":1,"platform":{"architecture":"amd64","os":"linux"}}]}""");
        foreach (var (desc, diff, blob) in image.Layers) await store.IngestLayerAsync(new MemoryStream(blob), desc, diff);
        // An index that does not list the manifest is refused and nothing is recorded.
        var wrong = await Assert.ThrowsAsync<ContainersException>(() => store.CommitImageAsync(new ImageCommit
        { Manifest = image.Manifest, Config = image.Config, Names = ["i"], Index = Index(Digest.Sha256("other"u8).ToString()) }));
        Assert.Equal("IndexMismatch", wrong.ErrorId);
        Assert.Empty(await store.ListAsync());

        byte[] index = Index(Digest.Sha256(image.Manifest).ToString());
        var stored = await store.CommitImageAsync(new ImageCommit { Manifest = image.Manifest, Config = image.Config, Names = ["i"], Index = index });
        var indexDigest = Digest.Sha256(index);
        Assert.Contains(indexDigest, stored.ExtraDigests);
        Assert.Equal(index, await store.ReadBlobAsync(indexDigest, 1 << 20, default));
        Assert.Equal(stored.Id, (await store.FindAsync(indexDigest.ToString()))!.Id);
        await store.RemoveAsync("i");
        Assert.False(store.HasBlob(indexDigest));
    }

    [Fact]
    public async Task ASessionStagesManyIngestsInOneDirectoryThatALiveOwnerKeepsAndDisposeRemoves()
    {
        var store = NewStore();
        var image = BuildImage("s", (Base, LayerCompression.Gzip), (Top, LayerCompression.None));
        using (var session = store.BeginIngestSession())
        {
            foreach (var (desc, diff, blob) in image.Layers) await store.IngestLayerAsync(new MemoryStream(blob), desc, diff, session: session);
            var tampered = (byte[])image.Layers[0].Blob.Clone();
            tampered[^10] ^= 0xff;
            await Assert.ThrowsAnyAsync<ContainersException>(() => store.IngestLayerAsync(new MemoryStream(tampered), image.Layers[0].Desc, image.Layers[0].DiffId, session: session));
            // One lock file and one directory, emptied after each ingest, failed or not.
            var dir = Assert.Single(Directory.GetDirectories(store.TmpDir));
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
            Assert.Single(Directory.GetFiles(store.TmpDir, "*.lock"));
            // Another process opening the store meanwhile leaves a live session alone.
            _ = ImageStore.OpenAt(store.Root, store.Options);
            Assert.True(Directory.Exists(dir));
        }
        AssertNoStaging(store);
        await store.CommitImageAsync(new ImageCommit { Manifest = image.Manifest, Config = image.Config, Names = ["s"] });
        Assert.All(image.Layers, l => Assert.True(store.HasLayer(l.DiffId)));
    }

    [Fact]
    public async Task ALayerIsDurableOnlyOnceAnImageCommitsItAndAStaleCopyIsReplaced()
    {
        var store = NewStore();
        var image = BuildImage("a", (Base, LayerCompression.Gzip));
        var (desc, diff, blob) = image.Layers[0];
        // What a power loss between rename and commit could leave: the layer in place, unmarked, its content lost.
        string stale = Path.Combine(store.LayersDir, diff.Encoded);
        Directory.CreateDirectory(Path.Combine(stale, "diff/bin"));
        File.WriteAllText(Path.Combine(stale, "diff/bin/sh"), "");
        File.WriteAllText(Path.Combine(stale, "layer.json"), "{}");
        Assert.False(store.HasLayer(diff));

        await store.IngestLayerAsync(new MemoryStream(blob), desc, diff);
        Assert.False(store.HasLayer(diff));
        Assert.Equal("#!fake\n", File.ReadAllText(Path.Combine(stale, "diff/bin/sh")));
        await store.CommitImageAsync(new ImageCommit { Manifest = image.Manifest, Config = image.Config, Names = ["a"] });
        Assert.True(store.HasLayer(diff));
        AssertNoStaging(store);
    }

    [Fact]
    public async Task RecommittingARecordedImageRewritesNothingButANewNameIsRecorded()
    {
        var store = NewStore();
        var image = BuildImage("again", (Base, LayerCompression.Gzip), (Top, LayerCompression.None));
        var first = await Store(store, image, "r.example/a:1");
        Assert.Equal(Base.Length, first.Layers[0].Size);
        Assert.Equal(Top.Length, first.Layers[1].Size);
        string db = Path.Combine(store.Root, "images.json");
        ulong InodeOfDatabase() => Native.FileSystemCalls.StatAt(Native.FileSystemCalls.AT_FDCWD, db)!.Value.Inode;
        ulong before = InodeOfDatabase();

        var again = await Store(store, image, "r.example/a:1");
        Assert.Equal(before, InodeOfDatabase()); // images.json is replaced by rename whenever it is written
        Assert.Equal(first.Names, again.Names);
        Assert.Equal(first.Layers.Select(l => l.Size), again.Layers.Select(l => l.Size));

        var renamed = await Store(store, image, "r.example/a:1", "r.example/b:2");
        Assert.NotEqual(before, InodeOfDatabase());
        Assert.Equal(["r.example/a:1", "r.example/b:2"], renamed.Names);
        Assert.Single(await store.ListAsync());
    }

    [Fact]
    public async Task StopsDecompressionBombs()
    {
        var store = NewStore(maxLayer: 1 << 20);
        var big = new TarBuilder().File("zeros", new string('\0', 8 << 20)).Build();
        var image = BuildImage("bomb", (big, LayerCompression.Gzip));
        Assert.True(image.Layers[0].Blob.Length < 100_000);
        var e = await Assert.ThrowsAsync<ContainersException>(() => Store(store, image, "bomb"));
        Assert.Equal("LayerTooLarge", e.ErrorId);
        Assert.Empty(Directory.GetDirectories(store.LayersDir));
        AssertNoStaging(store);
    }

    [Fact]
    public async Task BlobWriterPublishesOnlyVerifiedContent()
    {
        var store = NewStore();
        var data = Encoding.UTF8.GetBytes("hello blob");
        var digest = Digest.Sha256(data);
        await using (var w = store.BeginBlobWrite(digest, data.Length))
        {
            await w.WriteAsync(data.AsMemory(0, 5));
            Assert.False(store.HasBlob(digest));
        } // disposed without commit: discarded
        Assert.False(store.HasBlob(digest));
        await using (var w = store.BeginBlobWrite(Digest.Sha256("x"u8)))
        {
            await w.WriteAsync(data);
            var e = await Assert.ThrowsAsync<ContainersException>(() => w.CommitAsync());
            Assert.Equal("DigestMismatch", e.ErrorId);
        }
        await store.PutBlobAsync(data, digest, default);
        Assert.Equal(data, await store.ReadBlobAsync(digest, 100, default));
        AssertNoStaging(store);
    }

    [Fact]
    public async Task LeftoversOfAKilledIngestAreRemovedOnOpen()
    {
        var store = NewStore();
        // What a SIGKILLed ingest leaves: a staging dir whose lock nobody holds, and a half-unpacked layer in it.
        string dead = Path.Combine(store.TmpDir, "deadbeef");
        Directory.CreateDirectory(Path.Combine(dead, "layer/diff/bin"));
        File.WriteAllText(Path.Combine(dead, "layer/diff/bin/half"), "partial");
        File.WriteAllText(dead + ".lock", "");
        // ... and a live one, whose lock is held.
        using var live = Staging.Create(store.TmpDir);
        var reopened = NewStore();
        Assert.False(Directory.Exists(dead));
        Assert.False(File.Exists(dead + ".lock"));
        Assert.True(Directory.Exists(live.Path));
        Assert.Empty(Directory.GetDirectories(reopened.LayersDir));
        await Store(reopened, BuildImage("a", (Base, LayerCompression.Gzip)), "after");
        Assert.NotNull(await reopened.FindAsync("after"));
    }

    [Fact]
    public async Task ConcurrentWritersNeverLoseARecord()
    {
        var store = NewStore();
        var img = await Store(store, BuildImage("a", (Base, LayerCompression.None)), "base");
        // Each tag is a read-modify-write of images.json under the flock; parallel writers use separate lock descriptions.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            var own = NewStore();
            for (int i = 0; i < 15; i++) await own.TagAsync("base", $"t{t}/n{i}:x");
        })));
        Assert.Equal(61, (await store.GetAsync(img.Id)).Names.Count);
    }

    [Theory]
    [InlineData("localhost/a:1", "localhost/a:1")]
    [InlineData("a", "localhost/a:latest")]
    [InlineData("docker.io/busybox", "docker.io/library/busybox:latest")]
    [InlineData("127.0.0.1:5000/x/y:z", "127.0.0.1:5000/x/y:z")]
    public void NormalizesNames(string input, string stored) => Assert.Equal(stored, ImageStore.NormalizeName(input));
}

public sealed class ImageArchiveTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private ImageStore Store() => ImageStore.OpenAt(_tmp.Sub("store"), new ImageStoreOptions { Durable = false, Unpack = new LayerUnpackOptions { Rootless = !Native.Identity.IsRoot } });

    private string DockerArchive(string manifestJson, params (string Name, byte[] Data)[] files)
    {
        string path = _tmp.Sub("archive-" + Guid.NewGuid().ToString("N")[..6] + ".tar");
        using var fs = File.Create(path);
        using var w = new System.Formats.Tar.TarWriter(fs, System.Formats.Tar.TarEntryFormat.Pax);
        foreach (var (name, data) in files.Append(("manifest.json", System.Text.Encoding.UTF8.GetBytes(manifestJson))))
            w.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        return path;
    }

    [Fact]
    public async Task ImportsADockerArchiveAndKeepsTheConfigAsTheId()
    {
        var tar = new TarBuilder().Dir("bin").File("bin/hello", "hi", 0x1ED).Build();
        var config = SpecJson.Serialize(new ImageConfig { Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = [Digest.Sha256(tar).ToString()] } },
            SpecJsonContext.Default.ImageConfig);
        string path = DockerArchive("""[{"Config":"c.json","RepoTags":["example.com/app:1"],"Layers":["l/layer.tar"]}]""", ("c.json", config), ("l/layer.tar", tar));
        var store = Store();
        var images = await ImageArchive.ImportAsync(store, path);
        var image = Assert.Single(images);
        Assert.Equal(Digest.Sha256(config).Encoded, image.Id);
        Assert.Equal(["example.com/app:1"], image.Names);
        Assert.Equal("hi", File.ReadAllText(Path.Combine(image.LayerDirectories[0], "bin/hello")));
        Assert.Equal(ImageArchiveFormat.DockerArchive, ImageArchive.Detect(path));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/../x")]
    public async Task RefusesArchivePathsOutsideTheArchive(string layerPath)
    {
        string path = DockerArchive($$"""[{"Config":"c.json","Layers":["{{layerPath}}"]}]""", ("c.json", "{}"u8.ToArray()));
        var e = await Assert.ThrowsAsync<ContainersException>(() => ImageArchive.ImportAsync(Store(), path));
        Assert.True(e.ErrorId is "ArchivePathEscapes" or "LayerCountMismatch", e.ErrorId);
    }

    [Fact]
    public async Task FindsAnImageByAnExtraDigest()
    {
        var store = Store();
        var index = Digest.Sha256("an index"u8);
        var image = await OneFileImage.CommitAsync(store, ["r.example/x:1"], [index]);
        Assert.Equal(image.Id, (await store.FindAsync("r.example/x@" + index))?.Id);
        Assert.Equal(image.Id, (await store.FindAsync(index.ToString()))?.Id);
    }
}

public class ImageStoreOptionsTests
{
    private static Containers.Core.Configuration.ContainerPaths Paths => Containers.Core.Configuration.ContainerPaths.FromEnvironment(_ => null, 1000);

    [Theory]
    [InlineData("1048576", 1048576L)]
    [InlineData("20G", 20L << 30)]
    [InlineData("512k", 512L << 10)]
    public void ReadsTheLayerBoundFromTheEnvironment(string value, long bytes) =>
        Assert.Equal(bytes, ImageStoreOptions.FromEnvironment(Paths, n => n == ImageStoreOptions.MaxLayerBytesVariable ? value : null).MaxLayerBytes);

    [Theory]
    [InlineData("lots")]
    [InlineData("-5")]
    [InlineData("99999999999T")]
    public void RefusesABadLayerBound(string value)
    {
        var e = Assert.Throws<ContainersException>(() => ImageStoreOptions.FromEnvironment(Paths, _ => value));
        Assert.Equal("InvalidMaxLayerSize", e.ErrorId);
    }

    [Fact]
    public void RootlessPathsMeanRootlessUnpack() => Assert.True(ImageStoreOptions.FromEnvironment(Paths, _ => null).Unpack.Rootless);
}

public sealed class OciLayoutImportTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private string Layout => _tmp.Sub("layout");

    private Descriptor Blob(byte[] data, string mediaType, Platform? platform = null, Dictionary<string, string>? annotations = null)
    {
        var d = Digest.Sha256(data);
        Directory.CreateDirectory(Path.Combine(Layout, "blobs/sha256"));
        File.WriteAllBytes(Path.Combine(Layout, "blobs/sha256", d.Encoded), data);
        return new Descriptor { MediaType = mediaType, Digest = d.ToString(), Size = data.Length, Platform = platform, Annotations = annotations };
    }

    private Descriptor Image(string arch, string content)
    {
        var tar = new TarBuilder().File("arch.txt", content).Build();
        var layer = Blob(TarBuilder.Gzip(tar), MediaTypes.OciLayerGzip);
        var config = Blob(SpecJson.Serialize(new ImageConfig { Architecture = arch, Os = "linux", RootFs = new RootFs { DiffIds = [Digest.Sha256(tar).ToString()] } },
            SpecJsonContext.Default.ImageConfig), MediaTypes.OciConfig);
        return Blob(SpecJson.Serialize(new Manifest { MediaType = MediaTypes.OciManifest, Config = config, Layers = [layer] }, SpecJsonContext.Default.Manifest),
            MediaTypes.OciManifest, new Platform { Os = "linux", Architecture = arch });
    }

    private void WriteIndex(params Descriptor[] manifests)
    {
        File.WriteAllText(Path.Combine(Layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllBytes(Path.Combine(Layout, "index.json"),
            SpecJson.Serialize(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = manifests }, SpecJsonContext.Default.ImageIndex));
    }

    private ImageStore Store() => ImageStore.OpenAt(_tmp.Sub("store"), new ImageStoreOptions { Durable = false, Unpack = new LayerUnpackOptions { Rootless = true } });

    [Fact]
    public async Task PicksThisHostsPlatformFromANestedIndex()
    {
        var host = ImageArchive.HostPlatform.Architecture;
        var other = host == "arm64" ? "amd64" : "arm64";
        var nested = SpecJson.Serialize(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [Image(other, "other"), Image(host, "host")] },
            SpecJsonContext.Default.ImageIndex);
        WriteIndex(Blob(nested, MediaTypes.OciIndex, annotations: new() { [AnnotationKeys.RefName] = "multi" }));
        var image = Assert.Single(await ImageArchive.ImportAsync(Store(), Layout));
        Assert.Equal(host, image.Architecture);
        Assert.Equal("host", File.ReadAllText(Path.Combine(image.LayerDirectories[0], "arch.txt")));
        Assert.Equal(["localhost/layout:multi"], image.Names);
    }

    [Fact]
    public async Task SkipsOtherPlatformsListedAtTheTopAndMergesRefNames()
    {
        var host = ImageArchive.HostPlatform.Architecture;
        var mine = Image(host, "host");
        WriteIndex(Image(host == "arm64" ? "amd64" : "arm64", "other"),
            mine with { Annotations = new Dictionary<string, string> { [AnnotationKeys.RefName] = "example.com/a:1" } },
            mine with { Annotations = new Dictionary<string, string> { [AnnotationKeys.RefName] = "example.com/a:2" } });
        var image = Assert.Single(await ImageArchive.ImportAsync(Store(), Layout));
        Assert.Equal(["example.com/a:1", "example.com/a:2"], image.Names);
    }

    [Fact]
    public async Task ReportsAnIndexWithoutThisPlatform()
    {
        var nested = SpecJson.Serialize(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [Image("s390x", "x")] }, SpecJsonContext.Default.ImageIndex);
        WriteIndex(Blob(nested, MediaTypes.OciIndex));
        var e = await Assert.ThrowsAsync<ContainersException>(() => ImageArchive.ImportAsync(Store(), Layout));
        Assert.Equal("NoMatchingPlatform", e.ErrorId);
    }

    [Fact]
    public async Task RefusesAManifestBlobThatDoesNotMatchItsDigest()
    {
        var m = Image(ImageArchive.HostPlatform.Architecture, "x");
        File.AppendAllText(Path.Combine(Layout, "blobs/sha256", m.ParsedDigest.Encoded), " ");
        WriteIndex(m);
        var e = await Assert.ThrowsAsync<ContainersException>(() => ImageArchive.ImportAsync(Store(), Layout));
        Assert.Equal("DigestMismatch", e.ErrorId);
    }
}

public sealed class StoreLockAcrossProcessesTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task AWriterWaitsForTheLockAnotherProcessHolds()
    {
        var store = ImageStore.OpenAt(_tmp.Sub("store"), new ImageStoreOptions { Durable = false });
        await OneFileImage.CommitAsync(store, ["x"], []);

        // util-linux flock(1) holds the store lock in another process until it removes its marker file.
        string marker = _tmp.Sub("held");
        var psi = new System.Diagnostics.ProcessStartInfo("flock", ["-x", Path.Combine(store.Root, "store.lock"), "sh", "-c", $"touch {marker}; sleep 2; rm {marker}"])
        {
            RedirectStandardError = true,
        };
        using var other = System.Diagnostics.Process.Start(psi)!;
        var stderr = other.StandardError.ReadToEndAsync();
        while (!File.Exists(marker) && !other.HasExited) await Task.Delay(10);
        Assert.True(File.Exists(marker), other.HasExited
            ? $"flock exited {other.ExitCode} before holding the lock: {await stderr}"
            : "the other process must hold the lock first");

        await store.TagAsync("x", "y");
        // The tag could only be written after the other process let go of the lock.
        Assert.False(File.Exists(marker));
        await other.WaitForExitAsync();
        Assert.Contains("localhost/y:latest", (await store.GetAsync("x")).Names);
    }
}

/// <summary>Commits the smallest real image (one uncompressed layer holding one file) under the given names.</summary>
internal static class OneFileImage
{
    public static async Task<StoredImage> CommitAsync(ImageStore store, string[] names, Digest[] extraDigests)
    {
        var tar = new TarBuilder().File("f", "x").Build();
        var desc = new Descriptor { MediaType = MediaTypes.OciLayer, Digest = Digest.Sha256(tar).ToString(), Size = tar.Length };
        await store.IngestLayerAsync(new MemoryStream(tar), desc, Digest.Sha256(tar));
        var config = SpecJson.Serialize(new ImageConfig { Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = [desc.Digest] } }, SpecJsonContext.Default.ImageConfig);
        var manifest = SpecJson.Serialize(new Manifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Sha256(config).ToString(), Size = config.Length },
            Layers = [desc],
        }, SpecJsonContext.Default.Manifest);
        return await store.CommitImageAsync(new ImageCommit { Manifest = manifest, Config = config, Names = names, ExtraDigests = extraDigests });
    }
}
