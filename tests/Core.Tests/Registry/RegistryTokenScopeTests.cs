using System.Text.Json;

namespace Containers.Core.Tests.Registry;

/// <summary>
/// Bearer tokens are asked for per repository and action, and a token is only ever sent for the scope it
/// was issued for: against a registry on loopback that demands tokens from the fixture's TokenIssuer.
/// </summary>
public sealed class RegistryTokenScopeTests : IDisposable
{
    private readonly ScriptedRegistry _registry = new ScriptedRegistry().RequireTokens().Serve("team/app").Serve("other/app");

    public void Dispose() => _registry.Dispose();

    /// <summary>The scopes of each token request, in order.</summary>
    private List<string[]> ScopesAsked() =>
        [.. _registry.Issuer!.Requests.Select(target => QueryValues(target, "scope"))];

    private static string[] QueryValues(string target, string name) =>
        [.. new Uri("http://x" + target).Query.TrimStart('?').Split('&')
            .Select(p => p.Split('=', 2)).Where(kv => kv[0] == name).Select(kv => Uri.UnescapeDataString(kv[1]))];

    /// <summary>The repositories a Bearer token grants (its JWT "access" claim).</summary>
    private static string[] Grants(string authorization)
    {
        string payload = authorization["Bearer ".Length..].Split('.')[1].Replace('-', '+').Replace('_', '/');
        using var claims = JsonDocument.Parse(Convert.FromBase64String(payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=')));
        return [.. claims.RootElement.GetProperty("access").EnumerateArray().Select(a => a.GetProperty("name").GetString()!)];
    }

    [Fact]
    public async Task APullAsksForPullOnThatRepositoryFromTheServiceTheChallengeNamed()
    {
        await ScriptedRegistry.Client(_registry.Host).GetManifestAsync("team/app", "1", CancellationToken.None);
        Assert.Equal([["repository:team/app:pull"]], ScopesAsked());
        Assert.Equal(["scripted"], QueryValues(_registry.Issuer!.Requests.Single(), "service"));
    }

    [Fact]
    public async Task APushAsksForPullAndPushAndAMountAlsoForPullOnTheSource()
    {
        var client = ScriptedRegistry.Client(_registry.Host);
        _registry.Server.Add("/v2/dst/app/blobs/uploads/", 201, withAuthorization: true);
        _registry.Server.Add("/v2/dst/app/blobs/", 404, withAuthorization: true);
        Assert.False(await client.BlobExistsAsync("dst/app", _registry.BlobDescriptor.ParsedDigest, CancellationToken.None));
        Assert.True(await client.MountBlobAsync("dst/app", _registry.BlobDescriptor.ParsedDigest, "team/app", CancellationToken.None));
        Assert.Equal([["repository:dst/app:pull,push"], ["repository:dst/app:pull,push", "repository:team/app:pull"]], ScopesAsked());
    }

    [Fact]
    public async Task ATokenForOneRepositoryIsNeverSentForAnother()
    {
        var client = ScriptedRegistry.Client(_registry.Host);
        await client.GetManifestAsync("team/app", "1", CancellationToken.None);
        await client.GetManifestAsync("other/app", "1", CancellationToken.None);
        await ScriptedRegistry.ReadBlobAsync(client, "team/app", _registry.BlobDescriptor);

        Assert.Equal([["repository:team/app:pull"], ["repository:other/app:pull"]], ScopesAsked());
        var sent = _registry.Server.Exchanges.Where(e => e.Value is not null).ToList();
        Assert.Equal(3, sent.Count);
        foreach (var (request, authorization) in sent)
        {
            string repository = request.Contains("/team/app/", StringComparison.Ordinal) ? "team/app" : "other/app";
            Assert.Equal([repository], Grants(authorization!));
        }
    }

    [Fact]
    public async Task ATokenIsReusedForItsOwnScope()
    {
        var client = ScriptedRegistry.Client(_registry.Host);
        await client.GetManifestAsync("team/app", "1", CancellationToken.None);
        await client.GetManifestAsync("team/app", "1", CancellationToken.None);
        Assert.Single(ScopesAsked());
        // Only the first request went without a token.
        Assert.Single(_registry.Server.Exchanges, e => e.Value is null);
    }
}
