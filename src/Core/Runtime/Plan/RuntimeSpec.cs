using System.Text.Json.Serialization;

namespace Containers.Core.Runtime.Plan;

// The subset of the OCI runtime-spec (config.json of a bundle) that this project writes and executes.
// Property names are the spec's own (camelCase via PlanJsonContext; a few fields such as
// "containerID" are spelled explicitly), so crun and runc run the same bundle.
// See https://github.com/opencontainers/runtime-spec/blob/main/config.md.

/// <summary>The root object of an OCI bundle's <c>config.json</c>.</summary>
internal sealed class RuntimeSpec
{
    /// <summary>The runtime-spec version this document follows.</summary>
    public string OciVersion { get; set; } = "1.0.2";
    /// <summary>The container's first process.</summary>
    public RuntimeProcess? Process { get; set; }
    /// <summary>The root filesystem; its path is relative to the bundle or absolute.</summary>
    public RuntimeRoot? Root { get; set; }
    /// <summary>Hostname inside the container's UTS namespace.</summary>
    public string? Hostname { get; set; }
    /// <summary>Mounts, performed in order after the rootfs is mounted and before pivot_root.</summary>
    public List<RuntimeMount>? Mounts { get; set; }
    /// <summary>Linux-specific configuration.</summary>
    public RuntimeLinux? Linux { get; set; }
    /// <summary>Free-form metadata (our own keys start with <c>io.pscontainers.</c>).</summary>
    public Dictionary<string, string>? Annotations { get; set; }
}

/// <summary>A process to run: the container's init, or one started by exec.</summary>
internal sealed class RuntimeProcess
{
    /// <summary>Whether a pseudo-terminal is attached (stdout and stderr are then one stream).</summary>
    public bool Terminal { get; set; }
    /// <summary>The user (numeric, already resolved by Core against the image's /etc/passwd).</summary>
    public RuntimeUser User { get; set; } = new();
    /// <summary>argv; <c>Args[0]</c> is looked up in PATH of <see cref="Env"/> when it has no slash.</summary>
    public List<string> Args { get; set; } = [];
    /// <summary>Environment, <c>NAME=value</c>.</summary>
    public List<string>? Env { get; set; }
    /// <summary>Absolute working directory inside the container.</summary>
    public string Cwd { get; set; } = "/";
    /// <summary>Capability sets by name (<c>CAP_CHOWN</c> ...); null sets are empty.</summary>
    public LinuxCapabilities? Capabilities { get; set; }
    /// <summary>Resource limits set with setrlimit before execve.</summary>
    public List<PosixRlimit>? Rlimits { get; set; }
    /// <summary>Sets PR_SET_NO_NEW_PRIVS.</summary>
    public bool NoNewPrivileges { get; set; }
    /// <summary>Value for /proc/self/oom_score_adj.</summary>
    public int? OomScoreAdj { get; set; }
}

/// <summary>Numeric user and groups of a process.</summary>
internal sealed class RuntimeUser
{
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    /// <summary>Supplementary groups (setgroups).</summary>
    public List<uint>? AdditionalGids { get; set; }
    /// <summary>Umask (the spec places it under user).</summary>
    public uint? Umask { get; set; }
}

/// <summary>The five capability sets, by name.</summary>
internal sealed class LinuxCapabilities
{
    public List<string>? Bounding { get; set; }
    public List<string>? Effective { get; set; }
    public List<string>? Inheritable { get; set; }
    public List<string>? Permitted { get; set; }
    public List<string>? Ambient { get; set; }

    /// <summary>The one capability rule: the bounding set for everyone; root also gets it effective and permitted, any other user none.</summary>
    public static LinuxCapabilities For(uint uid, IReadOnlyList<string> bounding) => new()
    {
        Bounding = [.. bounding],
        Effective = uid == 0 ? [.. bounding] : [],
        Permitted = uid == 0 ? [.. bounding] : [],
    };
}

/// <summary>One rlimit; <see cref="Type"/> is <c>RLIMIT_NOFILE</c> and the like.</summary>
internal sealed class PosixRlimit
{
    public string Type { get; set; } = "";
    public ulong Hard { get; set; }
    public ulong Soft { get; set; }
}

/// <summary>The container's root filesystem.</summary>
internal sealed class RuntimeRoot
{
    /// <summary>Path of the rootfs (relative to the bundle directory, or absolute).</summary>
    public string Path { get; set; } = "rootfs";
    /// <summary>Remount the root read-only after all mounts.</summary>
    public bool Readonly { get; set; }
}

/// <summary>One mount, performed inside the container's mount namespace.</summary>
internal sealed class RuntimeMount
{
    /// <summary>Absolute path inside the container.</summary>
    public string Destination { get; set; } = "";
    /// <summary>Filesystem type (<c>proc</c>, <c>tmpfs</c>, <c>bind</c> ...); bind mounts may say <c>bind</c> or give a "bind" option.</summary>
    public string? Type { get; set; }
    /// <summary>Device, host path for binds, or the fs name.</summary>
    public string? Source { get; set; }
    /// <summary>mount(8)-style options: flags (<c>nosuid</c>, <c>ro</c>, <c>rbind</c> ...) and data (<c>mode=755</c>).</summary>
    public List<string>? Options { get; set; }
}

/// <summary>Linux-specific configuration.</summary>
internal sealed class RuntimeLinux
{
    /// <summary>Namespaces to create (no path) or join (path).</summary>
    public List<LinuxNamespace>? Namespaces { get; set; }
    /// <summary>uid mappings of the user namespace.</summary>
    public List<LinuxIdMapping>? UidMappings { get; set; }
    /// <summary>gid mappings of the user namespace.</summary>
    public List<LinuxIdMapping>? GidMappings { get; set; }
    /// <summary>Cgroup limits (Core applies them; Init only places the pid).</summary>
    public LinuxResources? Resources { get; set; }
    /// <summary>The cgroup path (relative to each hierarchy's root).</summary>
    public string? CgroupsPath { get; set; }
    /// <summary>Paths made unreadable (/dev/null bind for files, read-only empty tmpfs for directories).</summary>
    public List<string>? MaskedPaths { get; set; }
    /// <summary>Paths remounted read-only.</summary>
    public List<string>? ReadonlyPaths { get; set; }
    /// <summary>The seccomp filter installed just before execve.</summary>
    public LinuxSeccomp? Seccomp { get; set; }
    /// <summary>Device nodes to create in /dev (besides the default set).</summary>
    public List<LinuxDevice>? Devices { get; set; }
    /// <summary>Sysctls written under /proc/sys inside the container.</summary>
    public Dictionary<string, string>? Sysctl { get; set; }
    /// <summary>Propagation of the rootfs mount (<c>private</c>, <c>rprivate</c>, <c>slave</c> ...).</summary>
    public string? RootfsPropagation { get; set; }
}

/// <summary>A namespace: <c>pid</c>, <c>network</c>, <c>mount</c>, <c>ipc</c>, <c>uts</c>, <c>user</c>, <c>cgroup</c>.</summary>
internal sealed class LinuxNamespace
{
    public string Type { get; set; } = "";
    /// <summary>A namespace file to join instead of creating a new namespace.</summary>
    public string? Path { get; set; }
}

/// <summary>One id mapping line (container id, host id, count).</summary>
internal sealed class LinuxIdMapping
{
    [JsonPropertyName("containerID")] public uint ContainerId { get; set; }
    [JsonPropertyName("hostID")] public uint HostId { get; set; }
    public uint Size { get; set; }
}

/// <summary>Cgroup resource limits.</summary>
internal sealed class LinuxResources
{
    public LinuxMemory? Memory { get; set; }
    public LinuxCpu? Cpu { get; set; }
    public LinuxPids? Pids { get; set; }
    /// <summary>Device cgroup rules.</summary>
    public List<LinuxDeviceCgroup>? Devices { get; set; }
}

internal sealed class LinuxMemory
{
    /// <summary>Memory limit in bytes.</summary>
    public long? Limit { get; set; }
    public long? Reservation { get; set; }
    /// <summary>Memory + swap limit in bytes.</summary>
    public long? Swap { get; set; }
    public ulong? Swappiness { get; set; }
    public bool? DisableOOMKiller { get; set; }
}

internal sealed class LinuxCpu
{
    public ulong? Shares { get; set; }
    /// <summary>CPU time in microseconds per <see cref="Period"/>.</summary>
    public long? Quota { get; set; }
    public ulong? Period { get; set; }
    public string? Cpus { get; set; }
    public string? Mems { get; set; }
}

internal sealed class LinuxPids
{
    public long Limit { get; set; }
}

/// <summary>A device cgroup rule.</summary>
internal sealed class LinuxDeviceCgroup
{
    public bool Allow { get; set; }
    /// <summary><c>a</c>, <c>c</c> or <c>b</c>.</summary>
    public string? Type { get; set; }
    public long? Major { get; set; }
    public long? Minor { get; set; }
    /// <summary>Combination of <c>r</c>, <c>w</c>, <c>m</c>.</summary>
    public string? Access { get; set; }
}

/// <summary>A device node to create inside the container.</summary>
internal sealed class LinuxDevice
{
    public string Path { get; set; } = "";
    /// <summary><c>c</c>, <c>b</c>, <c>u</c> or <c>p</c>.</summary>
    public string Type { get; set; } = "c";
    public long Major { get; set; }
    public long Minor { get; set; }
    public uint? FileMode { get; set; }
    public uint? Uid { get; set; }
    public uint? Gid { get; set; }
}

/// <summary>A seccomp filter: a default action and rules by syscall name.</summary>
internal sealed class LinuxSeccomp
{
    /// <summary><c>SCMP_ACT_ALLOW</c>, <c>SCMP_ACT_ERRNO</c>, <c>SCMP_ACT_KILL</c> ...</summary>
    public string DefaultAction { get; set; } = "SCMP_ACT_ALLOW";
    /// <summary>errno for a default action of SCMP_ACT_ERRNO (EPERM when null).</summary>
    public uint? DefaultErrnoRet { get; set; }
    /// <summary><c>SCMP_ARCH_X86_64</c> ...; other architectures are refused by the filter.</summary>
    public List<string>? Architectures { get; set; }
    public List<LinuxSyscall>? Syscalls { get; set; }
}

/// <summary>An action for a set of syscalls, optionally only when arguments match.</summary>
internal sealed class LinuxSyscall
{
    public List<string> Names { get; set; } = [];
    public string Action { get; set; } = "SCMP_ACT_ERRNO";
    /// <summary>errno for SCMP_ACT_ERRNO (EPERM when null).</summary>
    public uint? ErrnoRet { get; set; }
    /// <summary>All must match (AND) for the rule to apply.</summary>
    public List<LinuxSeccompArg>? Args { get; set; }
}

/// <summary>An argument comparison: <c>SCMP_CMP_EQ</c>, <c>SCMP_CMP_NE</c>, <c>SCMP_CMP_MASKED_EQ</c> (value is the mask, valueTwo the result) ...</summary>
internal sealed class LinuxSeccompArg
{
    public uint Index { get; set; }
    public ulong Value { get; set; }
    public ulong ValueTwo { get; set; }
    public string Op { get; set; } = "SCMP_CMP_EQ";
}
