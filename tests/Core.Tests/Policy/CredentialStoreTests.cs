using System.Text;
using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Core.Tests.Policy;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CredentialStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("policy-auth-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static string Auth(string u, string p) => Convert.ToBase64String(Encoding.UTF8.GetBytes(u + ":" + p));

    private CredentialStore Store()
    {
        string main = Path.Combine(_dir, "auth.json"), user = Path.Combine(_dir, "user.json"), docker = Path.Combine(_dir, "docker.json");
        File.WriteAllText(main, $$$"""{"auths":{"reg.example":{"auth":"{{{Auth("host", "h")}}}"},"reg.example/team":{"auth":"{{{Auth("team", "t")}}}"},"reg.example/team/app":{"auth":"{{{Auth("app", "a")}}}"}},"credHelpers":{}}""");
        File.WriteAllText(user, $$$"""{"auths":{"other.example":{"auth":"{{{Auth("user", "u")}}}"} } }""");
        File.WriteAllText(docker, $$$"""{"auths":{"https://index.docker.io/v1/":{"auth":"{{{Auth("hub", "d")}}}"}, "other.example":{"auth":"{{{Auth("shadowed", "x")}}}"} } }""");
        return new CredentialStore(main, [main, user, docker]);
    }

    [Theory]
    [InlineData("reg.example", "team/app", "app")]
    [InlineData("reg.example", "team/app/sub", "app")]
    [InlineData("reg.example", "team/other", "team")]
    [InlineData("reg.example", "teamwork/x", "host")]
    [InlineData("reg.example", null, "host")]
    [InlineData("other.example", "x", "user")]
    [InlineData("docker.io", "library/busybox", "hub")]
    [InlineData("mirror.example", "team/app", null)]
    [InlineData("reg.example:5000", "team/app", null)]
    [InlineData("sub.reg.example", "team/app", null)]
    public void MostSpecificKeyForThatExactHostOnly(string host, string? repository, string? user) =>
        Assert.Equal(user, Store().Find(host, repository)?.UserName);

    /// <summary>A docker-credential helper written here, run for real from PATH; it logs each host it is asked for.</summary>
    private (CredentialStore Store, string Log) HelperStore(string helpersJson, string helperName = "pstest")
    {
        string bin = Path.Combine(_dir, "bin"), log = Path.Combine(_dir, "helper.log");
        Directory.CreateDirectory(bin);
        string script = Path.Combine(bin, "docker-credential-" + helperName);
        File.WriteAllText(script, $$$"""
            #!/bin/sh
            if [ "$1" = store ]; then cat > '{{{log}}}.store'; exit 0; fi
            if [ "$1" = erase ]; then host=$(cat); echo "erase $host" >> '{{{log}}}'; [ "$host" = reg.example ] && exit 0; echo 'credentials not found in native keychain'; exit 1; fi
            [ "$1" = get ] || exit 2
            host=$(cat)
            echo "$host" >> '{{{log}}}'
            case "$host" in
              reg.example) printf '{"ServerURL":"%s","Username":"from-helper","Secret":"s3cret"}' "$host" ;;
              tok.example) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-token"}' "$host" ;;
              broken.example) echo 'keyring locked'; exit 1 ;;
              garbage.example) echo 'not json' ;;
              *) echo 'credentials not found in native keychain'; exit 1 ;;
            esac
            """.Replace("\r", ""));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string main = Path.Combine(_dir, "auth.json"), docker = Path.Combine(_dir, "docker.json");
        File.WriteAllText(main, $$$"""{"auths":{"reg.example":{"auth":"{{{Auth("shadowed", "x")}}}"},"plain.example":{"auth":"{{{Auth("plain", "p")}}}"}},"credHelpers":{{{helpersJson}}}}""");
        File.WriteAllText(docker, $$$"""{"auths":{"nokey.example":{"auth":"{{{Auth("docker-file", "d")}}}"} } }""");
        return (new CredentialStore(main, [main, docker]), log);
    }

    [Fact]
    public void CredHelpersRunTheHelperForExactlyThatHost()
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        Environment.SetEnvironmentVariable("PATH", Path.Combine(_dir, "bin") + ":" + path);
        try
        {
            var (store, log) = HelperStore("""{"reg.example":"pstest","tok.example":"pstest","nokey.example":"pstest","broken.example":"pstest","garbage.example":"pstest","gone.example":"absent"}""");
            // The helper decides over the same file's auths entry.
            var c = store.Find("reg.example", "team/app")!;
            Assert.Equal(("from-helper", "s3cret", "reg.example"), (c.UserName, c.Password, c.Host));
            Assert.Contains("docker-credential-pstest", c.SourceFile);
            Assert.Equal(["reg.example"], File.ReadAllLines(log));
            Assert.Equal("refresh-token", store.Find("tok.example", null)!.IdentityToken);
            // No login in the helper: the next file answers.
            Assert.Equal("docker-file", store.Find("nokey.example", "x")!.UserName);
            // A host without a credHelpers entry never runs the helper.
            File.Delete(log);
            Assert.Equal("plain", store.Find("plain.example", "x")!.UserName);
            Assert.Null(store.Find("reg.example:5000", "x"));
            Assert.False(File.Exists(log));
            Assert.Equal("CredentialHelperFailed", Assert.Throws<ContainersException>(() => store.Find("broken.example", null)).ErrorId);
            Assert.Contains("keyring locked", Assert.Throws<ContainersException>(() => store.Find("broken.example", null)).Message);
            Assert.Equal("CredentialHelperFailed", Assert.Throws<ContainersException>(() => store.Find("garbage.example", null)).ErrorId);
            Assert.Equal("CredentialHelperNotFound", Assert.Throws<ContainersException>(() => store.Find("gone.example", null)).ErrorId);
            Assert.Contains(store.List(), l => l.Registry == "reg.example" && l.UserName == "(docker-credential-pstest)");
        }
        finally { Environment.SetEnvironmentVariable("PATH", path); }
    }

    [Fact]
    public void LoginsOfAHelperHostAreStoredAndErasedThroughTheHelper()
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        Environment.SetEnvironmentVariable("PATH", Path.Combine(_dir, "bin") + ":" + path);
        try
        {
            var (store, log) = HelperStore("""{"reg.example":"pstest","other.example":"pstest"}""");
            string before = File.ReadAllText(store.WriteFile);
            store.Save("reg.example", "ann", "pw");
            using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(log + ".store")))
            {
                Assert.Equal("reg.example", doc.RootElement.GetProperty("ServerURL").GetString());
                Assert.Equal("ann", doc.RootElement.GetProperty("Username").GetString());
                Assert.Equal("pw", doc.RootElement.GetProperty("Secret").GetString());
            }
            Assert.Equal(before, File.ReadAllText(store.WriteFile)); // the secret never lands in the auth file
            Assert.Equal("CredentialHelperNamespace", Assert.Throws<ContainersException>(() => store.Save("reg.example/team", "ann", "pw")).ErrorId);
            Assert.True(store.Remove("reg.example"));
            Assert.False(store.Remove("other.example"));
            Assert.Equal(["erase reg.example", "erase other.example"], File.ReadAllLines(log));
            store.Save("plain.example", "bob", "pw2"); // no helper for this host: the auth file as before
            Assert.Equal("bob", store.Find("plain.example", null)!.UserName);
        }
        finally { Environment.SetEnvironmentVariable("PATH", path); }
    }

    [Fact]
    public void SaveKeepsOtherEntriesAndIsPrivate()
    {
        var store = Store();
        store.Save("new.example/ns", "me", "pw");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.WriteFile));
        Assert.Equal("pw", store.Find("new.example", "ns/app")!.Password);
        Assert.Null(store.Find("new.example", "other/app"));
        Assert.Contains("credHelpers", File.ReadAllText(store.WriteFile));
        Assert.Equal("app", store.Find("reg.example", "team/app")!.UserName);
        Assert.True(store.Remove("new.example/ns"));
        Assert.False(store.Remove("new.example/ns"));
        Assert.Null(store.Find("new.example", "ns/app"));
    }

    [Fact]
    public void NewAuthFileIsCreatedPrivate()
    {
        string path = Path.Combine(_dir, "sub", "auth.json");
        var store = new CredentialStore(path, [path]);
        store.Save("a.example", "u", "p");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void ListShowsNoSecrets()
    {
        var logins = Store().List();
        Assert.Contains(logins, l => l.Registry == "reg.example/team" && l.UserName == "team" && !l.Fallback);
        Assert.Contains(logins, l => l.Registry == "docker.io" && l.UserName == "hub" && l.Fallback);
        Assert.DoesNotContain(logins, l => l.ToString().Contains("pw"));
    }

    [Theory]
    [InlineData("https://quay.io")]
    [InlineData("quay.io/org:tag")]
    [InlineData("")]
    [InlineData("busybox")]
    public void InvalidKeysAreRefused(string key) =>
        Assert.Equal("InvalidRegistryKey", Assert.Throws<ContainersException>(() => CredentialStore.ValidateKey(key)).ErrorId);

    [Fact]
    public void MalformedAuthFileNamesTheFileAndLine()
    {
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, "{\n\"auths\": {,}\n}");
        var e = Assert.Throws<ContainersException>(() => new CredentialStore(path, [path]).Find("a", null));
        Assert.Equal("AuthFileInvalid", e.ErrorId);
        Assert.StartsWith(path + ":2:", e.Message);
        Assert.Throws<ContainersException>(() => new CredentialStore(path, [path]).Save("a.example", "u", "p"));
        Assert.Equal("{\n\"auths\": {,}\n}", File.ReadAllText(path));
    }
}
