namespace Containers.Core.Runtime.Plan;

/// <summary>Linux capability numbers by their runtime-spec names (<c>CAP_CHOWN</c> ...).</summary>
internal static class CapabilityTable
{
    private static readonly string[] ByNumber =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    /// <summary>The highest capability number this table knows (CAP_LAST_CAP of kernel 5.9+).</summary>
    public static int Last => ByNumber.Length - 1;

    /// <summary>All names, in number order.</summary>
    public static IReadOnlyList<string> Names => ByNumber;

    /// <summary>The capability's number, or -1 for an unknown name. Accepts the name with or without the <c>CAP_</c> prefix, any case.</summary>
    public static int Number(string name)
    {
        string n = name.Trim().ToUpperInvariant();
        if (!n.StartsWith("CAP_", StringComparison.Ordinal)) n = "CAP_" + n;
        return Array.IndexOf(ByNumber, n);
    }

    /// <summary>The name of a capability number.</summary>
    public static string? Name(int number) => number >= 0 && number < ByNumber.Length ? ByNumber[number] : null;

    /// <summary>A 64-bit mask of the named capabilities (unknown names are ignored; validate with <see cref="Number"/> first).</summary>
    public static ulong Mask(IEnumerable<string>? names)
    {
        ulong mask = 0;
        if (names is null) return 0;
        foreach (string name in names)
            if (Number(name) is var n and >= 0) mask |= 1UL << n;
        return mask;
    }
}
