using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Security;

namespace Containers.Core.Services;

/// <summary>
/// A container's definition (the options it was created with, <see cref="ContainerRecord.Definition"/>): compared
/// property by property, and copied to create from again. Compared through its JSON form, so an option added to
/// <see cref="ContainerCreateOptions"/> later is compared without a change here.
/// </summary>
internal static class ContainerDefinitions
{
    /// <summary>The name is the container's identity, not part of what it is.</summary>
    private const string NameProperty = "name";

    /// <summary>A deep copy with the given name, its security settings parsed again from what the definition keeps.</summary>
    public static ContainerCreateOptions Copy(ContainerCreateOptions definition, string name)
    {
        var copy = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(definition, DefinitionJsonContext.Default.ContainerCreateOptions),
            DefinitionJsonContext.Default.ContainerCreateOptions)!;
        copy.Name = name;
        copy.Security = ContainerSecurity.Parse(copy.SecurityOpt, copy.Privileged, Path.GetFullPath);
        return copy;
    }

    /// <summary>The properties whose values differ; every property <paramref name="desired"/> sets when there is no current definition.</summary>
    public static List<ContainerPropertyChange> Compare(ContainerCreateOptions? current, ContainerCreateOptions desired)
    {
        var before = current is null ? [] : ToJson(current);
        var after = ToJson(desired);
        var changes = new List<ContainerPropertyChange>();
        foreach (string key in after.Select(p => p.Key).Union(before.Select(p => p.Key)))
        {
            if (key == NameProperty) continue;
            string? b = Text(before[key]), a = Text(after[key]);
            if (current is null && a is null or "[]" or "false") continue;
            if (b != a) changes.Add(new ContainerPropertyChange(char.ToUpperInvariant(key[0]) + key[1..], b, a));
        }
        return changes;
    }

    /// <summary>The 12 hex digits an image id is shown with (with or without its sha256: prefix).</summary>
    public static string ShortImageId(string imageId) => (imageId.StartsWith("sha256:", StringComparison.Ordinal) ? imageId[7..] : imageId)[..12];

    private static JsonObject ToJson(ContainerCreateOptions o) =>
        JsonSerializer.SerializeToNode(o, DefinitionJsonContext.Default.ContainerCreateOptions)!.AsObject();

    /// <summary>Canonical text of a value: an empty map is "not set", and maps are sorted by key (a hashtable enumerates in a
    /// different order in every process). An empty list stays "[]": an empty -Entrypoint is not the image's.</summary>
    private static string? Text(JsonNode? node) => node switch
    {
        null or JsonObject { Count: 0 } => null,
        JsonObject map => "{" + string.Join(", ", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + Text(p.Value))) + "}",
        JsonArray list => list.ToJsonString(),
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => node.ToJsonString(),
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerCreateOptions))]
internal sealed partial class DefinitionJsonContext : JsonSerializerContext
{
}
