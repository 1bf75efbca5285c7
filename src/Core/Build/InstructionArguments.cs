using System.Text;
using System.Text.Json;
using Containers.Core.Errors;

namespace Containers.Core.Build;

/// <summary>How the arguments of a Containerfile instruction are read (shared by -Change and the Containerfile parser).</summary>
internal static class InstructionArguments
{
    /// <summary>The exec (JSON array of strings) form, or null when the text is not one.</summary>
    public static List<string>? JsonArray(string text)
    {
        text = text.Trim();
        if (!text.StartsWith('[') || !text.EndsWith(']')) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            var list = new List<string>();
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.String) return null;
                list.Add(e.GetString()!);
            }
            return list;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// Splits words as the Dockerfile syntax does: whitespace separates, double and single quotes group,
    /// a backslash escapes the next character (inside single quotes it is literal).
    /// </summary>
    public static List<string> Words(string text, Func<string, Exception> invalid)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quote == '\0' && char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(current.ToString()); current.Clear(); inWord = false; }
                continue;
            }
            inWord = true;
            if (c == '\\' && quote != '\'' && i + 1 < text.Length) { current.Append(text[++i]); continue; }
            if (quote == '\0' && c is '"' or '\'') { quote = c; continue; }
            if (quote != '\0' && c == quote) { quote = '\0'; continue; }
            current.Append(c);
        }
        if (quote != '\0') throw invalid($"an unterminated {quote} quote");
        if (inWord) words.Add(current.ToString());
        return words;
    }

    /// <summary>
    /// key=value pairs (ENV, LABEL, ARG); the old one-pair form <c>ENV key value with spaces</c> when
    /// <paramref name="allowLegacy"/> and the first word has no '='.
    /// </summary>
    public static List<KeyValuePair<string, string>> Pairs(string text, bool allowLegacy, Func<string, Exception> invalid)
    {
        var words = Words(text, invalid);
        if (words.Count == 0) throw invalid("at least one name=value");
        var pairs = new List<KeyValuePair<string, string>>();
        if (allowLegacy && !words[0].Contains('='))
        {
            string trimmed = text.TrimStart();
            int space = trimmed.IndexOfAny([' ', '\t']);
            if (space < 0) throw invalid($"a value after the name '{words[0]}'");
            pairs.Add(new(words[0], trimmed[(space + 1)..].Trim()));
            return pairs;
        }
        foreach (string w in words)
        {
            int eq = w.IndexOf('=');
            if (eq <= 0) throw invalid($"name=value, not '{w}'");
            pairs.Add(new(w[..eq], w[(eq + 1)..]));
        }
        return pairs;
    }

    /// <summary>A syntax error naming where it is, the instruction and what was expected.</summary>
    public static ContainersException Invalid(string where, string instruction, string expected, string? text = null) =>
        new("InvalidContainerfileSyntax", ErrorKind.InvalidArgument,
            $"{where}: {instruction} expects {expected}{(text is null ? "" : $" (got '{text}')")}.", where,
            "Fix the instruction; see the Containerfile(5) syntax.");
}
