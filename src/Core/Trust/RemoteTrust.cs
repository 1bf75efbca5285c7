using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Policy;
using Containers.Core.Registry;
using Containers.Core.Spec;

namespace Containers.Core.Trust;

/// <summary>
/// Signature policy against a live registry: fetches a manifest's sigstore attachment
/// (sha256-&lt;hex&gt;.sig) and evaluates containers-policy.json, and signs an image already pushed.
/// Honours registries.conf (blocked registries refused before any connection; mirrors for reads)
/// and sends credentials only to the host they are keyed to.
/// </summary>
internal sealed class RemoteTrust(RegistriesConfiguration registries, ICredentialSource credentials, SignaturePolicy policy)
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<RemoteTrust>();

    /// <summary>Largest signature payload read (a sigstore payload is a few hundred bytes).</summary>
    public const long MaxPayloadBytes = 64 * 1024;

    public static RemoteTrust Load(ContainerPaths paths) =>
        new(RegistriesConfiguration.Load(paths), PolicyCredentialSource.Load(paths), SignaturePolicy.Load(paths));

    public SignaturePolicy Policy => policy;

    /// <summary>Fetches the sigstore signatures stored for a manifest in one repository; none when there is no .sig tag.</summary>
    public static async Task<IReadOnlyList<SigstoreSignature>> FetchSignaturesAsync(RegistryClient client, string repository, Digest manifestDigest, CancellationToken ct)
    {
        RemoteManifest attachment;
        try { attachment = await client.GetManifestAsync(repository, SigstoreAttachments.TagFor(manifestDigest), ct).ConfigureAwait(false); }
        catch (ContainersException e) when (e.ErrorId == RegistryErrors.Ids.ManifestNotFound) { return []; }
        var result = new List<SigstoreSignature>();
        foreach (var layer in SigstoreAttachments.ReadManifest(attachment.Bytes))
        {
            if (layer.Size > MaxPayloadBytes)
                throw TrustErrors.AttachmentInvalid($"A signature payload of {layer.Size} bytes is larger than {MaxPayloadBytes}.");
            var descriptor = new Descriptor { MediaType = SigstoreAttachments.PayloadMediaType, Digest = layer.PayloadDigest.ToString(), Size = layer.Size };
            byte[] payload = await client.GetBlobBytesAsync(repository, descriptor, MaxPayloadBytes, ct).ConfigureAwait(false);
            result.Add(new SigstoreSignature(payload, layer.Signature));
        }
        return result;
    }

    /// <summary>
    /// Evaluates the policy for a remote image (fully qualified): resolves its manifest digest and its
    /// signatures from the first pull source that has it, then checks every requirement.
    /// </summary>
    public async Task<PolicyEvaluation> TestAsync(ImageReference reference, CancellationToken ct)
    {
        ContainersException? last = null;
        foreach (var source in registries.GetPullSources(reference))
        {
            var client = new RegistryClient(source.Host, source.Insecure, credentials);
            try
            {
                string tagOrDigest = reference.Digest?.ToString() ?? reference.TagOrDefault!;
                var manifest = await client.GetManifestAsync(source.Repository, tagOrDigest, ct).ConfigureAwait(false);
                var signatures = await FetchSignaturesAsync(client, source.Repository, manifest.Digest, ct).ConfigureAwait(false);
                Log.Debug("{Reference} is {Digest} at {Host}/{Repository} with {Count} signatures", reference.ToString(), manifest.Digest.ToString(),
                    source.Host, source.Repository, signatures.Count);
                return policy.Evaluate(reference, manifest.Digest, signatures) with { SignatureSource = $"registry {source.Host}/{source.Repository}" };
            }
            catch (ContainersException e) when (source.IsMirror && e.Kind is ErrorKind.NotFound or ErrorKind.ConnectionFailed)
            {
                last = e;
                Log.Debug("Mirror {Host} could not serve {Reference}: {Error}", source.Host, reference.ToString(), e.Message);
            }
        }
        throw last ?? RegistryErrors.ManifestNotFound(reference.ToString(), "no registry location serves it");
    }

    /// <summary>Signs an image already in its registry: adds a signature for its manifest digest to the .sig attachment (keeping existing ones) and returns it.</summary>
    public async Task<SigstoreSignature> SignAsync(ImageReference reference, SigningKey key, ImageReference? identity, CancellationToken ct)
    {
        var target = registries.GetPushDestination(reference);
        var client = new RegistryClient(target.Host, target.Insecure, credentials);
        string tagOrDigest = reference.Digest?.ToString() ?? reference.TagOrDefault!;
        var manifest = await client.GetManifestAsync(target.Repository, tagOrDigest, ct).ConfigureAwait(false);
        var existing = await FetchSignaturesAsync(client, target.Repository, manifest.Digest, ct).ConfigureAwait(false);
        var signature = SigstoreSigner.Sign(key, identity ?? reference.WithDigest(null), manifest.Digest);
        var (attachment, blobs) = SigstoreAttachments.BuildManifest([.. existing, signature]);
        foreach (var (digest, content) in blobs)
            if (!await client.BlobExistsAsync(target.Repository, digest, ct).ConfigureAwait(false))
                await client.UploadBlobAsync(target.Repository, digest, content.Length, () => new MemoryStream(content), ct).ConfigureAwait(false);
        await client.PutManifestAsync(target.Repository, SigstoreAttachments.TagFor(manifest.Digest), attachment, MediaTypes.OciManifest, ct).ConfigureAwait(false);
        Log.Information("Signed {Reference} ({Digest}) as {Identity}", reference.ToString(), manifest.Digest.ToString(), (identity ?? reference).ToString());
        return signature;
    }
}
