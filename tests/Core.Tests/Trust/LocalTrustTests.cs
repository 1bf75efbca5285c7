using System.Text;
using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Policy;
using Containers.Core.Spec;
using Containers.Core.Tests.Images;
using Containers.Core.Trust;

namespace Containers.Core.Tests.Trust;

/// <summary>Local images against policy.json, offline: a real store, signatures kept per digest, our signer.</summary>
public sealed class LocalTrustTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private const string Name = "registry.example/team/app:1";

    private async Task<(ImageStore Store, StoredImage Image, Digest Index)> CommitAsync(string? name = Name)
    {
        var store = ImageStore.OpenAt(_tmp.Sub("store"), new ImageStoreOptions { Durable = false });
        byte[] config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        byte[] manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{Digest.Sha256(config)}}","size":{{config.Length}}},"layers":[]}""");
        var index = Digest.Sha256("an index that chose this manifest"u8);
        var image = await store.CommitImageAsync(new ImageCommit
        {
            Manifest = manifest, Config = config, Names = name is null ? [] : [name], ExtraDigests = [index],
        });
        return (store, image, index);
    }

    private LocalTrust Trust(ImageStore store, string pubKeyPath, string scope = "registry.example/team") =>
        new(RegistriesConfiguration.Merge([]), new PolicyCredentialSource(new CredentialStore(_tmp.Sub("auth.json"), [])),
            SignaturePolicy.Parse($$$"""{"default":[{"type":"reject"}],"transports":{"docker":{"{{{scope}}}":[{"type":"sigstoreSigned","keyPath":"{{{pubKeyPath}}}"}]} } }""", "policy.json"),
            store);

    private string WriteKey(SigningKey key, string name)
    {
        string path = _tmp.Sub(name + ".pub");
        File.WriteAllText(path, key.PublicKeyPem);
        return path;
    }

    [Fact]
    public async Task SignaturesOfTheIndexDigestKeptAtPullPassOffline()
    {
        var (store, image, index) = await CommitAsync();
        var key = SigningKey.Generate("Ed25519");
        var signature = SigstoreSigner.Sign(key, ImageReference.Parse(Name), index);
        store.WriteSignatures(index, LocalSignatures.Serialize("registry.example/team/app", [signature]));

        var e = Assert.Single(await Trust(store, WriteKey(key, "good")).TestAsync(image, offline: true, default));
        Assert.True(e.Allowed, string.Join("; ", e.Results.Select(r => r.Reason)));
        Assert.Equal(index, e.ManifestDigest);
        Assert.Equal(image.Id, e.ImageId);
        Assert.Contains("stored at pull from registry.example/team/app", e.SignatureSource);

        var other = Assert.Single(await Trust(store, WriteKey(SigningKey.Generate("ECDSA"), "other")).TestAsync(image, offline: true, default));
        Assert.False(other.Allowed);
        Assert.Contains("does not verify", other.Results[0].Reason);
    }

    [Fact]
    public async Task NoStoredSignatureOfflineFailsWithWhereItLooked()
    {
        var (store, image, _) = await CommitAsync();
        var e = Assert.Single(await Trust(store, WriteKey(SigningKey.Generate("ECDSA"), "k")).TestAsync(image, offline: true, default));
        Assert.False(e.Allowed);
        Assert.Equal(0, e.SignatureCount);
        Assert.Contains("has none", e.Results[0].Reason);
        Assert.Contains("-Offline", e.Results[0].Reason);
        // A scope that does not ask for signatures: nothing is looked up, the default decides.
        var rejected = Assert.Single(await Trust(store, WriteKey(SigningKey.Generate("ECDSA"), "k2"), "elsewhere.example").TestAsync(image, offline: true, default));
        Assert.Equal("default", rejected.Scope);
        Assert.Equal("reject", rejected.Results[0].Type);
    }

    [Fact]
    public async Task DamagedStoredSignaturesAreAnErrorAndANamelessImageCannotBeJudged()
    {
        var (store, image, index) = await CommitAsync();
        store.WriteSignatures(index, "{not json"u8);
        var trust = Trust(store, WriteKey(SigningKey.Generate("ECDSA"), "k"));
        Assert.Equal("StoredSignaturesInvalid", (await Assert.ThrowsAsync<ContainersException>(() => trust.TestAsync(image, true, default))).ErrorId);
        var nameless = image with { Names = [] };
        Assert.Equal("ImageHasNoName", (await Assert.ThrowsAsync<ContainersException>(() => trust.TestAsync(nameless, true, default))).ErrorId);
    }
}
