using System.Text;

namespace Containers.Core.Services;

/// <summary>
/// How a systemd unit runs a cmdlet of this module: <c>pwsh -NoProfile -NonInteractive -Command "Import-Module '…'; …"</c>,
/// with the <c>PSCONTAINERS_*</c> overrides of the session that wrote it, so the unit acts on the same store.
/// </summary>
internal sealed record ModuleCommand(string Pwsh, string ModuleManifest, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The overrides a unit carries (the paths of the store, state, configuration and logs).</summary>
    public static readonly string[] Variables = ["PSCONTAINERS_DATA_DIR", "PSCONTAINERS_STATE_DIR", "PSCONTAINERS_CONFIG_DIR", "PSCONTAINERS_LOG_DIR"];

    /// <summary>An ExecStart= value running <paramref name="script"/> after importing the module.</summary>
    public string ExecLine(string script) =>
        Word(Pwsh) + " -NoProfile -NonInteractive -Command " + Quote($"Import-Module {PowerShellLiteral(ModuleManifest)}; {script}");

    /// <summary>The <c>Environment=</c> lines.</summary>
    public IEnumerable<string> EnvironmentLines() =>
        Environment.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => "Environment=" + Quote(e.Key + "=" + e.Value));

    /// <summary>A PowerShell single-quoted string.</summary>
    public static string PowerShellLiteral(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A systemd double-quoted word: backslash and quote escaped, <c>%</c> and <c>$</c> doubled so systemd expands nothing.</summary>
    public static string Quote(string s)
    {
        var b = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c is '\\' or '"') b.Append('\\');
            else if (c is '%' or '$') b.Append(c);
            else if (c == '\n') { b.Append("\\n"); continue; }
            b.Append(c);
        }
        return b.Append('"').ToString();
    }

    /// <summary>A word as is when nothing in it needs quoting.</summary>
    public static string Word(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ':' or '=' or ',' or '@')
        ? s : Quote(s);
}
