using System.Text;
using Containers.Core.Errors;
using Containers.Core.Policy;
using Containers.Core.Spec;
using Containers.Core.Trust;

namespace Containers.Core.Tests.Policy;

public sealed class SignaturePolicyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("policy-sig-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly Digest ManifestDigest = Digest.Sha256("manifest"u8);
    private static readonly ImageReference Image = ImageReference.Parse("registry.example/team/app:1.0");

    private SignaturePolicy PolicyFor(SigningKey key, string identity = "{\"type\":\"matchRepoDigestOrExact\"}", string scope = "registry.example/team")
    {
        string pub = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".pub");
        File.WriteAllText(pub, key.PublicKeyPem);
        return SignaturePolicy.Parse($$$"""
            {"default":[{"type":"reject"}],
             "transports":{"docker":{"{{{scope}}}":[{"type":"sigstoreSigned","keyPath":"{{{pub}}}","signedIdentity":{{{identity}}} } ] } } }
            """, "/p/policy.json");
    }

    [Theory]
    [InlineData("ECDSA")]
    [InlineData("Ed25519")]
    public void OwnSignaturePasses(string algorithm)
    {
        var key = SigningKey.Generate(algorithm);
        var sig = SigstoreSigner.Sign(key, Image, ManifestDigest);
        var e = PolicyFor(key).EnsureAccepted(Image, ManifestDigest, [sig]);
        Assert.True(e.Allowed);
        Assert.Equal("transports.docker[\"registry.example/team\"]", e.Scope);
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "tampered", "does not verify" },
        { "wrongkey", "does not verify" },
        { "wrongdigest", "is for manifest" },
        { "wrongidentity", "does not match" },
        { "missing", "has none" },
        { "notbase64", "not base64" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void BadSignaturesAreRefusedWithAReason(string kind, string reason)
    {
        var key = SigningKey.Generate();
        var sig = kind switch
        {
            "wrongkey" => SigstoreSigner.Sign(SigningKey.Generate(), Image, ManifestDigest),
            "wrongdigest" => SigstoreSigner.Sign(key, Image, Digest.Sha256("other"u8)),
            "wrongidentity" => SigstoreSigner.Sign(key, ImageReference.Parse("registry.example/team/other:1.0"), ManifestDigest),
            _ => SigstoreSigner.Sign(key, Image, ManifestDigest),
        };
        if (kind == "tampered") sig = sig with { Payload = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(sig.Payload).Replace("app:1.0", "app:6.6")) };
        if (kind == "notbase64") sig = sig with { Signature = "***" };
        IReadOnlyList<SigstoreSignature> sigs = kind == "missing" ? [] : [sig];
        var ex = Assert.Throws<ContainersException>(() => PolicyFor(key).EnsureAccepted(Image, ManifestDigest, sigs));
        Assert.Equal("SignatureRejected", ex.ErrorId);
        Assert.Equal(ErrorKind.PolicyViolation, ex.Kind);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void OneGoodSignatureAmongBadOnesIsEnough()
    {
        var key = SigningKey.Generate();
        var good = SigstoreSigner.Sign(key, Image, ManifestDigest);
        var bad = SigstoreSigner.Sign(SigningKey.Generate(), Image, ManifestDigest);
        Assert.True(PolicyFor(key).Evaluate(Image, ManifestDigest, [bad, good]).Allowed);
    }

    public static TheoryData<string, string, string, bool> Identities => new()
    {
        // identity, image, signed reference, passes
        { "{\"type\":\"matchRepoDigestOrExact\"}", "registry.example/team/app:1.0", "registry.example/team/app:2.0", false },
        { "{\"type\":\"matchRepoDigestOrExact\"}", "registry.example/team/app@sha256:" + new string('c', 64), "registry.example/team/app:2.0", true },
        { "{\"type\":\"matchRepository\"}", "registry.example/team/app:1.0", "registry.example/team/app:2.0", true },
        { "{\"type\":\"matchRepository\"}", "registry.example/team/app:1.0", "registry.example/team/app2:1.0", false },
        { "{\"type\":\"matchExact\"}", "registry.example/team/app:1.0", "registry.example/team/app:1.0", true },
        { "{\"type\":\"exactReference\",\"dockerReference\":\"signed.example/app:9\"}", "registry.example/team/app:1.0", "signed.example/app:9", true },
        { "{\"type\":\"exactReference\",\"dockerReference\":\"signed.example/app:9\"}", "registry.example/team/app:1.0", "registry.example/team/app:1.0", false },
        { "{\"type\":\"exactRepository\",\"dockerRepository\":\"signed.example/app\"}", "registry.example/team/app:1.0", "signed.example/app:7", true },
        { "{\"type\":\"remapIdentity\",\"prefix\":\"registry.example/team\",\"signedPrefix\":\"upstream.example/prod\"}", "registry.example/team/app:1.0", "upstream.example/prod/app:1.0", true },
        { "{\"type\":\"remapIdentity\",\"prefix\":\"registry.example/team\",\"signedPrefix\":\"upstream.example/prod\"}", "registry.example/team/app:1.0", "registry.example/team/app:1.0", false },
        { "{\"type\":\"remapIdentity\",\"prefix\":\"other.example\",\"signedPrefix\":\"upstream.example\"}", "registry.example/team/app:1.0", "registry.example/team/app:1.0", true },
    };

    [Theory]
    [MemberData(nameof(Identities))]
    public void SignedIdentityRules(string identity, string image, string signed, bool passes)
    {
        var key = SigningKey.Generate();
        var img = ImageReference.Parse(image);
        var sig = SigstoreSigner.Sign(key, ImageReference.Parse(signed), ManifestDigest);
        Assert.Equal(passes, PolicyFor(key, identity).Evaluate(img, ManifestDigest, [sig]).Allowed);
    }

    [Fact]
    public void ScopesGoFromMostToLeastSpecific() =>
        Assert.Equal(["a.b.example:5000/ns/app:1", "a.b.example:5000/ns/app", "a.b.example:5000/ns", "a.b.example:5000"],
            SignaturePolicy.ScopesFor(ImageReference.Parse("a.b.example:5000/ns/app:1")));

    [Fact]
    public void WildcardScopesAndDefaults()
    {
        var p = SignaturePolicy.Parse("""
            {"default":[{"type":"reject"}],"transports":{"docker":{"*.example.com":[{"type":"insecureAcceptAnything"}],"":[{"type":"reject"}]},"oci":{"":[{"type":"insecureAcceptAnything"}]}}}
            """, "/p");
        Assert.True(p.Evaluate(ImageReference.Parse("a.b.example.com/x"), ManifestDigest, []).Allowed);
        var other = p.Evaluate(ImageReference.Parse("quay.io/x"), ManifestDigest, []);
        Assert.False(other.Allowed);
        Assert.Equal("transports.docker[\"\"]", other.Scope);
    }

    [Fact]
    public void SignedByIsClearlyNotSupported()
    {
        var p = SignaturePolicy.Parse("""{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k.gpg"}]}""", "/p");
        var e = Assert.Throws<ContainersException>(() => p.EnsureAccepted(Image, ManifestDigest, []));
        Assert.Equal("SignatureVerificationNotSupported", e.ErrorId);
        Assert.Equal(ErrorKind.NotSupported, e.Kind);
        Assert.Contains("not supported", e.Message);
    }

    [Fact]
    public void KeyDataIsAccepted()
    {
        var key = SigningKey.Generate("Ed25519");
        string data = Convert.ToBase64String(Encoding.UTF8.GetBytes(key.PublicKeyPem));
        var p = SignaturePolicy.Parse($$$"""{"default":[{"type":"sigstoreSigned","keyData":"{{{data}}}","signedIdentity":{"type":"matchRepository"} } ] }""", "/p");
        Assert.True(p.Evaluate(Image, ManifestDigest, [SigstoreSigner.Sign(key, Image, ManifestDigest)]).Allowed);
    }

    public static TheoryData<string, string> BadPolicies => new()
    {
        { "{", "" },
        { "{\"transports\":{}}", "\"default\" is required" },
        { "{\"default\":[{\"type\":\"insecureAcceptAnything\"}],\"extra\":1}", "unknown field \"extra\"" },
        { "{\"default\":[{\"type\":\"insecureAcceptAnything\",\"keyPath\":\"/x\"}]}", "unknown field \"keyPath\"" },
        { "{\"default\":[{\"type\":\"maybe\"}]}", "unknown requirement type" },
        { "{\"default\":[]}", "is empty" },
        { "{\"default\":[{\"type\":\"sigstoreSigned\"}]}", "exactly one of keyPath or keyData" },
        { "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"eA==\",\"signedIdentity\":{\"type\":\"matchRepository\"}}]}", "not usable" },
        { "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"x\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"eA==\",\"signedIdentity\":{\"type\":\"exactReference\"}}]}}}", "exactReference needs" },
        { "{\n  \"default\": [\n    {\"type\": \"reject\"},\n  ]\n}", ":4:" },
    };

    [Theory]
    [MemberData(nameof(BadPolicies))]
    public void MalformedPolicyNamesTheFileAndIsLeftAlone(string json, string why)
    {
        string path = Path.Combine(_dir, "policy.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<ContainersException>(() => SignaturePolicy.Load(path));
        Assert.Equal("PolicyJsonInvalid", e.ErrorId);
        Assert.StartsWith(path, e.Message);
        Assert.Contains(why, e.Message);
        Assert.Equal(json, File.ReadAllText(path));
    }

    [Fact]
    public void EncryptedKeysRoundTripAndNeedTheRightPassphrase()
    {
        var key = SigningKey.Generate();
        string pem = key.ExportEncryptedPem("secret", scryptN: 1024);
        Assert.Contains("ENCRYPTED SIGSTORE PRIVATE KEY", pem);
        var again = SigningKey.FromPem(pem, "secret");
        Assert.Equal(key.PublicKeyPem, again.PublicKeyPem);
        Assert.Equal("SigningKeyPassphraseWrong", Assert.Throws<ContainersException>(() => SigningKey.FromPem(pem, "wrong")).ErrorId);
        Assert.Equal("SigningKeyInvalid", Assert.Throws<ContainersException>(() => SigningKey.FromPem(pem, null)).ErrorId);
    }

    [Fact]
    public void AttachmentManifestRoundTrips()
    {
        var key = SigningKey.Generate();
        var sigs = new[] { SigstoreSigner.Sign(key, Image, ManifestDigest), SigstoreSigner.Sign(key, Image, ManifestDigest) };
        var (manifest, blobs) = SigstoreAttachments.BuildManifest(sigs);
        var layers = SigstoreAttachments.ReadManifest(manifest);
        Assert.Equal(2, layers.Count);
        Assert.Equal(sigs.Select(s => s.Signature), layers.Select(l => l.Signature));
        foreach (var l in layers) Assert.Contains(blobs, b => b.Digest == l.PayloadDigest && b.Content.Length == l.Size);
        Assert.Equal("sha256-" + ManifestDigest.Encoded + ".sig", SigstoreAttachments.TagFor(ManifestDigest));
    }

    [Fact]
    public void MissingPolicyTrustsNothingAndSaysWhereItLooked()
    {
        string user = Path.Combine(_dir, "home/.config/containers/policy.json"), system = Path.Combine(_dir, "etc/policy.json");
        var paths = Containers.Core.Configuration.ContainerPaths.FromEnvironment(v => v == "HOME" ? Path.Combine(_dir, "home") : null, 1000) with
        {
            PolicyJson = system,
            PolicyJsonSearched = [user, system],
        };
        var e = Assert.Throws<ContainersException>(() => SignaturePolicy.Load(paths));
        Assert.Equal("PolicyJsonNotFound", e.ErrorId);
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Contains(user, e.Message);
        Assert.Contains(system, e.Message);
        Assert.Contains("Set-ContainerTrustPolicy", e.RecommendedAction);
    }

    [Fact]
    public void EditorWritesOnlyWhatWasAskedAndKeepsTheRest()
    {
        string conf = Path.Combine(_dir, "config");
        var paths = Containers.Core.Configuration.ContainerPaths.FromEnvironment(v => v == Containers.Core.Configuration.ContainerPaths.ConfigDirVariable ? conf : null, 0);
        var editor = TrustPolicyEditor.Open(paths, null);
        Assert.False(editor.Existed);
        editor.SetScope("registry.example", TrustRequirementType.Reject, null, null);
        Assert.Equal("PolicyDefaultRequired", Assert.Throws<ContainersException>(editor.Save).ErrorId);
        Assert.False(File.Exists(paths.PolicyJson));
        editor.SetDefault(TrustRequirementType.InsecureAcceptAnything, null, null);
        editor.Save();
        Assert.Equal("""{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"registry.example":[{"type":"reject"}]}}}""",
            System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(paths.PolicyJson))!.ToJsonString());

        // Another transport the module does not use, written by hand, survives an edit.
        File.WriteAllText(paths.PolicyJson, """{"default":[{"type":"reject"}],"transports":{"atomic":{"x.example":[{"type":"reject"}]}}}""");
        string pub = Path.Combine(_dir, "k.pub");
        File.WriteAllText(pub, SigningKey.Generate("ECDSA").PublicKeyPem);
        editor = TrustPolicyEditor.Open(paths, null);
        editor.SetScope("registry.example/team", TrustRequirementType.SigstoreSigned, pub, SignedIdentityType.MatchRepository);
        editor.Save();
        var policy = SignaturePolicy.Load(paths);
        Assert.IsType<SigstoreSignedRequirement>(policy.RequirementsFor(Image).Requirements[0]);
        Assert.Contains("\"atomic\"", File.ReadAllText(paths.PolicyJson));
        Assert.Equal("TrustKeyRequired", Assert.Throws<ContainersException>(() => editor.SetDefault(TrustRequirementType.SigstoreSigned, null, null)).ErrorId);
        Assert.Equal("TrustKeyUnusable", Assert.Throws<ContainersException>(() => editor.SetDefault(TrustRequirementType.SigstoreSigned, Path.Combine(_dir, "nope.pub"), null)).ErrorId);
    }
}
