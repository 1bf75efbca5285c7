using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime.RunOptions;

/// <summary><c>-Ulimit name=soft[:hard]</c> as podman and Docker read it, turned into OCI <c>process.rlimits</c>.</summary>
internal static class Ulimits
{
    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["as"] = "RLIMIT_AS", ["core"] = "RLIMIT_CORE", ["cpu"] = "RLIMIT_CPU", ["data"] = "RLIMIT_DATA", ["fsize"] = "RLIMIT_FSIZE",
        ["locks"] = "RLIMIT_LOCKS", ["memlock"] = "RLIMIT_MEMLOCK", ["msgqueue"] = "RLIMIT_MSGQUEUE", ["nice"] = "RLIMIT_NICE",
        ["nofile"] = "RLIMIT_NOFILE", ["nproc"] = "RLIMIT_NPROC", ["rss"] = "RLIMIT_RSS", ["rtprio"] = "RLIMIT_RTPRIO",
        ["rttime"] = "RLIMIT_RTTIME", ["sigpending"] = "RLIMIT_SIGPENDING", ["stack"] = "RLIMIT_STACK",
    };

    /// <summary>Parses each item (a later one for the same name wins). <paramref name="openFilesHardLimit"/>: nofile above it
    /// cannot be granted (raising a hard limit needs CAP_SYS_RESOURCE) and is refused here rather than at start.</summary>
    public static List<PosixRlimit> Parse(IEnumerable<string> items, ulong openFilesHardLimit)
    {
        var result = new List<PosixRlimit>();
        foreach (string item in items)
        {
            int eq = item.IndexOf('=');
            string name = eq < 0 ? item.Trim() : item[..eq].Trim().ToLowerInvariant();
            if (eq < 0 || !Names.TryGetValue(name, out string? type))
                throw new ContainersException("UnknownUlimit", ErrorKind.InvalidArgument,
                    eq < 0 ? $"'{item}' is not a ulimit: write name=soft[:hard], e.g. nofile=1024:4096."
                           : $"'{name}' is not a ulimit name.", item,
                    "Use one of: " + string.Join(", ", Names.Keys.Order(StringComparer.Ordinal)) + ".");
            string[] values = item[(eq + 1)..].Split(':');
            if (values.Length > 2 || !TryValue(values[0], out ulong soft) || !TryValue(values[^1], out ulong hard))
                throw new ContainersException("InvalidUlimit", ErrorKind.InvalidArgument,
                    $"'{item}' is not a ulimit value: write name=soft[:hard] with numbers or 'unlimited'.", item);
            if (soft > hard)
                throw new ContainersException("InvalidUlimit", ErrorKind.InvalidArgument,
                    $"'{item}': the soft limit {soft} is above the hard limit {hard}.", item, "Give a soft limit at most the hard one.");
            // The container inherits no more than this process may have: raising a hard limit needs CAP_SYS_RESOURCE
            // (never held by a rootless user, nor by root on some hosts), and setrlimit would fail at every start.
            ulong? max = type == "RLIMIT_NOFILE" ? openFilesHardLimit : HostRlimits.HardLimitWithoutPrivilege(type);
            if (max is { } m && hard > m)
                throw new ContainersException("UlimitTooHigh", ErrorKind.LimitExceeded,
                    $"'{item}': the hard limit cannot exceed {m} here (raising it needs CAP_SYS_RESOURCE).", item,
                    $"Ask for at most {name}={m}.");
            result.RemoveAll(r => r.Type == type);
            result.Add(new PosixRlimit { Type = type, Soft = soft, Hard = hard });
        }
        return result;
    }

    private static bool TryValue(string text, out ulong value)
    {
        string t = text.Trim();
        if (t is "unlimited" or "-1") { value = ulong.MaxValue; return true; }
        return ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
