using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Policy;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Policy;

public sealed class RegistriesConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("policy-conf-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static RegistriesConfiguration Conf(params string[] files) =>
        RegistriesConfiguration.Merge(files.Select((t, i) => RegistriesFile.Parse(t, $"/f{i}.conf")));

    private const string Rules = """
        unqualified-search-registries = ["registry.example", "quay.io"]

        [[registry]]
        prefix = "quay.io"
        location = "quay.io"
        blocked = true

        [[registry]]
        prefix = "quay.io/allowed"
        location = "quay.io/allowed"

        [[registry]]
        prefix = "docker.io"
        location = "mirror-free.example/hub"
        [[registry.mirror]]
        location = "m1.example:5000"
        insecure = true
        [[registry.mirror]]
        location = "m2.example"
        pull-from-mirror = "digest-only"
        [[registry.mirror]]
        location = "m3.example"
        pull-from-mirror = "tag-only"

        [[registry]]
        prefix = "*.internal.example"
        insecure = true
        blocked = false

        [[registry]]
        prefix = "*.evil.example"
        blocked = true

        [[registry]]
        prefix = "localhost:5000/team"
        location = "127.0.0.1:5001/other"
        """;

    public static TheoryData<string, string?> LongestPrefix => new()
    {
        { "quay.io/org/app:1", "quay.io" },
        { "quay.io/allowed/app", "quay.io/allowed" },
        { "quay.io/allowedx/app", "quay.io" },
        { "docker.io/library/busybox", "docker.io" },
        { "a.internal.example/x", "*.internal.example" },
        { "internal.example/x", null },
        { "b.a.evil.example/x", "*.evil.example" },
        { "localhost:5000/team/app:v1", "localhost:5000/team" },
        { "localhost:5000/teamwork/app", null },
        { "ghcr.io/x/y", null },
    };

    [Theory]
    [MemberData(nameof(LongestPrefix))]
    public void LongestPrefixDecides(string reference, string? prefix) =>
        Assert.Equal(prefix, Conf(Rules).FindRule(ImageReference.Parse(reference))?.Prefix);

    [Theory]
    [InlineData("quay.io/org/app", true)]
    [InlineData("quay.io/allowed/app", false)]
    [InlineData("x.evil.example/app", true)]
    [InlineData("ghcr.io/org/app", false)]
    public void BlockedRegistriesAreRefusedNamingRuleAndFile(string reference, bool blocked)
    {
        var conf = Conf(Rules);
        var r = ImageReference.Parse(reference);
        if (!blocked)
        {
            conf.EnsureAllowed(r);
            return;
        }
        var e = Assert.Throws<ContainersException>(() => conf.GetPullSources(r));
        Assert.Equal("RegistryBlocked", e.ErrorId);
        Assert.Equal(ErrorKind.PolicyViolation, e.Kind);
        Assert.Contains("/f0.conf:", e.Message);
        Assert.Contains(conf.FindRule(r)!.Prefix, e.Message);
    }

    public static TheoryData<string, string[]> Sources => new()
    {
        { "docker.io/library/busybox:1", ["m1.example:5000/library/busybox:1 (mirror) (insecure)", "m3.example/library/busybox:1 (mirror)", "mirror-free.example/hub/library/busybox:1"] },
        { "docker.io/library/busybox@sha256:" + new string('a', 64), ["m1.example:5000/library/busybox@sha256:" + new string('a', 64) + " (mirror) (insecure)", "m2.example/library/busybox@sha256:" + new string('a', 64) + " (mirror)", "mirror-free.example/hub/library/busybox@sha256:" + new string('a', 64)] },
        { "localhost:5000/team/app:v1", ["127.0.0.1:5001/other/app:v1"] },
        { "a.internal.example/x/y", ["a.internal.example/x/y (insecure)"] },
        { "ghcr.io/x/y", ["ghcr.io/x/y:latest".Replace(":latest", "")] },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void MirrorsThenPrimaryWithRewriting(string reference, string[] expected) =>
        Assert.Equal(expected, Conf(Rules).GetPullSources(ImageReference.Parse(reference)).Select(s => s.ToString()));

    [Fact]
    public void MirrorByDigestOnlySkipsMirrorsForTags()
    {
        var conf = Conf("[[registry]]\nlocation = \"a.example\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m.example\"\n");
        Assert.Single(conf.GetPullSources(ImageReference.Parse("a.example/x:1")));
        Assert.Equal(2, conf.GetPullSources(ImageReference.Parse("a.example/x@sha256:" + new string('b', 64))).Count);
    }

    [Fact]
    public void LaterFilesReplaceRulesByPrefixAndMergeAliasesByKey()
    {
        var conf = Conf(
            "unqualified-search-registries = [\"a.example\"]\nshort-name-mode = \"enforcing\"\n[[registry]]\nprefix = \"x.example\"\nlocation = \"x.example\"\nblocked = true\n[[registry]]\nprefix = \"y.example\"\nlocation = \"y.example\"\ninsecure = true\n[aliases]\none = \"a.example/one\"\ntwo = \"a.example/two\"\n",
            "[[registry]]\nprefix = \"x.example\"\nlocation = \"x.example\"\ninsecure = true\n[aliases]\ntwo = \"b.example/two\"\n",
            "unqualified-search-registries = []\n");
        var x = conf.Registries.Single(r => r.Prefix == "x.example");
        Assert.False(x.Blocked);
        Assert.True(x.Insecure);
        Assert.Equal("/f1.conf", x.SourceFile);
        Assert.True(conf.Registries.Single(r => r.Prefix == "y.example").Insecure);
        Assert.Equal("a.example/one", conf.Aliases["one"]);
        Assert.Equal("b.example/two", conf.Aliases["two"]);
        Assert.Empty(conf.SearchRegistries);
        Assert.Equal("/f2.conf", conf.SearchRegistriesOrigin);
        Assert.Equal(ShortNameMode.Enforcing, conf.ShortNameMode);
    }

    [Fact]
    public void FilesInForceFollowTheContainersTools()
    {
        string sys = Path.Combine(_dir, "etc"), home = Path.Combine(_dir, "home");
        Directory.CreateDirectory(Path.Combine(sys, "registries.conf.d"));
        Directory.CreateDirectory(Path.Combine(home, ".config/containers/registries.conf.d"));
        File.WriteAllText(Path.Combine(sys, "registries.conf.d/20-b.conf"), "");
        File.WriteAllText(Path.Combine(sys, "registries.conf.d/10-a.conf"), "");
        File.WriteAllText(Path.Combine(sys, "registries.conf.d/ignored.txt"), "");
        File.WriteAllText(Path.Combine(home, ".config/containers/registries.conf.d/05-u.conf"), "");
        var paths = ContainerPaths.FromEnvironment(v => v switch { "HOME" => home, _ => null }, 1000) with
        {
            SystemRegistriesConf = Path.Combine(sys, "registries.conf"),
            SystemRegistriesConfDir = Path.Combine(sys, "registries.conf.d"),
        };
        Assert.Equal([paths.SystemRegistriesConf, Path.Combine(sys, "registries.conf.d/10-a.conf"), Path.Combine(sys, "registries.conf.d/20-b.conf"),
            Path.Combine(home, ".config/containers/registries.conf.d/05-u.conf")], RegistriesConfiguration.FilesInForce(paths));
        // The user's registries.conf replaces the system file and the system drop-ins.
        File.WriteAllText(paths.UserRegistriesConf!, "");
        Assert.Equal([paths.UserRegistriesConf!, Path.Combine(home, ".config/containers/registries.conf.d/05-u.conf")], RegistriesConfiguration.FilesInForce(paths));
        // CONTAINERS_REGISTRIES_CONF replaces the main file (even the user's), and both drop-in folders are still read.
        string over = Path.Combine(_dir, "override.conf");
        var overridden = ContainerPaths.FromEnvironment(v => v switch { "HOME" => home, ContainerPaths.RegistriesConfVariable => over, _ => null }, 1000) with
        {
            SystemRegistriesConfDir = Path.Combine(sys, "registries.conf.d"),
        };
        Assert.Equal([over, Path.Combine(sys, "registries.conf.d/10-a.conf"), Path.Combine(sys, "registries.conf.d/20-b.conf"),
            Path.Combine(home, ".config/containers/registries.conf.d/05-u.conf")], RegistriesConfiguration.FilesInForce(overridden));
    }

    [Fact]
    public void DropInsAreNamedFilesOfTheScopesFolder()
    {
        var user = ContainerPaths.FromEnvironment(v => v == "HOME" ? "/home/ann" : null, 1000);
        Assert.Equal("/home/ann/.config/containers/registries.conf.d/50-mirrors.conf", RegistryPolicyEditor.DropInPathFor(user, null, "50-mirrors"));
        Assert.Equal("/etc/containers/registries.conf.d/50-mirrors.conf", RegistryPolicyEditor.DropInPathFor(user, PolicyScope.System, "50-mirrors.conf"));
        var redirected = ContainerPaths.FromEnvironment(v => v == ContainerPaths.ConfigDirVariable ? "/t/c" : null, 0);
        Assert.Equal("/t/c/registries.conf.d/10-a.conf", RegistryPolicyEditor.DropInPathFor(redirected, null, "10-a"));
        Assert.Equal("PolicyScopeUnavailable", Assert.Throws<ContainersException>(() => RegistryPolicyEditor.DropInPathFor(redirected, PolicyScope.User, "10-a")).ErrorId);
        foreach (string bad in new[] { "../x", "a/b", ".conf", ".hidden" })
            Assert.Equal("DropInNameInvalid", Assert.Throws<ContainersException>(() => RegistryPolicyEditor.DropInPathFor(user, null, bad)).ErrorId);
        Assert.Equal("PolicyTargetConflict", Assert.Throws<ContainersException>(() => RegistryPolicyEditor.Open(user, PolicyScope.System, null, "/t/x.conf")).ErrorId);
    }

    [Fact]
    public void EditingADropInKeepsItsCommentsAndLeavesTheMainFileAlone()
    {
        string conf = Path.Combine(_dir, "c");
        var paths = ContainerPaths.FromEnvironment(v => v == ContainerPaths.ConfigDirVariable ? conf : null, 0);
        Directory.CreateDirectory(conf);
        File.WriteAllText(paths.SystemRegistriesConf, "# main\nunqualified-search-registries = [\"a.example\"]\n");
        string main = File.ReadAllText(paths.SystemRegistriesConf);
        var file = RegistryPolicyEditor.Open(paths, null, "50-mirrors", null);
        file.SetMirror("docker.io", "mirror.example:5000", null, null);
        file.Save();
        string dropIn = Path.Combine(conf, "registries.conf.d", "50-mirrors.conf");
        File.WriteAllText(dropIn, "# owned by config management\n" + File.ReadAllText(dropIn));
        file = RegistryPolicyEditor.Open(paths, null, "50-mirrors", null);
        file.SetMirror("docker.io", "mirror2.example:5000", null, null);
        file.Save();
        Assert.StartsWith("# owned by config management\n", File.ReadAllText(dropIn));
        Assert.Equal(main, File.ReadAllText(paths.SystemRegistriesConf));
        var merged = RegistriesConfiguration.Load(paths);
        Assert.Equal([paths.SystemRegistriesConf, dropIn], merged.Files);
        Assert.Equal(["mirror.example:5000", "mirror2.example:5000"], merged.FindRule(ImageReference.Parse("docker.io/library/busybox:1"))!.Mirrors.Select(m => m.Location));
        Assert.Null(RegistryPolicyEditor.NotInForce(paths, dropIn));
        Assert.NotNull(RegistryPolicyEditor.NotInForce(paths, Path.Combine(_dir, "elsewhere.conf")));
    }

    public static TheoryData<string, string, bool, string[]> ShortNames => new()
    {
        // conf, name, interactive, candidates ("!Id" = error)
        { "unqualified-search-registries = [\"a.example\", \"docker.io\"]\nshort-name-mode = \"permissive\"\n", "busybox:1", false, ["a.example/busybox:1", "docker.io/library/busybox:1"] },
        { "unqualified-search-registries = [\"a.example\", \"docker.io\"]\nshort-name-mode = \"enforcing\"\n", "busybox", false, ["!ShortNameAmbiguous"] },
        { "unqualified-search-registries = [\"a.example\", \"docker.io\"]\nshort-name-mode = \"enforcing\"\n", "busybox", true, ["?a.example/busybox", "?docker.io/library/busybox"] },
        { "unqualified-search-registries = [\"a.example\", \"docker.io\"]\nshort-name-mode = \"disabled\"\n", "busybox", true, ["a.example/busybox", "docker.io/library/busybox"] },
        { "unqualified-search-registries = [\"a.example\"]\nshort-name-mode = \"enforcing\"\n", "busybox", false, ["a.example/busybox"] },
        { "unqualified-search-registries = [\"a.example\", \"b.example\"]\nshort-name-mode = \"enforcing\"\n[aliases]\nbusybox = \"c.example/lib/busybox\"\n", "busybox:2", false, ["c.example/lib/busybox:2"] },
        { "unqualified-search-registries = []\n", "busybox", false, ["!ShortNameNoSearchRegistries"] },
        { "", "busybox", false, ["!ShortNameNoSearchRegistries"] },
        { "unqualified-search-registries = [\"a.example\"]\n", "quay.io/x/y", false, ["quay.io/x/y"] },
    };

    [Theory]
    [MemberData(nameof(ShortNames))]
    public void ShortNamesResolveOnlyThroughConfiguredRegistries(string conf, string name, bool interactive, string[] expected)
    {
        var c = Conf(conf);
        if (expected[0].StartsWith('!'))
        {
            Assert.Equal(expected[0][1..], Assert.Throws<ContainersException>(() => c.ResolveShortName(ImageReference.Parse(name), interactive)).ErrorId);
            return;
        }
        var r = c.ResolveShortName(ImageReference.Parse(name), interactive);
        Assert.Equal(expected[0].StartsWith('?'), r.RequiresChoice);
        Assert.Equal(expected.Select(e => e.TrimStart('?')), r.Candidates.Select(x => x.ToString()));
    }

    [Fact]
    public void ShortNameModeDefaultsToPermissive() => Assert.Equal(ShortNameMode.Permissive, Conf("").ShortNameMode);
}
