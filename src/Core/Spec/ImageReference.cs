using System.Text.RegularExpressions;
using Containers.Core.Errors;

namespace Containers.Core.Spec;

/// <summary>
/// An image reference as the containers tools parse it: <c>[registry/]path[:tag][@digest]</c>.
/// A reference without a registry is a short name: it has no registry until the configured search
/// registries or aliases give it one (there is no implicit default registry).
/// </summary>
public sealed partial record ImageReference
{
    private ImageReference(string? registry, string repository, string? tag, Digest? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>host[:port] in lowercase (<see cref="RegistryHost"/>), or null for a short name.</summary>
    public string? Registry { get; }
    /// <summary>The path below the registry, e.g. "library/busybox".</summary>
    public string Repository { get; }
    public string? Tag { get; }
    public Digest? Digest { get; }

    public bool IsShortName => Registry is null;

    /// <summary>registry/repository (or just the repository for a short name).</summary>
    public string Name => Registry is null ? Repository : Registry + "/" + Repository;

    /// <summary>The tag, "latest" when neither tag nor digest was given.</summary>
    public string? TagOrDefault => Tag ?? (Digest is null ? "latest" : null);

    public override string ToString() =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is { } d ? "@" + d : "");

    public ImageReference WithRegistry(string registry) => new(RegistryHost.Normalize(registry), Normalize(RegistryHost.Normalize(registry), Repository), Tag, Digest);
    public ImageReference WithTag(string? tag) => new(Registry, Repository, tag, Digest);
    public ImageReference WithDigest(Digest? digest) => new(Registry, Repository, Tag, digest);
    public ImageReference WithRepository(string repository) => new(Registry, repository, Tag, Digest);

    public static ImageReference Parse(string value) =>
        TryParse(value, out var r, out string? why)
            ? r
            : throw new ContainersException("InvalidImageReference", ErrorKind.InvalidArgument,
                $"'{value}' is not a valid image reference: {why}.", value,
                "Use [registry[:port]/]name[:tag][@sha256:digest] with a lowercase name, e.g. quay.io/prometheus/busybox:latest.");

    public static bool TryParse(string? value, out ImageReference reference) => TryParse(value, out reference, out _);

    public static bool TryParse(string? value, out ImageReference reference, out string? why)
    {
        reference = null!;
        why = null;
        if (string.IsNullOrWhiteSpace(value)) { why = "it is empty"; return false; }
        string rest = value.Trim();

        Digest? digest = null;
        int at = rest.IndexOf('@');
        if (at >= 0)
        {
            if (!Spec.Digest.TryParse(rest[(at + 1)..], out var d)) { why = "the digest is not algorithm:hex"; return false; }
            digest = d;
            rest = rest[..at];
        }

        string? tag = null;
        int lastSlash = rest.LastIndexOf('/');
        int colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag)) { why = $"the tag '{tag}' is not valid"; return false; }
        }

        string? registry = null;
        int firstSlash = rest.IndexOf('/');
        if (firstSlash > 0)
        {
            string first = rest[..firstSlash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsAsciiLetterUpper))
            {
                rest = rest[(firstSlash + 1)..];
                if (!RegistryPattern().IsMatch(first)) { why = $"the registry '{first}' is not host[:port]"; return false; }
                registry = RegistryHost.Normalize(first);
            }
        }

        if (rest.Length == 0) { why = "the name is empty"; return false; }
        foreach (string component in rest.Split('/'))
            if (!ComponentPattern().IsMatch(component))
            {
                why = component.Any(char.IsAsciiLetterUpper) ? "repository names must be lowercase" : $"'{component}' is not a valid name component";
                return false;
            }
        if ((registry?.Length ?? 0) + rest.Length > 255) { why = "the name is longer than 255 characters"; return false; }

        reference = new ImageReference(registry, registry is null ? rest : Normalize(registry, rest), tag, digest);
        return true;
    }

    // Docker Hub keeps official images under "library/"; the containers tools add it, so do we.
    private static string Normalize(string registry, string repository) =>
        registry == "docker.io" && !repository.Contains('/') ? "library/" + repository : repository;

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex ComponentPattern();

    [GeneratedRegex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?$")]
    private static partial Regex RegistryPattern();
}
