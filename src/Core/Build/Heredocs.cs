using Containers.Core.Errors;

namespace Containers.Core.Build;

/// <summary>
/// A here-document after RUN, COPY or ADD (<c>RUN &lt;&lt;EOF</c> ... <c>EOF</c>): its delimiter, its body
/// (ending with a newline; leading tabs gone for <c>&lt;&lt;-</c>), and whether build variables expand in it
/// (not when the delimiter was quoted, as in a shell).
/// </summary>
internal sealed record Heredoc(string Name, string Content, bool Expand)
{
    /// <summary>The token that names it on the instruction's line.</summary>
    public required string Token { get; init; }
}

/// <summary>Finds heredoc tokens on an instruction's line and reads their bodies from the lines after it.</summary>
internal static class Heredocs
{
    /// <summary>
    /// The heredocs that <paramref name="line"/> opens, bodies read from <paramref name="lines"/> starting at
    /// <paramref name="next"/> (advanced past the last terminator). Tokens inside quotes, after <c>&lt;&lt;&lt;</c>
    /// (a here-string) or in the JSON (exec) form are not heredocs.
    /// </summary>
    public static IReadOnlyList<Heredoc> Read(string keyword, string line, string[] lines, ref int next, string where)
    {
        if (keyword is not ("RUN" or "COPY" or "ADD") || line.TrimStart().StartsWith('[')) return [];
        var found = new List<Heredoc>();
        foreach (var (token, name, quoted, strip) in Tokens(line))
        {
            var body = new System.Text.StringBuilder();
            while (true)
            {
                if (next >= lines.Length)
                    throw new ContainersException("InvalidContainerfileSyntax", ErrorKind.InvalidArgument,
                        $"{where}: the heredoc <<{name} is not terminated.", where, $"End it with a line holding only {name}.");
                string l = lines[next++];
                if (strip) l = l.TrimStart('\t');
                if (l == name) break;
                body.Append(l).Append('\n');
            }
            found.Add(new Heredoc(name, body.ToString(), !quoted) { Token = token });
        }
        return found;
    }

    private static IEnumerable<(string Token, string Name, bool Quoted, bool Strip)> Tokens(string line)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; else if (c == '\\' && quote == '"') i++; continue; }
            if (c is '\'' or '"') { quote = c; continue; }
            if (c == '\\') { i++; continue; }
            if (c != '<' || i + 1 >= line.Length || line[i + 1] != '<' || (i + 2 < line.Length && line[i + 2] == '<')) continue;
            if (i > 0 && line[i - 1] == '<') continue;
            int p = i + 2;
            bool strip = p < line.Length && line[p] == '-';
            if (strip) p++;
            char q = p < line.Length && line[p] is '\'' or '"' ? line[p] : '\0';
            if (q != '\0') p++;
            int start = p;
            while (p < line.Length && (char.IsAsciiLetterOrDigit(line[p]) || line[p] is '_' or '.' or '-')) p++;
            if (p == start || (q != '\0' && (p >= line.Length || line[p] != q))) continue;
            string name = line[start..p];
            if (q != '\0') p++;
            yield return (line[i..p], name, q != '\0', strip);
            i = p - 1;
        }
    }
}
