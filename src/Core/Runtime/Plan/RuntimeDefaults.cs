namespace Containers.Core.Runtime.Plan;

/// <summary>
/// The defaults a container gets unless Core is asked otherwise: the same as podman/crun so that a
/// process sees the same things under either runtime. Each call returns fresh lists (callers edit them).
/// </summary>
public static class RuntimeDefaults
{
    /// <summary>podman's default capability set (bounding = effective = permitted; inheritable and ambient empty for a non-root user).</summary>
    public static List<string> Capabilities() =>
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
    ];

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

    /// <summary>The standard mounts: /proc, /dev (tmpfs), /dev/pts, /dev/shm, /dev/mqueue, /sys (read-only).</summary>
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
    ];

    /// <summary>
    /// The syscalls podman's default profile refuses to a container without extra capabilities, as a
    /// default-allow filter that answers EPERM (the kernel-module, clock, reboot, swap, keyring, ptrace,
    /// mount and namespace families, bpf, perf_event_open, userfaultfd ...).
    /// </summary>
    public static LinuxSeccomp Seccomp() => new()
    {
        DefaultAction = "SCMP_ACT_ALLOW",
        Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        Syscalls =
        [
            new LinuxSyscall
            {
                Action = "SCMP_ACT_ERRNO",
                ErrnoRet = 1,
                Names =
                [
                    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
                    "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
                    "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
                    "mbind", "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
                    "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "process_vm_readv", "process_vm_writev",
                    "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key", "set_mempolicy", "setns",
                    "settimeofday", "swapoff", "swapon", "_sysctl", "sysfs", "umount2", "unshare", "uselib", "userfaultfd",
                    "ustat", "vm86", "vm86old",
                ],
            },
        ],
    };
}
