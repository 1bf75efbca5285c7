using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Core.Errors;

namespace Containers.Core.Spec;

/// <summary>Source-generated JSON for the OCI image types: unknown fields are ignored, nulls are omitted.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(Descriptor))]
[JsonSerializable(typeof(Manifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(OciLayoutFile))]
[JsonSerializable(typeof(List<DockerArchiveEntry>))]
[JsonSerializable(typeof(ManifestProbe))]
internal sealed partial class SpecJsonContext : JsonSerializerContext;

/// <summary>Just the fields that tell a manifest from an index.</summary>
internal sealed record ManifestProbe
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; }
    [JsonPropertyName("mediaType")] public string? MediaType { get; init; }
    [JsonPropertyName("manifests")] public JsonElement? Manifests { get; init; }
    [JsonPropertyName("config")] public JsonElement? Config { get; init; }
    [JsonPropertyName("layers")] public JsonElement? Layers { get; init; }
}

/// <summary>Parses and writes the OCI image documents with size limits and typed errors.</summary>
internal static class SpecJson
{
    /// <summary>Manifests and indexes larger than this are refused (what the containers tools allow).</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;
    /// <summary>Image configurations larger than this are refused.</summary>
    public const int MaxConfigBytes = 8 * 1024 * 1024;

    // Missing members can come back as null from the generated setters: give every list a value and
    // refuse documents without the parts that make them what they are.
    public static Manifest ParseManifest(ReadOnlySpan<byte> json, object? target = null)
    {
        var m = Parse(json, MaxManifestBytes, SpecJsonContext.Default.Manifest, "manifest", target);
        if (m.Config is null || m.Layers is null || m.Layers.Any(l => l is null))
            throw new ContainersException("MalformedManifest", ErrorKind.InvalidData, "The manifest has no config or no layers list.", target);
        return m;
    }

    public static ImageIndex ParseIndex(ReadOnlySpan<byte> json, object? target = null)
    {
        var i = Parse(json, MaxManifestBytes, SpecJsonContext.Default.ImageIndex, "index", target);
        if (i.Manifests is null || i.Manifests.Any(m => m is null))
            throw new ContainersException("MalformedManifest", ErrorKind.InvalidData, "The index has no manifests list.", target);
        return i;
    }

    public static ImageConfig ParseConfig(ReadOnlySpan<byte> json, object? target = null)
    {
        var c = Parse(json, MaxConfigBytes, SpecJsonContext.Default.ImageConfig, "image configuration", target);
        if (c.RootFs is null || c.RootFs.DiffIds is null) c = c with { RootFs = new RootFs { DiffIds = c.RootFs?.DiffIds ?? [] } };
        return c;
    }

    /// <summary>The id DetectMediaType throws when a document is neither a manifest nor an index.</summary>
    public const string UnknownManifestTypeId = "UnknownManifestType";

    /// <summary>
    /// The media type of a manifest document: the declared one, else guessed from its shape
    /// (an index has "manifests", a manifest has "config" and "layers").
    /// A document that could be read both ways is refused (the CVE-2021-41190 class: one digest, two meanings
    /// to two readers): one with "manifests" and "config" or "layers", or whose shape, own mediaType and
    /// declared type (a registry's Content-Type) do not all name the same kind.
    /// </summary>
    public static string DetectMediaType(ReadOnlySpan<byte> json, string? declared = null, object? target = null)
    {
        var probe = Parse(json, MaxManifestBytes, SpecJsonContext.Default.ManifestProbe, "manifest", target);
        bool indexShape = Present(probe.Manifests), manifestShape = Present(probe.Config) || Present(probe.Layers);
        if (indexShape && manifestShape)
            throw Ambiguous("has both \"manifests\" (an index) and \"config\"/\"layers\" (an image manifest)", target);
        string? shape = indexShape ? "index" : manifestShape ? "manifest" : null;
        foreach (var (type, source) in new[] { (probe.MediaType, "its mediaType"), (declared, "the declared type") })
        {
            string? kind = type is null ? null : MediaTypes.IsIndex(type) ? "index" : MediaTypes.IsManifest(type) ? "manifest" : null;
            if (kind is not null && shape is not null && kind != shape)
                throw Ambiguous($"is shaped as an {shape} but {source} '{type}' says {kind}", target);
            if (kind is not null) shape = kind;
        }
        if (!string.IsNullOrEmpty(probe.MediaType)) return probe.MediaType;
        if (!string.IsNullOrEmpty(declared) && (MediaTypes.IsIndex(declared) || MediaTypes.IsManifest(declared))) return declared;
        if (indexShape) return MediaTypes.OciIndex;
        if (Present(probe.Config)) return MediaTypes.OciManifest;
        throw new ContainersException(UnknownManifestTypeId, ErrorKind.NotSupported,
            "The document is neither an image manifest nor an index.", target);
    }

    private static bool Present(JsonElement? e) => e is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined };

    private static ContainersException Ambiguous(string what, object? target) =>
        new("AmbiguousManifest", ErrorKind.InvalidData, $"The document {what}; refused, as it could mean two different images.", target,
            "The registry or image is broken or hostile; get the image from a source that serves well-formed manifests.");

    // Writers keep '+' and other ASCII as is (media types read "v1+json", not "v1\u002Bjson"), as the containers tools write them.
    private static readonly SpecJsonContext Relaxed = new(new JsonSerializerOptions(SpecJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    // The caller's type info only names T for the source generator; the relaxed options' own info is used.
    public static byte[] Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> _) =>
        JsonSerializer.SerializeToUtf8Bytes(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Relaxed.GetTypeInfo(typeof(T))!);

    private static T Parse<T>(ReadOnlySpan<byte> json, int limit, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info,
        string what, object? target)
    {
        if (json.Length > limit)
            throw new ContainersException(what == "image configuration" ? "ConfigTooLarge" : "ManifestTooLarge", ErrorKind.LimitExceeded,
                $"The {what} is {json.Length} bytes, over the {limit}-byte limit.", target);
        try
        {
            return JsonSerializer.Deserialize(json, info)
                ?? throw new ContainersException("MalformedManifest", ErrorKind.InvalidData, $"The {what} is null.", target);
        }
        catch (JsonException e)
        {
            throw new ContainersException(what == "image configuration" ? "MalformedImageConfig" : "MalformedManifest", ErrorKind.InvalidData,
                $"The {what} is not valid JSON: {e.Message}", target, null, e);
        }
    }
}
