using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

/// <summary>The filter finds a call's rules by a binary search on its number (installing it, the kernel runs it once per
/// number; inside, every call runs it), with the actions of the linear chain it replaced.</summary>
public class SeccompSearchTests
{
    private const uint X86_64 = SyscallTable.AuditArchX86_64;

    [Fact]
    public void DefaultProfileReachesEveryCallInFewInstructions()
    {
        var program = SeccompFilter.Compile(RuntimeDefaults.Seccomp());
        int worst = 0, total = 0;
        for (int nr = 0; nr < 470; nr++)
        {
            int steps = SeccompFilter.Steps(program, X86_64, nr);
            worst = Math.Max(worst, steps);
            total += steps;
        }
        // The chain of one test per listed call ran about 200 instructions for every call it does not list (most of them);
        // the search runs a dozen or so, a leaf with argument rules (clone's) a few dozen.
        Assert.InRange(total / 470.0, 1, 25);
        Assert.InRange(worst, 1, 100);
    }

    [Fact]
    public void LongProfileJumpsPastTheConditionalRangeAndKeepsEveryAction()
    {
        // Every known call with an argument rule and a catch-all: far more than 255 instructions on each side of the root.
        var names = SyscallTable.Names.OrderBy(n => SyscallTable.X86_64(n)).ToList();
        var rules = new List<LinuxSyscall>();
        foreach (string name in names)
        {
            rules.Add(new LinuxSyscall { Names = [name], Action = "SCMP_ACT_ALLOW", Args = [new LinuxSeccompArg { Index = 0, Value = 7, Op = "SCMP_CMP_EQ" }] });
            rules.Add(new LinuxSyscall { Names = [name], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)(SyscallTable.X86_64(name) % 200 + 1) });
        }
        var program = SeccompFilter.Compile(new LinuxSeccomp { DefaultAction = "SCMP_ACT_KILL_PROCESS", Syscalls = rules });
        Assert.Contains(program, i => i.Code == 0x05); // an unconditional jump carried a search step
        foreach (string name in names)
        {
            int nr = SyscallTable.X86_64(name);
            Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(program, X86_64, nr, 7));
            Assert.Equal(SeccompFilter.RetErrno | (uint)(nr % 200 + 1), SeccompFilter.Evaluate(program, X86_64, nr, 8));
        }
        Assert.Equal(SeccompFilter.RetKillProcess, SeccompFilter.Evaluate(program, X86_64, 1000));
    }
}
