using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Registry;

/// <summary>
/// A stand-in reader of containers-registries.conf(5) v2 for the registry client until Core/Policy's
/// resolver is merged: unqualified-search-registries, [aliases], and [[registry]] tables with
/// prefix/location/insecure/blocked and [[registry.mirror]] location/insecure. Drop-ins are read in order.
/// </summary>
public sealed class SimpleRegistryResolver : IRegistryResolver
{
    private sealed class Entry
    {
        public string Prefix = "", Location = "";
        public bool Insecure, Blocked;
        public List<(string Location, bool Insecure)> Mirrors = [];
    }

    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private List<string> _search = [];

    public IReadOnlyList<string> SearchRegistries => _search;

    public static SimpleRegistryResolver Load(ContainerPaths paths)
    {
        var r = new SimpleRegistryResolver();
        foreach (string file in Files(paths)) r.Parse(File.ReadAllLines(file));
        return r;
    }

    public static SimpleRegistryResolver FromText(string text)
    {
        var r = new SimpleRegistryResolver();
        r.Parse(text.Split('\n'));
        return r;
    }

    private static IEnumerable<string> Files(ContainerPaths p)
    {
        string main = p.UserRegistriesConf is { } u && File.Exists(u) ? u : p.SystemRegistriesConf;
        if (File.Exists(main)) yield return main;
        foreach (string? dir in new[] { p.SystemRegistriesConfDir, p.UserRegistriesConfDir })
            if (dir is not null && Directory.Exists(dir))
                foreach (string f in Directory.GetFiles(dir, "*.conf").Order(StringComparer.Ordinal)) yield return f;
    }

    private void Parse(IEnumerable<string> lines)
    {
        Entry? current = null;
        (string Location, bool Insecure)? mirror = null;
        string section = "";
        void FlushMirror() { if (mirror is { } m && current is not null) current.Mirrors.Add(m); mirror = null; }
        foreach (string raw in lines)
        {
            string line = StripComment(raw).Trim();
            if (line.Length == 0) continue;
            if (line == "[[registry]]") { FlushMirror(); current = new Entry(); _entries.Add(current); section = "registry"; continue; }
            if (line == "[[registry.mirror]]") { FlushMirror(); mirror = ("", false); section = "mirror"; continue; }
            if (line.StartsWith('[')) { FlushMirror(); section = line.Trim('[', ']').Trim(); current = null; continue; }
            int eq = line.IndexOf('=');
            if (eq <= 0) continue;
            string key = line[..eq].Trim().Trim('"');
            string value = line[(eq + 1)..].Trim();
            switch (section)
            {
                case "" when key == "unqualified-search-registries":
                    _search = ParseArray(value);
                    break;
                case "aliases":
                    _aliases[key] = Unquote(value);
                    break;
                case "registry" when current is not null:
                    if (key == "location") current.Location = Unquote(value);
                    else if (key == "prefix") current.Prefix = Unquote(value);
                    else if (key == "insecure") current.Insecure = value == "true";
                    else if (key == "blocked") current.Blocked = value == "true";
                    break;
                case "mirror" when mirror is { } m:
                    if (key == "location") mirror = (Unquote(value), m.Insecure);
                    else if (key == "insecure") mirror = (m.Location, value == "true");
                    break;
            }
        }
        FlushMirror();
    }

    private static string StripComment(string line)
    {
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '"') quoted = !quoted;
            else if (line[i] == '#' && !quoted) return line[..i];
        }
        return line;
    }

    private static string Unquote(string v) => v.Trim().Trim('"', '\'');

    private static List<string> ParseArray(string v) =>
        v.Trim().TrimStart('[').TrimEnd(']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Unquote).Where(s => s.Length > 0).ToList();

    private Entry? Find(string name)
    {
        Entry? best = null;
        foreach (var e in _entries)
        {
            string prefix = e.Prefix.Length > 0 ? e.Prefix : e.Location;
            if (prefix.Length == 0) continue;
            if (name == prefix || name.StartsWith(prefix + "/", StringComparison.Ordinal) || name.StartsWith(prefix + ":", StringComparison.Ordinal))
                if (best is null || prefix.Length > (best.Prefix.Length > 0 ? best.Prefix : best.Location).Length) best = e;
        }
        return best;
    }

    public IReadOnlyList<ImageReference> ResolveShortName(ImageReference reference)
    {
        if (!reference.IsShortName) return [reference];
        if (_aliases.TryGetValue(reference.Repository, out string? alias))
        {
            var target = ImageReference.Parse(alias);
            if (reference.Tag is not null || reference.Digest is not null) target = target.WithTag(reference.Tag ?? target.Tag).WithDigest(reference.Digest ?? target.Digest);
            return [target];
        }
        return _search.Select(reference.WithRegistry).ToList();
    }

    public IReadOnlyList<PullSource> GetPullSources(ImageReference reference)
    {
        if (reference.Registry is null)
            throw new ContainersException("ShortNameNotResolved", ErrorKind.InvalidArgument,
                $"'{reference}' has no registry.", reference.ToString());
        var e = Find(reference.Name);
        if (e is { Blocked: true })
            throw new ContainersException("RegistryBlocked", ErrorKind.PolicyViolation,
                $"The registry for '{reference}' is blocked by registries.conf.", reference.ToString(),
                "Pull from a registry that is not blocked, or ask the administrator.");
        var list = new List<PullSource>();
        if (e is not null)
        {
            string prefix = e.Prefix.Length > 0 ? e.Prefix : e.Location;
            string rest = reference.Name[prefix.Length..].TrimStart('/');
            foreach (var m in e.Mirrors)
                list.Add(Split(m.Location, rest, m.Insecure, true));
            if (e.Location.Length > 0 && e.Prefix.Length > 0 && e.Location != e.Prefix)
            { list.Add(Split(e.Location, rest, e.Insecure, false)); return list; }
        }
        list.Add(new PullSource(reference.Registry, reference.Repository, e?.Insecure ?? false));
        return list;
    }

    private static PullSource Split(string location, string rest, bool insecure, bool mirror)
    {
        string full = rest.Length == 0 ? location : location + "/" + rest;
        int slash = full.IndexOf('/');
        return slash < 0 ? new PullSource(full, "", insecure, mirror) : new PullSource(full[..slash], full[(slash + 1)..], insecure, mirror);
    }

    public bool IsInsecure(string host) => Find(host)?.Insecure ?? false;
}
