namespace Containers.Core.Runtime.Plan;

/// <summary>
/// The defaults a container gets unless Core is asked otherwise: the same as podman/crun so that a
/// process sees the same things under either runtime. Each call returns fresh lists (callers edit them).
/// </summary>
internal static class RuntimeDefaults
{
    /// <summary>podman's default capability set (bounding = effective = permitted; inheritable and ambient empty for a non-root user).</summary>
    public static List<string> Capabilities() =>
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
    ];

    /// <summary>Annotation ("true") that makes Init stay as the container's PID 1, a minimal init that forwards signals to the
    /// command and reaps zombies (-Init). Other runtimes ignore it.</summary>
    public const string InitAnnotation = "io.pscontainers.init";

    /// <summary>Annotation ("true") of a pod's infra container: Init does every step but the exec and pauses in the
    /// namespaces instead (the pod's other containers join them). Other runtimes ignore it.</summary>
    public const string PodInfraAnnotation = "io.pscontainers.pod-infra";

    /// <summary>The default PATH when the image sets none.</summary>
    public const string Path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The hard limit we never exceed for RLIMIT_NOFILE (root here lacks CAP_SYS_RESOURCE).</summary>
    public const ulong MaxOpenFiles = 1024 * 1024;

    /// <summary>Runtime-spec default masked paths (made unreadable).</summary>
    public static List<string> MaskedPaths() =>
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/dev/block", "/sys/devices/virtual/powercap",
    ];

    /// <summary>Runtime-spec default read-only paths.</summary>
    public static List<string> ReadonlyPaths() =>
        ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>The standard mounts: /proc, /dev (tmpfs), /dev/pts, /dev/shm, /dev/mqueue, /sys and /sys/fs/cgroup (read-only).</summary>
    /// <param name="rootless">In a user namespace /sys cannot be mounted when the netns is the host's; this keeps the same list (Init falls back to a recursive bind of the host /sys).</param>
    public static List<RuntimeMount> Mounts(bool rootless = false) =>
    [
        new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
        new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
        new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = rootless
            ? ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
            : ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
        new() { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
        new() { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
        new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
        // The container's own cgroups, read-only (podman's entry; runc and Init expand it per hierarchy on cgroup v1).
        new() { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ];

    /// <summary>The default filter resolved for a container with these capabilities (podman's default set when null).</summary>
    public static LinuxSeccomp Seccomp(IEnumerable<string>? capabilities = null) => SeccompProfile().Resolve(capabilities ?? Capabilities());

    /// <summary>CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET.</summary>
    public static IEnumerable<ulong> NamespaceFlags() => [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

    /// <summary>TIOCSTI (push a byte into a terminal's input) and TIOCLINUX (its console subcodes include a paste).</summary>
    public const ulong Tiocsti = 0x5412, Tioclinux = 0x541C;

    /// <summary>
    /// The default profile: everything allowed except what Docker's and podman's default profiles refuse to a container
    /// without extra capabilities, as EPERM (the kernel-module, clock, reboot, swap, keyring, ptrace, mount and namespace
    /// families, io_uring, userfaultfd ...). Namespaces cannot be made through clone either (only CAP_SYS_ADMIN may), clone3
    /// answers ENOSYS (its flags live in memory a filter cannot read; glibc then falls back to clone), and no process may
    /// push input into a terminal (TIOCSTI, TIOCLINUX). Rules with <c>Excludes</c> follow the container's capabilities.
    /// </summary>
    public static SeccompProfile SeccompProfile() => new()
    {
        DefaultAction = "SCMP_ACT_ALLOW",
        Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        Syscalls =
        [
            // One denial per namespace flag rather than Docker's "allow when none is set, then deny": libseccomp (crun, runc
            // running this bundle) does not keep rule order and drops a rule whose action is the default one. The kernel
            // reads clone's flags as an int: only the low 32 bits are compared.
            .. NamespaceFlags().Select(flag => new SeccompProfileRule
            {
                Names = ["clone"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1, Excludes = SysAdmin, Args = [Masked(0, flag, flag)],
            }),
            new() { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 38, Excludes = SysAdmin },
            // ioctl's request is an unsigned int: compare the low 32 bits only, so high bits set by the caller change nothing.
            new() { Names = ["ioctl"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1, Args = [Masked(1, 0xFFFFFFFF, Tiocsti)] },
            new() { Names = ["ioctl"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1, Args = [Masked(1, 0xFFFFFFFF, Tioclinux)] },
            new() { Names = ["bpf"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1, Excludes = new() { Caps = ["CAP_SYS_ADMIN", "CAP_BPF"] } },
            new() { Names = ["perf_event_open"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1, Excludes = new() { Caps = ["CAP_SYS_ADMIN", "CAP_PERFMON"] } },
            // Never allowed, whatever the capabilities.
            Deny(null, "add_key", "create_module", "get_kernel_syms", "io_uring_enter", "io_uring_register", "io_uring_setup",
                "kexec_file_load", "kexec_load", "keyctl", "move_pages", "nfsservctl", "query_module", "request_key", "swapoff",
                "swapon", "_sysctl", "sysfs", "uselib", "userfaultfd", "ustat", "vm86", "vm86old"),
            // Guarded by a capability: allowed to a container that has it (podman's and Docker's rule).
            Deny("CAP_SYS_ADMIN", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
                "name_to_handle_at", "open_tree", "pivot_root", "quotactl", "quotactl_fd", "setns", "umount2", "unshare"),
            Deny("CAP_SYS_PTRACE", "kcmp", "process_vm_readv", "process_vm_writev", "ptrace"),
            Deny("CAP_SYS_BOOT", "reboot"),
            Deny("CAP_SYS_MODULE", "delete_module", "finit_module", "init_module"),
            Deny("CAP_SYS_PACCT", "acct"),
            Deny("CAP_SYS_RAWIO", "ioperm", "iopl"),
            Deny("CAP_SYS_TIME", "clock_adjtime", "clock_settime", "settimeofday"),
            Deny("CAP_SYS_NICE", "get_mempolicy", "mbind", "set_mempolicy"),
            Deny("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
        ],
    };

    /// <summary>EPERM for these calls, unless the container has <paramref name="unlessCapability"/>.</summary>
    private static SeccompProfileRule Deny(string? unlessCapability, params string[] names) => new()
    {
        Names = [.. names], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1,
        Excludes = unlessCapability is null ? null : new() { Caps = [unlessCapability] },
    };

    private static SeccompRuleCondition SysAdmin => new() { Caps = ["CAP_SYS_ADMIN"] };

    private static LinuxSeccompArg Masked(uint index, ulong mask, ulong value) =>
        new() { Index = index, Value = mask, ValueTwo = value, Op = "SCMP_CMP_MASKED_EQ" };
}
