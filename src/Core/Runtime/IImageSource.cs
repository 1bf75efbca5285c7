using Containers.Core.Spec;

namespace Containers.Core.Runtime;

/// <summary>An image as the runtime needs it: identity, execution defaults and unpacked layers.</summary>
/// <param name="LayerDirectories">Absolute unpacked layer directories, bottom → top.</param>
internal sealed record RuntimeImage(string Id, string Name, ContainerConfig? Config, IReadOnlyList<string> LayerDirectories);

/// <summary>Resolves a name, id or digest to an image in the local store (throws ImageNotFound).</summary>
internal interface IImageSource
{
    RuntimeImage Resolve(string reference);
}

/// <summary>
/// Opens the underlying source on first use: the container cmdlets that never resolve an image (Start, Stop, Wait,
/// Remove ...) then never open the image store (directories checked, temp dir swept, options read) on every call.
/// </summary>
internal sealed class DeferredImageSource(Func<IImageSource> open) : IImageSource
{
    private IImageSource? _source;

    public RuntimeImage Resolve(string reference) => (_source ??= open()).Resolve(reference);
}
