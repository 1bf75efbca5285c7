using System.Text;
using Containers.Core.Errors;
using Containers.Core.Policy;
using Containers.Core.Registry;
using Containers.Core.Spec;
using Containers.Core.Trust;

namespace Containers.Core.Tests.Registry;

/// <summary>A registry host is one registry whatever its spelling: every lookup agrees on the lowercase form.</summary>
public sealed class RegistryHostCaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("registry-case-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private RegistriesConfiguration Conf(string text)
    {
        string file = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".conf");
        File.WriteAllText(file, text);
        return RegistriesConfiguration.Merge([RegistriesFile.Load(file)]);
    }

    [Theory]
    [InlineData("LOCALHOST:5000/x", "localhost:5000/x:latest")]
    [InlineData("Quay.IO/team/app:V1", "quay.io/team/app:V1")]
    [InlineData("Docker.io/busybox", "docker.io/library/busybox:latest")]
    public void ReferencesCarryTheRegistryInLowercase(string input, string expected)
    {
        var r = ImageReference.Parse(input);
        Assert.Equal(expected, r.ToString() + (r.Tag is null ? ":latest" : ""));
        Assert.Equal("registry.example:5000", ImageReference.Parse("app").WithRegistry("Registry.Example:5000").Registry);
    }

    [Theory]
    [InlineData("LOCALHOST:5000/x", "localhost:5000")]
    [InlineData("localhost:5000/x", "LocalHost:5000")]
    [InlineData("LOCALHOST:5000/team/x", "localhost:5000/team")]
    public void BlockedWhateverTheSpelling(string reference, string blockedLocation)
    {
        var conf = Conf($"[[registry]]\nlocation = \"{blockedLocation}\"\nblocked = true\n");
        var e = Assert.Throws<ContainersException>(() => conf.GetPullSources(ImageReference.Parse(reference)));
        Assert.Equal("RegistryBlocked", e.ErrorId);
    }

    [Fact]
    public void InsecureMirrorsAndSearchRegistriesMatchWhateverTheSpelling()
    {
        var conf = Conf("""
            unqualified-search-registries = ["Search.Example:5000"]
            [[registry]]
            location = "Reg.Example"
            insecure = true
            [[registry.mirror]]
            location = "Mirror.Example/hub"
            """);
        Assert.True(conf.IsInsecure("REG.EXAMPLE"));
        var sources = conf.GetPullSources(ImageReference.Parse("reg.example/app:1"));
        Assert.Equal(["mirror.example", "reg.example"], sources.Select(s => s.Host));
        Assert.Equal(["search.example:5000/app:1"], conf.ResolveShortName(ImageReference.Parse("app:1")).Candidates.Select(c => c.ToString()));
    }

    [Fact]
    public void PolicyScopesJudgeEverySpelling()
    {
        var policy = SignaturePolicy.Parse("""
            {"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"LocalHost:5000/x":[{"type":"reject"}]}}}
            """, "policy.json");
        foreach (string name in new[] { "LOCALHOST:5000/x:1", "localhost:5000/x:1" })
        {
            var e = Assert.Throws<ContainersException>(() => policy.EnsureAccepted(ImageReference.Parse(name), Digest.Sha256("m"u8), []));
            Assert.Equal("SignatureRejected", e.ErrorId);
        }
    }

    [Fact]
    public void AuthFileLoginsAndSavedKeysMatchWhateverTheSpelling()
    {
        string file = Path.Combine(_dir, "auth.json");
        string auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("u:p"));
        File.WriteAllText(file, "{\"auths\":{\"Reg.Example:5000/Team\":{\"auth\":\"" + auth + "\"}}}");
        var store = new CredentialStore(file, [file]);
        Assert.Equal("u", store.Find("REG.EXAMPLE:5000", "Team/app")?.UserName);
        Assert.True(store.Remove("reg.example:5000/Team"));
        store.Save("OTHER.example", "v", "q");
        Assert.Equal("v", store.Find("other.example", null)?.UserName);
        Assert.Contains("\"other.example\"", File.ReadAllText(file), StringComparison.Ordinal);
    }

    [Fact]
    public void AnExplicitCredentialIsBoundToTheFirstCandidateOnly()
    {
        var conf = Conf("unqualified-search-registries = [\"one.example\", \"two.example\"]\n");
        var resolver = new PolicyRegistryResolver(conf);
        Assert.Equal("one.example", ImagePuller.CredentialHost(resolver, "app:1"));
        Assert.Equal("three.example", ImagePuller.CredentialHost(resolver, "Three.Example/app:1"));
    }

    [Theory]
    [InlineData("http://auth.example/token", "https", "RegistryInsecureTokenRealm")]
    [InlineData("ftp://auth.example/token", "http", "RegistryProtocolError")]
    [InlineData("/token", "http", "RegistryProtocolError")]
    public void TokenRealmsThatAreRefused(string realm, string registryScheme, string errorId)
    {
        var e = Assert.Throws<ContainersException>(() => TokenService.Realm("reg.example", realm, new Uri(registryScheme + "://reg.example/")));
        Assert.Equal(errorId, e.ErrorId);
    }

    [Fact]
    public void APlainHttpRealmIsAllowedOnlyForAPlainHttpRegistry() =>
        Assert.Equal("http://auth.example/token", TokenService.Realm("reg.example", "http://auth.example/token", new Uri("http://reg.example/")).ToString());
}
