using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Core.Policy;
using Containers.Core.Spec;

namespace Containers.Core.Trust;

/// <summary>
/// Where and how sigstore signatures are stored in a registry (the cosign convention skopeo uses):
/// an OCI manifest tagged <c>sha256-&lt;hex&gt;.sig</c> beside the signed manifest, one layer per
/// signature whose blob is the payload and whose annotation carries the base64 signature.
/// </summary>
public static class SigstoreAttachments
{
    public const string PayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";

    /// <summary>The tag that holds the signatures of a manifest, e.g. sha256-abc….sig.</summary>
    public static string TagFor(Digest manifestDigest) => $"{manifestDigest.Algorithm}-{manifestDigest.Encoded}.sig";

    /// <summary>One signature layer of an attachment manifest: the payload blob to fetch and the signature.</summary>
    public sealed record Layer(Digest PayloadDigest, long Size, string Signature);

    /// <summary>Reads the layers of a .sig manifest; anything that is not a sigstore payload layer is an error.</summary>
    public static IReadOnlyList<Layer> ReadManifest(ReadOnlySpan<byte> manifest)
    {
        var layers = new List<Layer>();
        try
        {
            using var doc = JsonDocument.Parse(manifest.ToArray());
            if (!doc.RootElement.TryGetProperty("layers", out var list) || list.ValueKind != JsonValueKind.Array) return layers;
            foreach (var l in list.EnumerateArray())
            {
                string? mediaType = l.TryGetProperty("mediaType", out var mt) ? mt.GetString() : null;
                if (mediaType != PayloadMediaType)
                    throw TrustErrors.AttachmentInvalid($"A signature attachment layer has media type {mediaType}, not {PayloadMediaType}.");
                string signature = l.TryGetProperty("annotations", out var a) && a.TryGetProperty(SignatureAnnotation, out var s) ? s.GetString() ?? "" : "";
                layers.Add(new Layer(Digest.Parse(l.GetProperty("digest").GetString()!), l.GetProperty("size").GetInt64(), signature));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw TrustErrors.AttachmentInvalid("The signature attachment manifest is malformed: " + e.Message, e);
        }
        return layers;
    }

    /// <summary>
    /// Builds the .sig manifest for the given signatures (existing ones first, then new ones):
    /// returns the manifest bytes, and every blob (config and payloads) the registry must hold first.
    /// </summary>
    public static (byte[] Manifest, IReadOnlyList<(Digest Digest, byte[] Content)> Blobs) BuildManifest(IReadOnlyList<SigstoreSignature> signatures)
    {
        var blobs = new List<(Digest, byte[])>();
        var layers = new JsonArray();
        var diffIds = new JsonArray();
        foreach (var s in signatures)
        {
            var d = Digest.Sha256(s.Payload);
            if (!blobs.Any(b => b.Item1 == d)) blobs.Add((d, s.Payload));
            layers.Add(new JsonObject
            {
                ["mediaType"] = PayloadMediaType,
                ["digest"] = d.ToString(),
                ["size"] = s.Payload.Length,
                ["annotations"] = new JsonObject { [SignatureAnnotation] = s.Signature },
            });
            diffIds.Add(d.ToString());
        }
        byte[] config = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = "", ["os"] = "", ["config"] = new JsonObject(),
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
        }.ToJsonString());
        var configDigest = Digest.Sha256(config);
        blobs.Insert(0, (configDigest, config));
        byte[] manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = MediaTypes.OciConfig, ["digest"] = configDigest.ToString(), ["size"] = config.Length },
            ["layers"] = layers,
        }.ToJsonString());
        return (manifest, blobs);
    }
}
