using System.Text;
using System.Text.Json;
using Containers.Core.Spec;

namespace Containers.Core.Policy;

/// <summary>One requirement of containers-policy.json(5).</summary>
internal abstract record PolicyRequirement
{
    public abstract string Type { get; }

    public abstract RequirementResult Evaluate(ImageReference reference, Digest manifestDigest, IReadOnlyList<SigstoreSignature> signatures);

    internal static PolicyRequirement Parse(JsonElement e, string source, string where, string? baseDir)
    {
        if (e.ValueKind != JsonValueKind.Object) throw SignaturePolicy.Invalid(source, 0, $"{where}: a requirement must be an object");
        string type = e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : throw SignaturePolicy.Invalid(source, 0, $"{where}: a requirement needs a \"type\"");
        string[] allowed = type switch
        {
            "insecureAcceptAnything" or "reject" => ["type"],
            "signedBy" => ["type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity"],
            "sigstoreSigned" => ["type", "keyPath", "keyData", "fulcio", "rekorPublicKeyPath", "rekorPublicKeyData", "signedIdentity"],
            _ => throw SignaturePolicy.Invalid(source, 0, $"{where}: unknown requirement type \"{type}\""),
        };
        foreach (var p in e.EnumerateObject())
            if (!allowed.Contains(p.Name)) throw SignaturePolicy.Invalid(source, 0, $"{where}: unknown field \"{p.Name}\" in a {type} requirement");
        switch (type)
        {
            case "insecureAcceptAnything": return new InsecureAcceptAnythingRequirement();
            case "reject": return new RejectRequirement();
            case "signedBy": return new SignedByRequirement();
        }
        var identity = e.TryGetProperty("signedIdentity", out var si) ? SignedIdentity.Parse(si, source, where) : SignedIdentity.Default;
        bool hasPath = e.TryGetProperty("keyPath", out var kp), hasData = e.TryGetProperty("keyData", out var kd);
        if (e.TryGetProperty("fulcio", out _))
            return new SigstoreSignedRequirement { Identity = identity, KeyDescription = "fulcio", Unsupported = "Fulcio certificate verification is not supported" };
        if (hasPath == hasData) throw SignaturePolicy.Invalid(source, 0, $"{where}: sigstoreSigned needs exactly one of keyPath or keyData");
        string pem, description;
        if (hasPath)
        {
            string path = kp.GetString() ?? "";
            if (!Path.IsPathRooted(path) && baseDir is not null) path = Path.Combine(baseDir, path);
            description = path;
            pem = File.Exists(path) ? File.ReadAllText(path) : "";
            if (pem.Length == 0)
                return new SigstoreSignedRequirement { Identity = identity, KeyDescription = path, Unsupported = $"the public key {path} cannot be read" };
        }
        else
        {
            description = "keyData";
            try { pem = Encoding.UTF8.GetString(Convert.FromBase64String(kd.GetString() ?? "")); }
            catch (FormatException) { throw SignaturePolicy.Invalid(source, 0, $"{where}: keyData is not base64"); }
        }
        SigstorePublicKey key;
        try { key = SigstorePublicKey.FromPem(pem); }
        catch (Exception ex) when (ex is not Errors.ContainersException) { throw SignaturePolicy.Invalid(source, 0, $"{where}: the public key {description} is not usable: {ex.Message}"); }
        return new SigstoreSignedRequirement { Identity = identity, Key = key, KeyDescription = description };
    }
}

internal sealed record InsecureAcceptAnythingRequirement : PolicyRequirement
{
    public override string Type => "insecureAcceptAnything";
    public override RequirementResult Evaluate(ImageReference reference, Digest manifestDigest, IReadOnlyList<SigstoreSignature> signatures) =>
        new(Type, true, "the policy accepts any image here");
}

internal sealed record RejectRequirement : PolicyRequirement
{
    public override string Type => "reject";
    public override RequirementResult Evaluate(ImageReference reference, Digest manifestDigest, IReadOnlyList<SigstoreSignature> signatures) =>
        new(Type, false, "the policy rejects every image here");
}

/// <summary>GPG "simple signing"; not supported, and never passes.</summary>
internal sealed record SignedByRequirement : PolicyRequirement
{
    public override string Type => "signedBy";
    public override RequirementResult Evaluate(ImageReference reference, Digest manifestDigest, IReadOnlyList<SigstoreSignature> signatures) =>
        new(Type, false, "GPG simple-signing signatures (signedBy) are not supported by this module; use sigstoreSigned");
}

internal sealed record SigstoreSignedRequirement : PolicyRequirement
{
    public override string Type => "sigstoreSigned";
    public SigstorePublicKey? Key { get; init; }
    public required string KeyDescription { get; init; }
    public required SignedIdentity Identity { get; init; }
    /// <summary>Why this requirement can never pass (unreadable key, unsupported form), or null.</summary>
    public string? Unsupported { get; init; }

    public override RequirementResult Evaluate(ImageReference reference, Digest manifestDigest, IReadOnlyList<SigstoreSignature> signatures)
    {
        if (Unsupported is not null || Key is null) return new(Type, false, Unsupported ?? "no key");
        if (signatures.Count == 0) return new(Type, false, "a signature is required, but the image has none");
        var reasons = new List<string>();
        foreach (var s in signatures)
        {
            string? why = SigstoreVerifier.Verify(s, Key, manifestDigest, reference, Identity);
            if (why is null) return new(Type, true, $"signed by {KeyDescription} for {reference.Name} ({Identity})");
            reasons.Add(why);
        }
        return new(Type, false, string.Join("; ", reasons.Distinct()));
    }
}
