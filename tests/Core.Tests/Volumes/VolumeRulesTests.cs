using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Runtime;
using Containers.Core.Volumes;

namespace Containers.Core.Tests.Volumes;

/// <summary>The pure rules of -Volume, Copy-ContainerItem's paths and the layered extraction that both use.</summary>
public sealed class VolumeRulesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pscontainers-volrules-" + Guid.NewGuid().ToString("N")[..8]);

    public VolumeRulesTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("data:/var/lib/x", "volume", "data", false, null)]
    [InlineData("pg.data-1_2:/x:ro", "volume", "pg.data-1_2", true, null)]
    [InlineData("data:/x:ro,nocopy", "volume", "data", true, "nocopy")]
    [InlineData("/tmp:/x:rw", "bind", null, false, null)]
    public void AVolumeArgumentIsANamedVolumeOrAnAbsoluteBind(string text, string type, string? volume, bool readOnly, string? options)
    {
        var m = VolumeSpec.Parse(text);
        Assert.Equal(type, m.Type);
        Assert.Equal(volume, m.Volume);
        Assert.Equal(readOnly, m.ReadOnly);
        Assert.Equal(options, m.Options);
        if (type == "bind") Assert.Equal("/tmp", m.Source);
    }

    [Theory]
    [InlineData("./pgdata:/var/lib/postgresql", "InvalidVolumeSource")]
    [InlineData("../data:/x", "InvalidVolumeSource")]
    [InlineData(".data:/x", "InvalidVolumeSource")]
    [InlineData("pg data:/x", "InvalidVolumeSource")]
    [InlineData("-data:/x", "InvalidVolumeSource")]
    [InlineData("data:x", "InvalidVolume")]
    [InlineData("data:/x:rx", "InvalidVolume")]
    [InlineData("/tmp:/x:nocopy", "InvalidVolume")]
    [InlineData("data", "InvalidVolume")]
    [InlineData("/no/such/dir:/x", "BindSourceNotFound")]
    public void AnythingElseIsATypedError(string text, string errorId) =>
        Assert.Equal(errorId, Assert.Throws<ContainersException>(() => VolumeSpec.Parse(text)).ErrorId);

    [Theory]
    [InlineData("data", true)]
    [InlineData("a", true)]
    [InlineData("9.x_y-z", true)]
    [InlineData(".data", false)]
    [InlineData("_data", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    public void VolumeNamesFollowPodmansRule(string name, bool valid) => Assert.Equal(valid, VolumeStore.IsValidName(name));

    [Theory]
    [InlineData("web:/etc/nginx", "web", "/etc/nginx")]
    [InlineData("3f2a9c1d:/", "3f2a9c1d", "/")]
    [InlineData("./conf", null, "./conf")]
    [InlineData("./a:b", null, "./a:b")]
    [InlineData("/x:/y", null, "/x:/y")]
    [InlineData("web", null, "web")]
    public void ACopyPathNamesAContainerOnlyBeforeItsFirstColon(string text, string? container, string path) =>
        Assert.Equal((container, path), ContainerCopier.ParseSpec(text));

    [Theory]
    [InlineData("/etc/nginx", "etc/nginx", null)]
    [InlineData("/etc/../srv/./x/", "srv/x", null)]
    [InlineData("/", "", null)]
    [InlineData("etc/nginx", null, "InvalidContainerPath")]
    [InlineData("/../etc", null, "CopyPathEscapesRoot")]
    [InlineData("/a/../../b", null, "CopyPathEscapesRoot")]
    public void AContainerPathIsAbsoluteAndNeverClimbsAboveTheRoot(string path, string? parts, string? errorId)
    {
        if (errorId is null) Assert.Equal(parts, string.Join('/', ContainerCopier.CheckContainerPath(path, "web")));
        else Assert.Equal(errorId, Assert.Throws<ContainersException>(() => ContainerCopier.CheckContainerPath(path, "web")).ErrorId);
    }

    [Fact]
    public void LinksFollowedInTheLayeredViewStayInsideItsRoot()
    {
        // Two layers: the lower has /srv/app and the attacker's links; the upper adds a file. Owners are not applied (rootless unpack).
        string lower = Dir("lower/srv/app"), upper = Dir("upper/srv/app");
        File.WriteAllText(Path.Combine(lower, "f"), "lower");
        File.WriteAllText(Path.Combine(upper, "g"), "upper");
        File.CreateSymbolicLink(Path.Combine(_dir, "lower/srv/abs"), "/srv/app");
        File.CreateSymbolicLink(Path.Combine(_dir, "lower/srv/rel"), "../../../../srv/app");
        File.CreateSymbolicLink(Path.Combine(_dir, "lower/srv/host"), "/etc");
        File.CreateSymbolicLink(Path.Combine(_dir, "lower/srv/loop1"), "loop2");
        File.CreateSymbolicLink(Path.Combine(_dir, "lower/srv/loop2"), "loop1");
        var dirs = new[] { Path.Combine(_dir, "upper"), Path.Combine(_dir, "lower") };
        foreach (string link in new[] { "/srv/abs", "/srv/rel", "/srv/app" })
        {
            string staging = Path.Combine(_dir, "staging" + link.Replace('/', '-'));
            string? got = LayeredExtract.Extract(dirs, link, staging, rootless: true, CancellationToken.None);
            Assert.Equal(Path.Combine(staging, "srv/app"), got);
            Assert.Equal("lower", File.ReadAllText(Path.Combine(got!, "f")));
            Assert.Equal("upper", File.ReadAllText(Path.Combine(got!, "g")));
        }
        // /etc of the layered view does not exist: the host's /etc is never reached.
        Assert.Null(LayeredExtract.Extract(dirs, "/srv/host/passwd", Path.Combine(_dir, "s1"), rootless: true, CancellationToken.None));
        Assert.Null(LayeredExtract.Extract(dirs, "/srv/missing", Path.Combine(_dir, "s2"), rootless: true, CancellationToken.None));
        Assert.Equal("TooManySymlinks", Assert.Throws<ContainersException>(() =>
            LayeredExtract.Extract(dirs, "/srv/loop1/x", Path.Combine(_dir, "s3"), rootless: true, CancellationToken.None)).ErrorId);
    }

    [Fact]
    public void CleanKeepsDotDotAtTheRoot() => Assert.Equal(["c"], LayeredExtract.Clean(["a", "b"], "../../../c"));

    private string Dir(string rel) => Directory.CreateDirectory(Path.Combine(_dir, rel)).FullName;
}
