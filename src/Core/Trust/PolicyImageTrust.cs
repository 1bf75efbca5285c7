using Containers.Core.Configuration;
using Containers.Core.Policy;
using Containers.Core.Registry;
using Containers.Core.Spec;

namespace Containers.Core.Trust;

/// <summary>The puller's trust decision from containers-policy.json: signatures are fetched only when a requirement needs them.</summary>
internal sealed class PolicyImageTrust(SignaturePolicy policy) : IImageTrustPolicy
{
    public static PolicyImageTrust Load(ContainerPaths paths) => new(SignaturePolicy.Load(paths));

    public SignaturePolicy Policy => policy;

    public async Task<byte[]?> EnsureTrustedAsync(RegistryClient client, string repository, ImageReference wanted, Digest manifestDigest, CancellationToken ct)
    {
        IReadOnlyList<SigstoreSignature> signatures = policy.RequiresSignatures(wanted)
            ? await RemoteTrust.FetchSignaturesAsync(client, repository, manifestDigest, ct).ConfigureAwait(false)
            : [];
        policy.EnsureAccepted(wanted, manifestDigest, signatures);
        // Kept beside the image so Test-ContainerImage can re-check it offline.
        return signatures.Count > 0 ? LocalSignatures.Serialize($"{client.Host}/{repository}", signatures) : null;
    }
}
