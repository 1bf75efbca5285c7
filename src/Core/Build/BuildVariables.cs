namespace Containers.Core.Build;

/// <summary>Variable substitution in instruction arguments: <c>$NAME</c>, <c>${NAME}</c>, <c>${NAME:-default}</c>, <c>${NAME:+alt}</c>, <c>\$</c> for a literal.</summary>
internal static class BuildVariables
{
    public static string Expand(string text, Func<string, string?> lookup)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\' && i + 1 < text.Length && text[i + 1] == '$') { sb.Append('$'); i++; continue; }
            if (c != '$' || i + 1 >= text.Length) { sb.Append(c); continue; }
            if (text[i + 1] == '{')
            {
                int end = text.IndexOf('}', i + 2);
                if (end < 0) { sb.Append(c); continue; }
                string body = text[(i + 2)..end];
                int op = body.IndexOf(':');
                string name = op < 0 ? body : body[..op];
                string? value = lookup(name);
                if (op >= 0 && op + 1 < body.Length)
                {
                    string word = body[(op + 2)..];
                    value = body[op + 1] switch
                    {
                        '-' => string.IsNullOrEmpty(value) ? word : value,
                        '+' => string.IsNullOrEmpty(value) ? "" : word,
                        _ => value,
                    };
                }
                sb.Append(value);
                i = end;
                continue;
            }
            int j = i + 1;
            while (j < text.Length && (char.IsAsciiLetterOrDigit(text[j]) || text[j] == '_')) j++;
            if (j == i + 1) { sb.Append(c); continue; }
            sb.Append(lookup(text[(i + 1)..j]));
            i = j - 1;
        }
        return sb.ToString();
    }
}
