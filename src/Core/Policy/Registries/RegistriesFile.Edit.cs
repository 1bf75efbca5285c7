using Tomlyn.Syntax;

namespace Containers.Core.Policy;

/// <summary>The edits of a registries.conf file: each changes only the syntax nodes it names, keeping comments and unknown keys.</summary>
internal sealed partial class RegistriesFile
{
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
