using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

public class SeccompFilterTests
{
    private const uint X86_64 = SyscallTable.AuditArchX86_64;

    private static int Nr(string name) => SyscallTable.X86_64(name);

    [Fact]
    public void DefaultProfileDeniesItsListAndAllowsTheRest()
    {
        var program = SeccompFilter.Compile(RuntimeDefaults.Seccomp());
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(program, X86_64, Nr("mount")));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(program, X86_64, Nr("unshare")));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(program, X86_64, Nr("keyctl")));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("read")));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("execve")));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("clone")));
    }

    [Fact]
    public void OtherAbisGetEnosys()
    {
        var program = SeccompFilter.Compile(RuntimeDefaults.Seccomp());
        Assert.Equal(SeccompFilter.RetErrno | 38, SeccompFilter.Evaluate(program, SyscallTable.AuditArchI386, 1));
        Assert.Equal(SeccompFilter.RetErrno | 38, SeccompFilter.Evaluate(program, X86_64, (int)(SyscallTable.X32SyscallBit | 165)));
    }

    [Fact]
    public void AllowListWithErrnoDefault()
    {
        var program = SeccompFilter.Compile(new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = 38,
            Syscalls = [new LinuxSyscall { Names = ["read", "write", "exit_group", "not_a_syscall"], Action = "SCMP_ACT_ALLOW" }],
        });
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("write")));
        Assert.Equal(SeccompFilter.RetErrno | 38, SeccompFilter.Evaluate(program, X86_64, Nr("open")));
        // Only the x86_64 names produce code: arch check (6) + 3 names x 2 + default.
        Assert.Equal(6 + 6 + 1, program.Count);
    }

    [Fact]
    public void ArgumentComparisons()
    {
        var program = SeccompFilter.Compile(new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls =
            [
                // personality(0xffffffff) allowed, anything else denied (EQ, then a catch-all).
                new LinuxSyscall { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [new LinuxSeccompArg { Index = 0, Value = 0xffffffff, Op = "SCMP_CMP_EQ" }] },
                new LinuxSyscall { Names = ["personality"], Action = "SCMP_ACT_ERRNO" },
                // clone with CLONE_NEWUSER in the flags denied (MASKED_EQ).
                new LinuxSyscall { Names = ["clone"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13, Args = [new LinuxSeccompArg { Index = 0, Value = 0x10000000, ValueTwo = 0x10000000, Op = "SCMP_CMP_MASKED_EQ" }] },
                // socket with a family other than AF_UNIX (1) denied (NE), 64-bit value compared on both halves.
                new LinuxSyscall { Names = ["socket"], Action = "SCMP_ACT_ERRNO", Args = [new LinuxSeccompArg { Index = 0, Value = 1, Op = "SCMP_CMP_NE" }] },
                new LinuxSyscall { Names = ["kill"], Action = "SCMP_ACT_KILL_PROCESS", Args = [new LinuxSeccompArg { Index = 1, Value = 0x1_0000_0009, Op = "SCMP_CMP_EQ" }] },
            ],
        });
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("personality"), 0xffffffff));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(program, X86_64, Nr("personality"), 8));
        Assert.Equal(SeccompFilter.RetErrno | 13, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), 0x10000000 | 17));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("clone"), 17));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("socket"), 1));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(program, X86_64, Nr("socket"), 2));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(program, X86_64, Nr("socket"), 0x1_0000_0001));
        Assert.Equal(SeccompFilter.RetKillProcess, SeccompFilter.Evaluate(program, X86_64, Nr("kill"), 5, 0x1_0000_0009));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("kill"), 5, 9));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("read")));
    }

    [Theory]
    [InlineData("SCMP_ACT_NOTIFY")]
    [InlineData("SCMP_ACT_WHATEVER")]
    public void RefusesUnsupportedActions(string action) =>
        Assert.Throws<ArgumentException>(() => SeccompFilter.Compile(new LinuxSeccomp { DefaultAction = action }));

    [Fact]
    public void RefusesUnsupportedOperators() =>
        Assert.Throws<ArgumentException>(() => SeccompFilter.Compile(new LinuxSeccomp
        {
            Syscalls = [new LinuxSyscall { Names = ["read"], Args = [new LinuxSeccompArg { Op = "SCMP_CMP_BETWEEN" }] }],
        }));

    [Theory]
    // op, rule value, argument, matches (unsigned 64-bit, as libseccomp compares)
    [InlineData("SCMP_CMP_LT", 8UL, 7UL, true)]
    [InlineData("SCMP_CMP_LT", 8UL, 8UL, false)]
    [InlineData("SCMP_CMP_LT", 8UL, 0x1_0000_0000UL, false)]
    [InlineData("SCMP_CMP_LT", 0x2_0000_0005UL, 0x1_FFFF_FFFFUL, true)]
    [InlineData("SCMP_CMP_LT", 0x2_0000_0005UL, 0x2_0000_0004UL, true)]
    [InlineData("SCMP_CMP_LT", 0x2_0000_0005UL, 0x2_0000_0006UL, false)]
    [InlineData("SCMP_CMP_LE", 8UL, 8UL, true)]
    [InlineData("SCMP_CMP_LE", 8UL, 9UL, false)]
    [InlineData("SCMP_CMP_LE", 0x1_0000_0000UL, 0xFFFF_FFFFUL, true)]
    [InlineData("SCMP_CMP_GT", 8UL, 9UL, true)]
    [InlineData("SCMP_CMP_GT", 8UL, 8UL, false)]
    [InlineData("SCMP_CMP_GT", 8UL, 0x1_0000_0000UL, true)]
    [InlineData("SCMP_CMP_GT", 0x1_0000_0000UL, 0xFFFF_FFFFUL, false)]
    [InlineData("SCMP_CMP_GE", 8UL, 8UL, true)]
    [InlineData("SCMP_CMP_GE", 8UL, 7UL, false)]
    [InlineData("SCMP_CMP_GE", 0x2_0000_0000UL, 0x1_FFFF_FFFFUL, false)]
    [InlineData("SCMP_CMP_GE", 0x2_0000_0000UL, 0x3_0000_0000UL, true)]
    public void OrderedComparisonsAreUnsigned64Bit(string op, ulong value, ulong argument, bool matches)
    {
        var program = SeccompFilter.Compile(new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            // A second argument test after the ordered one: its jumps must land past the first group, not into it.
            Syscalls = [new LinuxSyscall { Names = ["read"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 5,
                Args = [new LinuxSeccompArg { Index = 2, Value = value, Op = op }, new LinuxSeccompArg { Index = 0, Value = 3, Op = "SCMP_CMP_EQ" }] }],
        });
        Assert.Equal(matches ? SeccompFilter.RetErrno | 5 : SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("read"), 3, 0, argument));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, Nr("read"), 4, 0, argument));
    }

    [Fact]
    public void SerialisesAsSockFilter()
    {
        var bytes = SeccompFilter.ToBytes([new SeccompFilter.Instruction(0x15, 1, 2, 0xC000003E)]);
        Assert.Equal(new byte[] { 0x15, 0x00, 1, 2, 0x3E, 0x00, 0x00, 0xC0 }, bytes);
    }
}
