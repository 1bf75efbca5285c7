using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Containers.Core.Errors;

namespace Containers.Core.Registry;

/// <summary>The registry client's typed failures, one stable error id each.</summary>
public static class RegistryErrors
{
    public static ContainersException UnknownHost(string host, Exception? inner = null) =>
        new("RegistryHostUnknown", ErrorKind.ConnectionFailed, $"The registry host '{host}' could not be resolved.", host,
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
        new("RegistryConnectionRefused", ErrorKind.ConnectionFailed, $"The registry '{host}' refused the connection.", host,
            "Check that the registry runs and listens on that port.", inner);

    public static ContainersException Unreachable(string host, string why, Exception? inner = null) =>
        new("RegistryUnreachable", ErrorKind.ConnectionFailed, $"The registry '{host}' could not be reached: {why}", host,
            "Check the network, the registry's address and, for plain HTTP registries, that registries.conf marks them insecure.", inner);

    public static ContainersException Tls(string host, Exception? inner = null) =>
        new("RegistryTlsFailure", ErrorKind.ConnectionFailed, $"The TLS connection to '{host}' failed: {inner?.GetBaseException().Message}", host,
            $"Install the registry's CA as certs.d/{host}/ca.crt, or mark the registry insecure in registries.conf if it really is.", inner);

    public static ContainersException Unauthorized(string host, string repository, bool hadCredential) =>
        new(hadCredential ? "RegistryAuthenticationFailed" : "RegistryAuthenticationRequired", ErrorKind.AuthenticationFailed,
            hadCredential ? $"'{host}' rejected the credential for '{repository}'." : $"'{host}' requires a login for '{repository}'.",
            host + "/" + repository, "Give -Credential, or add the registry to the auth file (containers-auth.json).");

    public static ContainersException Forbidden(string host, string repository) =>
        new("RegistryAccessDenied", ErrorKind.PermissionDenied, $"'{host}' denied access to '{repository}'.", host + "/" + repository,
            "Check that the account may pull (or push) this repository.");

    public static ContainersException ManifestNotFound(string reference, string detail) =>
        new("ManifestNotFound", ErrorKind.NotFound, $"The image '{reference}' was not found: {detail}", reference,
            "Check the repository name and the tag; Find-ContainerImage lists what the registry holds.");

    public static ContainersException NotFound(string what, string target) =>
        new("RegistryNotFound", ErrorKind.NotFound, $"{what} was not found on the registry.", target);

    public static ContainersException Exhausted(string host, int status, int attempts) =>
        new(status == 429 ? "RegistryTooManyRequests" : "RegistryUnavailable", ErrorKind.ResourceUnavailable,
            $"'{host}' answered {status} {(HttpStatusCode)status} {attempts} times; giving up.", host,
            "Try again later, or configure a mirror.");

    public static ContainersException DigestMismatch(string target, string expected, string actual) =>
        new("DigestMismatch", ErrorKind.InvalidData, $"The content of '{target}' has digest {actual}, not the expected {expected}; nothing was stored.", target,
            "The registry or something between it and you altered the content; try another source.");

    public static ContainersException SizeMismatch(string target, long expected, long actual) =>
        new("SizeMismatch", ErrorKind.InvalidData, $"'{target}' is {(actual > expected ? "larger than" : $"{actual} bytes, not")} the declared {expected} bytes; nothing was stored.", target);

    public static ContainersException ManifestTooLarge(string target, long size) =>
        new("ManifestTooLarge", ErrorKind.LimitExceeded, $"The manifest of '{target}' is {size} bytes, over the 4 MiB limit.", target);

    public static ContainersException UnknownMediaType(string target, string? mediaType) =>
        new("UnsupportedMediaType", ErrorKind.NotSupported, $"'{target}' has media type '{mediaType}', which is not an image manifest or index this module reads.", target);

    public static ContainersException NoMatchingPlatform(string target, string wanted, IEnumerable<string> available) =>
        new("NoMatchingPlatform", ErrorKind.NotFound, $"'{target}' has no image for {wanted}; it offers {string.Join(", ", available)}.", target,
            "Choose one of the offered platforms with -Platform.");

    public static ContainersException Protocol(string host, string message) =>
        new("RegistryProtocolError", ErrorKind.InvalidData, $"'{host}': {message}", host);

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
