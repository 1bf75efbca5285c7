using Containers.Core.Errors;

namespace Containers.Core.Build;

/// <summary>One instruction of a Containerfile: keyword, --flags, the rest of the line, and where it was.</summary>
internal sealed record Instruction(string Keyword, IReadOnlyDictionary<string, string> Flags, string Arguments, string File, int Line)
{
    /// <summary>"Containerfile:12" for messages.</summary>
    public string Where => $"{File}:{Line}";
    /// <summary>The instruction as written (keyword, flags, arguments), for history and the cache key.</summary>
    public string Text => string.Join(' ', new[] { Keyword }.Concat(Flags.Select(f => $"--{f.Key}={f.Value}")).Concat(Mounts.Select(m => "--mount=" + m)).Append(Arguments));
    public ContainersException Invalid(string expected) => InstructionArguments.Invalid(Where, Keyword, expected, Arguments);
    /// <summary>The here-documents the line opens (RUN, COPY and ADD only), in order.</summary>
    public IReadOnlyList<Heredoc> Heredocs { get; init; } = [];
    /// <summary>The <c>--mount=</c> flags of a RUN, in order (the only flag that may repeat).</summary>
    public IReadOnlyList<string> Mounts { get; init; } = [];
}

/// <summary>A build stage: its FROM line (base, name) and the instructions after it.</summary>
internal sealed record BuildStage(int Index, string Base, string? Name, Instruction From, IReadOnlyList<Instruction> Instructions);

/// <summary>
/// A parsed Containerfile (Dockerfile syntax): the parser directive <c># escape=</c>, comments, line
/// continuations, ARGs before the first FROM, stages, and heredocs (<c>RUN &lt;&lt;EOF</c>, <c>COPY &lt;&lt;EOF /dest</c>)
/// whose bodies follow the instruction's line.
/// </summary>
internal sealed class Containerfile
{
    private static readonly HashSet<string> Known =
    [
        "FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "USER", "LABEL", "EXPOSE", "ENTRYPOINT", "CMD", "VOLUME",
        "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ONBUILD", "MAINTAINER",
    ];

    public required IReadOnlyList<Instruction> GlobalArgs { get; init; }
    public required IReadOnlyList<BuildStage> Stages { get; init; }

    public static Containerfile Parse(string text, string file)
    {
        char escape = '\\';
        var lines = text.Replace("\r\n", "\n").Split('\n');
        int i = 0;
        // Parser directives: only at the very top, "# name=value", before any comment or instruction.
        for (; i < lines.Length; i++)
        {
            string l = lines[i].Trim();
            if (!l.StartsWith('#')) break;
            string body = l[1..].Trim();
            int eq = body.IndexOf('=');
            if (eq <= 0 || body[..eq].Trim().Any(char.IsWhiteSpace)) break;
            string name = body[..eq].Trim().ToLowerInvariant(), value = body[(eq + 1)..].Trim();
            if (name == "escape")
            {
                if (value is not ("\\" or "`"))
                    throw InstructionArguments.Invalid($"{file}:{i + 1}", "the escape directive", "\\ or `", value);
                escape = value[0];
            }
        }

        var instructions = new List<Instruction>();
        while (i < lines.Length)
        {
            int start = i;
            string line = lines[i++];
            if (IsBlankOrComment(line)) continue;
            var joined = new System.Text.StringBuilder();
            while (true)
            {
                string trimmed = line.TrimEnd();
                if (trimmed.EndsWith(escape) && i <= lines.Length)
                {
                    joined.Append(trimmed[..^1]);
                    // Comment and empty lines inside a continuation are dropped, as Docker does.
                    while (i < lines.Length && IsBlankOrComment(lines[i])) i++;
                    if (i >= lines.Length) break;
                    line = lines[i++];
                    continue;
                }
                joined.Append(line);
                break;
            }
            var ins = ParseInstruction(joined.ToString().Trim(), file, start + 1);
            instructions.Add(ins with { Heredocs = Heredocs.Read(ins.Keyword, ins.Arguments, lines, ref i, ins.Where) });
        }

        var globals = new List<Instruction>();
        var stages = new List<BuildStage>();
        List<Instruction>? current = null;
        Instruction? from = null;
        foreach (var ins in instructions)
        {
            if (ins.Keyword == "FROM")
            {
                if (from is not null) stages.Add(MakeStage(stages.Count, from, current!));
                from = ins;
                current = [];
            }
            else if (current is null)
            {
                if (ins.Keyword != "ARG") throw ins.Invalid("to come after FROM (only ARG may come before the first FROM)");
                globals.Add(ins);
            }
            else current.Add(ins);
        }
        if (from is null)
            throw new ContainersException("InvalidContainerfileSyntax", ErrorKind.InvalidArgument, $"{file}: there is no FROM instruction.", file,
                "Start the build stage with FROM <image> or FROM scratch.");
        stages.Add(MakeStage(stages.Count, from, current!));
        return new Containerfile { GlobalArgs = globals, Stages = stages };
    }

    private static bool IsBlankOrComment(string line) => line.TrimStart() is var t && (t.Length == 0 || t[0] == '#');

    private static BuildStage MakeStage(int index, Instruction from, List<Instruction> body)
    {
        var words = InstructionArguments.Words(from.Arguments, e => from.Invalid(e));
        if (words.Count == 1) return new BuildStage(index, words[0], null, from, body);
        if (words.Count == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase)) return new BuildStage(index, words[0], words[2].ToLowerInvariant(), from, body);
        throw from.Invalid("an image and optionally 'AS name'");
    }

    private static Instruction ParseInstruction(string text, string file, int line)
    {
        int space = text.IndexOfAny([' ', '\t']);
        string keyword = (space < 0 ? text : text[..space]).ToUpperInvariant();
        string rest = space < 0 ? "" : text[(space + 1)..].TrimStart();
        if (!Known.Contains(keyword))
            throw new ContainersException("InvalidContainerfileSyntax", ErrorKind.InvalidArgument,
                $"{file}:{line}: '{keyword}' is not an instruction.", $"{file}:{line}", "Check the spelling; instructions are FROM, RUN, COPY, ADD, ENV, ARG, ...");
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var mounts = new List<string>();
        while (rest.StartsWith("--", StringComparison.Ordinal) && keyword is "FROM" or "RUN" or "COPY" or "ADD" or "HEALTHCHECK")
        {
            int end = rest.IndexOfAny([' ', '\t']);
            string flag = end < 0 ? rest : rest[..end];
            rest = end < 0 ? "" : rest[(end + 1)..].TrimStart();
            int eq = flag.IndexOf('=');
            string name = eq < 0 ? flag[2..] : flag[2..eq], value = eq < 0 ? "true" : flag[(eq + 1)..];
            if (keyword == "RUN" && name == "mount") mounts.Add(value);
            else flags[name] = value;
        }
        var ins = new Instruction(keyword, flags, rest, file, line) { Mounts = mounts };
        if (rest.Length == 0) throw ins.Invalid("arguments");
        return ins;
    }
}
