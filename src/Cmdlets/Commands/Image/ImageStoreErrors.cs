using Containers.Core.Errors;

namespace Containers.Cmdlets.Commands.Image;

internal static class ImageStoreErrors
{
    public static ContainersException NotFound(string what) =>
        new("ImageNotFound", ErrorKind.NotFound, $"No image '{what}' in the local store.", what,
            "List the local images with Get-ContainerImage, or install it with Install-ContainerImage.");
}
