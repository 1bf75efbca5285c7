using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Core.Errors;

namespace Containers.Core.Networking.Cni;

/// <summary>
/// One CNI network: a configuration list (<c>.conflist</c>, or a single-plugin <c>.conf</c> read as a list of one)
/// from the CNI configuration directory. The JSON is kept as it was written so plugins see every key, ours or not.
/// </summary>
internal sealed class CniNetwork
{
    private CniNetwork(string name, string cniVersion, JsonObject json, string? file)
    {
        Name = name;
        CniVersion = cniVersion;
        Json = json;
        File = file;
    }

    public string Name { get; }
    public string CniVersion { get; }
    /// <summary>The whole configuration list (name, cniVersion, plugins ...).</summary>
    public JsonObject Json { get; }
    /// <summary>Where it was read from; null for one built in memory.</summary>
    public string? File { get; }

    public IReadOnlyList<JsonObject> Plugins => Json["plugins"]!.AsArray().OfType<JsonObject>().ToList();
    public IReadOnlyList<string> PluginTypes => Plugins.Select(p => (string?)p["type"] ?? "?").ToList();

    /// <summary>The subnets of every host-local (or static) range of every plugin's ipam section.</summary>
    public IReadOnlyList<IPNetwork> Subnets =>
        Plugins.Select(p => p["ipam"]).OfType<JsonObject>()
            .SelectMany(ipam => (ipam["ranges"] as JsonArray ?? []).OfType<JsonArray>().SelectMany(set => set.OfType<JsonObject>())
                .Concat(ipam["subnet"] is JsonValue ? [ipam] : []))
            .Select(r => (string?)r["subnet"])
            .Select(s => s is not null && IPNetwork.TryParse(s, out var n) ? n : (IPNetwork?)null)
            .OfType<IPNetwork>().ToList();

    /// <summary>The bridge device of a bridge network (null for other drivers).</summary>
    public string? BridgeName => Plugins.FirstOrDefault(p => (string?)p["type"] == "bridge")?["bridge"]?.GetValue<string>();

    /// <summary>podman's labels (<c>args.podman_labels</c>), which this module writes too.</summary>
    public IReadOnlyDictionary<string, string> Labels =>
        (Json["args"]?["podman_labels"] as JsonObject)?.Where(kv => kv.Value is JsonValue).ToDictionary(kv => kv.Key, kv => kv.Value!.ToString())
        ?? new Dictionary<string, string>();

    /// <summary>Reads a .conflist or .conf; malformed JSON or a list without name/plugins is <c>CniConfigInvalid</c> with the file and line.</summary>
    public static CniNetwork Load(string file) => Parse(System.IO.File.ReadAllText(file), file);

    public static CniNetwork Parse(string text, string? file)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw Invalid(file, $"line {(e.LineNumber ?? 0) + 1}, column {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}", e);
        }
        if (node is not JsonObject obj) throw Invalid(file, "line 1: the file is not a JSON object");
        // A single-plugin .conf is a list of one, as libcni's ConfListFromConf makes it.
        if (obj["plugins"] is null && obj["type"] is JsonValue)
        {
            var plugin = obj.DeepClone().AsObject();
            plugin.Remove("name");
            plugin.Remove("cniVersion");
            obj = new JsonObject { ["cniVersion"] = obj["cniVersion"]?.DeepClone(), ["name"] = obj["name"]?.DeepClone(), ["plugins"] = new JsonArray(plugin) };
        }
        if (obj["name"] is not JsonValue nameValue || nameValue.GetValueKind() != JsonValueKind.String || ((string?)nameValue)?.Length is null or 0)
            throw Invalid(file, "it has no \"name\"");
        if (obj["plugins"] is not JsonArray { Count: > 0 } plugins || plugins.Any(p => p is not JsonObject po || po["type"] is not JsonValue))
            throw Invalid(file, "\"plugins\" must be a non-empty list of objects that each have a \"type\"");
        return new CniNetwork((string)nameValue!, (string?)obj["cniVersion"] ?? "0.4.0", obj, file);
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static ContainersException Invalid(string? file, string why, Exception? inner = null) =>
        new("CniConfigInvalid", ErrorKind.InvalidData, $"The CNI network configuration {file ?? "(in memory)"} is not valid: {why}.", file,
            "Fix or remove the file; Get-ContainerNetwork lists the networks that load.", inner);
}
