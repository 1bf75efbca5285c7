using System.Text.Json;
using Containers.Core.Spec;

namespace Containers.Core.Policy;

/// <summary>A sigstore signature as stored in a .sig attachment: the payload blob and the base64 signature from the layer's annotation.</summary>
public sealed record SigstoreSignature(byte[] Payload, string Signature);

/// <summary>Checks one sigstore signature: the cryptographic signature, the payload's form, the manifest digest and the signed identity.</summary>
internal static class SigstoreVerifier
{
    public const string PayloadType = "cosign container image signature";

    /// <summary>Null when the signature is valid for this image, else the reason it is not.</summary>
    public static string? Verify(SigstoreSignature signature, SigstorePublicKey key, Digest manifestDigest, ImageReference image, SignedIdentity identity)
    {
        byte[] raw;
        try { raw = Convert.FromBase64String(signature.Signature); }
        catch (FormatException) { return "the signature annotation is not base64"; }
        if (!key.Verify(signature.Payload, raw)) return "the cryptographic signature does not verify with the trusted key (wrong key or tampered payload)";

        string? signedDigest, signedReference;
        try
        {
            using var doc = JsonDocument.Parse(signature.Payload);
            var critical = doc.RootElement.GetProperty("critical");
            if (critical.GetProperty("type").GetString() != PayloadType) return $"the payload's critical.type is not \"{PayloadType}\"";
            signedDigest = critical.GetProperty("image").GetProperty("docker-manifest-digest").GetString();
            signedReference = critical.GetProperty("identity").GetProperty("docker-reference").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "the signed payload is not a sigstore container image signature: " + e.Message;
        }
        if (signedDigest != manifestDigest.ToString())
            return $"the signature is for manifest {signedDigest}, not {manifestDigest}";
        if (!ImageReference.TryParse(signedReference, out var signed) || signed.IsShortName)
            return $"the signed docker-reference '{signedReference}' is not a fully-qualified reference";
        return identity.Check(image, signed);
    }
}
