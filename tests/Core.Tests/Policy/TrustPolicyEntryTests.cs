using System.Text;
using Containers.Core.Policy;

namespace Containers.Core.Tests.Policy;

public sealed class TrustPolicyEntryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("policy-entry-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void OneEntryPerRequirementDefaultFirstThenScopesInOrdinalOrder()
    {
        var key = SigningKey.Generate("ECDSA");
        string data = Convert.ToBase64String(Encoding.UTF8.GetBytes(key.PublicKeyPem));
        var policy = SignaturePolicy.Parse($$$$"""
            {"default":[{"type":"reject"}],
             "transports":{"docker":{
               "z.example":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k.gpg"}],
               "b.example":[{"type":"sigstoreSigned","keyData":"{{{{data}}}}","signedIdentity":{"type":"matchExact"}},
                            {"type":"sigstoreSigned","keyPath":"missing.pub"}],
               "":[{"type":"insecureAcceptAnything"}]}}}
            """, "/p/policy.json", _dir);
        var entries = TrustPolicyEntry.From(policy);

        Assert.Equal(["default", "", "b.example", "b.example", "z.example"], entries.Select(e => e.Scope));
        Assert.Equal(["", "docker", "docker", "docker", "docker"], entries.Select(e => e.Transport));
        Assert.Null(entries[0].Registry);
        Assert.Equal("", entries[1].Registry);
        Assert.All(entries, e => Assert.Equal("/p/policy.json", e.Path));

        var inline = entries[2];
        Assert.Equal("sigstoreSigned", inline.Requirement);
        Assert.True(inline.KeyData);
        Assert.Null(inline.KeyPath);
        Assert.Equal("matchExact", inline.SignedIdentity);
        Assert.Null(inline.Problem);

        var missing = entries[3];
        Assert.Equal(Path.Combine(_dir, "missing.pub"), missing.KeyPath); // relative keyPath resolves against the file's folder
        Assert.False(missing.KeyData);
        Assert.Equal("matchRepoDigestOrExact", missing.SignedIdentity);
        Assert.Contains("cannot be read", missing.Problem);

        Assert.Equal("signedBy", entries[4].Requirement);
        Assert.NotNull(entries[4].Problem);
    }
}
