using Containers.Core.Spec;

namespace Containers.Core.Runtime;

/// <summary>An image as the runtime needs it: identity, execution defaults and unpacked layers.</summary>
/// <param name="LayerDirectories">Absolute unpacked layer directories, bottom → top.</param>
public sealed record RuntimeImage(string Id, string Name, ContainerConfig? Config, IReadOnlyList<string> LayerDirectories);

/// <summary>Resolves a name, id or digest to an image in the local store (throws ImageNotFound).</summary>
public interface IImageSource
{
    RuntimeImage Resolve(string reference);
}
