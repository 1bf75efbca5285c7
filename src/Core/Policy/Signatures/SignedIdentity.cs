using System.Text.Json;
using Containers.Core.Spec;

namespace Containers.Core.Policy;

/// <summary>How the docker-reference a signature names must relate to the image being checked (containers-policy.json(5) signedIdentity).</summary>
internal sealed record SignedIdentity(string Type, string? DockerReference = null, string? DockerRepository = null, string? Prefix = null, string? SignedPrefix = null)
{
    public static readonly SignedIdentity Default = new("matchRepoDigestOrExact");

    public override string ToString() => Type switch
    {
        "exactReference" => $"exactReference {DockerReference}",
        "exactRepository" => $"exactRepository {DockerRepository}",
        "remapIdentity" => $"remapIdentity {Prefix} -> {SignedPrefix}",
        _ => Type,
    };

    internal static SignedIdentity Parse(JsonElement e, string source, string where)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String)
            throw SignaturePolicy.Invalid(source, 0, $"{where}: signedIdentity needs a \"type\"");
        string type = t.GetString()!;
        string[] fields = type switch
        {
            "matchExact" or "matchRepoDigestOrExact" or "matchRepository" => ["type"],
            "exactReference" => ["type", "dockerReference"],
            "exactRepository" => ["type", "dockerRepository"],
            "remapIdentity" => ["type", "prefix", "signedPrefix"],
            _ => throw SignaturePolicy.Invalid(source, 0, $"{where}: unknown signedIdentity type \"{type}\""),
        };
        foreach (var p in e.EnumerateObject())
            if (!fields.Contains(p.Name)) throw SignaturePolicy.Invalid(source, 0, $"{where}: unknown field \"{p.Name}\" in signedIdentity {type}");
        string? Get(string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;
        var identity = new SignedIdentity(type, Get("dockerReference"), Get("dockerRepository"), Get("prefix"), Get("signedPrefix"));
        switch (type)
        {
            case "exactReference" when !ImageReference.TryParse(identity.DockerReference, out var r) || r.IsShortName || (r.Tag is null && r.Digest is null):
                throw SignaturePolicy.Invalid(source, 0, $"{where}: exactReference needs a fully-qualified dockerReference with a tag or digest");
            case "exactRepository" when !ImageReference.TryParse(identity.DockerRepository, out var r) || r.IsShortName || r.Tag is not null || r.Digest is not null:
                throw SignaturePolicy.Invalid(source, 0, $"{where}: exactRepository needs a fully-qualified dockerRepository without tag or digest");
            case "remapIdentity" when string.IsNullOrEmpty(identity.Prefix) || string.IsNullOrEmpty(identity.SignedPrefix):
                throw SignaturePolicy.Invalid(source, 0, $"{where}: remapIdentity needs prefix and signedPrefix");
        }
        return identity;
    }

    /// <summary>Null when the signed reference satisfies this identity for the image, else why not.</summary>
    public string? Check(ImageReference image, ImageReference signed)
    {
        switch (Type)
        {
            case "matchExact":
                return image.Tag is null || image.Digest is not null ? $"matchExact needs the image to be named by tag, not {image}"
                    : Same(image.ToString(), signed.ToString(), "the reference");
            case "matchRepoDigestOrExact":
                return image.Digest is not null ? Same(image.Name, signed.Name, "the repository") : Same(image.ToString(), signed.ToString(), "the reference");
            case "matchRepository":
                return Same(image.Name, signed.Name, "the repository");
            case "exactReference":
                return Same(ImageReference.Parse(DockerReference!).ToString(), signed.ToString(), "the policy's dockerReference");
            case "exactRepository":
                return Same(ImageReference.Parse(DockerRepository!).Name, signed.Name, "the policy's dockerRepository");
            case "remapIdentity":
                string text = image.ToString();
                if (RegistriesConfiguration.MatchLength(text, image.Registry ?? "", Prefix!) < 0)
                    return new SignedIdentity("matchRepoDigestOrExact").Check(image, signed);
                string remapped = SignedPrefix + text[Prefix!.Length..];
                if (!ImageReference.TryParse(remapped, out var r) || r.IsShortName) return $"remapping {image} gives '{remapped}', which is not a valid reference";
                return new SignedIdentity("matchRepoDigestOrExact").Check(r, signed);
            default:
                return $"signedIdentity {Type} is not supported";
        }

        static string? Same(string expected, string actual, string what) =>
            expected == actual ? null : $"the signature is for {actual}, which does not match {what} {expected}";
    }
}
