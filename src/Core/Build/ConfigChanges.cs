using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Build;

/// <summary>
/// Applies the config instructions of the Containerfile syntax (CMD, ENTRYPOINT, ENV, LABEL, EXPOSE,
/// WORKDIR, USER, VOLUME, STOPSIGNAL) to an image's execution config: what <c>-Change</c> takes, and
/// what the builder does for those instructions.
/// </summary>
internal static class ConfigChanges
{
    public static readonly IReadOnlyList<string> Instructions = ["CMD", "ENTRYPOINT", "ENV", "LABEL", "EXPOSE", "WORKDIR", "USER", "VOLUME", "STOPSIGNAL"];

    /// <summary>Applies lines such as <c>CMD ["/app"]</c> or <c>ENV A=1</c> in order; errors name <paramref name="source"/> and the line's number.</summary>
    public static ContainerConfig Apply(ContainerConfig? config, IEnumerable<string> changes, string source = "-Change")
    {
        var result = config ?? new ContainerConfig();
        int n = 0;
        foreach (string change in changes)
        {
            n++;
            string line = change.Trim();
            int space = line.IndexOfAny([' ', '\t']);
            string instruction = (space < 0 ? line : line[..space]).ToUpperInvariant();
            string args = space < 0 ? "" : line[(space + 1)..].Trim();
            string where = $"{source} {n}";
            if (!Instructions.Contains(instruction))
                throw new ContainersException("InvalidChange", ErrorKind.InvalidArgument,
                    $"{where}: '{(instruction.Length == 0 ? change : instruction)}' is not an instruction a change can make.", change,
                    $"Use one of {string.Join(", ", Instructions)}, e.g. 'CMD [\"/app\"]' or 'ENV NAME=value'.");
            result = Apply(result, instruction, args, where);
        }
        return result;
    }

    /// <summary>Applies one instruction (already split into keyword and arguments).</summary>
    public static ContainerConfig Apply(ContainerConfig c, string instruction, string args, string where)
    {
        Exception Invalid(string expected) => InstructionArguments.Invalid(where, instruction, expected, args);
        if (args.Length == 0) throw Invalid("arguments");
        switch (instruction)
        {
            case "CMD":
                return c with { Cmd = Command(args) };
            case "ENTRYPOINT":
                return c with { Entrypoint = Command(args) };
            case "ENV":
            {
                var env = (c.Env ?? []).ToList();
                foreach (var (key, value) in InstructionArguments.Pairs(args, allowLegacy: true, Invalid))
                {
                    env.RemoveAll(e => e == key || e.StartsWith(key + "=", StringComparison.Ordinal));
                    env.Add(key + "=" + value);
                }
                return c with { Env = env };
            }
            case "LABEL":
            {
                var labels = new Dictionary<string, string>(c.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
                foreach (var (key, value) in InstructionArguments.Pairs(args, allowLegacy: true, Invalid)) labels[key] = value;
                return c with { Labels = labels };
            }
            case "EXPOSE":
            {
                var ports = new Dictionary<string, EmptyObject>(c.ExposedPorts ?? new Dictionary<string, EmptyObject>(), StringComparer.Ordinal);
                foreach (string p in InstructionArguments.Words(args, Invalid))
                {
                    string[] parts = p.Split('/');
                    if (parts.Length > 2 || !ushort.TryParse(parts[0], out ushort port) || port == 0 || (parts.Length == 2 && parts[1].ToLowerInvariant() is not ("tcp" or "udp" or "sctp")))
                        throw Invalid($"ports as PORT or PORT/tcp|udp|sctp, not '{p}'");
                    ports[port + "/" + (parts.Length == 2 ? parts[1].ToLowerInvariant() : "tcp")] = new EmptyObject();
                }
                return c with { ExposedPorts = ports };
            }
            case "WORKDIR":
            {
                string dir = args.Trim();
                if (!dir.StartsWith('/')) dir = (c.WorkingDir ?? "") + "/" + dir;
                return c with { WorkingDir = CleanPath(dir) };
            }
            case "USER":
                if (args.Any(char.IsWhiteSpace)) throw Invalid("one user[:group]");
                return c with { User = args };
            case "VOLUME":
            {
                var volumes = new Dictionary<string, EmptyObject>(c.Volumes ?? new Dictionary<string, EmptyObject>(), StringComparer.Ordinal);
                foreach (string v in InstructionArguments.JsonArray(args) ?? InstructionArguments.Words(args, Invalid))
                {
                    if (!v.StartsWith('/')) throw Invalid($"absolute paths, not '{v}'");
                    volumes[v] = new EmptyObject();
                }
                return c with { Volumes = volumes };
            }
            case "STOPSIGNAL":
                if (args.Any(char.IsWhiteSpace)) throw Invalid("one signal name or number");
                return c with { StopSignal = args };
            default:
                throw Invalid("a known instruction");
        }
    }

    /// <summary>An absolute path with '.', '..' and repeated slashes resolved lexically (Go's path.Clean).</summary>
    public static string CleanPath(string path)
    {
        var parts = new List<string>();
        foreach (string p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == ".") continue;
            if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return "/" + string.Join('/', parts);
    }

    /// <summary>Exec form as written; shell form runs through /bin/sh -c.</summary>
    public static List<string> Command(string args, IReadOnlyList<string>? shell = null) =>
        InstructionArguments.JsonArray(args) ?? [.. shell ?? ["/bin/sh", "-c"], args];
}
