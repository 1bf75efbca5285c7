using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Logging;
using Containers.Core.Policy;
using Containers.Core.Registry;
using Containers.Core.Spec;
using PullSource = Containers.Core.Policy.PullSource;

namespace Containers.Core.Trust;

/// <summary>
/// Signature policy for an image in the local store: every name of the image is checked against the
/// scopes of containers-policy.json, with the sigstore signatures kept in the store at pull time, or,
/// when none were kept and the policy wants signatures, those the name's registry holds for the
/// image's digests (unless offline). A signature binds a manifest digest, so signatures fetched now
/// prove the same thing about the local image as those fetched at pull.
/// </summary>
internal sealed class LocalTrust(RegistriesConfiguration registries, ICredentialSource credentials, SignaturePolicy policy, ImageStore store)
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<LocalTrust>();

    public static LocalTrust Load(ContainerPaths paths, ImageStore store) =>
        new(RegistriesConfiguration.Load(paths), PolicyCredentialSource.Load(paths), SignaturePolicy.Load(paths), store);

    private sealed record Candidate(Digest Digest, string Source, IReadOnlyList<SigstoreSignature> Signatures);

    /// <summary>One evaluation per name of the image.</summary>
    public async Task<IReadOnlyList<PolicyEvaluation>> TestAsync(StoredImage image, bool offline, CancellationToken ct)
    {
        if (image.Names.Count == 0)
            throw TrustErrors.ImageHasNoName(image.ShortId, image.Id);
        var digests = new[] { image.Digest }.Concat(image.ExtraDigests).Distinct().ToList();
        var stored = new List<Candidate>();
        foreach (var d in digests)
        {
            if (store.ReadSignatures(d) is not { } doc) continue;
            var (source, signatures) = LocalSignatures.Parse(doc, $"{image} ({d})");
            stored.Add(new Candidate(d, $"stored at pull from {source}", signatures));
        }
        var evaluations = new List<PolicyEvaluation>();
        foreach (string name in image.Names)
        {
            var reference = ImageReference.Parse(name);
            IReadOnlyList<Candidate> candidates = stored;
            string? why = null;
            if (candidates.Count == 0 && policy.RequiresSignatures(reference))
            {
                if (offline) why = "none were stored at pull, and -Offline kept the registry out of it";
                else (candidates, why) = await FetchAsync(reference, digests, ct).ConfigureAwait(false);
            }
            evaluations.Add(Evaluate(image, reference, candidates, why));
        }
        return evaluations;
    }

    private PolicyEvaluation Evaluate(StoredImage image, ImageReference reference, IReadOnlyList<Candidate> candidates, string? why)
    {
        if (candidates.Count == 0)
        {
            var e = policy.Evaluate(reference, image.Digest, []);
            return e with
            {
                ImageId = image.Id,
                SignatureSource = why ?? "none stored at pull",
                Results = why is null ? e.Results : e.Results.Select(r => r.Passed || r.Type != "sigstoreSigned" ? r : r with { Reason = $"{r.Reason} ({why})" }).ToList(),
            };
        }
        PolicyEvaluation? first = null;
        foreach (var c in candidates)
        {
            var e = policy.Evaluate(reference, c.Digest, c.Signatures) with { ImageId = image.Id, SignatureSource = c.Source };
            if (e.Allowed) return e;
            first ??= e;
        }
        return first!;
    }

    /// <summary>The signatures the name's registry holds for any of the image's digests; failures become the reason there are none.</summary>
    private async Task<(IReadOnlyList<Candidate>, string?)> FetchAsync(ImageReference reference, List<Digest> digests, CancellationToken ct)
    {
        IReadOnlyList<PullSource> sources;
        try { sources = registries.GetPullSources(reference.WithTag(null).WithDigest(digests[0])); }
        catch (ContainersException e) { return ([], $"none were stored at pull, and the registry was not asked: {e.Message}"); }
        var failures = new List<string>();
        foreach (var source in sources)
        {
            var client = new RegistryClient(source.Host, source.Insecure, credentials);
            var found = new List<Candidate>();
            try
            {
                foreach (var d in digests)
                {
                    var signatures = await RemoteTrust.FetchSignaturesAsync(client, source.Repository, d, ct).ConfigureAwait(false);
                    if (signatures.Count > 0) found.Add(new Candidate(d, $"registry {source.Host}/{source.Repository}", signatures));
                }
            }
            catch (ContainersException e)
            {
                Log.Debug("Signatures of {Reference} from {Host}: {Error}", reference.ToString(), source.Host, e.Message);
                failures.Add($"{source.Host}/{source.Repository}: {e.Message}");
                continue;
            }
            if (found.Count > 0) return (found, null);
            failures.Add($"{source.Host}/{source.Repository} has none");
        }
        return ([], "none were stored at pull; " + string.Join("; ", failures));
    }
}
