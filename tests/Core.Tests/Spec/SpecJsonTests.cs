using System.Text;
using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Spec;

public class SpecJsonTests
{
    [Fact]
    public void ParsesADockerSchema2ManifestAndIgnoresUnknownFields()
    {
        string json = """
        {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","x-unknown":{"a":1},
         "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":12,"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"},
         "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":34,"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","weird":true}]}
        """;
        var m = SpecJson.ParseManifest(Encoding.UTF8.GetBytes(json));
        Assert.Equal(MediaTypes.DockerManifest, m.MediaType);
        Assert.Equal(12, m.Config.Size);
        Assert.Single(m.Layers);
        Assert.Equal(LayerCompression.Gzip, MediaTypes.CompressionOf(m.Layers[0].MediaType));
    }

    [Fact]
    public void ParsesAnImageConfig()
    {
        string json = """
        {"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z","author":"me",
         "config":{"User":"1000","Env":["PATH=/bin"],"Cmd":["/bin/sh"],"ExposedPorts":{"80/tcp":{}},"Labels":{"a":"b"},"StopSignal":"SIGTERM"},
         "rootfs":{"type":"layers","diff_ids":["sha256:2222222222222222222222222222222222222222222222222222222222222222"]},
         "history":[{"created_by":"x","empty_layer":true}]}
        """;
        var c = SpecJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.Equal("amd64", c.Architecture);
        Assert.Equal(["/bin/sh"], c.Config!.Cmd!);
        Assert.True(c.Config.ExposedPorts!.ContainsKey("80/tcp"));
        Assert.Single(c.RootFs.DiffIds);
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), c.Created);
        // Round trip keeps the fields.
        var again = SpecJson.ParseConfig(SpecJson.Serialize(c, SpecJsonContext.Default.ImageConfig));
        Assert.Equal("b", again.Config!.Labels!["a"]);
    }

    [Fact]
    public void RefusesManifestsOverFourMebibytes()
    {
        var big = new byte[SpecJson.MaxManifestBytes + 1];
        var e = Assert.Throws<ContainersException>(() => SpecJson.ParseManifest(big));
        Assert.Equal("ManifestTooLarge", e.ErrorId);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[1,2]")]
    [InlineData("{\"layers\":7}")]
    public void MalformedJsonIsATypedError(string json)
    {
        var e = Assert.Throws<ContainersException>(() => SpecJson.ParseManifest(Encoding.UTF8.GetBytes(json)));
        Assert.Equal("MalformedManifest", e.ErrorId);
    }

    [Fact]
    public void DetectsIndexesByShape()
    {
        Assert.Equal(MediaTypes.OciIndex, SpecJson.DetectMediaType("{\"schemaVersion\":2,\"manifests\":[]}"u8));
        Assert.Equal(MediaTypes.OciManifest, SpecJson.DetectMediaType("{\"schemaVersion\":2,\"config\":{},\"layers\":[]}"u8));
    }
    [Theory]
    // One document, two readings (CVE-2021-41190): an index to one client, an image manifest to another.
    [InlineData("{\"schemaVersion\":2,\"manifests\":[],\"config\":{},\"layers\":[]}", null)]
    [InlineData("{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", null)]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"manifests\":[]}", null)]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"config\":{},\"layers\":[]}", null)]
    [InlineData("{\"schemaVersion\":2,\"config\":{},\"layers\":[]}", "application/vnd.oci.image.index.v1+json")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}", "application/vnd.docker.distribution.manifest.v2+json")]
    public void RefusesADocumentThatReadsAsBothAnIndexAndAManifest(string json, string? declared)
    {
        var e = Assert.Throws<ContainersException>(() => SpecJson.DetectMediaType(Encoding.UTF8.GetBytes(json), declared, "t"));
        Assert.Equal("AmbiguousManifest", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidData, e.Kind);
        Assert.Equal("t", e.Target);
    }

    [Fact]
    public void AcceptsTheSameKindNamedByEitherFamily()
    {
        // A Docker schema2 manifest served as OCI (or the reverse) is one kind: an image manifest.
        Assert.Equal(MediaTypes.DockerManifest, SpecJson.DetectMediaType(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{},\"layers\":[]}"u8, MediaTypes.OciManifest));
        Assert.Equal(MediaTypes.OciIndex, SpecJson.DetectMediaType("{\"schemaVersion\":2,\"manifests\":[]}"u8, "application/json"));
    }
}
