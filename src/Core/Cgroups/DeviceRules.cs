using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Cgroups;

/// <summary>
/// The device access rules of a container: the standard allow-list every container gets (the one
/// runc, crun and podman give: null, zero, full, random, urandom, tty, console, ptmx, pts/*, and mknod
/// of any node) after a deny-all, and the v1 cgroup semantics of a rule list, which the v2 program
/// (<see cref="DeviceFilterProgram"/>) reproduces.
/// </summary>
internal static class DeviceRules
{
    /// <summary>Access bits as the kernel's BPF device context encodes them.</summary>
    public const int Mknod = 1, Read = 2, Write = 4, All = 7;

    /// <summary>Deny everything, then allow the standard set (OCI <c>linux.resources.devices</c> order: later rules win).</summary>
    public static IReadOnlyList<LinuxDeviceCgroup> Default { get; } =
    [
        new() { Allow = false, Access = "rwm" },
        new() { Allow = true, Type = "c", Access = "m" },
        new() { Allow = true, Type = "b", Access = "m" },
        Char(1, 3), Char(1, 5), Char(1, 7), Char(1, 8), Char(1, 9), // null, zero, full, random, urandom
        Char(5, 0), Char(5, 1), Char(5, 2), Char(136, null),         // tty, console, ptmx, pts/*
    ];

    private static LinuxDeviceCgroup Char(long major, long? minor) => new() { Allow = true, Type = "c", Major = major, Minor = minor, Access = "rwm" };

    /// <summary>The rules a cgroup gets: the device list of <paramref name="resources"/> when given (a complete OCI list), else <see cref="Default"/>.</summary>
    public static IReadOnlyList<LinuxDeviceCgroup> Effective(LinuxResources? resources) =>
        resources?.Devices is { Count: > 0 } given ? given : Default;

    /// <summary>The default list followed by allow rules for explicitly granted devices.</summary>
    public static List<LinuxDeviceCgroup> WithGrants(IEnumerable<LinuxDeviceCgroup> grants) => [.. Default, .. grants];

    /// <summary>A rule as a v1 devices.allow/devices.deny line: <c>c 1:3 rwm</c>, <c>a *:* rwm</c>.</summary>
    public static string V1Line(LinuxDeviceCgroup rule)
    {
        var (type, access) = (TypeOf(rule), AccessBits(rule.Access));
        return type + " " + Number(rule.Major) + ":" + Number(rule.Minor) + " " + AccessText(access);
    }

    private static string Number(long? n) => n is { } v ? v.ToString(CultureInfo.InvariantCulture) : "*";

    internal static char TypeOf(LinuxDeviceCgroup rule) => rule.Type switch
    {
        null or "" or "a" => 'a',
        "c" => 'c',
        "b" => 'b',
        var t => throw Invalid(rule, $"type '{t}' is not a, c or b"),
    };

    /// <summary>"rwm" → bits; null or empty means all three.</summary>
    public static int AccessBits(string? access)
    {
        if (string.IsNullOrEmpty(access)) return All;
        int bits = 0;
        foreach (char c in access)
            bits |= c switch
            {
                'r' => Read,
                'w' => Write,
                'm' => Mknod,
                _ => throw new ContainersException("InvalidDeviceAccess", ErrorKind.InvalidArgument,
                    $"'{access}' is not a device access: use a combination of r (read), w (write) and m (mknod).", access),
            };
        return bits;
    }

    public static string AccessText(int bits) =>
        ((bits & Read) != 0 ? "r" : "") + ((bits & Write) != 0 ? "w" : "") + ((bits & Mknod) != 0 ? "m" : "");

    internal static ContainersException Invalid(LinuxDeviceCgroup rule, string why) =>
        new("InvalidDeviceRule", ErrorKind.InvalidArgument, $"The device rule {rule.Type} {rule.Major}:{rule.Minor} {rule.Access}: {why}.", rule);
}

/// <summary>
/// What a v1 devices cgroup holds after a rule list was written to it in order: a default behaviour
/// and exceptions (kernel's devices controller: an "a" rule resets both; a rule against the default
/// adds an exception, a rule with it removes access from the same exception).
/// </summary>
internal sealed class DeviceRuleSet
{
    /// <summary>One exception: type 'c' or 'b', major/minor (null = any) and access bits.</summary>
    public sealed record Entry(char Type, long? Major, long? Minor, int Access);

    public bool DefaultAllow { get; private set; } = true;
    public List<Entry> Exceptions { get; } = [];

    public static DeviceRuleSet From(IEnumerable<LinuxDeviceCgroup> rules)
    {
        var set = new DeviceRuleSet();
        foreach (var rule in rules) set.Apply(rule);
        return set;
    }

    private void Apply(LinuxDeviceCgroup rule)
    {
        char type = DeviceRules.TypeOf(rule);
        int access = DeviceRules.AccessBits(rule.Access);
        if (rule.Major is < 0 or > int.MaxValue || rule.Minor is < 0 or > int.MaxValue)
            throw DeviceRules.Invalid(rule, "major and minor must be between 0 and 2147483647");
        if (type == 'a')
        {
            DefaultAllow = rule.Allow;
            Exceptions.Clear();
            return;
        }
        int i = Exceptions.FindIndex(e => e.Type == type && e.Major == rule.Major && e.Minor == rule.Minor);
        if (rule.Allow != DefaultAllow)
        {
            if (i >= 0) Exceptions[i] = Exceptions[i] with { Access = Exceptions[i].Access | access };
            else Exceptions.Add(new Entry(type, rule.Major, rule.Minor, access));
        }
        else if (i >= 0)
        {
            int left = Exceptions[i].Access & ~access;
            if (left == 0) Exceptions.RemoveAt(i);
            else Exceptions[i] = Exceptions[i] with { Access = left };
        }
    }

    /// <summary>The kernel's v1 check: with a deny default an exception must grant every asked bit; with an allow default any overlap denies.</summary>
    public bool Allows(char type, long major, long minor, int access)
    {
        foreach (var e in Exceptions)
        {
            if (e.Type != type || (e.Major is { } ma && ma != major) || (e.Minor is { } mi && mi != minor)) continue;
            if (DefaultAllow ? (e.Access & access) != 0 : (access & ~e.Access) == 0) return !DefaultAllow;
        }
        return DefaultAllow;
    }
}
