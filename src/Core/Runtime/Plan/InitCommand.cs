using System.Globalization;

namespace Containers.Core.Runtime.Plan;

/// <summary>
/// The command lines of <c>pscontainers-init</c>, in one definition: Core builds them with <see cref="ToArgs"/> and
/// Init reads them with <see cref="Parse"/>, so the two cannot drift apart. <see cref="Parse"/> returns null for a
/// command line that is not one of these (Init's usage error, exit code 2).
/// </summary>
internal abstract record InitCommand
{
    public const string Usage = "usage: pscontainers-init --version | probe | run --plan <plan.json> [--await-go | --restarts N --streak K] | spare --idle-seconds N [--warm <plan.json>] | exec --state-dir <dir> --process <process.json> | remove-tree --uid-map C:H:S[,...] --gid-map C:H:S[,...] [--newuidmap <path> --newgidmap <path>] <dir>";

    public abstract string[] ToArgs();

    public static InitCommand? Parse(string[] args) => args switch
    {
        ["--version"] => new InitVersion(),
        ["probe"] => new InitProbe(),
        ["run", "--plan", var plan] => new InitRun(plan),
        ["run", "--plan", var plan, "--await-go"] => new InitRun(plan) { AwaitGo = true },
        ["run", "--plan", var plan, "--restarts", var n, "--streak", var k] when int.TryParse(n, CultureInfo.InvariantCulture, out int restarts)
            && int.TryParse(k, CultureInfo.InvariantCulture, out int streak) && restarts >= 0 && streak >= 0 => new InitRun(plan) { Restarts = restarts, Streak = streak },
        ["spare", "--idle-seconds", var idle] when int.TryParse(idle, CultureInfo.InvariantCulture, out int seconds) && seconds > 0 => new InitSpare(seconds),
        ["spare", "--idle-seconds", var idle, "--warm", var plan] when int.TryParse(idle, CultureInfo.InvariantCulture, out int seconds) && seconds > 0 => new InitSpare(seconds, plan),
        ["exec", "--state-dir", var stateDir, "--process", var process] => new InitExec(stateDir, process),
        ["remove-tree", ..] => InitRemoveTree.ParseOptions(args),
        ["remove-inside", var dir] => new InitRemoveInside(dir),
        _ => null,
    };

    /// <summary>"C:H:S,C:H:S" for id maps on a command line.</summary>
    public static string FormatMaps(IEnumerable<LinuxIdMapping> maps) =>
        string.Join(',', maps.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.ContainerId}:{m.HostId}:{m.Size}")));

    /// <summary>The inverse of <see cref="FormatMaps"/>; throws FormatException for anything else or an empty list.</summary>
    public static List<LinuxIdMapping> ParseMaps(string text)
    {
        var list = new List<LinuxIdMapping>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = part.Split(':');
            if (f.Length != 3) throw new FormatException(part);
            list.Add(new LinuxIdMapping
            {
                ContainerId = uint.Parse(f[0], CultureInfo.InvariantCulture),
                HostId = uint.Parse(f[1], CultureInfo.InvariantCulture),
                Size = uint.Parse(f[2], CultureInfo.InvariantCulture),
            });
        }
        if (list.Count == 0) throw new FormatException(text);
        return list;
    }
}

/// <summary><c>--version</c>: prints the version.</summary>
internal sealed record InitVersion : InitCommand
{
    public override string[] ToArgs() => ["--version"];
}

/// <summary><c>probe</c>: prints a <see cref="FeatureProbe"/>.</summary>
internal sealed record InitProbe : InitCommand
{
    public override string[] ToArgs() => ["probe"];
}

/// <summary><c>run --plan &lt;plan.json&gt;</c>: starts the container of a <see cref="LaunchPlan"/> and stays as its monitor.</summary>
internal sealed record InitRun(string PlanPath) : InitCommand
{
    /// <summary>The monitor runs itself again (execve, same pid) to restart the container: how many restarts so far, and
    /// how many short runs in a row (the backoff). Only the monitor passes them.</summary>
    public int Restarts { get; init; }
    public int Streak { get; init; }

    /// <summary>The monitor prepares the start from the plan but makes the container only once its caller has written one
    /// byte, 1, to its stdin (the caller makes the cgroups meanwhile); anything else (end-of-file: the caller gave up or
    /// died) ends it with nothing started.</summary>
    public bool AwaitGo { get; init; }

    public override string[] ToArgs() =>
        AwaitGo ? ["run", "--plan", PlanPath, "--await-go"]
        : Restarts == 0 && Streak == 0 ? ["run", "--plan", PlanPath]
        : ["run", "--plan", PlanPath, "--restarts", Restarts.ToString(CultureInfo.InvariantCulture), "--streak", Streak.ToString(CultureInfo.InvariantCulture)];
}

/// <summary>
/// <c>spare --idle-seconds N [--warm &lt;plan.json&gt;]</c>: a monitor started ahead of need. It waits on stdin for the
/// arguments of one <see cref="InitRun"/> (each ended by a NUL byte, then an empty one or end-of-file) and then does
/// exactly what that command line does (stdin stays its stdin: an <see cref="InitRun.AwaitGo"/> byte comes there next);
/// end-of-file with nothing read (its session ended or gave it up) or N seconds without input end it with exit code 0.
/// Meanwhile it reads and prepares the plan given with --warm (the last start's), as a rehearsal.
/// </summary>
internal sealed record InitSpare(int IdleSeconds, string? WarmPlan = null) : InitCommand
{
    public override string[] ToArgs() => WarmPlan is null
        ? ["spare", "--idle-seconds", IdleSeconds.ToString(CultureInfo.InvariantCulture)]
        : ["spare", "--idle-seconds", IdleSeconds.ToString(CultureInfo.InvariantCulture), "--warm", WarmPlan];
}

/// <summary><c>exec --state-dir &lt;dir&gt; --process &lt;process.json&gt;</c>: runs a process inside a running container.</summary>
internal sealed record InitExec(string StateDir, string ProcessFile) : InitCommand
{
    public override string[] ToArgs() => ["exec", "--state-dir", StateDir, "--process", ProcessFile];
}

/// <summary>
/// <c>remove-tree --uid-map C:H:S[,...] --gid-map C:H:S[,...] [--newuidmap P --newgidmap P] &lt;dir&gt;</c>: deletes a tree
/// in a new user namespace with those maps (helpers write ranges).
/// </summary>
internal sealed record InitRemoveTree(List<LinuxIdMapping> Uids, List<LinuxIdMapping> Gids, string? NewUidMap, string? NewGidMap, string Dir) : InitCommand
{
    public override string[] ToArgs()
    {
        var args = new List<string> { "remove-tree", "--uid-map", FormatMaps(Uids), "--gid-map", FormatMaps(Gids) };
        if (NewUidMap is not null) args.AddRange(["--newuidmap", NewUidMap]);
        if (NewGidMap is not null) args.AddRange(["--newgidmap", NewGidMap]);
        args.Add(Dir);
        return [.. args];
    }

    internal static InitRemoveTree? ParseOptions(string[] args)
    {
        string? uidMap = null, gidMap = null, newUidMap = null, newGidMap = null, dir = null;
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (a)
            {
                case "--uid-map": uidMap = Next(); break;
                case "--gid-map": gidMap = Next(); break;
                case "--newuidmap": newUidMap = Next(); break;
                case "--newgidmap": newGidMap = Next(); break;
                default: if (dir is null && !a.StartsWith("--", StringComparison.Ordinal)) dir = a; else return null; break;
            }
        }
        if (uidMap is null || gidMap is null || dir is null || !Path.IsPathRooted(dir)) return null;
        try { return new InitRemoveTree(ParseMaps(uidMap), ParseMaps(gidMap), newUidMap, newGidMap, dir); }
        catch (Exception e) when (e is FormatException or OverflowException) { return null; }
    }
}

/// <summary><c>remove-inside &lt;dir&gt;</c>: the second half of <see cref="InitRemoveTree"/>, run as root of the new user namespace.</summary>
internal sealed record InitRemoveInside(string Dir) : InitCommand
{
    public override string[] ToArgs() => ["remove-inside", Dir];
}
