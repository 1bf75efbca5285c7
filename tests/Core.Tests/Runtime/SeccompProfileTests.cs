using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

/// <summary>The default profile compiled to BPF and run through the interpreter, as the kernel would for each call.</summary>
public class SeccompProfileTests
{
    private const uint X86_64 = SyscallTable.AuditArchX86_64;
    private const uint Eperm = SeccompFilter.RetErrno | 1, Enosys = SeccompFilter.RetErrno | 38, Allow = SeccompFilter.RetAllow;
    private const ulong Sigchld = 17;
    // glibc's pthread_create and fork
    private const ulong ThreadFlags = 0x3d0f00, ForkFlags = 0x01200000 | Sigchld;

    private static int Nr(string name) => SyscallTable.X86_64(name);

    private static List<SeccompFilter.Instruction> Default(params string[] extraCaps) =>
        SeccompFilter.Compile(RuntimeDefaults.Seccomp([.. RuntimeDefaults.Capabilities(), .. extraCaps]));

    [Theory]
    [InlineData(0x10000000UL)] // CLONE_NEWUSER
    [InlineData(0x00020000UL)] // CLONE_NEWNS
    [InlineData(0x20000000UL)] // CLONE_NEWPID
    [InlineData(0x40000000UL)] // CLONE_NEWNET
    [InlineData(0x08000000UL)] // CLONE_NEWIPC
    [InlineData(0x04000000UL)] // CLONE_NEWUTS
    [InlineData(0x02000000UL)] // CLONE_NEWCGROUP
    public void CloneCannotMakeNamespaces(ulong flag)
    {
        var program = Default();
        Assert.Equal(Eperm, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), flag | Sigchld));
        Assert.Equal(Eperm, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), flag | ThreadFlags));
        // The kernel reads the low 32 bits: high bits set by the caller do not hide the flag.
        Assert.Equal(Eperm, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), 0xFFFF_FFFF_0000_0000 | flag | Sigchld));
    }

    [Fact]
    public void ForkAndThreadsStillClone()
    {
        var program = Default();
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), ForkFlags));
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), ThreadFlags));
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), 0x1_0000_0000 | Sigchld));
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("fork")));
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("vfork")));
    }

    [Fact]
    public void Clone3AnswersEnosysSoGlibcFallsBackToClone()
    {
        Assert.Equal(Enosys, SeccompFilter.Evaluate(Default(), X86_64, Nr("clone3")));
    }

    [Fact]
    public void CapSysAdminLiftsTheNamespaceRulesAsDockersProfileDoes()
    {
        var program = Default("CAP_SYS_ADMIN");
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), 0x10000000 | Sigchld));
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("clone3")));
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("bpf")));
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("perf_event_open")));
        Assert.Equal(Allow, SeccompFilter.Evaluate(program, X86_64, Nr("unshare")));
        // Refused whatever the capabilities.
        Assert.Equal(Eperm, SeccompFilter.Evaluate(program, X86_64, Nr("io_uring_setup")));
    }

    [Theory]
    [InlineData("CAP_SYS_PTRACE", "ptrace")]
    [InlineData("CAP_SYS_PTRACE", "process_vm_readv")]
    [InlineData("CAP_SYS_PTRACE", "process_vm_writev")]
    [InlineData("CAP_SYS_PTRACE", "kcmp")]
    [InlineData("CAP_SYS_ADMIN", "mount")]
    [InlineData("CAP_SYS_ADMIN", "umount2")]
    [InlineData("CAP_SYS_ADMIN", "unshare")]
    [InlineData("CAP_SYS_ADMIN", "setns")]
    [InlineData("CAP_SYS_ADMIN", "pivot_root")]
    [InlineData("CAP_SYS_ADMIN", "fsopen")]
    [InlineData("CAP_SYS_BOOT", "reboot")]
    [InlineData("CAP_SYS_MODULE", "finit_module")]
    [InlineData("CAP_SYS_TIME", "settimeofday")]
    [InlineData("CAP_SYS_PACCT", "acct")]
    [InlineData("CAP_SYS_RAWIO", "iopl")]
    [InlineData("CAP_SYS_NICE", "mbind")]
    [InlineData("CAP_DAC_READ_SEARCH", "open_by_handle_at")]
    public void ACallGuardedByACapabilityIsAllowedToAContainerThatHasIt(string capability, string call)
    {
        Assert.Equal(Eperm, SeccompFilter.Evaluate(Default(), X86_64, Nr(call)));
        Assert.Equal(Allow, SeccompFilter.Evaluate(Default(capability), X86_64, Nr(call)));
    }

    [Fact]
    public void ACapabilityLiftsOnlyItsOwnCalls()
    {
        var ptrace = Default("CAP_SYS_PTRACE");
        Assert.Equal(Eperm, SeccompFilter.Evaluate(ptrace, X86_64, Nr("mount")));
        Assert.Equal(Eperm, SeccompFilter.Evaluate(ptrace, X86_64, Nr("keyctl")));
        var all = SeccompFilter.Compile(RuntimeDefaults.Seccomp(CapabilityTable.Names));
        foreach (string never in new[] { "keyctl", "add_key", "request_key", "io_uring_setup", "userfaultfd", "kexec_load", "swapon" })
            Assert.Equal(Eperm, SeccompFilter.Evaluate(all, X86_64, Nr(never)));
    }

    [Fact]
    public void BpfAndPerfFollowTheirOwnCapabilities()
    {
        Assert.Equal(Eperm, SeccompFilter.Evaluate(Default(), X86_64, Nr("bpf")));
        Assert.Equal(Allow, SeccompFilter.Evaluate(Default("CAP_BPF"), X86_64, Nr("bpf")));
        Assert.Equal(Eperm, SeccompFilter.Evaluate(Default("CAP_BPF"), X86_64, Nr("perf_event_open")));
        Assert.Equal(Eperm, SeccompFilter.Evaluate(Default(), X86_64, Nr("perf_event_open")));
        Assert.Equal(Allow, SeccompFilter.Evaluate(Default("CAP_PERFMON"), X86_64, Nr("perf_event_open")));
    }

    [Theory]
    [InlineData("io_uring_setup")]
    [InlineData("io_uring_enter")]
    [InlineData("io_uring_register")]
    [InlineData("keyctl")]
    [InlineData("add_key")]
    [InlineData("request_key")]
    [InlineData("userfaultfd")]
    [InlineData("unshare")]
    [InlineData("setns")]
    public void RefusedFamilies(string name) => Assert.Equal(Eperm, SeccompFilter.Evaluate(Default(), X86_64, Nr(name)));

    [Theory]
    [InlineData(0x5412UL)]                 // TIOCSTI
    [InlineData(0x541CUL)]                 // TIOCLINUX
    [InlineData(0x0000_0001_0000_5412UL)]  // TIOCSTI with high bits the kernel drops
    [InlineData(0xFFFF_FFFF_0000_541CUL)]
    public void NoInputCanBePushedIntoATerminal(ulong request)
    {
        var program = Default("CAP_SYS_ADMIN");
        Assert.Equal(Eperm, SeccompFilter.Evaluate(program, X86_64, Nr("ioctl"), 0, request));
    }

    [Theory]
    [InlineData(0x5401UL)] // TCGETS
    [InlineData(0x5413UL)] // TIOCGWINSZ
    [InlineData(0x540EUL)] // TIOCSCTTY
    [InlineData(0x5421UL)] // FIONBIO
    public void OtherIoctlsPass(ulong request) => Assert.Equal(Allow, SeccompFilter.Evaluate(Default(), X86_64, Nr("ioctl"), 0, request));

    [Fact]
    public void TheDefaultProfileMeansTheSameToLibseccomp()
    {
        // crun and runc compile the bundle with libseccomp, which ignores rule order and drops a rule whose action is
        // the default one: only refusals, so that every rule means the same in any order.
        var seccomp = RuntimeDefaults.Seccomp([.. RuntimeDefaults.Capabilities(), "CAP_BPF"]);
        Assert.All(seccomp.Syscalls!, rule => Assert.NotEqual(seccomp.DefaultAction, rule.Action));
    }

    [Fact]
    public void ResolveKeepsRulesByCapabilities()
    {
        var profile = new SeccompProfile
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            Syscalls =
            [
                new SeccompProfileRule { Names = ["read"], Action = "SCMP_ACT_ALLOW" },
                new SeccompProfileRule { Names = ["ptrace"], Action = "SCMP_ACT_ALLOW", Includes = new() { Caps = ["CAP_SYS_PTRACE"] } },
                new SeccompProfileRule { Names = ["mount"], Action = "SCMP_ACT_ALLOW", Includes = new() { Caps = ["CAP_SYS_ADMIN", "CAP_MKNOD"] } },
                new SeccompProfileRule { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 38, Excludes = new() { Caps = ["CAP_SYS_ADMIN", "CAP_BPF"] } },
            ],
        };
        Assert.Equal(["read", "clone3"], profile.Resolve([]).Syscalls!.SelectMany(s => s.Names));
        Assert.Equal(["read", "ptrace", "clone3"], profile.Resolve(["cap_sys_ptrace"]).Syscalls!.SelectMany(s => s.Names));
        // includes needs every capability listed; excludes drops the rule for any one of them.
        Assert.Equal(["read"], profile.Resolve(["CAP_SYS_ADMIN"]).Syscalls!.SelectMany(s => s.Names));
        Assert.Equal(["read", "mount"], profile.Resolve(["CAP_SYS_ADMIN", "CAP_MKNOD"]).Syscalls!.SelectMany(s => s.Names));
        Assert.Equal(["read"], profile.Resolve(["CAP_BPF"]).Syscalls!.SelectMany(s => s.Names));
    }
}
