using System.Text.Json;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Spec;

namespace Containers.Core.Policy;

/// <summary>
/// containers-policy.json(5): which images are trusted. The requirements for a docker reference come
/// from the most specific scope under transports.docker (the reference with tag or digest, the
/// repository, each parent namespace, the host, *.domain wildcards, the transport's "" default),
/// else from "default". Every requirement must pass. The file is read strictly: an unknown field is
/// an error, as skopeo and podman treat it.
/// </summary>
public sealed class SignaturePolicy
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<SignaturePolicy>();

    private SignaturePolicy(string? source, IReadOnlyList<PolicyRequirement> defaults,
        IReadOnlyDictionary<string, IReadOnlyList<PolicyRequirement>> docker)
    {
        Source = source;
        Default = defaults;
        DockerScopes = docker;
    }

    /// <summary>The file the policy came from (or the name given to Parse).</summary>
    public string? Source { get; }
    internal IReadOnlyList<PolicyRequirement> Default { get; }
    internal IReadOnlyDictionary<string, IReadOnlyList<PolicyRequirement>> DockerScopes { get; }

    /// <summary>
    /// Reads the policy in force for these paths. As skopeo and podman do, a host without any
    /// policy.json trusts nothing: PolicyJsonNotFound names every place searched and how to create one.
    /// A present but malformed file throws PolicyJsonInvalid with file and line.
    /// </summary>
    internal static SignaturePolicy Load(ContainerPaths paths) =>
        Load(paths.PolicyJson, paths.PolicyJsonSearched.Count > 0 ? paths.PolicyJsonSearched : [paths.PolicyJson]);

    /// <summary>Reads one policy file; a missing file throws PolicyJsonNotFound.</summary>
    public static SignaturePolicy Load(string path) => Load(path, [path]);

    private static SignaturePolicy Load(string path, IReadOnlyList<string> searched)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Log.Debug("No signature policy in {Paths}", searched);
            throw NotFound(searched);
        }
        return Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>The error for a host without policy.json: the containers tools refuse to pull then, and so does this module.</summary>
    public static ContainersException NotFound(IReadOnlyList<string> searched) =>
        new("PolicyJsonNotFound", ErrorKind.NotFound,
            $"There is no containers-policy.json (looked for {string.Join(", then ", searched)}), so no image is trusted; skopeo and podman refuse to pull without one too.",
            searched[^1],
            "Create one: 'Set-ContainerTrustPolicy -Default InsecureAcceptAnything' accepts any image (what Debian's containers-common ships); "
            + "'Set-ContainerTrustPolicy -Default Reject' then '-Registry <host> -Requirement SigstoreSigned -KeyPath <key.pub>' trusts only signed images from chosen registries.");

    /// <summary>Parses policy text; relative keyPaths resolve against <paramref name="baseDir"/>.</summary>
    public static SignaturePolicy Parse(string json, string source, string? baseDir = null)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw Invalid(source, (int)(e.LineNumber ?? 0) + 1, e.Message); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(source, 1, "the top level must be an object");
            IReadOnlyList<PolicyRequirement>? defaults = null;
            var docker = new Dictionary<string, IReadOnlyList<PolicyRequirement>>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "default":
                        defaults = Requirements(p.Value, source, "default", baseDir);
                        break;
                    case "transports":
                        if (p.Value.ValueKind != JsonValueKind.Object) throw Invalid(source, 0, "\"transports\" must be an object");
                        foreach (var t in p.Value.EnumerateObject())
                        {
                            if (t.Value.ValueKind != JsonValueKind.Object) throw Invalid(source, 0, $"transport \"{t.Name}\" must be an object of scopes");
                            foreach (var scope in t.Value.EnumerateObject())
                            {
                                var reqs = Requirements(scope.Value, source, $"transports.{t.Name}[\"{scope.Name}\"]", baseDir);
                                // Host names match without case (RegistryHost): the scope's host is kept in the references' spelling.
                                if (t.Name == "docker") docker[RegistryHost.NormalizeKey(scope.Name)] = reqs;
                            }
                        }
                        break;
                    default:
                        throw Invalid(source, 0, $"unknown field \"{p.Name}\"");
                }
            }
            if (defaults is null) throw Invalid(source, 0, "\"default\" is required");
            return new SignaturePolicy(source, defaults, docker);
        }
    }

    private static List<PolicyRequirement> Requirements(JsonElement value, string source, string where, string? baseDir)
    {
        if (value.ValueKind != JsonValueKind.Array) throw Invalid(source, 0, $"{where} must be an array of requirements");
        var list = new List<PolicyRequirement>();
        foreach (var r in value.EnumerateArray()) list.Add(PolicyRequirement.Parse(r, source, where, baseDir));
        if (list.Count == 0) throw Invalid(source, 0, $"{where} is empty; use [{{\"type\":\"reject\"}}] or [{{\"type\":\"insecureAcceptAnything\"}}]");
        return list;
    }

    internal static ContainersException Invalid(string source, int line, string why) =>
        new("PolicyJsonInvalid", ErrorKind.InvalidData, line > 0 ? $"{source}:{line}: {why}" : $"{source}: {why}", source,
            "Fix the file (see containers-policy.json(5)); it was left as it is.");

    /// <summary>The docker-transport scopes that apply to a reference, most specific first (as containers/image orders them).</summary>
    public static IReadOnlyList<string> ScopesFor(ImageReference reference)
    {
        var scopes = new List<string>();
        if (reference.Tag is not null || reference.Digest is not null) scopes.Add(reference.ToString());
        string name = reference.Name;
        while (true)
        {
            scopes.Add(name);
            int slash = name.LastIndexOf('/');
            if (slash < 0) break;
            name = name[..slash];
        }
        string host = reference.Registry ?? "";
        int colon = host.LastIndexOf(':');
        if (colon < 0)
        {
            string rest = host;
            int dot;
            while ((dot = rest.IndexOf('.')) >= 0)
            {
                rest = rest[(dot + 1)..];
                scopes.Add("*." + rest);
            }
        }
        return scopes;
    }

    /// <summary>The scope that decides for this reference ("" for the transport default, null for the global default) and its requirements.</summary>
    internal (string? Scope, IReadOnlyList<PolicyRequirement> Requirements) RequirementsFor(ImageReference reference)
    {
        foreach (string scope in ScopesFor(reference))
            if (DockerScopes.TryGetValue(scope, out var reqs)) return (scope, reqs);
        if (DockerScopes.TryGetValue("", out var transportDefault)) return ("", transportDefault);
        return (null, Default);
    }

    /// <summary>True when the image must carry signatures (so the client should fetch its .sig tag).</summary>
    public bool RequiresSignatures(ImageReference reference) =>
        RequirementsFor(reference).Requirements.Any(r => r is SigstoreSignedRequirement or SignedByRequirement);

    /// <summary>Evaluates every requirement for an image: its reference (as the user named it, not a mirror's), its manifest digest and the sigstore signatures fetched for it.</summary>
    public PolicyEvaluation Evaluate(ImageReference reference, Digest manifestDigest, IReadOnlyList<SigstoreSignature> signatures)
    {
        var (scope, requirements) = RequirementsFor(reference);
        var results = requirements.Select(r => r.Evaluate(reference, manifestDigest, signatures)).ToList();
        var evaluation = new PolicyEvaluation
        {
            Reference = reference, ManifestDigest = manifestDigest, PolicySource = Source,
            Scope = scope is null ? "default" : scope.Length == 0 ? "transports.docker[\"\"]" : $"transports.docker[\"{scope}\"]",
            Allowed = results.All(r => r.Passed), Results = results, SignatureCount = signatures.Count,
        };
        Log.Debug("Policy {Source} {Scope} for {Reference}@{Digest}: {Verdict}", Source, evaluation.Scope, reference.ToString(),
            manifestDigest.ToString(), evaluation.Allowed ? "accepted" : "rejected");
        return evaluation;
    }

    /// <summary>Evaluates and throws SignatureRejected (PolicyViolation) with every failing requirement's reason.</summary>
    public PolicyEvaluation EnsureAccepted(ImageReference reference, Digest manifestDigest, IReadOnlyList<SigstoreSignature> signatures)
    {
        var e = Evaluate(reference, manifestDigest, signatures);
        if (!e.Allowed)
        {
            bool unsupported = e.Results.Any(r => !r.Passed && r.Type == "signedBy");
            throw PolicyErrors.Rejected(unsupported, $"'{reference}' ({manifestDigest}) is rejected by {e.Scope} of {Source ?? "the signature policy"}: "
                + string.Join("; ", e.Results.Where(r => !r.Passed).Select(r => r.Type + ": " + r.Reason)), reference);
        }
        return e;
    }
}

/// <summary>The outcome of checking one image against the policy.</summary>
public sealed record PolicyEvaluation
{
    public required ImageReference Reference { get; init; }
    public required Digest ManifestDigest { get; init; }
    public string? PolicySource { get; init; }
    /// <summary>Which scope decided, e.g. transports.docker["quay.io/org"] or default.</summary>
    public required string Scope { get; init; }
    public required bool Allowed { get; init; }
    public required IReadOnlyList<RequirementResult> Results { get; init; }
    public int SignatureCount { get; init; }
    /// <summary>The local image checked (its id), or null for a remote image.</summary>
    public string? ImageId { get; init; }
    /// <summary>Where the signatures came from: stored at pull, a registry, or why there are none.</summary>
    public string? SignatureSource { get; init; }
}

/// <summary>One requirement's verdict.</summary>
public sealed record RequirementResult(string Type, bool Passed, string Reason);
