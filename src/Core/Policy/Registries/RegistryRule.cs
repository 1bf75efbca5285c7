namespace Containers.Core.Policy;

/// <summary>When a mirror may serve a pull (containers-registries.conf(5) pull-from-mirror).</summary>
public enum PullFromMirror { All, DigestOnly, TagOnly }

/// <summary>How short names resolve (containers-registries.conf(5) short-name-mode).</summary>
public enum ShortNameMode { Enforcing, Permissive, Disabled }

/// <summary>One [[registry.mirror]] table.</summary>
public sealed record RegistryMirror(string Location, bool Insecure, PullFromMirror? PullFromMirror);

/// <summary>One [[registry]] table as it is in force after merging, with the file it came from.</summary>
public sealed record RegistryRule
{
    public required string Prefix { get; init; }
    /// <summary>Where the prefix is really served from (the prefix itself when the file gave no location).</summary>
    public required string Location { get; init; }
    public bool Insecure { get; init; }
    public bool Blocked { get; init; }
    public bool MirrorByDigestOnly { get; init; }
    public IReadOnlyList<RegistryMirror> Mirrors { get; init; } = [];
    /// <summary>The file that defined this rule (later files replace a rule with the same prefix).</summary>
    public required string SourceFile { get; init; }
    public int SourceLine { get; init; }

    public bool IsWildcard => Prefix.StartsWith("*.", StringComparison.Ordinal);
}

/// <summary>One place a pull may fetch from: a mirror or the primary location, in the order to try.</summary>
public sealed record PullSource
{
    /// <summary>host[:port] to connect to.</summary>
    public required string Host { get; init; }
    /// <summary>The repository on that host, after prefix-to-location rewriting.</summary>
    public required string Repository { get; init; }
    public required bool Insecure { get; init; }
    public required bool IsMirror { get; init; }
    /// <summary>The rewritten reference (host/repository plus the original tag/digest).</summary>
    public required Spec.ImageReference Reference { get; init; }
    public override string ToString() => Reference + (IsMirror ? " (mirror)" : "") + (Insecure ? " (insecure)" : "");
}

/// <summary>Where a short name may come from.</summary>
public enum ShortNameOrigin { NotShortName, Alias, SearchRegistries }

/// <summary>The candidates a short name resolves to, in the order to try.</summary>
internal sealed record ShortNameResolution
{
    public required Spec.ImageReference Input { get; init; }
    public required IReadOnlyList<Spec.ImageReference> Candidates { get; init; }
    public required ShortNameOrigin Origin { get; init; }
    public required ShortNameMode Mode { get; init; }
    /// <summary>The file the alias or the search list came from.</summary>
    public string? SourceFile { get; init; }
    /// <summary>True when the caller must let the user pick one candidate (interactive, several candidates, not disabled).</summary>
    public bool RequiresChoice { get; init; }
}
