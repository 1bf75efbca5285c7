using System.Text.Json.Serialization;

namespace Containers.Core.Spec;

/// <summary>An OCI content descriptor: what a blob is, its digest and its size.</summary>
public sealed record Descriptor
{
    [JsonPropertyName("mediaType")] public string MediaType { get; init; } = "";
    [JsonPropertyName("digest")] public string Digest { get; init; } = "";
    [JsonPropertyName("size")] public long Size { get; init; }
    [JsonPropertyName("urls")] public IReadOnlyList<string>? Urls { get; init; }
    [JsonPropertyName("annotations")] public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    [JsonPropertyName("platform")] public Platform? Platform { get; init; }
    [JsonPropertyName("artifactType")] public string? ArtifactType { get; init; }

    /// <summary>The digest parsed; throws InvalidDigest when the descriptor carries a bad one.</summary>
    [JsonIgnore] public Digest ParsedDigest => Spec.Digest.Parse(Digest);

    /// <summary>The "org.opencontainers.image.ref.name" annotation an OCI layout index uses to name a manifest.</summary>
    [JsonIgnore] public string? RefName => Annotations is not null && Annotations.TryGetValue(AnnotationKeys.RefName, out var v) ? v : null;
}

/// <summary>The platform a manifest in an index is built for.</summary>
public sealed record Platform
{
    [JsonPropertyName("architecture")] public string Architecture { get; init; } = "";
    [JsonPropertyName("os")] public string Os { get; init; } = "";
    [JsonPropertyName("os.version")] public string? OsVersion { get; init; }
    [JsonPropertyName("os.features")] public IReadOnlyList<string>? OsFeatures { get; init; }
    [JsonPropertyName("variant")] public string? Variant { get; init; }
    [JsonPropertyName("features")] public IReadOnlyList<string>? Features { get; init; }

    public override string ToString() => Os + "/" + Architecture + (string.IsNullOrEmpty(Variant) ? "" : "/" + Variant);
}

/// <summary>Well-known annotation keys.</summary>
internal static class AnnotationKeys
{
    public const string RefName = "org.opencontainers.image.ref.name";
    public const string Created = "org.opencontainers.image.created";
    /// <summary>containerd's annotation on a docker-archive/oci-archive index naming the image.</summary>
    public const string ContainerdImageName = "io.containerd.image.name";
}
