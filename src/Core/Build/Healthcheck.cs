using System.Globalization;
using Containers.Core.Spec;

namespace Containers.Core.Build;

/// <summary>HEALTHCHECK [--interval=30s --timeout=30s --start-period=0s --retries=3] CMD command | NONE.</summary>
internal static class Healthcheck
{
    public static HealthConfig Parse(Instruction ins)
    {
        string args = ins.Arguments.Trim();
        if (args.Equals("NONE", StringComparison.OrdinalIgnoreCase)) return new HealthConfig { Test = ["NONE"] };
        if (!args.StartsWith("CMD", StringComparison.OrdinalIgnoreCase) || args.Length < 4 || !char.IsWhiteSpace(args[3]))
            throw ins.Invalid("CMD <command> or NONE");
        string cmd = args[4..].Trim();
        var test = InstructionArguments.JsonArray(cmd) is { } exec ? ["CMD", .. exec] : new List<string> { "CMD-SHELL", cmd };
        var h = new HealthConfig { Test = test };
        foreach (var (flag, value) in ins.Flags)
        {
            h = flag switch
            {
                "interval" => h with { Interval = Duration(ins, flag, value) },
                "timeout" => h with { Timeout = Duration(ins, flag, value) },
                "start-period" => h with { StartPeriod = Duration(ins, flag, value) },
                "retries" => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int r) ? h with { Retries = r } : throw ins.Invalid("--retries=<number>"),
                _ => throw ins.Invalid($"the flags --interval, --timeout, --start-period, --retries, not --{flag}"),
            };
        }
        return h;
    }

    /// <summary>Go-style durations: 30s, 1m30s, 500ms, 1h.</summary>
    private static long Duration(Instruction ins, string flag, string value)
    {
        var m = System.Text.RegularExpressions.Regex.Matches(value, @"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)");
        if (m.Count == 0 || string.Concat(m.Select(x => x.Value)) != value) throw ins.Invalid($"--{flag}=<duration such as 30s>");
        double ns = 0;
        foreach (System.Text.RegularExpressions.Match x in m)
            ns += double.Parse(x.Groups[1].Value, CultureInfo.InvariantCulture) * x.Groups[2].Value switch
            {
                "ns" => 1,
                "us" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                _ => 3600e9,
            };
        return (long)ns;
    }
}
