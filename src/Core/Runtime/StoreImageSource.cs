using Containers.Core.Images;

namespace Containers.Core.Runtime;

/// <summary>Resolves images for the runtime from the local <see cref="ImageStore"/>.</summary>
internal sealed class StoreImageSource(ImageStore store) : IImageSource
{
    public RuntimeImage Resolve(string reference)
    {
        var image = store.GetAsync(reference).GetAwaiter().GetResult();
        string name = image.Names.FirstOrDefault(n => n.EndsWith(reference, StringComparison.Ordinal)) ?? (image.Names.Count > 0 ? image.Names[0] : null) ?? image.ShortId;
        return new RuntimeImage(image.Id, name, image.Config.Config, image.StackedLayerDirectories());
    }
}

/// <summary>Tells the image store which containers use an image (so Remove-ContainerImage refuses to pull the rug). The store
/// is opened when first asked: New-Container opens the image store on every call and never asks.</summary>
internal sealed class ContainerImageUsers(Func<ContainerStore> open) : IImageUsers
{
    private ContainerStore? _containers;

    public ContainerImageUsers(ContainerStore containers) : this(() => containers) { }

    private ContainerStore Containers => _containers ??= open();

    public IEnumerable<string> ContainersUsing(string imageId) => Containers.ContainersUsingImage(imageId).Select(c => c.Name);

    public IEnumerable<string> LayerDirectoriesInUse() => Containers.List().SelectMany(r => r.LayerDirectories);
}
