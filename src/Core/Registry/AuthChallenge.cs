namespace Containers.Core.Registry;

/// <summary>One challenge of a WWW-Authenticate header (RFC 7235): a scheme and its parameters.</summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? Realm => Parameters.GetValueOrDefault("realm");
    public string? Service => Parameters.GetValueOrDefault("service");
    public string? Scope => Parameters.GetValueOrDefault("scope");
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);
    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses every challenge in a WWW-Authenticate value; malformed parts are skipped.</summary>
    public static IReadOnlyList<AuthChallenge> Parse(string? header)
    {
        var result = new List<AuthChallenge>();
        if (string.IsNullOrWhiteSpace(header)) return result;
        int i = 0;
        string s = header;
        while (i < s.Length)
        {
            SkipSpaceAndCommas(s, ref i);
            int start = i;
            while (i < s.Length && IsToken(s[i])) i++;
            if (i == start) { i++; continue; }
            string scheme = s[start..i];
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (true)
            {
                int save = i;
                SkipSpaceAndCommas(s, ref i);
                int ks = i;
                while (i < s.Length && IsToken(s[i])) i++;
                if (i == ks) { i = save; break; }
                string key = s[ks..i];
                int j = i;
                while (j < s.Length && s[j] == ' ') j++;
                if (j >= s.Length || s[j] != '=') { i = ks; break; } // next challenge's scheme
                i = j + 1;
                while (i < s.Length && s[i] == ' ') i++;
                string value;
                if (i < s.Length && s[i] == '"')
                {
                    var sb = new System.Text.StringBuilder();
                    i++;
                    while (i < s.Length && s[i] != '"')
                    {
                        if (s[i] == '\\' && i + 1 < s.Length) i++;
                        sb.Append(s[i++]);
                    }
                    i++;
                    value = sb.ToString();
                }
                else
                {
                    int vs = i;
                    while (i < s.Length && s[i] != ',' && s[i] != ' ') i++;
                    value = s[vs..i];
                }
                parameters[key] = value;
            }
            result.Add(new AuthChallenge(scheme, parameters));
        }
        return result;
    }

    private static void SkipSpaceAndCommas(string s, ref int i)
    {
        while (i < s.Length && (s[i] == ' ' || s[i] == ',' || s[i] == '\t')) i++;
    }

    private static bool IsToken(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}

/// <summary>RFC 8288 Link header parsing, for _catalog and tags/list pagination.</summary>
internal static class LinkHeader
{
    /// <summary>The target of the link with rel="next", or null.</summary>
    public static string? Next(IEnumerable<string>? values)
    {
        if (values is null) return null;
        foreach (string value in values)
            foreach (string part in SplitLinks(value))
            {
                int lt = part.IndexOf('<'), gt = part.IndexOf('>');
                if (lt < 0 || gt < lt) continue;
                string target = part[(lt + 1)..gt];
                foreach (string p in part[(gt + 1)..].Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = p.IndexOf('=');
                    if (eq < 0) continue;
                    if (!p[..eq].Trim().Equals("rel", StringComparison.OrdinalIgnoreCase)) continue;
                    if (p[(eq + 1)..].Trim().Trim('"').Split(' ').Contains("next", StringComparer.OrdinalIgnoreCase)) return target;
                }
            }
        return null;
    }

    private static IEnumerable<string> SplitLinks(string value)
    {
        int depth = 0, start = 0;
        bool quoted = false;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c == '"') quoted = !quoted;
            else if (!quoted && c == '<') depth++;
            else if (!quoted && c == '>') depth--;
            else if (!quoted && depth == 0 && c == ',') { yield return value[start..i]; start = i + 1; }
        }
        yield return value[start..];
    }
}

/// <summary>Bearer tokens cached per (host, service, scope) until shortly before they expire.</summary>
internal sealed class TokenCache(Func<DateTimeOffset>? clock = null)
{
    private readonly Func<DateTimeOffset> _clock = clock ?? (() => DateTimeOffset.UtcNow);
    private readonly Dictionary<string, (string Token, DateTimeOffset Expires)> _tokens = new(StringComparer.Ordinal);

    /// <summary>Tokens are dropped this long before their stated expiry.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);
    /// <summary>The lifetime assumed when the token service states none (the distribution spec's default).</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(60);

    public static string Key(string host, string? service, string scope) => host + "\n" + service + "\n" + scope;

    public string? Get(string key)
    {
        lock (_tokens)
        {
            if (_tokens.TryGetValue(key, out var t) && _clock() < t.Expires - Margin) return t.Token;
            _tokens.Remove(key);
            return null;
        }
    }

    public void Put(string key, string token, TimeSpan? lifetime, DateTimeOffset? issuedAt = null)
    {
        var life = lifetime is { } l && l > TimeSpan.Zero ? l : DefaultLifetime;
        var start = issuedAt is { } i && i <= _clock() ? i : _clock();
        lock (_tokens) _tokens[key] = (token, start + life);
    }
}
