namespace Containers.Core.Policy;

/// <summary>
/// One requirement of containers-policy.json as an admin reads it: the global default (Scope "default",
/// Transport "") or one transports.docker scope. A scope with several requirements gives several entries,
/// all of which must pass.
/// </summary>
public sealed record TrustPolicyEntry
{
    /// <summary>"docker" for a transports.docker scope, "" for the global default.</summary>
    public required string Transport { get; init; }
    /// <summary>The scope as written in the file ("" is the docker transport's own default), or "default".</summary>
    public required string Scope { get; init; }
    /// <summary>The docker scope, for binding into Remove-/Set-ContainerTrustPolicy -Registry; null for the global default, which cannot be removed.</summary>
    public string? Registry { get; init; }
    /// <summary>The requirement type as policy.json spells it: insecureAcceptAnything, reject, sigstoreSigned, signedBy.</summary>
    public required string Requirement { get; init; }
    /// <summary>The absolute public key file of a sigstoreSigned requirement, or null.</summary>
    public string? KeyPath { get; init; }
    /// <summary>True when a sigstoreSigned requirement carries its key inline (keyData).</summary>
    public bool KeyData { get; init; }
    /// <summary>What the key column shows: the key file, "keyData", "fulcio", or nothing.</summary>
    public string? Key { get; init; }
    /// <summary>The signedIdentity of a sigstoreSigned requirement (matchRepoDigestOrExact when the file names none).</summary>
    public string? SignedIdentity { get; init; }
    /// <summary>Why this requirement can never pass (unreadable key, unsupported form), or null.</summary>
    public string? Problem { get; init; }
    /// <summary>The policy.json the entry was read from.</summary>
    public string? Path { get; init; }

    /// <summary>The entries of a policy: the default first, then the docker scopes in ordinal order.</summary>
    internal static IReadOnlyList<TrustPolicyEntry> From(SignaturePolicy policy)
    {
        var entries = new List<TrustPolicyEntry>();
        foreach (var r in policy.Default) entries.Add(Make("", "default", null, r, policy.Source));
        foreach (var (scope, reqs) in policy.DockerScopes.OrderBy(s => s.Key, StringComparer.Ordinal))
            foreach (var r in reqs) entries.Add(Make("docker", scope, scope, r, policy.Source));
        return entries;
    }

    private static TrustPolicyEntry Make(string transport, string scope, string? registry, PolicyRequirement r, string? path)
    {
        var entry = new TrustPolicyEntry { Transport = transport, Scope = scope, Registry = registry, Requirement = r.Type, Path = path };
        if (r is SigstoreSignedRequirement s)
        {
            bool inline = s.KeyDescription == "keyData", fulcio = s.KeyDescription == "fulcio";
            entry = entry with
            {
                KeyPath = inline || fulcio ? null : s.KeyDescription,
                KeyData = inline,
                Key = s.KeyDescription,
                SignedIdentity = s.Identity.ToString(),
                Problem = s.Unsupported,
            };
        }
        else if (r is SignedByRequirement) entry = entry with { Problem = "GPG simple signing (signedBy) is not supported by this module" };
        return entry;
    }
}
