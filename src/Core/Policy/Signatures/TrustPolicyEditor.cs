using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Core.Configuration;
using Containers.Core.Errors;

namespace Containers.Core.Policy;

/// <summary>The requirement types this module writes into containers-policy.json(5).</summary>
public enum TrustRequirementType { InsecureAcceptAnything, Reject, SigstoreSigned }

/// <summary>The signedIdentity forms that take no further arguments.</summary>
public enum SignedIdentityType { MatchRepoDigestOrExact, MatchRepository, MatchExact }

/// <summary>
/// Edits containers-policy.json: sets the default requirement or the requirement of one docker scope,
/// keeping every other field and scope as it was, and writing only what the admin asked for (skopeo
/// and podman reject fields they do not know). A file is validated by the module's own strict reader
/// before it replaces the old one.
/// </summary>
internal sealed class TrustPolicyEditor
{
    private readonly JsonObject _root;

    private TrustPolicyEditor(string path, JsonObject root, bool existed)
    {
        Path = path;
        _root = root;
        Existed = existed;
    }

    public string Path { get; }
    /// <summary>Whether the file existed before (a new file needs a default requirement).</summary>
    public bool Existed { get; }

    /// <summary>
    /// The policy.json a scope edits. System: the system file (or the PSCONTAINERS_CONFIG_DIR one);
    /// User: $HOME/.config/containers/policy.json. Without a scope, the file in force when one exists,
    /// else the user's file when rootless and the system file for root.
    /// </summary>
    public static string PathFor(ContainerPaths paths, PolicyScope? scope)
    {
        var searched = paths.PolicyJsonSearched.Count > 0 ? paths.PolicyJsonSearched : [paths.PolicyJson];
        string system = searched[^1];
        string? user = searched.Count > 1 ? searched[0] : null;
        var effective = scope ?? (File.Exists(paths.PolicyJson) ? (paths.PolicyJson == user ? PolicyScope.User : PolicyScope.System)
            : paths.Rootless && user is not null ? PolicyScope.User : PolicyScope.System);
        if (effective == PolicyScope.System) return system;
        return user ?? throw PolicyErrors.ScopeUnavailable("policy.json", "PSCONTAINERS_CONFIG_DIR", "file");
    }

    /// <summary>
    /// Opens a policy file for editing. A user file that does not exist yet starts as a copy of the
    /// system file, because once it exists the containers tools read it instead of the system file.
    /// </summary>
    public static TrustPolicyEditor Open(ContainerPaths paths, PolicyScope? scope)
    {
        string path = PathFor(paths, scope);
        string? source = File.Exists(path) ? path
            : paths.PolicyJsonSearched.Count > 1 && path == paths.PolicyJsonSearched[0] && File.Exists(paths.PolicyJsonSearched[^1]) ? paths.PolicyJsonSearched[^1]
            : null;
        if (source is null) return new TrustPolicyEditor(path, new JsonObject(), false);
        string text = File.ReadAllText(source);
        SignaturePolicy.Parse(text, source, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(source))); // a malformed file is reported, not rewritten
        var node = JsonNode.Parse(text) as JsonObject
            ?? throw SignaturePolicy.Invalid(source, 1, "the top level must be an object");
        return new TrustPolicyEditor(path, node, source == path);
    }

    /// <summary>Sets the global default requirement; returns a description of the change.</summary>
    public string SetDefault(TrustRequirementType type, string? keyPath, SignedIdentityType? identity)
    {
        var requirement = new JsonArray(Requirement(type, keyPath, identity));
        if (_root.ContainsKey("default")) _root["default"] = requirement;
        else _root.Insert(0, "default", requirement); // "default" first, as the containers tools' files have it
        return $"default = [{Describe(type, keyPath, identity)}]";
    }

    /// <summary>Sets the requirement of one docker-transport scope (registry, repository, *.domain, or "" for the transport default).</summary>
    public string SetScope(string scope, TrustRequirementType type, string? keyPath, SignedIdentityType? identity)
    {
        var transports = _root["transports"] as JsonObject ?? (JsonObject)(_root["transports"] = new JsonObject());
        var docker = transports["docker"] as JsonObject ?? (JsonObject)(transports["docker"] = new JsonObject());
        docker[scope] = new JsonArray(Requirement(type, keyPath, identity));
        return $"transports.docker[\"{scope}\"] = [{Describe(type, keyPath, identity)}]";
    }

    /// <summary>Removes one docker-transport scope; false when it is not there.</summary>
    public bool RemoveScope(string scope)
    {
        if (_root["transports"] is not JsonObject transports || transports["docker"] is not JsonObject docker || !docker.ContainsKey(scope)) return false;
        docker.Remove(scope);
        return true;
    }

    /// <summary>Validates the edited policy with the strict reader and replaces the file atomically.</summary>
    public void Save()
    {
        if (!_root.ContainsKey("default"))
            throw PolicyErrors.PolicyDefaultRequired(Path);
        string text = _root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        SignaturePolicy.Parse(text, Path, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path)));
        AtomicFile.WriteAllText(Path, text);
    }

    private static JsonObject Requirement(TrustRequirementType type, string? keyPath, SignedIdentityType? identity)
    {
        if (type != TrustRequirementType.SigstoreSigned)
        {
            if (keyPath is not null || identity is not null)
                throw PolicyErrors.TrustKeyNotApplicable(type.ToString());
            return new JsonObject { ["type"] = type == TrustRequirementType.Reject ? "reject" : "insecureAcceptAnything" };
        }
        if (string.IsNullOrEmpty(keyPath))
            throw PolicyErrors.TrustKeyRequired();
        string full = System.IO.Path.GetFullPath(keyPath);
        try { SigstorePublicKey.FromPem(File.ReadAllText(full)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ContainersException or FormatException or ArgumentException
                                      or System.Security.Cryptography.CryptographicException)
        {
            throw PolicyErrors.TrustKeyUnusable(full, e.Message);
        }
        var r = new JsonObject { ["type"] = "sigstoreSigned", ["keyPath"] = full };
        if (identity is { } id)
            r["signedIdentity"] = new JsonObject
            {
                ["type"] = id switch
                {
                    SignedIdentityType.MatchRepository => "matchRepository",
                    SignedIdentityType.MatchExact => "matchExact",
                    _ => "matchRepoDigestOrExact",
                },
            };
        return r;
    }

    private static string Describe(TrustRequirementType type, string? keyPath, SignedIdentityType? identity) => type switch
    {
        TrustRequirementType.SigstoreSigned => $"sigstoreSigned with {keyPath}" + (identity is null ? "" : $", signedIdentity {identity}"),
        TrustRequirementType.Reject => "reject",
        _ => "insecureAcceptAnything",
    };
}
