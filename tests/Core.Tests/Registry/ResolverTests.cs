using Containers.Core.Errors;
using Containers.Core.Registry;
using Containers.Core.Spec;
using Containers.Core.Trust;

namespace Containers.Core.Tests.Registry;

public class PolicyAdapterTests
{
    private static (PolicyRegistryResolver, string) Load(string conf)
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        File.WriteAllText(Path.Combine(dir, "registries.conf"), conf);
        var paths = Containers.Core.Configuration.ContainerPaths.FromEnvironment(v => v == "PSCONTAINERS_CONFIG_DIR" ? dir : v == "HOME" ? dir : null, 0);
        return (PolicyRegistryResolver.Load(paths), dir);
    }

    [Fact]
    public void MirrorsComeBeforeThePrimaryAndBlockedThrows()
    {
        var (r, dir) = Load("""
            unqualified-search-registries = ["reg.one:5000"]
            [[registry]]
            location = "docker.io"
            [[registry.mirror]]
            location = "mirror.local:5000/hub"
            insecure = true
            [[registry]]
            location = "reg.two"
            blocked = true
            """);
        try
        {
            var s = r.GetPullSources(ImageReference.Parse("docker.io/library/busybox:latest"));
            Assert.Equal(2, s.Count);
            Assert.Equal(new PullSource("mirror.local:5000", "hub/library/busybox", true, true), s[0]);
            Assert.Equal(new PullSource("docker.io", "library/busybox", false), s[1]);
            Assert.Equal("RegistryBlocked", Assert.Throws<ContainersException>(() => r.GetPullSources(ImageReference.Parse("reg.two/a:1"))).ErrorId);
            Assert.Equal(["reg.one:5000/busybox:1"], r.ResolveShortName(ImageReference.Parse("busybox:1")).Select(x => x.ToString()));
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class PlatformSelectorTests
{
    private static readonly ImageIndex Index = new()
    {
        Manifests =
        [
            new Descriptor { MediaType = MediaTypes.OciManifest, Digest = "sha256:" + new string('a', 64), Platform = new Platform { Os = "linux", Architecture = "amd64" } },
            new Descriptor { MediaType = MediaTypes.OciManifest, Digest = "sha256:" + new string('b', 64), Platform = new Platform { Os = "linux", Architecture = "arm", Variant = "v7" } },
            new Descriptor { MediaType = MediaTypes.OciManifest, Digest = "sha256:" + new string('c', 64), Platform = new Platform { Os = "linux", Architecture = "arm64" } },
        ],
    };

    [Theory]
    [InlineData("linux/amd64", 'a')]
    [InlineData("amd64", 'a')]
    [InlineData("x86_64", 'a')]
    [InlineData("linux/arm/v7", 'b')]
    [InlineData("linux/arm64/v8", 'c')]
    [InlineData("linux/aarch64", 'c')]
    public void SelectsTheMatchingEntry(string platform, char digit) =>
        Assert.Equal("sha256:" + new string(digit, 64), PlatformSelector.Select(Index, PlatformSelector.Parse(platform), "t").Digest);

    [Fact]
    public void NoMatchListsWhatIsOffered()
    {
        var e = Assert.Throws<ContainersException>(() => PlatformSelector.Select(Index, PlatformSelector.Parse("linux/s390x"), "t"));
        Assert.Equal("NoMatchingPlatform", e.ErrorId);
        Assert.Contains("linux/arm/v7", e.Message);
    }

    [Fact]
    public void BadPlatformTextIsRefused() =>
        Assert.Equal("InvalidPlatform", Assert.Throws<ContainersException>(() => PlatformSelector.Parse("a/b/c/d")).ErrorId);

    [Fact]
    public void DefaultsToThisHost() => Assert.Equal(PlatformSelector.Host, PlatformSelector.Parse(null));
}

public class RegistryErrorTests
{
    [Fact]
    public void TransportFailuresMapToStableIds()
    {
        Assert.Equal("RegistryConnectionRefused", RegistryErrors.FromTransport("h", new HttpRequestException("x", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused))).ErrorId);
        Assert.Equal("RegistryHostUnknown", RegistryErrors.FromTransport("h", new HttpRequestException("x", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound))).ErrorId);
        Assert.Equal("RegistryTlsFailure", RegistryErrors.FromTransport("h", new HttpRequestException("x", new System.Security.Authentication.AuthenticationException("bad"))).ErrorId);
        Assert.Equal("RegistryUnreachable", RegistryErrors.FromTransport("h", new HttpRequestException("x", new IOException("reset"))).ErrorId);
    }

    [Fact]
    public void CredentialsMatchTheLongestKeyForTheirHostOnly()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            string b64(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s));
            File.WriteAllText(Path.Combine(dir, "auth.json"),
                "{\"auths\":{\"reg.example\":{\"auth\":\"" + b64("u1:p1") + "\"},\"reg.example/team\":{\"auth\":\"" + b64("u2:p:2") + "\"}}}");
            var paths = Containers.Core.Configuration.ContainerPaths.FromEnvironment(v => v switch
            {
                "REGISTRY_AUTH_FILE" => Path.Combine(dir, "auth.json"),
                "HOME" => dir,
                _ => null,
            }, 0);
            var c = PolicyCredentialSource.Load(paths);
            Assert.Equal("u1", c.GetCredential("reg.example", "lib/x")?.Username);
            Assert.Equal("u2", c.GetCredential("reg.example", "team/app")?.Username);
            Assert.Equal("p:2", c.GetCredential("reg.example", "team/app")?.Password);
            Assert.Null(c.GetCredential("reg.example:5000", "team/app"));
            Assert.Null(c.GetCredential("evil.example", "reg.example"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
