using System.Text;
using System.Text.RegularExpressions;
using Containers.Core.Errors;

namespace Containers.Core.Build;

/// <summary>
/// The build context directory with its <c>.containerignore</c> (or <c>.dockerignore</c>) rules: patterns
/// with <c>*</c>, <c>?</c>, <c>**</c> and <c>!</c> exceptions, the last matching rule deciding, a directory's
/// exclusion covering what is in it.
/// </summary>
internal sealed class BuildContext
{
    private readonly List<(Regex Pattern, bool Exclude)> _rules = [];

    public BuildContext(string directory)
    {
        Directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(Directory))
            throw new ContainersException("BuildContextNotFound", ErrorKind.NotFound, $"The build context {Directory} is not a directory.", Directory,
                "Give -Context a directory.");
        foreach (string name in new[] { ".containerignore", ".dockerignore" })
        {
            string file = Path.Combine(Directory, name);
            if (!File.Exists(file)) continue;
            IgnoreFile = name;
            foreach (string raw in File.ReadAllLines(file))
            {
                string line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                bool exception = line.StartsWith('!');
                string pattern = ContainerfilePath(exception ? line[1..].Trim() : line);
                if (pattern.Length == 0) continue;
                _rules.Add((new Regex("^" + ToRegex(pattern) + "(/.*)?$", RegexOptions.CultureInvariant), !exception));
            }
            break;
        }
    }

    public string Directory { get; }
    /// <summary>The ignore file in force, if any.</summary>
    public string? IgnoreFile { get; }

    /// <summary>Whether a context-relative path (no leading slash) is excluded by the ignore file.</summary>
    public bool IsExcluded(string relative)
    {
        bool excluded = false;
        foreach (var (pattern, exclude) in _rules)
            if (pattern.IsMatch(relative)) excluded = exclude;
        return excluded;
    }

    /// <summary>
    /// The context paths a COPY/ADD source names (wildcards in the last part allowed), refusing sources
    /// outside the context and ones the ignore file excludes.
    /// </summary>
    public List<string> Resolve(string source, Instruction at)
    {
        string rel = ContainerfilePath(source);
        string full = Path.GetFullPath(Path.Combine(Directory, rel));
        string naive = Path.GetFullPath(Path.Combine(Directory, source.TrimStart('/')));
        if (naive != Directory && !naive.StartsWith(Directory + "/", StringComparison.Ordinal) || ThroughSymlink(rel))
            throw new ContainersException("BuildSourceOutsideContext", ErrorKind.InvalidArgument,
                $"{at.Where}: {at.Keyword} source '{source}' is outside the build context {Directory} (through '..' or a symlinked directory).", at.Where,
                "Move the file into the context directory.");
        var matches = new List<string>();
        string name = Path.GetFileName(full);
        if (name.IndexOfAny(['*', '?', '[']) >= 0 && System.IO.Directory.Exists(Path.GetDirectoryName(full)))
        {
            var re = new Regex("^" + ToRegex(name) + "$");
            matches.AddRange(System.IO.Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(full)!).Where(p => re.IsMatch(Path.GetFileName(p))).Order(StringComparer.Ordinal));
        }
        else if (File.Exists(full) || System.IO.Directory.Exists(full) || new FileInfo(full).LinkTarget is not null) matches.Add(full);
        matches = matches.Where(m => m == Directory || !IsExcluded(Path.GetRelativePath(Directory, m))).ToList();
        if (matches.Count == 0)
        {
            bool ignored = File.Exists(full) || System.IO.Directory.Exists(full);
            throw new ContainersException(ignored ? "BuildSourceExcluded" : "BuildSourceNotFound", ignored ? ErrorKind.InvalidArgument : ErrorKind.NotFound,
                ignored ? $"{at.Where}: {at.Keyword} source '{source}' is excluded by {IgnoreFile}." : $"{at.Where}: {at.Keyword} source '{source}' matches nothing in the context {Directory}.",
                at.Where, ignored ? $"Remove its pattern from {IgnoreFile} or add an exception (!{rel})." : "Check the path; sources are relative to the context directory.");
        }
        return matches;
    }

    /// <summary>Whether a directory on the way to rel is a symlink (it could lead out of the context).</summary>
    private bool ThroughSymlink(string rel)
    {
        string path = Directory;
        string[] parts = rel.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length - 1; i++)
        {
            path = Path.Combine(path, parts[i]);
            if (Native.LinkStat.Get(path) is { Type: Native.FileSystemCalls.S_IFLNK }) return true;
        }
        return false;
    }

    /// <summary>A pattern or source as a clean relative path ("./a//b/" -> "a/b").</summary>
    private static string ContainerfilePath(string p) => ConfigChanges.CleanPath("/" + p).TrimStart('/');

    private static string ToRegex(string glob)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // "**/" matches any number of directories, "**" anything
                bool slash = i + 2 < glob.Length && glob[i + 2] == '/';
                sb.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return sb.ToString();
    }
}
