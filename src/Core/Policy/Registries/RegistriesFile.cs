using Containers.Core.Errors;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Containers.Core.Policy;

/// <summary>
/// One registries.conf (version 2) file held as Tomlyn's syntax tree, so edits keep every comment,
/// blank line and key this module does not know. Reads give the file's own settings; edits change
/// only the nodes they name; <see cref="Save"/> writes atomically.
/// </summary>
internal sealed partial class RegistriesFile
{
    private readonly DocumentSyntax _doc;

    private RegistriesFile(string path, DocumentSyntax doc, bool exists)
    {
        Path = path;
        _doc = doc;
        Exists = exists;
    }

    public string Path { get; }
    public bool Exists { get; }

    /// <summary>Reads and parses a file; a missing file is an empty one. Malformed TOML throws RegistriesConfInvalid with file and line.</summary>
    public static RegistriesFile Load(string path)
    {
        if (!File.Exists(path)) return Parse("", path, exists: false);
        return Parse(File.ReadAllText(path), path, exists: true);
    }

    public static RegistriesFile Parse(string text, string path) => Parse(text, path, exists: true);

    private static RegistriesFile Parse(string text, string path, bool exists)
    {
        // Edits append tables after the last line; a file without a final newline would glue them to it.
        if (text.Length > 0 && !text.EndsWith('\n')) text += "\n";
        var doc = SyntaxParser.Parse(text, path, true);
        if (doc.HasErrors)
        {
            var first = doc.Diagnostics.FirstOrDefault(d => d.Kind == DiagnosticMessageKind.Error) ?? doc.Diagnostics[0];
            int line = first.Span.Start.Line + 1;
            throw Invalid(path, line, first.Message);
        }
        var file = new RegistriesFile(path, doc, exists);
        file.Settings = file.Read();
        return file;
    }

    internal static ContainersException Invalid(string path, int line, string why) =>
        new("RegistriesConfInvalid", ErrorKind.InvalidData, $"{path}:{line}: {why}", path,
            "Fix the file (see containers-registries.conf(5)); it was left as it is.");

    /// <summary>What this file itself says (before merging with the other files).</summary>
    public RegistriesFileSettings Settings { get; private set; } = new();

    /// <summary>The file's text as it would be saved.</summary>
    public override string ToString() => _orphanComments + _doc.ToString();

    // Comments left when everything around them was removed; written at the top of the file.
    private string _orphanComments = "";

    /// <summary>Writes the file atomically, keeping its mode; re-reads it first to fail on our own mistakes, not the admin's file.</summary>
    public void Save()
    {
        string text = ToString();
        Parse(text, Path); // never write a file we could not read back
        AtomicFile.WriteAllText(Path, text);
    }

    // ---------------------------------------------------------------- reading

    private RegistriesFileSettings Read()
    {
        var s = new RegistriesFileSettings { Path = Path };
        foreach (var kv in _doc.KeyValues)
        {
            switch (KeyName(kv.Key!))
            {
                case "unqualified-search-registries":
                    s.SearchRegistries = StringArray(kv);
                    s.SearchRegistriesLine = Line(kv);
                    foreach (string r in s.SearchRegistries)
                        if (r.Contains('/') || r.Length == 0)
                            throw Invalid(Path, Line(kv), $"unqualified-search-registries holds '{r}', which is not a registry host[:port]");
                    break;
                case "short-name-mode":
                    s.ShortNameMode = ParseMode(String(kv), Line(kv));
                    break;
            }
        }

        RegistryEntry? current = null;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var table in _doc.Tables)
        {
            string name = KeyName(table.Name!);
            if (table is TableArraySyntax && name == "registry")
            {
                current = ReadRegistry(table);
                if (seen.TryGetValue(current.Prefix, out int other))
                    throw Invalid(Path, Line(table), $"registry prefix '{current.Prefix}' is defined more than once (also at line {other})");
                seen[current.Prefix] = current.Line;
                s.Registries.Add(current);
            }
            else if (table is TableArraySyntax && name == "registry.mirror")
            {
                if (current is null) throw Invalid(Path, Line(table), "[[registry.mirror]] appears before any [[registry]]");
                var mirror = ReadMirror(table);
                if (current.MirrorByDigestOnly == true && mirror.PullFromMirror is not null)
                    throw Invalid(Path, Line(table), $"[[registry]] \"{current.Prefix}\" sets mirror-by-digest-only, so its mirrors cannot set pull-from-mirror");
                current.Mirrors.Add(mirror);
            }
            else if (table is TableSyntax && name == "aliases")
            {
                foreach (var kv in table.Items)
                {
                    string alias = KeyName(kv.Key!);
                    string value = String(kv);
                    if (!Spec.ImageReference.TryParse(value, out var target) || target.IsShortName || target.Tag is not null || target.Digest is not null)
                        throw Invalid(Path, Line(kv), $"alias '{alias}' must name a fully-qualified repository without tag or digest, not '{value}'");
                    s.Aliases[alias] = value;
                }
            }
            else if (name.StartsWith("registries.", StringComparison.Ordinal) && table is TableSyntax)
            {
                throw Invalid(Path, Line(table), $"[{name}] is the version 1 format, which this module does not read; convert the file to version 2");
            }
        }
        return s;
    }

    private RegistryEntry ReadRegistry(TableSyntaxBase table)
    {
        string? prefix = null, location = null;
        bool? insecure = null, blocked = null, byDigest = null;
        foreach (var kv in table.Items)
        {
            switch (KeyName(kv.Key!))
            {
                case "prefix": prefix = String(kv); break;
                case "location": location = String(kv); break;
                case "insecure": insecure = Bool(kv); break;
                case "blocked": blocked = Bool(kv); break;
                case "mirror-by-digest-only": byDigest = Bool(kv); break;
            }
        }
        int line = Line(table);
        if (string.IsNullOrEmpty(prefix) && string.IsNullOrEmpty(location))
            throw Invalid(Path, line, "a [[registry]] needs a prefix or a location");
        if (location is not null && location.Contains("://"))
            throw Invalid(Path, line, $"location '{location}' must not contain a scheme such as http://");
        // containers/image (skopeo 1.9, podman 4.3) refuses a plain prefix without a location.
        if (!string.IsNullOrEmpty(prefix) && string.IsNullOrEmpty(location) && !prefix.StartsWith("*.", StringComparison.Ordinal))
            throw Invalid(Path, line, $"[[registry]] \"{prefix}\" has no location, and its prefix is not a *.domain wildcard");
        prefix = string.IsNullOrEmpty(prefix) ? location! : prefix;
        if (prefix.StartsWith("*.", StringComparison.Ordinal) && (prefix.Contains('/') || prefix.IndexOf('*', 1) >= 0))
            throw Invalid(Path, line, $"wildcard prefix '{prefix}' must be of the form *.domain");
        if (prefix.Contains('*') && !prefix.StartsWith("*.", StringComparison.Ordinal))
            throw Invalid(Path, line, $"prefix '{prefix}' may only use * as a leading '*.' wildcard");
        return new RegistryEntry
        {
            Prefix = prefix, Location = location, Insecure = insecure, Blocked = blocked,
            MirrorByDigestOnly = byDigest, Line = line,
        };
    }

    private RegistryMirror ReadMirror(TableSyntaxBase table)
    {
        string? location = null;
        bool insecure = false;
        PullFromMirror? pull = null;
        foreach (var kv in table.Items)
        {
            switch (KeyName(kv.Key!))
            {
                case "location": location = String(kv); break;
                case "insecure": insecure = Bool(kv); break;
                case "pull-from-mirror":
                    pull = String(kv) switch
                    {
                        "all" or "" => PullFromMirror.All,
                        "digest-only" => PullFromMirror.DigestOnly,
                        "tag-only" => PullFromMirror.TagOnly,
                        var other => throw Invalid(Path, Line(kv), $"pull-from-mirror is '{other}'; use all, digest-only or tag-only"),
                    };
                    break;
            }
        }
        if (string.IsNullOrEmpty(location)) throw Invalid(Path, Line(table), "a [[registry.mirror]] needs a location");
        if (location.Contains("://")) throw Invalid(Path, Line(table), $"mirror location '{location}' must not contain a scheme such as http://");
        return new RegistryMirror(location, insecure, pull);
    }

    private ShortNameMode ParseMode(string value, int line) => value switch
    {
        "enforcing" => ShortNameMode.Enforcing,
        "permissive" => ShortNameMode.Permissive,
        "disabled" => ShortNameMode.Disabled,
        _ => throw Invalid(Path, line, $"short-name-mode is '{value}'; use enforcing, permissive or disabled"),
    };

    internal static string KeyName(KeySyntax key)
    {
        var parts = new List<string> { Part(key.Key) };
        foreach (var dot in key.DotKeys) parts.Add(Part(dot.Key));
        return string.Join('.', parts);

        static string Part(BareKeyOrStringValueSyntax? k) => k switch
        {
            BareKeySyntax b => b.Key!.Text!,
            StringValueSyntax s => s.Value!,
            _ => "",
        };
    }

    private string String(KeyValueSyntax kv) => kv.Value is StringValueSyntax s ? s.Value ?? ""
        : throw Invalid(Path, Line(kv), $"'{KeyName(kv.Key!)}' must be a string");

    private bool Bool(KeyValueSyntax kv) => kv.Value is BooleanValueSyntax b ? b.Value
        : throw Invalid(Path, Line(kv), $"'{KeyName(kv.Key!)}' must be true or false");

    private List<string> StringArray(KeyValueSyntax kv)
    {
        if (kv.Value is not ArraySyntax a) throw Invalid(Path, Line(kv), $"'{KeyName(kv.Key!)}' must be an array of strings");
        var list = new List<string>();
        foreach (var item in a.Items)
            list.Add(item.Value is StringValueSyntax s ? s.Value ?? "" : throw Invalid(Path, Line(kv), $"'{KeyName(kv.Key!)}' must be an array of strings"));
        return list;
    }

    private static int Line(SyntaxNode node) => node.Span.Start.Line + 1;
}

/// <summary>The settings one file gives, before merging.</summary>
internal sealed class RegistriesFileSettings
{
    public string Path { get; init; } = "";
    /// <summary>Null when the file does not have the key (an empty list means "no search registries").</summary>
    public List<string>? SearchRegistries { get; set; }
    public int SearchRegistriesLine { get; set; }
    public ShortNameMode? ShortNameMode { get; set; }
    public List<RegistryEntry> Registries { get; } = [];
    public Dictionary<string, string> Aliases { get; } = new(StringComparer.Ordinal);
}

/// <summary>A [[registry]] table as one file gives it.</summary>
internal sealed class RegistryEntry
{
    public required string Prefix { get; init; }
    public string? Location { get; init; }
    public bool? Insecure { get; init; }
    public bool? Blocked { get; init; }
    public bool? MirrorByDigestOnly { get; init; }
    public List<RegistryMirror> Mirrors { get; } = [];
    public int Line { get; init; }
}
