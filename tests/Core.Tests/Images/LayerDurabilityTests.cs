using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Native;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Images;

/// <summary>How a layer's metadata and durability are kept: xattrs on its directory, no new inode for either; an image's documents reach blobs/ only through the commit's barrier.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LayerDurabilityTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private ImageStore NewStore() => ImageStore.OpenAt(_tmp.Sub("store"), new ImageStoreOptions
    {
        Durable = false, Users = NoImageUsers.Instance, Unpack = new LayerUnpackOptions { Rootless = !Identity.IsRoot },
    });

    [UserXattrFact]
    public async Task ACommittedLayerIsMarkedByAnXattrOnItsDirectoryAndAnOlderStoresMarkerFileStillCounts()
    {
        var store = NewStore();
        var (tar, blob, layer, diff, config, manifest) = OneLayerImage();

        await store.IngestLayerAsync(new MemoryStream(blob), layer, diff);
        string dir = Path.Combine(store.LayersDir, diff.Encoded);
        Assert.Equal([ImageStore.LayerXattr], FileSystemCalls.ListXattrs(dir));
        Assert.False(store.HasLayer(diff));

        var image = await store.CommitImageAsync(new ImageCommit { Manifest = manifest, Config = config, Names = ["d"] });
        Assert.True(store.HasLayer(diff));
        Assert.Equal([ImageStore.DurableXattr, ImageStore.LayerXattr], FileSystemCalls.ListXattrs(dir).Order(StringComparer.Ordinal));
        Assert.Equal(["diff", TarSplitRecorder.FileName], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // The record's size comes from the metadata xattr: the uncompressed tar's length.
        Assert.Equal(tar.Length, image.Size);

        // A layer a store of an earlier version unpacked and made durable has layer.json and the marker file, no xattrs.
        var old = Digest.Sha256("older"u8);
        string oldDir = Path.Combine(store.LayersDir, old.Encoded);
        Directory.CreateDirectory(Path.Combine(oldDir, "diff"));
        Assert.False(store.LayerPresent(old));
        File.WriteAllText(Path.Combine(oldDir, ImageStore.LayerMetadataFile), "{}");
        Assert.True(store.LayerPresent(old));
        Assert.False(store.HasLayer(old));
        File.WriteAllBytes(Path.Combine(oldDir, ImageStore.DurableMarker), []);
        Assert.True(store.HasLayer(old));
    }

    [Fact]
    public async Task ARefusedCommitLeavesNoDocumentBlobAndAnAcceptedOnePublishesThemWithNothingStaged()
    {
        // Durable: the real barrier (syncfs) runs, as in a pull.
        var store = ImageStore.OpenAt(_tmp.Sub("durable"), new ImageStoreOptions
        {
            Durable = true, Users = NoImageUsers.Instance, Unpack = new LayerUnpackOptions { Rootless = !Identity.IsRoot },
        });
        var (_, blob, layer, diff, config, manifest) = OneLayerImage();
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

    /// <summary>A one-layer image: the layer's tar and gzipped blob, its descriptor and diff id, the configuration and the manifest.</summary>
    private static (byte[] Tar, byte[] Blob, Descriptor Layer, Digest DiffId, byte[] Config, byte[] Manifest) OneLayerImage()
    {
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
        return (tar, blob, layer, diff, config, manifest);
    }
}

/// <summary>A test that needs user xattrs in the temp directory: skipped where its filesystem takes none.</summary>
public sealed class UserXattrFactAttribute : FactAttribute
{
    public UserXattrFactAttribute()
    {
        using var probe = new TempDir();
        if (!FileSystemCalls.TrySetXattr(probe.Path, "user.pscontainers.probe", "1"u8)) Skip = "the temp filesystem takes no user xattrs";
    }
}
