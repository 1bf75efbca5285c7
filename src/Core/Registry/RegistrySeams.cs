using Containers.Core.Spec;

namespace Containers.Core.Registry;

/// <summary>One place to pull an image from: a mirror or the primary registry.</summary>
/// <param name="Host">host[:port] of the registry.</param>
/// <param name="Repository">The repository on that host (a mirror may use another prefix).</param>
/// <param name="Insecure">Plain HTTP (or unverified TLS) is allowed for this host.</param>
/// <param name="IsMirror">True for a mirror, false for the primary location.</param>
internal sealed record PullSource(string Host, string Repository, bool Insecure, bool IsMirror = false);

/// <summary>
/// What the registry client needs from the registry configuration (containers-registries.conf).
/// Core/Trust's PolicyRegistryResolver implements it over Core/Policy's RegistriesConfiguration.
/// </summary>
internal interface IRegistryResolver
{
    /// <summary>The fully qualified candidates for a reference, in the order to try: a fully qualified
    /// reference gives itself, a short name goes through aliases then the search registries (there is
    /// no implicit default registry: none configured means no candidate).</summary>
    IReadOnlyList<ImageReference> ResolveShortName(ImageReference reference);

    /// <summary>Where to pull a fully qualified reference from: mirrors first, then the primary.
    /// Throws ContainersException "RegistryBlocked" before any connection when the registry is blocked.</summary>
    IReadOnlyList<PullSource> GetPullSources(ImageReference reference);

    /// <summary>Whether plain HTTP / unverified TLS is allowed for host[:port].</summary>
    bool IsInsecure(string host);

    /// <summary>The registries searched for short names, in order (Find-ContainerImage uses them).</summary>
    IReadOnlyList<string> SearchRegistries { get; }
}

/// <summary>A user name and secret for one registry host (and optionally one namespace below it).</summary>
internal sealed record RegistryCredential(string Username, string Password)
{
    /// <summary>An identity token (OAuth2 refresh token) instead of a password, as auth.json may hold.</summary>
    public string? IdentityToken { get; init; }
    public override string ToString() => $"RegistryCredential {{ Username = {Username} }}";
}

/// <summary>Gives the credential bound to a registry host and repository (containers-auth.json lookup).</summary>
internal interface ICredentialSource
{
    /// <summary>The credential for host[:port] and repository, the most specific match; null for anonymous.</summary>
    RegistryCredential? GetCredential(string host, string repository);
}

/// <summary>No credentials anywhere.</summary>
internal sealed class NoCredentials : ICredentialSource
{
    public static readonly NoCredentials Instance = new();
    public RegistryCredential? GetCredential(string host, string repository) => null;
}

/// <summary>One explicit credential (e.g. from -Credential) bound to one host, falling back to another source.</summary>
internal sealed class BoundCredential(string boundHost, RegistryCredential credential, ICredentialSource fallback) : ICredentialSource
{
    public RegistryCredential? GetCredential(string host, string repository) =>
        string.Equals(host, boundHost, StringComparison.OrdinalIgnoreCase) ? credential : fallback.GetCredential(host, repository);
}

/// <summary>
/// What the puller asks before it fetches or stores anything but the top manifest: may the image the
/// user named, at this manifest digest, be pulled? Core/Trust answers it from containers-policy.json
/// (fetching sigstore signatures from the registry when the policy wants them).
/// </summary>
internal interface IImageTrustPolicy
{
    /// <summary>
    /// Returns when the image is trusted, with the signatures it verified serialised for the store to keep
    /// beside the image (null when none were needed); throws a typed error (SignatureRejected...) when not.
    /// </summary>
    Task<byte[]?> EnsureTrustedAsync(RegistryClient client, string repository, ImageReference wanted, Digest manifestDigest, CancellationToken ct);
}
