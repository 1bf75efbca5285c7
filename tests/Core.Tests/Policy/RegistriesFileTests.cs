using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Core.Tests.Policy;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RegistriesFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("policy-toml-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private const string Sample = """
        # Admin's comment at the top
        unqualified-search-registries = ["registry.example", "quay.io"] # trailing comment
        some-future-key = "kept"

        [[registry]]
        # about quay
        prefix = "quay.io"
        location = "quay.io"
        unknown-registry-key = 42

        [[registry.mirror]]
        location = "mirror.example:5000"
        insecure = true

        [aliases]
        "fedora" = "registry.fedoraproject.org/fedora"
        """;

    [Fact]
    public void ReadsEveryKnownSetting()
    {
        var f = RegistriesFile.Parse(Sample, "/x/registries.conf");
        var s = f.Settings;
        Assert.Equal(["registry.example", "quay.io"], s.SearchRegistries);
        Assert.Null(s.ShortNameMode);
        var r = Assert.Single(s.Registries);
        Assert.Equal("quay.io", r.Prefix);
        Assert.Equal(new RegistryMirror("mirror.example:5000", true, null), Assert.Single(r.Mirrors));
        Assert.Equal("registry.fedoraproject.org/fedora", s.Aliases["fedora"]);
    }

    [Fact]
    public void UnchangedFileRoundTripsByteForByte()
    {
        var f = RegistriesFile.Parse(Sample, "/x/registries.conf");
        Assert.Equal(Sample + "\n", f.ToString());
    }

    [Fact]
    public void EditsKeepCommentsAndUnknownKeys()
    {
        var f = RegistriesFile.Parse(Sample, "/x/registries.conf");
        f.SetRegistry("docker.io", blocked: true);
        f.SetMirror("quay.io", "second.example", pullFromMirror: PullFromMirror.DigestOnly);
        f.SetSearchRegistries(["a.example"]);
        f.SetShortNameMode(ShortNameMode.Enforcing);
        f.SetAlias("busybox", "docker.io/library/busybox");
        string text = f.ToString();
        foreach (string kept in new[] { "# Admin's comment at the top", "some-future-key = \"kept\"", "# about quay", "unknown-registry-key = 42", "# trailing comment" })
            Assert.Contains(kept, text);
        var again = RegistriesFile.Parse(text, "/x/registries.conf").Settings;
        Assert.Equal(["a.example"], again.SearchRegistries);
        Assert.Equal(ShortNameMode.Enforcing, again.ShortNameMode);
        Assert.Equal(2, again.Registries.Count);
        Assert.True(again.Registries.Single(r => r.Prefix == "docker.io").Blocked);
        Assert.Equal(["mirror.example:5000", "second.example"], again.Registries.Single(r => r.Prefix == "quay.io").Mirrors.Select(m => m.Location));
        Assert.Equal(PullFromMirror.DigestOnly, again.Registries.Single(r => r.Prefix == "quay.io").Mirrors[1].PullFromMirror);
        Assert.Equal("docker.io/library/busybox", again.Aliases["busybox"]);
        Assert.Equal("registry.fedoraproject.org/fedora", again.Aliases["fedora"]);
    }

    [Fact]
    public void NewRegistryHasOnlyTheKeysAskedFor()
    {
        var f = RegistriesFile.Parse("", "/x/registries.conf");
        f.SetRegistry("quay.io", blocked: true);
        Assert.Equal("[[registry]]\nlocation = \"quay.io\"\nblocked = true\n", f.ToString().Replace("\r\n", "\n").TrimStart('\n'));
    }

    [Fact]
    public void RemovingARegistryRemovesItsMirrors()
    {
        var f = RegistriesFile.Parse(Sample + "\n[[registry]]\nprefix = \"b.example\"\nlocation = \"b.example\"\n", "/x/registries.conf");
        Assert.True(f.RemoveRegistry("quay.io"));
        Assert.False(f.RemoveRegistry("quay.io"));
        var s = RegistriesFile.Parse(f.ToString(), "/x").Settings;
        Assert.Equal("b.example", Assert.Single(s.Registries).Prefix);
        Assert.DoesNotContain("mirror.example", f.ToString());
        Assert.Contains("[aliases]", f.ToString());
    }

    [Theory]
    [InlineData("# owned by configuration management\n[[registry]]\nprefix = \"a.example\"\nlocation = \"a.example\"\n", "a.example")]
    [InlineData("# owned by configuration management\n\n[[registry]]\nprefix = \"a.example\"\nlocation = \"a.example\"\n# about b\n[[registry]]\nprefix = \"b.example\"\nlocation = \"b.example\"\n", "a.example")]
    [InlineData("unqualified-search-registries = []\n# owned by configuration management\n[[registry]]\nprefix = \"a.example\"\nlocation = \"a.example\"\n", "a.example")]
    public void RemovingARegistryKeepsTheCommentsAroundIt(string text, string prefix)
    {
        var f = RegistriesFile.Parse(text, "/x/registries.conf");
        Assert.True(f.RemoveRegistry(prefix));
        string after = f.ToString();
        Assert.Contains("# owned by configuration management", after);
        if (text.Contains("# about b")) Assert.Contains("# about b\n[[registry]]", after.Replace("\r", ""));
        Assert.DoesNotContain(prefix, after);
        RegistriesFile.Parse(after, "/x");
    }

    [Fact]
    public void RemovesOneMirrorAndOneAlias()
    {
        var f = RegistriesFile.Parse(Sample, "/x/registries.conf");
        f.SetMirror("quay.io", "second.example");
        Assert.True(f.RemoveMirror("quay.io", "mirror.example:5000"));
        Assert.True(f.RemoveAlias("fedora"));
        Assert.False(f.RemoveAlias("fedora"));
        var s = RegistriesFile.Parse(f.ToString(), "/x").Settings;
        Assert.Equal("second.example", Assert.Single(Assert.Single(s.Registries).Mirrors).Location);
        Assert.Empty(s.Aliases);
    }

    public static TheoryData<string, int, string> BadFiles => new()
    {
        { "unqualified-search-registries = [\"a\"\n", 2, "closing" },
        { "a = 1\n\n[[registry]\nprefix = \"x\"\n", 3, "" },
        { "short-name-mode = \"sometimes\"\n", 1, "short-name-mode" },
        { "\n[[registry]]\ninsecure = true\n", 2, "prefix or a location" },
        { "[[registry]]\nprefix = \"a.example\"\nlocation = \"a.example\"\n[[registry]]\nlocation = \"a.example\"\n", 4, "more than once" },
        { "[[registry.mirror]]\nlocation = \"m\"\n", 1, "before any" },
        { "[[registry]]\nlocation = \"http://a.example\"\n", 1, "scheme" },
        { "[[registry]]\nprefix = \"a.*.example\"\nlocation = \"a.*.example\"\n", 1, "wildcard" },
        { "[[registry]]\nlocation = \"a\"\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"never\"\n", 5, "pull-from-mirror" },
        { "[aliases]\nx = \"busybox\"\n", 2, "fully-qualified" },
        { "unqualified-search-registries = [\"quay.io/org\"]\n", 1, "not a registry" },
        { "[registries.search]\nregistries = [\"a\"]\n", 1, "version 1" },
        { "[[registry]]\nlocation = \"a\"\nblocked = \"yes\"\n", 3, "true or false" },
        { "[[registry]]\nprefix = \"a.example\"\nblocked = true\n", 1, "no location" },
        { "[[registry]]\nlocation = \"a\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"all\"\n", 4, "mirror-by-digest-only" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void MalformedFileNamesFileAndLineAndIsLeftAlone(string text, int line, string why)
    {
        string path = Path.Combine(_dir, "registries.conf");
        File.WriteAllText(path, text);
        var e = Assert.Throws<ContainersException>(() => RegistriesFile.Load(path));
        Assert.Equal("RegistriesConfInvalid", e.ErrorId);
        Assert.StartsWith($"{path}:{line}:", e.Message);
        Assert.Contains(why, e.Message);
        Assert.Equal(text, File.ReadAllText(path));
    }

    [Fact]
    public void SaveIsAtomicAndKeepsTheMode()
    {
        string path = Path.Combine(_dir, "registries.conf");
        File.WriteAllText(path, Sample);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var f = RegistriesFile.Load(path);
        f.SetRegistry("quay.io", insecure: true);
        f.Save();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.True(RegistriesFile.Load(path).Settings.Registries[0].Insecure);
        Assert.Single(Directory.GetFiles(_dir));
    }
}
