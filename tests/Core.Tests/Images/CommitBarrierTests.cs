using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Native;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Images;

/// <summary>An image's configuration and manifest reach blobs/ only through the commit's barrier, with its layers.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CommitBarrierTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task ARefusedCommitLeavesNoDocumentBlobAndAnAcceptedOnePublishesThemWithNothingStaged()
    {
        // Durable: the real barrier (syncfs) runs, as in a pull.
        var store = ImageStore.OpenAt(_tmp.Sub("store"), new ImageStoreOptions
        {
            Durable = true, Users = NoImageUsers.Instance, Unpack = new LayerUnpackOptions { Rootless = !Identity.IsRoot },
        });
        byte[] tar = new TarBuilder().Dir("bin").File("bin/sh", "#!fake\n", 0x1ED).Build();
        byte[] blob = TarBuilder.Gzip(tar);
        var layer = new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Sha256(blob).ToString(), Size = blob.Length };
        var diff = Digest.Sha256(tar);
        byte[] config = SpecJson.Serialize(new ImageConfig
        {
            Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = [diff.ToString()] },
        }, SpecJsonContext.Default.ImageConfig);
        byte[] manifest = SpecJson.Serialize(new Manifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Sha256(config).ToString(), Size = config.Length },
            Layers = [layer],
        }, SpecJsonContext.Default.Manifest);
        var commit = new ImageCommit { Manifest = manifest, Config = config, Names = ["barrier"] };

        // The layer was never ingested: the commit is refused, and neither document became a blob (a store
        // that published them first kept a config and a manifest no image refers to).
        var e = await Assert.ThrowsAsync<ContainersException>(() => store.CommitImageAsync(commit));
        Assert.Equal("ImageLayerMissing", e.ErrorId);
        Assert.False(store.HasBlob(Digest.Sha256(config)));
        Assert.False(store.HasBlob(Digest.Sha256(manifest)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.TmpDir));

        await store.IngestLayerAsync(new MemoryStream(blob), layer, diff);
        var image = await store.CommitImageAsync(commit);
        Assert.Equal(Digest.Sha256(manifest), image.Digest);
        Assert.Equal(config, await File.ReadAllBytesAsync(store.BlobPath(Digest.Sha256(config))));
        Assert.Equal(manifest, await File.ReadAllBytesAsync(store.BlobPath(Digest.Sha256(manifest))));
        Assert.True(store.HasLayer(diff));
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.TmpDir));
    }
}
