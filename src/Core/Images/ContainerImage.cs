using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>An image as the cmdlets show it: one row per name (repository:tag) as podman images lists them, or one &lt;none&gt; row.</summary>
public sealed class ContainerImage
{
    public required string Id { get; init; }
    public required IReadOnlyList<string> Names { get; init; }
    /// <summary>The name this row stands for (registry/repository:tag), or null for a dangling image.</summary>
    public string? Name { get; init; }
    /// <summary>registry/repository of this row's name, or "&lt;none&gt;" for a dangling image.</summary>
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

    /// <summary>The row of the image's first name.</summary>
    internal static ContainerImage From(StoredImage image) => From(image, image.Names.Count > 0 ? image.Names[0] : null);

    /// <summary>One row per name (in the image's order); one &lt;none&gt; row for a dangling image.</summary>
    internal static IEnumerable<ContainerImage> Rows(StoredImage image) =>
        image.Names.Count == 0 ? [From(image, null)] : image.Names.Select(n => From(image, n));

    /// <summary>The row for <paramref name="name"/> (null: the &lt;none&gt; row).</summary>
    internal static ContainerImage From(StoredImage image, string? name)
    {
        var (repository, tag) = name is not null ? ImageStore.SplitName(name) : ("<none>", "<none>");
        return new ContainerImage
        {
            Id = image.Id, Names = image.Names, Name = name, Repository = repository, Tag = tag, Digest = image.Digest.ToString(),
            Created = image.Created?.LocalDateTime, Size = image.Size, Architecture = image.Architecture, Os = image.Os,
            Layers = image.Layers, Labels = image.Labels, Config = image.Config,
        };
    }

    public override string ToString() => (Name ?? "<none>") + " (" + ShortId + ")";
}
