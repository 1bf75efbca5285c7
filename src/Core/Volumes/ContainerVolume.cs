using System.Text.Json.Serialization;

namespace Containers.Core.Volumes;

/// <summary>A named volume as Get-ContainerVolume shows it: where its data lives and which containers mount it.</summary>
public sealed class ContainerVolume
{
    public string Name { get; init; } = "";
    /// <summary>Always <c>local</c>: a directory under the data root.</summary>
    public string Driver { get; init; } = VolumeStore.LocalDriver;
    /// <summary>The host directory mounted into containers (<c>volumes/&lt;name&gt;/_data</c>).</summary>
    public string Mountpoint { get; init; } = "";
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>Local time, as Get-Process's StartTime.</summary>
    public DateTime CreatedAt { get; init; }
    /// <summary>Names of the containers (any state) whose record mounts it.</summary>
    public IReadOnlyList<string> InUseBy { get; init; } = [];

    public override string ToString() => Name;
}

/// <summary>What is stored beside a volume's data (<c>volume.json</c>).</summary>
internal sealed class VolumeRecord
{
    public string Name { get; set; } = "";
    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);
    public DateTimeOffset Created { get; set; }
    /// <summary>True until the first container that mounts it has had the image's content copied in (podman's NeedsCopyUp).</summary>
    public bool NeedsCopyUp { get; set; } = true;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(VolumeRecord))]
internal sealed partial class VolumeJsonContext : JsonSerializerContext
{
}
