using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Registry;

/// <summary>The registry client's typed failures, one stable error id each.</summary>
internal static class RegistryErrors
{
    /// <summary>Ids that callers test for.</summary>
    public static class Ids
    {
        public const string HostUnknown = "RegistryHostUnknown";
        public const string ConnectionRefused = "RegistryConnectionRefused";
        public const string TlsFailure = "RegistryTlsFailure";
        public const string ManifestNotFound = "ManifestNotFound";
    }

    public static ContainersException UnknownHost(string host, Exception? inner = null) =>
        new(Ids.HostUnknown, ErrorKind.ConnectionFailed, $"The registry host '{host}' could not be resolved.", host,
            "Check the registry name, or the DNS configuration of this host.", inner);

    /// <summary>
    /// Every mirror and registry failed: one line that names each source and why, so a mirror's TLS
    /// failure is not hidden behind the last registry's "could not be resolved". One id when all agree.
    /// </summary>
    public static ContainersException AllSourcesFailed(string reference, IReadOnlyList<(string Source, ContainersException Error)> failures)
    {
        var first = failures[0].Error;
        bool same = failures.All(f => f.Error.ErrorId == first.ErrorId);
        string each = string.Join("; ", failures.Select(f => $"{f.Source}: {f.Error.Message.TrimEnd('.')}"));
        var advice = failures.Select(f => f.Error.RecommendedAction).Where(a => a is not null).Distinct();
        return new ContainersException(same ? first.ErrorId : "ImagePullFailed", same ? first.Kind : failures[^1].Error.Kind,
            $"'{reference}' could not be pulled from any of {failures.Count} sources: {each}.", reference, advice.Any() ? string.Join(" ", advice) : null, first);
    }

    public static ContainersException Refused(string host, Exception? inner = null) =>
        new(Ids.ConnectionRefused, ErrorKind.ConnectionFailed, $"The registry '{host}' refused the connection.", host,
            "Check that the registry runs and listens on that port.", inner);

    public static ContainersException Unreachable(string host, string why, Exception? inner = null) =>
        new("RegistryUnreachable", ErrorKind.ConnectionFailed, $"The registry '{host}' could not be reached: {why}", host,
            "Check the network, the registry's address and, for plain HTTP registries, that registries.conf marks them insecure.", inner);

    public static ContainersException Tls(string host, Exception? inner = null) =>
        new(Ids.TlsFailure, ErrorKind.ConnectionFailed, $"The TLS connection to '{host}' failed: {inner?.GetBaseException().Message}", host,
            $"Install the registry's CA as certs.d/{host}/ca.crt, or mark the registry insecure in registries.conf if it really is.", inner);

    public static ContainersException Unauthorized(string host, string repository, bool hadCredential) =>
        new(hadCredential ? "RegistryAuthenticationFailed" : "RegistryAuthenticationRequired", ErrorKind.AuthenticationFailed,
            hadCredential ? $"'{host}' rejected the credential for '{repository}'." : $"'{host}' requires a login for '{repository}'.",
            host + "/" + repository, "Give -Credential, or add the registry to the auth file (containers-auth.json).");

    public static ContainersException Forbidden(string host, string repository) =>
        new("RegistryAccessDenied", ErrorKind.PermissionDenied, $"'{host}' denied access to '{repository}'.", host + "/" + repository,
            "Check that the account may pull (or push) this repository.");

    public static ContainersException ManifestNotFound(string reference, string detail) =>
        new(Ids.ManifestNotFound, ErrorKind.NotFound, $"The image '{reference}' was not found: {detail}", reference,
            "Check the repository name and the tag; Find-ContainerImage lists what the registry holds.");

    public static ContainersException NotFound(string what, string target) =>
        new("RegistryNotFound", ErrorKind.NotFound, $"{what} was not found on the registry.", target);

    public static ContainersException Exhausted(string host, int status, int attempts) =>
        new(status == 429 ? "RegistryTooManyRequests" : "RegistryUnavailable", ErrorKind.ResourceUnavailable,
            $"'{host}' answered {status} {(HttpStatusCode)status} {attempts} times; giving up.", host,
            "Try again later, or configure a mirror.");

    public static ContainersException DigestMismatch(string target, string expected, string actual) =>
        ContentErrors.DigestMismatch($"The content of '{target}'", target, expected, actual);

    public static ContainersException SizeMismatch(string target, long expected, long actual) =>
        ContentErrors.SizeMismatch($"'{target}'", target, expected, actual);

    public static ContainersException ManifestTooLarge(string target, long size) =>
        new("ManifestTooLarge", ErrorKind.LimitExceeded, $"The manifest of '{target}' is {size} bytes, over the 4 MiB limit.", target);

    public static ContainersException UnknownMediaType(string target, string? mediaType) =>
        new("UnsupportedMediaType", ErrorKind.NotSupported, $"'{target}' has media type '{mediaType}', which is not an image manifest or index this module reads.", target);

    public static ContainersException NoMatchingPlatform(string target, string wanted, IEnumerable<string> available) =>
        new("NoMatchingPlatform", ErrorKind.NotFound, $"'{target}' has no image for {wanted}; it offers {string.Join(", ", available)}.", target,
            "Choose one of the offered platforms with -Platform.");

    public static ContainersException ForeignChallenge(string host, string other) =>
        new("RegistryForeignChallenge", ErrorKind.AuthenticationFailed,
            $"'{host}' redirected to '{other}', which asked for authentication; the credential of '{host}' is not sent anywhere else.", host,
            "Ask the registry's operator why its redirect target asks for a login; log in to that host explicitly only if you trust it.");

    public static ContainersException PlainHttpRealm(string host, Uri realm) =>
        new("RegistryInsecureTokenRealm", ErrorKind.PolicyViolation,
            $"'{host}' is spoken to over TLS but names the plain-HTTP token service {realm.GetLeftPart(UriPartial.Path)}; no credential or token was sent there.", host,
            "The registry's token realm must be https; ask its operator to fix the auth configuration.");

    public static ContainersException ResponseTooLarge(string host, string what, long limit) =>
        new("RegistryResponseTooLarge", ErrorKind.LimitExceeded, $"'{host}': {what} is over the {limit} byte limit; reading stopped there.", host);

    public static ContainersException Protocol(string host, string message) =>
        new("RegistryProtocolError", ErrorKind.InvalidData, $"'{host}': {message}", host);

    /// <summary>True for transport failures that another attempt at the same host cannot cure.</summary>
    public static bool IsPermanent(ContainersException e) => e.ErrorId is Ids.ConnectionRefused or Ids.HostUnknown or Ids.TlsFailure;

    public static ContainersException ShortNameNotResolved(string reference) =>
        new("ShortNameNotResolved", ErrorKind.InvalidArgument,
            $"'{reference}' is a short name and no search registries or aliases are configured; there is no default registry.", reference,
            "Use a fully qualified name (registry/repository:tag), or add unqualified-search-registries or an alias to registries.conf.");

    public static ContainersException PushNeedsRegistry(string destination) =>
        new("ShortNameNotResolved", ErrorKind.InvalidArgument, $"'{destination}' has no registry; a push needs a fully qualified destination.", destination,
            "Give registry/repository:tag.");

    public static ContainersException PullFailed(string reference) =>
        new("ImagePullFailed", ErrorKind.NotFound, $"'{reference}' could not be pulled.", reference);

    public static ContainersException LayerCountMismatch(string target, int layers, int diffIds) =>
        new("LayerCountMismatch", ErrorKind.InvalidData, $"'{target}' lists {layers} layers but its configuration has {diffIds} diff ids.", target);

    public static ContainersException LayerMissing(string what, string target) =>
        new("ImageLayerMissing", ErrorKind.InvalidState, $"{what} is not in the store.", target);

    public static ContainersException PlatformNotInStore(string image, string platform) =>
        new("PlatformNotInStore", ErrorKind.NotFound, $"'{image}' comes from an index whose {platform} image is not (completely) in the store.", image,
            $"Pull it first: Install-ContainerImage <name> -Platform {platform}.");

    public static ContainersException IndexIncomplete(string image, IEnumerable<string> missing, IReadOnlyCollection<string> inStore) =>
        new("IndexIncomplete", ErrorKind.InvalidState,
            $"'{image}' comes from a multi-arch index, and the store lacks the image(s) for {string.Join(", ", missing)}, so the index cannot be pushed whole.", image,
            $"Pull the missing platform(s) with Install-ContainerImage -Platform, or push one platform with -Platform (in the store: {(inStore.Count > 0 ? string.Join(", ", inStore) : "none complete")}).");

    public static ContainersException InvalidPlatform(string text, string? hint = null) =>
        new("InvalidPlatform", ErrorKind.InvalidArgument, $"'{text}' is not os/arch[/variant].", text, hint);

    public static ContainersException LoginUnreachable(string host, bool insecure, Exception? last) =>
        new("RegistryUnreachable", ErrorKind.ConnectionFailed, $"Cannot reach {host}: {last?.Message}", host,
            insecure ? null : "If the registry serves plain HTTP, mark it insecure with Set-RegistryPolicy -Registry " + host + " -Insecure.", last);

    public static ContainersException LoginFailed(string host, ErrorKind kind, string message) =>
        new("RegistryLoginFailed", kind, message, host);

    public static ContainersException LoginRejected(string host) =>
        new("RegistryLoginRejected", ErrorKind.AuthenticationFailed, $"{host} rejected the user name or password.", host, "Check the credentials and try again.");

    /// <summary>Maps a transport failure to a typed error.</summary>
    public static ContainersException FromTransport(string host, Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException se)
                return se.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => Refused(host, e),
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => UnknownHost(host, e),
                    _ => Unreachable(host, se.Message, e),
                };
            if (x is AuthenticationException) return Tls(host, e);
        }
        return Unreachable(host, e.GetBaseException().Message, e);
    }
}
