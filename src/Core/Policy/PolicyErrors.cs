using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Policy;

/// <summary>The typed failures of the administrator's files (registries.conf, policy.json, auth.json, keys), one stable id each.</summary>
internal static class PolicyErrors
{
    /// <summary>Ids that callers test for.</summary>
    public static class Ids
    {
        public const string RegistryBlocked = "RegistryBlocked";
        public const string SignatureRejected = "SignatureRejected";
    }

    // ---------------------------------------------------------------- registries.conf

    public static ContainersException ScopeUnavailable(string file, string redirectedBy, string edited) =>
        new("PolicyScopeUnavailable", ErrorKind.InvalidArgument, $"There is no per-user {file} while {redirectedBy} redirects the configuration.",
            "User", $"Use -Scope System, which edits the redirected {edited}.");

    public static ContainersException DropInNameInvalid(string name) =>
        new("DropInNameInvalid", ErrorKind.InvalidArgument,
            $"'{name}' is not a drop-in name: give a plain file name such as 50-mirrors (the .conf suffix is added).", name);

    public static ContainersException TargetConflict(string path) =>
        new("PolicyTargetConflict", ErrorKind.InvalidArgument, "-Path names the file itself: do not combine it with -DropIn or -Scope.", path);

    public static ContainersException ShortNameNotResolved(ImageReference reference) =>
        new("ShortNameNotResolved", ErrorKind.InvalidArgument,
            $"'{reference}' is a short name; resolve it through the search registries or an alias first.", reference.ToString());

    public static ContainersException RegistryBlocked(ImageReference reference, RegistryRule rule) =>
        new(Ids.RegistryBlocked, ErrorKind.PolicyViolation,
            $"'{reference}' is blocked by the [[registry]] with prefix \"{rule.Prefix}\" in {rule.SourceFile}:{rule.SourceLine}.",
            reference.ToString(), $"Ask the administrator, or remove the block with Set-RegistryPolicy -Registry '{rule.Prefix}' -Blocked:$false.");

    public static ContainersException RewriteInvalid(ImageReference reference, RegistryRule rule, string location, string rewritten, string? why) =>
        new("RegistriesConfInvalid", ErrorKind.InvalidData,
            $"Rewriting '{reference}' with location '{location}' of the [[registry]] \"{rule.Prefix}\" in {rule.SourceFile}:{rule.SourceLine} gives '{rewritten}', which is not a valid reference{(why is null ? "" : ": " + why)}.",
            rule.SourceFile);

    public static ContainersException NoSearchRegistries(ImageReference reference, string? origin) =>
        new("ShortNameNoSearchRegistries", ErrorKind.InvalidState,
            $"The short name '{reference}' has no alias and no unqualified-search-registries are configured{(origin is null ? "" : " in " + origin)}.",
            reference.ToString(), "Use a fully-qualified name such as quay.io/org/name, or configure search registries with Set-RegistryPolicy -SearchRegistries.");

    public static ContainersException ShortNameAmbiguous(ImageReference reference, string? modeOrigin, IEnumerable<ImageReference> candidates) =>
        new("ShortNameAmbiguous", ErrorKind.PolicyViolation,
            $"The short name '{reference}' is ambiguous: short-name-mode is enforcing{(modeOrigin is null ? "" : " (" + modeOrigin + ")")} and it could be any of {string.Join(", ", candidates)}.",
            reference.ToString(), "Use one of the fully-qualified names, or add an alias with Set-RegistryPolicy -Alias.");

    // ---------------------------------------------------------------- auth.json and credential helpers

    public static ContainersException HelperFailed(string program, ErrorKind kind, string message, Exception? inner = null) =>
        new("CredentialHelperFailed", kind, message, program, null, inner);

    public static ContainersException HelperInvalid(string sourceFile, string host, string helper) =>
        new("CredentialHelperInvalid", ErrorKind.InvalidData, $"{sourceFile}: the credHelpers entry for {host} ('{helper}') is not a helper name.", sourceFile);

    public static ContainersException HelperNotFound(string sourceFile, string program, string host, Exception inner) =>
        new("CredentialHelperNotFound", ErrorKind.NotFound, $"{sourceFile} names the credential helper {program} for {host}, but it cannot be run: {inner.Message}", program,
            $"Install {program} on PATH, or remove the credHelpers entry for {host}.", inner);

    public static ContainersException HelperNamespace(string file, string host, string helper, string key) =>
        new("CredentialHelperNamespace", ErrorKind.NotSupported,
            $"{file} keeps the logins of {host} in docker-credential-{helper}, which cannot hold a login for the namespace {key}.", key,
            $"Log in to {host} itself, or remove its credHelpers entry.");

    public static ContainersException AuthFileInvalid(string file, string message, string? hint = null, Exception? inner = null) =>
        new("AuthFileInvalid", ErrorKind.InvalidData, message, file, hint, inner);

    public static ContainersException InvalidRegistryKey(string key) =>
        new("InvalidRegistryKey", ErrorKind.InvalidArgument, $"'{key}' is not a registry or registry/namespace as containers-auth.json keys them.", key,
            "Use a host[:port], optionally followed by /namespace, e.g. quay.io or quay.io/myorg.");

    // ---------------------------------------------------------------- policy.json, keys and signatures

    public static ContainersException Rejected(bool unsupported, string message, ImageReference reference) =>
        new(unsupported ? "SignatureVerificationNotSupported" : Ids.SignatureRejected, unsupported ? ErrorKind.NotSupported : ErrorKind.PolicyViolation,
            message, reference.ToString(), "Sign the image with a key the policy trusts, or ask the administrator to change containers-policy.json.");

    public static ContainersException StoredSignaturesInvalid(string what, Exception inner) =>
        new("StoredSignaturesInvalid", ErrorKind.InvalidData, $"The signatures stored for {what} are damaged: {inner.Message}", what,
            "Remove the image and install it again.", inner);

    public static ContainersException PolicyDefaultRequired(string path) =>
        new("PolicyDefaultRequired", ErrorKind.InvalidArgument, $"{path} does not exist yet, and a policy.json needs a \"default\" requirement.", path,
            "Give -Default InsecureAcceptAnything, Reject or SigstoreSigned as well.");

    public static ContainersException TrustKeyNotApplicable(string type) =>
        new("TrustKeyNotApplicable", ErrorKind.InvalidArgument, $"-KeyPath and -SignedIdentity belong to a SigstoreSigned requirement, not {type}.", type);

    public static ContainersException TrustKeyRequired() =>
        new("TrustKeyRequired", ErrorKind.InvalidArgument, "A SigstoreSigned requirement needs the public key: give -KeyPath.", null,
            "Make a key pair with New-ContainerSigningKey and give its .pub file.");

    public static ContainersException TrustKeyUnusable(string path, string why) =>
        new("TrustKeyUnusable", ErrorKind.InvalidArgument, $"The public key {path} cannot be used: {why}", path,
            "Give the .pub file of an ECDSA P-256 or Ed25519 key (New-ContainerSigningKey writes one).");

    public static ContainersException SigningKeyUnsupported(string message, string? target = null) =>
        new("SigningKeyUnsupported", ErrorKind.NotSupported, message, target);

    public static ContainersException SigningKeyNotFound(string path) =>
        new("SigningKeyNotFound", ErrorKind.NotFound, $"The signing key {path} does not exist.", path);

    public static ContainersException SigningKeyPassphraseWrong() =>
        new("SigningKeyPassphraseWrong", ErrorKind.AuthenticationFailed, "The passphrase does not decrypt the signing key.");

    public static ContainersException SigningKeyInvalid(string why, Exception inner) =>
        new("SigningKeyInvalid", ErrorKind.InvalidData, "The encrypted signing key is malformed: " + why, null, null, inner);

    public static ContainersException SignatureIdentityInvalid(ImageReference identity) =>
        new("SignatureIdentityInvalid", ErrorKind.InvalidArgument, $"'{identity}' must be fully qualified to be signed.", identity.ToString());
}
