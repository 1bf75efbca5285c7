using Containers.Core.Errors;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Containers.Core.Policy;

/// <summary>
/// One registries.conf (version 2) file held as Tomlyn's syntax tree, so edits keep every comment,
/// blank line and key this module does not know. Reads give the file's own settings; edits change
/// only the nodes they name; <see cref="Save"/> writes atomically.
/// </summary>
public sealed class RegistriesFile
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

    // ---------------------------------------------------------------- editing

    /// <summary>Sets unqualified-search-registries (null removes the key).</summary>
    public void SetSearchRegistries(IReadOnlyList<string>? registries)
    {
        SetTopLevel("unqualified-search-registries", registries is null ? null : new ArraySyntax(registries.ToArray()));
        Reload();
    }

    /// <summary>Sets short-name-mode (null removes the key).</summary>
    public void SetShortNameMode(ShortNameMode? mode)
    {
        SetTopLevel("short-name-mode", mode is null ? null : new StringValueSyntax(mode.Value.ToString().ToLowerInvariant()));
        Reload();
    }

    /// <summary>Creates or updates the [[registry]] with this prefix; a null argument leaves that key as it is.</summary>
    public void SetRegistry(string prefix, string? location = null, bool? insecure = null, bool? blocked = null)
    {
        var table = FindRegistry(prefix);
        if (table is null)
        {
            // The smallest form the containers tools accept: location alone (the prefix defaults to
            // it), prefix alone for a *.domain wildcard, both only when they differ.
            table = NewTable<TableArraySyntax>("registry");
            if (prefix.StartsWith("*.", StringComparison.Ordinal) || (location is not null && location != prefix))
                SetKey(table, "prefix", new StringValueSyntax(prefix));
            if (!prefix.StartsWith("*.", StringComparison.Ordinal))
                SetKey(table, "location", new StringValueSyntax(location ?? prefix));
            location = null;
            _doc.Tables.Add(table);
        }
        if (location is not null) SetKey(table, "location", new StringValueSyntax(location));
        if (insecure is not null) SetKey(table, "insecure", new BooleanValueSyntax(insecure.Value));
        if (blocked is not null) SetKey(table, "blocked", new BooleanValueSyntax(blocked.Value));
        Reload();
    }

    /// <summary>Adds a mirror after the registry's existing ones (creating the registry entry if needed), or updates the mirror with that location.</summary>
    public void SetMirror(string prefix, string mirrorLocation, bool? insecure = null, PullFromMirror? pullFromMirror = null)
    {
        if (FindRegistry(prefix) is null) SetRegistry(prefix);
        var registry = FindRegistry(prefix)!;
        int index = IndexOf(registry);
        int last = index;
        TableSyntaxBase? existing = null;
        for (int i = index + 1; i < _doc.Tables.ChildrenCount && IsMirror(_doc.Tables.GetChild(i)!); i++)
        {
            last = i;
            var m = _doc.Tables.GetChild(i)!;
            if (m.Items.Any(kv => KeyName(kv.Key!) == "location" && kv.Value is StringValueSyntax s && s.Value == mirrorLocation)) existing = m;
        }
        var mirror = existing ?? NewTable<TableArraySyntax>("registry.mirror");
        if (existing is null)
        {
            SetKey(mirror, "location", new StringValueSyntax(mirrorLocation));
            InsertTable(last + 1, mirror);
        }
        if (insecure is not null) SetKey(mirror, "insecure", new BooleanValueSyntax(insecure.Value));
        if (pullFromMirror is not null)
            SetKey(mirror, "pull-from-mirror", new StringValueSyntax(pullFromMirror.Value switch
            {
                PullFromMirror.DigestOnly => "digest-only",
                PullFromMirror.TagOnly => "tag-only",
                _ => "all",
            }));
        Reload();
    }

    /// <summary>Removes one mirror of a registry; false when there was none.</summary>
    public bool RemoveMirror(string prefix, string mirrorLocation)
    {
        var registry = FindRegistry(prefix);
        if (registry is null) return false;
        for (int i = IndexOf(registry) + 1; i < _doc.Tables.ChildrenCount && IsMirror(_doc.Tables.GetChild(i)!); i++)
        {
            var m = _doc.Tables.GetChild(i)!;
            if (m.Items.Any(kv => KeyName(kv.Key!) == "location" && kv.Value is StringValueSyntax s && s.Value == mirrorLocation))
            {
                RemoveTables(i, i + 1);
                Reload();
                return true;
            }
        }
        return false;
    }

    /// <summary>Removes a [[registry]] and its mirrors; false when there was none.</summary>
    public bool RemoveRegistry(string prefix)
    {
        var registry = FindRegistry(prefix);
        if (registry is null) return false;
        int index = IndexOf(registry);
        int end = index + 1;
        while (end < _doc.Tables.ChildrenCount && IsMirror(_doc.Tables.GetChild(end)!)) end++;
        RemoveTables(index, end);
        Reload();
        return true;
    }

    /// <summary>
    /// Removes tables [start, end) but keeps the comments around them (the first one's leading trivia,
    /// the last one's trailing trivia, which by this file's convention describe what follows): they go
    /// to the node before, else the table after, else stay at the top of the file.
    /// </summary>
    private void RemoveTables(int start, int end)
    {
        var firstTable = _doc.Tables.GetChild(start)!;
        var first = firstTable.Tokens(true).OfType<SyntaxNode>().FirstOrDefault();
        var lastTable = _doc.Tables.GetChild(end - 1)!;
        var last = lastTable.Tokens(true).OfType<SyntaxNode>().LastOrDefault();
        var kept = new List<SyntaxTrivia>();
        if (firstTable.LeadingTrivia is { } tableLeading) kept.AddRange(tableLeading);
        if (first?.LeadingTrivia is { } leading) kept.AddRange(leading);
        if (last?.TrailingTrivia is { } trailing) kept.AddRange(trailing);
        if (lastTable.TrailingTrivia is { } tableTrailing) kept.AddRange(tableTrailing);
        for (int i = start; i < end; i++) _doc.Tables.RemoveChildAt(start);
        if (!kept.Any(t => t.Kind == TokenKind.Comment)) return;
        SyntaxNode? before = start > 0 ? _doc.Tables.GetChild(start - 1) : _doc.KeyValues.ChildrenCount > 0 ? _doc.KeyValues.GetChild(_doc.KeyValues.ChildrenCount - 1) : null;
        if (before?.Tokens(true).OfType<SyntaxNode>().LastOrDefault() is { } end1)
        {
            end1.TrailingTrivia ??= [];
            end1.TrailingTrivia.AddRange(kept);
        }
        else if (start < _doc.Tables.ChildrenCount && _doc.Tables.GetChild(start) is { } next)
            next.LeadingTrivia = [.. kept, .. next.LeadingTrivia ?? []];
        else _orphanComments += string.Concat(kept.Select(t => t.Text));
    }

    /// <summary>Removes one key (insecure, blocked, location) of a registry entry; false when it was not set.</summary>
    public bool ClearRegistryKey(string prefix, string key)
    {
        var registry = FindRegistry(prefix);
        if (registry is null) return false;
        bool removed = RemoveKey(registry.Items, key);
        Reload();
        return removed;
    }

    /// <summary>Sets a short-name alias in [aliases].</summary>
    public void SetAlias(string name, string target)
    {
        var aliases = _doc.Tables.OfType<TableSyntax>().FirstOrDefault(t => KeyName(t.Name!) == "aliases");
        if (aliases is null)
        {
            aliases = NewTable<TableSyntax>("aliases");
            _doc.Tables.Add(aliases);
        }
        SetKey(aliases, name, new StringValueSyntax(target));
        Reload();
    }

    /// <summary>Removes a short-name alias; false when there was none.</summary>
    public bool RemoveAlias(string name)
    {
        var aliases = _doc.Tables.OfType<TableSyntax>().FirstOrDefault(t => KeyName(t.Name!) == "aliases");
        if (aliases is null) return false;
        bool removed = RemoveKey(aliases.Items, name);
        Reload();
        return removed;
    }

    private void Reload() => Settings = Read();

    private TableSyntaxBase? FindRegistry(string prefix)
    {
        foreach (var t in _doc.Tables)
        {
            if (t is not TableArraySyntax || KeyName(t.Name!) != "registry") continue;
            string? p = null, l = null;
            foreach (var kv in t.Items)
            {
                string k = KeyName(kv.Key!);
                if (k == "prefix" && kv.Value is StringValueSyntax ps) p = ps.Value;
                if (k == "location" && kv.Value is StringValueSyntax ls) l = ls.Value;
            }
            if ((string.IsNullOrEmpty(p) ? l : p) == prefix) return t;
        }
        return null;
    }

    private static bool IsMirror(TableSyntaxBase t) => t is TableArraySyntax && KeyName(t.Name!) == "registry.mirror";

    private int IndexOf(TableSyntaxBase table)
    {
        for (int i = 0; i < _doc.Tables.ChildrenCount; i++)
            if (ReferenceEquals(_doc.Tables.GetChild(i), table)) return i;
        return -1;
    }

    private void InsertTable(int index, TableSyntaxBase table)
    {
        var tail = new List<TableSyntaxBase>();
        while (_doc.Tables.ChildrenCount > index)
        {
            tail.Add(_doc.Tables.GetChild(index)!);
            _doc.Tables.RemoveChildAt(index);
        }
        if (index > 0) MoveTrailingTrivia(_doc.Tables.GetChild(index - 1)!, table);
        _doc.Tables.Add(table);
        foreach (var t in tail) _doc.Tables.Add(t);
    }

    // Blank lines and comments after a node belong to what follows it: when a node is added after
    // another, they move to the new node's end so the new line sits with its neighbours.
    private static void MoveTrailingTrivia(SyntaxNode from, SyntaxNode to)
    {
        var last = from.Tokens(true).OfType<SyntaxNode>().LastOrDefault(t => t.TrailingTrivia is { Count: > 0 });
        var target = to.Tokens(true).OfType<SyntaxNode>().LastOrDefault();
        if (last is null || target is null || !ReferenceEquals(last, from.Tokens(true).OfType<SyntaxNode>().LastOrDefault())) return;
        target.TrailingTrivia = last.TrailingTrivia;
        last.TrailingTrivia = null;
    }

    private static T NewTable<T>(string name) where T : TableSyntaxBase
    {
        var parts = name.Split('.');
        var key = parts.Length == 2 ? new KeySyntax(parts[0], parts[1]) : new KeySyntax(name);
        TableSyntaxBase table = typeof(T) == typeof(TableArraySyntax) ? new TableArraySyntax(key) : new TableSyntax(key);
        table.AddLeadingTriviaNewLine();
        return (T)table;
    }

    private void SetTopLevel(string key, ValueSyntax? value)
    {
        if (value is null)
        {
            RemoveKey(_doc.KeyValues, key);
            return;
        }
        foreach (var kv in _doc.KeyValues)
            if (KeyName(kv.Key!) == key)
            {
                if (kv.Value is not null) MoveTrailingTrivia(kv.Value, value);
                kv.Value = value;
                return;
            }
        var added = new KeyValueSyntax(key, value);
        if (_doc.KeyValues.ChildrenCount > 0) MoveTrailingTrivia(_doc.KeyValues.GetChild(_doc.KeyValues.ChildrenCount - 1)!, added);
        _doc.KeyValues.Add(added);
    }

    private static void SetKey(TableSyntaxBase table, string key, ValueSyntax value)
    {
        foreach (var kv in table.Items)
            if (KeyName(kv.Key!) == key)
            {
                if (kv.Value is not null) MoveTrailingTrivia(kv.Value, value);
                kv.Value = value;
                return;
            }
        var added = new KeyValueSyntax(NewKey(key), value);
        MoveTrailingTrivia(table.Items.ChildrenCount > 0 ? table.Items.GetChild(table.Items.ChildrenCount - 1)! : table, added);
        table.Items.Add(added);
    }

    private static KeySyntax NewKey(string key) =>
        key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? new KeySyntax(key) : new KeySyntax { Key = new StringValueSyntax(key) };

    private static bool RemoveKey(SyntaxList<KeyValueSyntax> items, string key)
    {
        for (int i = 0; i < items.ChildrenCount; i++)
            if (KeyName(items.GetChild(i)!.Key!) == key)
            {
                items.RemoveChildAt(i);
                return true;
            }
        return false;
    }
}

/// <summary>The settings one file gives, before merging.</summary>
public sealed class RegistriesFileSettings
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
public sealed class RegistryEntry
{
    public required string Prefix { get; init; }
    public string? Location { get; init; }
    public bool? Insecure { get; init; }
    public bool? Blocked { get; init; }
    public bool? MirrorByDigestOnly { get; init; }
    public List<RegistryMirror> Mirrors { get; } = [];
    public int Line { get; init; }
}
