using System.Text.Json;
using System.Text.Json.Nodes;

namespace Containers.Core.Policy;

/// <summary>
/// The document the image store keeps per signed manifest digest: the sigstore signatures fetched (and
/// accepted) at pull time, with where they came from, so Test-ContainerImage can re-check them offline.
/// {"version":1,"source":"host/repository","signatures":[{"payload":"&lt;base64&gt;","signature":"&lt;base64&gt;"}]}
/// </summary>
internal static class LocalSignatures
{
    public static byte[] Serialize(string source, IReadOnlyList<SigstoreSignature> signatures)
    {
        var list = new JsonArray();
        foreach (var s in signatures)
            list.Add(new JsonObject { ["payload"] = Convert.ToBase64String(s.Payload), ["signature"] = s.Signature });
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["version"] = 1, ["source"] = source, ["signatures"] = list });
    }

    /// <summary>Reads a stored document; a damaged one is an error naming it (it is never silently taken as "no signatures").</summary>
    public static (string Source, IReadOnlyList<SigstoreSignature> Signatures) Parse(byte[] document, string what)
    {
        try
        {
            var root = JsonNode.Parse(document)!.AsObject();
            var list = new List<SigstoreSignature>();
            foreach (var s in root["signatures"]!.AsArray())
                list.Add(new SigstoreSignature(Convert.FromBase64String((string)s!["payload"]!), (string)s["signature"]!));
            return ((string?)root["source"] ?? "", list);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NullReferenceException)
        {
            throw PolicyErrors.StoredSignaturesInvalid(what, e);
        }
    }
}
