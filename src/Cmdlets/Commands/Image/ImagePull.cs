using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;
using Containers.Core.Registry;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>When New-Container and Invoke-ContainerImage pull their image (podman's --pull).</summary>
public enum PullPolicy
{
    /// <summary>Pull only when the store has no image by that name (the default).</summary>
    Missing,
    /// <summary>Pull every time.</summary>
    Always,
    /// <summary>Never pull: the image must be in the store.</summary>
    Never,
    /// <summary>Pull when the registry has a different image under the name; keep the stored one if the registry cannot be reached.</summary>
    Newer,
}

/// <summary>One pull as Install-ContainerImage does it: registries.conf, credentials, policy.json and trust, progress.</summary>
internal static class ImagePull
{
    public static async Task<ContainerImage> PullAsync(CmdletContext services, string name, string? platform, PSCredential? credential, int parallelism,
        IProgress<PullProgress> progress, CancellationToken ct, bool keepBlobs = false)
    {
        // HttpClient's first request, the documents' parsers and the layers' native libraries warm up on the other core
        // while this reads the configuration.
        PullWarmUp.Start();
        var resolver = services.Resolver();
        // -Credential goes to the one registry the name resolves to first, never to every search registry.
        var credentials = services.Credentials(credential, [ImagePuller.CredentialHost(resolver, name)]);
        var puller = new ImagePuller(services.OpenImageStore(), resolver, credentials, services.ImageTrust());
        var image = await puller.PullAsync(new PullRequest { Reference = name, Platform = platform, Parallelism = parallelism, Progress = progress, KeepBlobs = keepBlobs }, ct)
            .ConfigureAwait(false);
        // The row of the name just pulled, not an older name the same image already had.
        string? pulled = ImagePuller.Candidates(resolver, name).Select(c => c.Name + ":" + c.TagOrDefault).FirstOrDefault(image.Names.Contains);
        return pulled is null ? ContainerImage.From(image) : ContainerImage.From(image, pulled);
    }
}
