using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Spec;

public class ImageReferenceTests
{
    [Theory]
    [InlineData("busybox", null, "busybox", null, true)]
    [InlineData("busybox:1.36", null, "busybox", "1.36", true)]
    [InlineData("library/busybox", null, "library/busybox", null, true)]
    [InlineData("quay.io/prometheus/busybox:latest", "quay.io", "prometheus/busybox", "latest", false)]
    [InlineData("127.0.0.1:5000/busybox:docker", "127.0.0.1:5000", "busybox", "docker", false)]
    [InlineData("localhost/app", "localhost", "app", null, false)]
    [InlineData("docker.io/busybox", "docker.io", "library/busybox", null, false)]
    [InlineData("registry.example:5000/a/b/c:v1.2-rc_3", "registry.example:5000", "a/b/c", "v1.2-rc_3", false)]
    public void ParsesLikeTheContainersTools(string text, string? registry, string repository, string? tag, bool shortName)
    {
        var r = ImageReference.Parse(text);
        Assert.Equal(registry, r.Registry);
        Assert.Equal(repository, r.Repository);
        Assert.Equal(tag, r.Tag);
        Assert.Equal(shortName, r.IsShortName);
    }

    [Fact]
    public void KeepsTagAndDigestTogether()
    {
        string digest = "sha256:" + new string('a', 64);
        var r = ImageReference.Parse($"quay.io/x/y:v1@{digest}");
        Assert.Equal("v1", r.Tag);
        Assert.Equal(digest, r.Digest.ToString());
        Assert.Equal($"quay.io/x/y:v1@{digest}", r.ToString());
        Assert.Null(r.TagOrDefault is "latest" ? "wrong" : null);
    }

    [Fact]
    public void AShortNameGetsNoRegistryUntilOneIsGiven()
    {
        var r = ImageReference.Parse("busybox");
        Assert.Null(r.Registry);
        Assert.Equal("latest", r.TagOrDefault);
        Assert.Equal("docker.io/library/busybox", r.WithRegistry("docker.io").Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("upper/CASE")]
    [InlineData("quay.io/Upper")]
    [InlineData("name:bad tag")]
    [InlineData("name@sha256:1234")]
    [InlineData("a//b")]
    [InlineData("-leading")]
    public void RejectsBadReferencesWithATypedError(string text)
    {
        var e = Assert.Throws<ContainersException>(() => ImageReference.Parse(text));
        Assert.Equal("InvalidImageReference", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.NotNull(e.RecommendedAction);
    }
}
