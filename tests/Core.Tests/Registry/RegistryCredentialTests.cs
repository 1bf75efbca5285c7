using System.Text;
using Containers.Core.Errors;
using Containers.Core.Registry;
using PSContainersFixture;

namespace Containers.Core.Tests.Registry;

/// <summary>
/// A credential (and a token got with it) goes only to the host and port it was given for: not to a blob
/// CDN or another port a registry redirects to, not to a redirect target that asks for one, not to another
/// registry. Checked from the servers' side: what each one received.
/// </summary>
public sealed class RegistryCredentialTests : IDisposable
{
    private const string Repository = "team/app";
    private static readonly RegistryCredential Tester = new("tester", "t3st-pass");
    private static readonly string TesterBasic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("tester:t3st-pass"));

    private readonly ScriptedRegistry _registry = new();
    private readonly ScriptedServer _cdn = new();

    public void Dispose()
    {
        _cdn.Dispose();
        _registry.Dispose();
    }

    private static BoundCredential BoundTo(string host) => new(host, Tester, NoCredentials.Instance);

    [Theory]
    [InlineData("localhost")] // another host name (and port)
    [InlineData("127.0.0.1")] // the same address on another port
    public async Task ABasicCredentialIsNotSentWhereTheRegistryRedirectsABlob(string blobHost)
    {
        _registry.Serve(Repository);
        using var proxy = new FaultProxy("http://" + _registry.Host) { RequireBasic = "tester:t3st-pass", BlobHost = blobHost };
        proxy.AddRule("redirect", "/blobs/", count: 0);
        string host = "127.0.0.1:" + proxy.Port;

        var bytes = await ScriptedRegistry.ReadBlobAsync(ScriptedRegistry.Client(host, BoundTo(host)), Repository, _registry.BlobDescriptor);

        Assert.Equal(_registry.Blob, bytes);
        Assert.Contains(TesterBasic, proxy.FrontAuthorization);
        Assert.Single(proxy.BlobLog); // the redirect was followed...
        Assert.Empty(proxy.BlobAuthorization); // ...without the credential
    }

    [Fact]
    public async Task ABearerTokenIsNotSentToTheBlobCdnTheRegistryRedirectsTo()
    {
        _registry.RequireTokens();
        var redirect = _registry.Server.Add($"/v2/{Repository}/blobs/", 307, withAuthorization: true);
        redirect.Headers["Location"] = $"http://localhost:{_cdn.Port}/cdn/blob?signed=1";
        _cdn.Add("/cdn/", 200, Encoding.ASCII.GetString(_registry.Blob));

        var bytes = await ScriptedRegistry.ReadBlobAsync(ScriptedRegistry.Client(_registry.Host, BoundTo(_registry.Host)), Repository, _registry.BlobDescriptor);

        Assert.Equal(_registry.Blob, bytes);
        Assert.All(_registry.Server.Authorization, a => Assert.StartsWith("Bearer ", a, StringComparison.Ordinal));
        Assert.Single(_cdn.Requests);
        Assert.Empty(_cdn.Authorization);
    }

    [Fact]
    public async Task ARedirectTargetThatAsksForAuthenticationIsRefusedAndGetsNothing()
    {
        _registry.RequireBasic();
        var redirect = _registry.Server.Add($"/v2/{Repository}/blobs/", 307, withAuthorization: true);
        redirect.Headers["Location"] = $"http://localhost:{_cdn.Port}/cdn/blob";
        ScriptedRegistry.ChallengeBasic(_cdn, "/cdn/");

        var client = ScriptedRegistry.Client(_registry.Host, BoundTo(_registry.Host));
        var e = await Assert.ThrowsAsync<ContainersException>(() => ScriptedRegistry.ReadBlobAsync(client, Repository, _registry.BlobDescriptor));

        Assert.Equal("RegistryForeignChallenge", e.ErrorId);
        Assert.Contains(TesterBasic, _registry.Server.Authorization);
        Assert.NotEmpty(_cdn.Requests);
        Assert.Empty(_cdn.Authorization);
    }

    [Fact]
    public async Task ACredentialGivenForAnotherRegistryIsNotOffered()
    {
        _registry.RequireBasic().Serve(Repository);
        string elsewhere = "127.0.0.1:" + (_registry.Server.Port == 1 ? 2 : _registry.Server.Port - 1);

        var client = ScriptedRegistry.Client(_registry.Host, BoundTo(elsewhere));
        var e = await Assert.ThrowsAsync<ContainersException>(() => client.GetManifestAsync(Repository, "1", CancellationToken.None));

        Assert.Equal("RegistryAuthenticationRequired", e.ErrorId);
        Assert.Empty(_registry.Server.Authorization);
    }

    [Theory]
    [InlineData("reg.example:5000", true)]
    [InlineData("REG.Example:5000", true)]
    [InlineData("reg.example", false)]
    [InlineData("reg.example:5001", false)]
    [InlineData("mirror.example:5000", false)]
    public void ABoundCredentialAnswersForItsHostAndPortOnly(string host, bool given) =>
        Assert.Equal(given ? Tester : null, BoundTo("reg.example:5000").GetCredential(host, Repository));
}
