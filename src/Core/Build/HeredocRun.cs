using Containers.Core.Native;

namespace Containers.Core.Build;

/// <summary>
/// How a shell-form RUN with heredocs runs, as BuildKit and buildah run it: a RUN that is only one heredoc
/// runs its body (through its <c>#!</c> interpreter when it has one, else through the stage's SHELL);
/// any other RUN gives its line and the bodies to the shell, which reads the heredocs itself.
/// </summary>
internal static class HeredocRun
{
    /// <summary>Where a <c>#!</c> script is mounted: /dev is the runtime's own tmpfs, so nothing lands in the step's layer.</summary>
    private const string ScriptPath = "/dev/.pscontainers-heredoc";

    public static (List<string> Argv, IReadOnlyList<string> Scripts) Command(Instruction ins, IReadOnlyList<string> shell)
    {
        if (ins.Heredocs is [var only] && ins.Arguments.Trim() == only.Token)
        {
            if (!only.Content.StartsWith("#!", StringComparison.Ordinal)) return ([.. shell, only.Content], []);
            // The kernel's rule for "#!": the interpreter, then the rest of the line as one argument.
            string line = only.Content[2..only.Content.IndexOf('\n')].Trim();
            int space = line.IndexOfAny([' ', '\t']);
            List<string> argv = space < 0 ? [line] : [line[..space], line[(space + 1)..].Trim()];
            return ([.. argv, ScriptPath], [only.Content]);
        }
        return ([.. shell, Script(ins)], []);
    }

    /// <summary>The instruction's line followed by its heredocs, as a shell reads it.</summary>
    public static string Script(Instruction ins) =>
        ins.Heredocs.Count == 0 ? ins.Arguments : ins.Arguments + "\n" + string.Concat(ins.Heredocs.Select(h => h.Content + h.Name + "\n"));

    /// <summary>Writes the scripts to a private temp directory, mounted read-only into the step's container.</summary>
    public static ScriptFiles WriteScripts(IReadOnlyList<string> scripts) => new(scripts);

    internal sealed class ScriptFiles : IDisposable
    {
        private readonly string? _dir;
        public IReadOnlyList<string> Mounts { get; } = [];

        public ScriptFiles(IReadOnlyList<string> scripts)
        {
            if (scripts.Count == 0) return;
            _dir = Directory.CreateTempSubdirectory("pscontainers-heredoc-").FullName;
            string file = Path.Combine(_dir, "script");
            File.WriteAllText(file, scripts[0]);
            Files.Chmod(file, 0b111_101_101);
            // The temp dir is 0700; the step's user (USER may be anyone) needs to reach the file.
            Files.Chmod(_dir, 0b111_001_001);
            Mounts = [file + ":" + ScriptPath + ":ro"];
        }

        public void Dispose()
        {
            if (_dir is not null) DirectoryTree.Delete(_dir);
        }
    }
}

/// <summary>
/// The files a COPY or ADD heredoc stands for (<c>COPY &lt;&lt;EOF /etc/motd</c>): named after the heredoc,
/// mode 0644, build variables expanded unless the delimiter was quoted, and a fixed time so an unchanged
/// heredoc is a cache hit.
/// </summary>
internal sealed class HeredocFiles : IDisposable
{
    private readonly string? _dir;
    private readonly Dictionary<string, string> _byToken = new(StringComparer.Ordinal);

    public HeredocFiles(IReadOnlyList<Heredoc> heredocs, Func<string, string> expand)
    {
        if (heredocs.Count == 0) return;
        _dir = Directory.CreateTempSubdirectory("pscontainers-heredoc-").FullName;
        for (int i = 0; i < heredocs.Count; i++)
        {
            var h = heredocs[i];
            // One directory per heredoc: two may share a name, and the copy names the file after it.
            string file = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, i.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName, h.Name);
            File.WriteAllText(file, h.Expand ? expand(h.Content) : h.Content);
            Files.Chmod(file, 0b110_100_100);
            File.SetLastWriteTimeUtc(file, DateTime.UnixEpoch);
            _byToken[h.Token] = file;
            _byToken[h.Token.Replace("'", "", StringComparison.Ordinal).Replace("\"", "", StringComparison.Ordinal)] = file; // as the word splitter leaves it
        }
    }

    /// <summary>The file for a source word that is a heredoc token, or null.</summary>
    public string? Find(string word) => _byToken.GetValueOrDefault(word);

    public bool Contains(string path) => _byToken.ContainsValue(path);

    public void Dispose()
    {
        if (_dir is not null) DirectoryTree.Delete(_dir);
    }
}
