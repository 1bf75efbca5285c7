using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Images;

/// <summary>
/// Layers kept once, unpacked, with a tar-split: the rebuilt tar is byte for byte the one pulled, and a
/// layer changed or made hostile on disk is refused rather than sent.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LayerBlobTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private ImageStore NewStore() => ImageStore.OpenAt(_tmp.Sub("store"), new ImageStoreOptions
    {
        Durable = false, Unpack = new LayerUnpackOptions { Rootless = !Native.Identity.IsRoot },
    });

    public void Dispose() => _tmp.Dispose();

    private static async Task<StoredImage> PullAsync(ImageStore store, byte[] tar, bool keepBlob = false)
    {
        byte[] blob = TarBuilder.Gzip(tar);
        var layer = new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Sha256(blob).ToString(), Size = blob.Length };
        var config = SpecJson.Serialize(new ImageConfig
        {
            Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = [Digest.Sha256(tar).ToString()] },
        }, SpecJsonContext.Default.ImageConfig);
        var manifest = SpecJson.Serialize(new Manifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Sha256(config).ToString(), Size = config.Length },
            Layers = [layer],
        }, SpecJsonContext.Default.Manifest);
        await store.IngestLayerAsync(new MemoryStream(blob), layer, Digest.Sha256(tar), keepBlob: keepBlob);
        return await store.CommitImageAsync(new ImageCommit { Manifest = manifest, Config = config, Names = ["localhost/t:1"] });
    }

    private static byte[] Layer => new TarBuilder().Dir("etc").File("etc/passwd", "root:x:0:0::/:/bin/sh\n").Symlink("etc/link", "passwd")
        .Hardlink("etc/hard", "etc/passwd").File("etc/.wh.gone", "").File("app.bin", new string('x', 70000)).File("empty", "").Build();

    [Fact]
    public async Task DropsTheBlobAndRebuildsTheExactTarForSending()
    {
        var store = NewStore();
        byte[] tar = Layer;
        var image = await PullAsync(store, tar);
        Assert.False(store.HasBlob(image.Layers[0].Digest));
        Assert.True(store.HasLayer(image.Layers[0].DiffId));
        Assert.True(store.LayerSatisfied(image.Layers[0].DiffId, image.Layers[0].Digest, keepBlob: false));
        Assert.False(store.LayerSatisfied(image.Layers[0].DiffId, image.Layers[0].Digest, keepBlob: true));
        Digest sent;
        using (var sendable = await store.PrepareToSendAsync(image))
        {
            Assert.True(sendable.Recompressed);
            Assert.NotEqual(image.Digest, sendable.Image.Digest);
            Assert.Equal(image.ConfigDigest, sendable.Image.ConfigDigest);
            sent = sendable.Image.Layers[0].Digest;
            using var gz = new System.IO.Compression.GZipStream(store.OpenBlob(sent), System.IO.Compression.CompressionMode.Decompress);
            var rebuilt = new MemoryStream();
            gz.CopyTo(rebuilt);
            Assert.Equal(tar, rebuilt.ToArray());
        }
        Assert.False(store.HasBlob(sent)); // the recompressed blob goes with the send
    }

    [Fact]
    public async Task ALayerMadeHereKeepsNoBlobAndIsGzippedWhenSent()
    {
        var store = NewStore();
        var layer = await store.AddLayerAsync((tar, _) =>
            tar.Write(new LayerTarHeader { Name = "built.txt", Size = 5 }, new MemoryStream("built"u8.ToArray())));
        Assert.False(store.HasBlob(layer.Digest));
        Assert.Equal(MediaTypes.OciLayer, layer.MediaType);
        var image = await store.CreateImageAsync([layer], new ImageConfig { Architecture = "amd64", Os = "linux" }, ["localhost/made:1"]);
        using var sendable = await store.PrepareToSendAsync(image);
        Assert.True(sendable.Recompressed);
        Assert.Equal(image.ConfigDigest, sendable.Image.ConfigDigest);
        var sent = sendable.Image.Layers[0];
        Assert.Equal(MediaTypes.OciLayerGzip, sent.MediaType);
        using var gz = new System.IO.Compression.GZipStream(store.OpenBlob(sent.Digest), System.IO.Compression.CompressionMode.Decompress);
        var tar = new MemoryStream();
        gz.CopyTo(tar);
        Assert.Equal(layer.DiffId, Digest.Sha256(tar.ToArray()));
    }

    [Fact]
    public async Task AStoreThatKeepsBlobsKeepsAGzipBlobOfALayerMadeHere()
    {
        var store = ImageStore.OpenAt(_tmp.Sub("keeping"), new ImageStoreOptions
        {
            Durable = false, KeepBlobs = true, Unpack = new LayerUnpackOptions { Rootless = !Native.Identity.IsRoot },
        });
        var layer = await store.AddLayerAsync((tar, _) => tar.Write(new LayerTarHeader { Name = "a", Size = 1 }, new MemoryStream("a"u8.ToArray())));
        Assert.True(store.HasBlob(layer.Digest));
        Assert.Equal(MediaTypes.OciLayerGzip, layer.MediaType);
    }

    [Fact]
    public async Task KeepsTheBlobWhenAskedAndSendsTheImageUnchanged()
    {
        var store = NewStore();
        var image = await PullAsync(store, Layer, keepBlob: true);
        Assert.True(store.HasBlob(image.Layers[0].Digest));
        using var sendable = await store.PrepareToSendAsync(image);
        Assert.False(sendable.Recompressed);
        Assert.Equal(image.Digest, sendable.Image.Digest);
    }

    [Fact]
    public async Task RefusesToSendALayerWhoseFileWasSwappedForASymlinkToAHostFile()
    {
        var store = NewStore();
        var image = await PullAsync(store, Layer);
        // An attacker with write access to the layer (or a hostile later step) points the file at a host secret.
        string canary = _tmp.Sub("secret");
        File.WriteAllText(canary, "host-secret-canary\n" + new string('s', 3));
        string target = Path.Combine(image.Layers[0].Directory, "etc/passwd");
        File.Delete(Path.Combine(image.Layers[0].Directory, "etc/hard"));
        File.Delete(target);
        File.CreateSymbolicLink(target, canary);
        var e = await Assert.ThrowsAsync<ContainersException>(() => store.PrepareToSendAsync(image));
        Assert.Equal("LayerNotReproducible", e.ErrorId);
        foreach (string blob in Directory.EnumerateFiles(Path.Combine(store.BlobsDir, "sha256")))
            Assert.DoesNotContain("host-secret-canary", File.ReadAllText(blob));
    }

    [Fact]
    public async Task RefusesToSendALayerWhoseFileChangedOnDisk()
    {
        var store = NewStore();
        var image = await PullAsync(store, Layer);
        File.WriteAllText(Path.Combine(image.Layers[0].Directory, "app.bin"), new string('y', 70000));
        var e = await Assert.ThrowsAsync<ContainersException>(() => store.PrepareToSendAsync(image));
        Assert.Equal("LayerNotReproducible", e.ErrorId);
        Assert.Contains("not sha256:", e.Message);
    }

    [Fact]
    public async Task ATarNamingAPathTwiceKeepsNoTarSplitAndALaterPullFetchesTheBlob()
    {
        var store = NewStore();
        byte[] tar = new TarBuilder().File("a", "first").File("a", "second").Build();
        var image = await PullAsync(store, tar);
        Assert.False(store.CanReproduceLayer(image.Layers[0].DiffId));
        Assert.False(store.LayerSatisfied(image.Layers[0].DiffId, image.Layers[0].Digest, keepBlob: false));
        var e = await Assert.ThrowsAsync<ContainersException>(() => store.PrepareToSendAsync(image));
        Assert.Equal("LayerNotReproducible", e.ErrorId);
        // The pull that follows keeps the blob (a layer without tar-split always does): the image can be sent again.
        var again = await PullAsync(store, tar);
        Assert.True(store.HasBlob(again.Layers[0].Digest));
        using var sendable = await store.PrepareToSendAsync(again);
        Assert.False(sendable.Recompressed);
    }
}
