using System.Text;
using System.Text.Json;
using Containers.Core.Registry;
using Containers.Core.Spec;
using PSContainersFixture;

namespace Containers.Core.Tests.Registry;

/// <summary>
/// A registry of one image on the fixture's ScriptedServer (tests/Pester/Fixtures/HostileServers.cs): a
/// manifest and a 256 KiB blob per repository, answered to anyone or, with <see cref="RequireTokens"/>,
/// only to requests that carry a Bearer token from the fixture's TokenIssuer.
/// </summary>
internal sealed class ScriptedRegistry : IDisposable
{
    private readonly string _certs = Directory.CreateTempSubdirectory("registry-certs-").FullName;

    public ScriptedServer Server { get; } = new();
    public TokenIssuer? Issuer { get; private set; }
    public string Host => Server.Host;

    /// <summary>ASCII, so the server's string body is these exact bytes.</summary>
    public byte[] Blob { get; } = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 256 * 1024).Select(i => (char)('a' + (i * 7919 % 26)))));
    public Descriptor BlobDescriptor => new() { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Sha256(Blob).ToString(), Size = Blob.Length };

    public string Manifest => JsonSerializer.Serialize(new
    {
        schemaVersion = 2,
        mediaType = MediaTypes.OciManifest,
        config = BlobDescriptor with { MediaType = MediaTypes.OciConfig },
        layers = Array.Empty<object>(),
    });

    /// <summary>Requests without a token are answered 401 with a Bearer challenge naming a token service in this process.</summary>
    public ScriptedRegistry RequireTokens()
    {
        FixtureCerts.Write(_certs);
        Issuer = new TokenIssuer(File.ReadAllText(Path.Combine(_certs, "token.crt")), File.ReadAllText(Path.Combine(_certs, "token.key")),
            "scripted", "scripted-issuer", "tester", "t3st-pass");
        var challenge = Server.Add("/v2/", 401, withAuthorization: false);
        challenge.Headers["WWW-Authenticate"] = $"Bearer realm=\"http://127.0.0.1:{Issuer.Port}/token\",service=\"scripted\"";
        return this;
    }

    /// <summary>Requests without an Authorization header are answered 401 with a Basic challenge.</summary>
    public ScriptedRegistry RequireBasic()
    {
        ChallengeBasic(Server, "/v2/", withAuthorization: false);
        return this;
    }

    /// <summary>A route answering 401 with a Basic challenge.</summary>
    public static void ChallengeBasic(ScriptedServer server, string pathPrefix, bool? withAuthorization = null) =>
        server.Add(pathPrefix, 401, withAuthorization: withAuthorization).Headers["WWW-Authenticate"] = "Basic realm=\"scripted\"";

    /// <summary>Answers the manifest (tag 1) and the blob of <paramref name="repository"/>.</summary>
    public ScriptedRegistry Serve(string repository)
    {
        var manifest = Server.Add($"/v2/{repository}/manifests/1", 200, Manifest);
        manifest.Headers["Content-Type"] = MediaTypes.OciManifest;
        Server.Add($"/v2/{repository}/blobs/", 200, Encoding.ASCII.GetString(Blob));
        return this;
    }

    /// <summary>An insecure (plain HTTP) client of <paramref name="host"/> with short delays and its own token cache.</summary>
    public static RegistryClient Client(string host, ICredentialSource? credentials = null, int maxAttempts = 3) =>
        new(host, insecure: true, credentials, new RegistryClientOptions
        {
            MaxAttempts = maxAttempts,
            BaseDelay = TimeSpan.FromMilliseconds(1),
            MaxDelay = TimeSpan.FromMilliseconds(20),
            CertDirectories = [],
        }, new TokenCache());

    public static async Task<byte[]> ReadBlobAsync(RegistryClient client, string repository, Descriptor blob)
    {
        await using var s = await client.OpenBlobAsync(repository, blob, CancellationToken.None);
        using var copy = new MemoryStream();
        await s.CopyToAsync(copy);
        return copy.ToArray();
    }

    public void Dispose()
    {
        Server.Dispose();
        Issuer?.Dispose();
        Directory.Delete(_certs, true);
    }
}
