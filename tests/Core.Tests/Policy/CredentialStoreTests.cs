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
