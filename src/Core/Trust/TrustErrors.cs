using Containers.Core.Errors;

namespace Containers.Core.Trust;

/// <summary>The typed failures of trust evaluation (signature attachments, images to test), one stable id each.</summary>
internal static class TrustErrors
{
    public static ContainersException AttachmentInvalid(string message, Exception? inner = null) =>
        new("SignatureAttachmentInvalid", ErrorKind.InvalidData, message, null, null, inner);

    public static ContainersException ImageHasNoName(string shortId, string id) =>
        new("ImageHasNoName", ErrorKind.InvalidArgument, $"The image {shortId} has no name, and the scopes of policy.json apply to names.", id,
            "Name it with Add-ContainerImageTag, then test it.");
}
