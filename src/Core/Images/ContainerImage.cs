using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>An image as the cmdlets show it (one object per image; Repository and Tag from its first name).</summary>
public sealed class ContainerImage
{
    public required string Id { get; init; }
    public required IReadOnlyList<string> Names { get; init; }
    /// <summary>registry/repository of the first name, or "&lt;none&gt;" for a dangling image.</summary>
    public required string Repository { get; init; }
    public required string Tag { get; init; }
    /// <summary>The manifest digest.</summary>
    public required string Digest { get; init; }
    /// <summary>When the image was built (local time, a DateTime as Get-Process's StartTime), if its config says.</summary>
    public DateTime? Created { get; init; }
    /// <summary>Uncompressed size of all layers, in bytes.</summary>
    public long Size { get; init; }
    public required string Architecture { get; init; }
    public required string Os { get; init; }
    public required IReadOnlyList<StoredLayer> Layers { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    public required ImageConfig Config { get; init; }
    public bool Dangling => Names.Count == 0;
    public string ShortId => Id.Length > 12 ? Id[..12] : Id;

    public static ContainerImage From(StoredImage image)
    {
        var (repository, tag) = image.Names.Count > 0 ? ImageStore.SplitName(image.Names[0]) : ("<none>", "<none>");
        return new ContainerImage
        {
            Id = image.Id, Names = image.Names, Repository = repository, Tag = tag, Digest = image.Digest.ToString(),
            Created = image.Created?.LocalDateTime, Size = image.Size, Architecture = image.Architecture, Os = image.Os,
            Layers = image.Layers, Labels = image.Labels, Config = image.Config,
        };
    }

    public override string ToString() => (Names.Count > 0 ? Names[0] : "<none>") + " (" + ShortId + ")";
}
