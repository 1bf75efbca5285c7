using Containers.Core.Configuration;
using Containers.Core.Logging;
using Containers.Core.Spec;

namespace Containers.Core.Policy;

/// <summary>
/// The registries configuration in force: the main file (the user's registries.conf when it exists,
/// which then replaces the system file, else the system file or the CONTAINERS_REGISTRIES_CONF
/// override), then every registries.conf.d/*.conf drop-in in name order — the system folder's, then
/// the user's — merged as containers-registries.conf.d(5) says: a [[registry]] replaces one with the
/// same prefix, unqualified-search-registries and short-name-mode are replaced when a later file sets
/// them, aliases merge key by key. Every pull, push, search and inspect asks this object first.
/// </summary>
internal sealed class RegistriesConfiguration
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<RegistriesConfiguration>();

    public const ShortNameMode DefaultShortNameMode = ShortNameMode.Permissive;

    private readonly Dictionary<string, RegistryRule> _rules;

    private RegistriesConfiguration(IReadOnlyList<string> files, Dictionary<string, RegistryRule> rules,
        IReadOnlyList<string> search, string? searchOrigin, ShortNameMode mode, string? modeOrigin,
        IReadOnlyDictionary<string, (string Target, string Origin)> aliases)
    {
        Files = files;
        _rules = rules;
        SearchRegistries = search;
        SearchRegistriesOrigin = searchOrigin;
        ShortNameMode = mode;
        ShortNameModeOrigin = modeOrigin;
        AliasesWithOrigin = aliases;
    }

    /// <summary>The files that were read, in merge order (only files that exist).</summary>
    public IReadOnlyList<string> Files { get; }
    /// <summary>Every [[registry]] in force, sorted by prefix.</summary>
    public IReadOnlyList<RegistryRule> Registries => _rules.Values.OrderBy(r => r.Prefix, StringComparer.Ordinal).ToList();
    public IReadOnlyList<string> SearchRegistries { get; }
    public string? SearchRegistriesOrigin { get; }
    public ShortNameMode ShortNameMode { get; }
    public string? ShortNameModeOrigin { get; }
    public IReadOnlyDictionary<string, (string Target, string Origin)> AliasesWithOrigin { get; }
    public IReadOnlyDictionary<string, string> Aliases => AliasesWithOrigin.ToDictionary(a => a.Key, a => a.Value.Target, StringComparer.Ordinal);

    /// <summary>The files to read, in order, for these paths (existing or not).</summary>
    public static IReadOnlyList<string> FilesInForce(ContainerPaths paths)
    {
        var files = new List<string>();
        var dirs = new List<string>();
        if (paths.UserRegistriesConf is { } user && File.Exists(user))
        {
            files.Add(user);
            if (paths.UserRegistriesConfDir is { } ud) dirs.Add(ud);
        }
        else
        {
            files.Add(paths.SystemRegistriesConf);
            dirs.Add(paths.SystemRegistriesConfDir);
            if (paths.UserRegistriesConfDir is { } ud) dirs.Add(ud);
        }
        foreach (string dir in dirs)
            if (Directory.Exists(dir))
                files.AddRange(Directory.EnumerateFiles(dir, "*.conf").Order(StringComparer.Ordinal));
        return files;
    }

    /// <summary>Reads and merges every file in force. A malformed file throws RegistriesConfInvalid naming file and line.</summary>
    public static RegistriesConfiguration Load(ContainerPaths paths) => Merge(FilesInForce(paths).Where(File.Exists).Select(RegistriesFile.Load));

    /// <summary>Merges already parsed files in order (a seam for tests).</summary>
    public static RegistriesConfiguration Merge(IEnumerable<RegistriesFile> files)
    {
        var read = new List<string>();
        var rules = new Dictionary<string, RegistryRule>(StringComparer.Ordinal);
        IReadOnlyList<string> search = [];
        string? searchOrigin = null, modeOrigin = null;
        ShortNameMode mode = DefaultShortNameMode;
        var aliases = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            read.Add(file.Path);
            var s = file.Settings;
            foreach (var e in s.Registries)
            {
                // Host names match without case: one spelling here, as references have (RegistryHost).
                string prefix = RegistryHost.NormalizeKey(e.Prefix);
                rules[prefix] = new RegistryRule
                {
                    Prefix = prefix,
                    Location = e.Location is { } location ? RegistryHost.NormalizeKey(location) : prefix.StartsWith("*.", StringComparison.Ordinal) ? "" : prefix,
                    Insecure = e.Insecure ?? false,
                    Blocked = e.Blocked ?? false,
                    MirrorByDigestOnly = e.MirrorByDigestOnly ?? false,
                    Mirrors = e.Mirrors.Select(m => m with { Location = RegistryHost.NormalizeKey(m.Location) }).ToList(),
                    SourceFile = file.Path,
                    SourceLine = e.Line,
                };
            }
            if (s.SearchRegistries is not null)
            {
                search = s.SearchRegistries.Select(RegistryHost.Normalize).ToList();
                searchOrigin = file.Path;
            }
            if (s.ShortNameMode is { } m)
            {
                mode = m;
                modeOrigin = file.Path;
            }
            foreach (var (k, v) in s.Aliases) aliases[k] = (v, file.Path);
        }
        Log.Debug("Registries configuration from {Files}: {Rules} registry rules, search {Search}, short-name-mode {Mode}",
            read, rules.Count, search, mode);
        return new RegistriesConfiguration(read, rules, search, searchOrigin, mode, modeOrigin, aliases);
    }

    /// <summary>The [[registry]] whose prefix matches the reference longest, or null.</summary>
    public RegistryRule? FindRule(ImageReference reference)
    {
        if (reference.IsShortName) return null;
        string key = reference.ToString();
        RegistryRule? best = null;
        int bestLength = -1;
        foreach (var rule in _rules.Values)
        {
            int length = MatchLength(key, reference.Registry!, rule.Prefix);
            if (length > bestLength)
            {
                best = rule;
                bestLength = length;
            }
        }
        return best;
    }

    /// <summary>Length of the match of prefix against the reference string, or -1.</summary>
    internal static int MatchLength(string reference, string host, string prefix)
    {
        if (prefix.StartsWith("*.", StringComparison.Ordinal))
            return host.EndsWith(prefix[1..], StringComparison.Ordinal) && host.Length > prefix.Length - 1 ? prefix.Length : -1;
        if (reference == prefix) return prefix.Length;
        if (reference.Length > prefix.Length && reference.StartsWith(prefix, StringComparison.Ordinal)
            && reference[prefix.Length] is '/' or ':' or '@')
            return prefix.Length;
        return -1;
    }

    /// <summary>Throws RegistryBlocked, naming the rule and its file, when the reference's registry is blocked.</summary>
    public void EnsureAllowed(ImageReference reference)
    {
        if (reference.IsShortName)
            throw PolicyErrors.ShortNameNotResolved(reference);
        if (FindRule(reference) is { Blocked: true } rule)
            throw PolicyErrors.RegistryBlocked(reference, rule);
    }

    /// <summary>
    /// Where to pull from, in order: the matching rule's mirrors (honouring pull-from-mirror and
    /// mirror-by-digest-only), then the primary location. Throws RegistryBlocked first.
    /// </summary>
    public IReadOnlyList<PullSource> GetPullSources(ImageReference reference)
    {
        EnsureAllowed(reference);
        var rule = FindRule(reference);
        if (rule is null) return new[] { Primary(reference, insecure: false) };
        var sources = new List<PullSource>();
        bool byDigest = reference.Digest is not null;
        foreach (var mirror in rule.Mirrors)
        {
            if (rule.MirrorByDigestOnly && !byDigest) continue;
            var pull = mirror.PullFromMirror ?? PullFromMirror.All;
            if (pull == PullFromMirror.DigestOnly && !byDigest) continue;
            if (pull == PullFromMirror.TagOnly && byDigest) continue;
            var rewritten = Rewrite(reference, rule, mirror.Location);
            sources.Add(new PullSource
            {
                Host = rewritten.Registry!, Repository = rewritten.Repository, Insecure = mirror.Insecure, IsMirror = true, Reference = rewritten,
            });
        }
        var primary = Rewrite(reference, rule, rule.Location);
        sources.Add(new PullSource
        {
            Host = primary.Registry!, Repository = primary.Repository, Insecure = rule.Insecure, IsMirror = false, Reference = primary,
        });
        return sources;
    }

    /// <summary>Where a push goes: the primary location only (mirrors are for pulls). Throws RegistryBlocked first.</summary>
    public PullSource GetPushDestination(ImageReference reference) => GetPullSources(reference)[^1];

    /// <summary>True when the registry host is configured as insecure (plain HTTP or unverified TLS allowed).</summary>
    public bool IsInsecure(string host) =>
        ImageReference.TryParse(host + "/x", out var r) && FindRule(r) is { } rule && rule.Insecure;

    private static PullSource Primary(ImageReference reference, bool insecure) => new()
    {
        Host = reference.Registry!, Repository = reference.Repository, Insecure = insecure, IsMirror = false, Reference = reference,
    };

    private static ImageReference Rewrite(ImageReference reference, RegistryRule rule, string location)
    {
        if (string.IsNullOrEmpty(location)) return reference;
        string text = reference.ToString();
        string rewritten = rule.IsWildcard
            ? location + text[reference.Registry!.Length..]
            : location + text[rule.Prefix.Length..];
        if (!ImageReference.TryParse(rewritten, out var result, out string? why) || result.IsShortName)
            throw PolicyErrors.RewriteInvalid(reference, rule, location, rewritten, why);
        return result;
    }

    /// <summary>
    /// Resolves a short name: an alias first, then the unqualified search registries in order. Never
    /// gives a registry that is not configured. In enforcing mode several candidates are an error
    /// unless <paramref name="interactive"/> (then RequiresChoice is set and the caller prompts);
    /// in permissive mode they are tried in order unless interactive; disabled never prompts.
    /// </summary>
    public ShortNameResolution ResolveShortName(ImageReference reference, bool interactive = false)
    {
        if (!reference.IsShortName)
            return new ShortNameResolution { Input = reference, Candidates = new[] { reference }, Origin = ShortNameOrigin.NotShortName, Mode = ShortNameMode };

        if (AliasesWithOrigin.TryGetValue(reference.Repository, out var alias))
        {
            var target = ImageReference.Parse(alias.Target).WithTag(reference.Tag).WithDigest(reference.Digest);
            Log.Debug("Short name {Name} resolved through the alias in {File} to {Target}", reference.ToString(), alias.Origin, target.ToString());
            return new ShortNameResolution
            {
                Input = reference, Candidates = new[] { target }, Origin = ShortNameOrigin.Alias, Mode = ShortNameMode, SourceFile = alias.Origin,
            };
        }

        if (SearchRegistries.Count == 0)
            throw PolicyErrors.NoSearchRegistries(reference, SearchRegistriesOrigin);

        var candidates = SearchRegistries.Select(r => reference.WithRegistry(r)).ToList();
        bool several = candidates.Count > 1 && ShortNameMode != ShortNameMode.Disabled;
        if (several && !interactive && ShortNameMode == ShortNameMode.Enforcing)
            throw PolicyErrors.ShortNameAmbiguous(reference, ShortNameModeOrigin, candidates);
        return new ShortNameResolution
        {
            Input = reference, Candidates = candidates, Origin = ShortNameOrigin.SearchRegistries, Mode = ShortNameMode,
            SourceFile = SearchRegistriesOrigin, RequiresChoice = several && interactive,
        };
    }
}
