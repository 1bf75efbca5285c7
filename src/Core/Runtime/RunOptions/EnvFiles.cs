using Containers.Core.Errors;

namespace Containers.Core.Runtime.RunOptions;

/// <summary>
/// Docker's env-file format (also podman's): one <c>KEY=VALUE</c> a line, taken literally (no quotes, no escapes, no
/// expansion); a line with only <c>KEY</c> takes the caller's value of KEY (left out when the caller has none); blank
/// lines and lines starting with <c>#</c> are skipped. Later files win over earlier ones.
/// </summary>
internal static class EnvFiles
{
    /// <param name="paths">Absolute paths, in order.</param>
    /// <param name="callerEnvironment">The caller's value of a name (null when unset).</param>
    public static Dictionary<string, string?> Read(IEnumerable<string> paths, Func<string, string?> callerEnvironment)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (string path in paths)
        {
            string[] lines;
            try { lines = File.ReadAllLines(path); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new ContainersException("EnvFileNotFound", ErrorKind.NotFound, $"The env file '{path}' does not exist.", path, "Fix the path given to -EnvFile.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ContainersException("EnvFileUnreadable", ErrorKind.PermissionDenied, $"The env file '{path}' cannot be read: {e.Message}", path, inner: e);
            }
            for (int n = 0; n < lines.Length; n++)
            {
                string line = lines[n].TrimStart();
                if (line.Length == 0 || line[0] == '#') continue;
                int eq = line.IndexOf('=');
                string key = eq < 0 ? line.TrimEnd() : line[..eq];
                if (key.Length == 0 || key.Any(char.IsWhiteSpace))
                    throw new ContainersException("InvalidEnvFileLine", ErrorKind.InvalidData,
                        $"{path}:{n + 1}: '{lines[n]}' is not KEY=VALUE (the variable name is empty or has white space).", path,
                        "Write one KEY=VALUE (or KEY alone) a line; lines starting with # are comments.");
                if (eq >= 0) env[key] = line[(eq + 1)..];
                else if (callerEnvironment(key) is { } value) env[key] = value;
            }
        }
        return env;
    }
}
