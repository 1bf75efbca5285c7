using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

public class PlanTablesTests
{
    [Theory]
    [InlineData("CAP_CHOWN", 0)]
    [InlineData("CAP_KILL", 5)]
    [InlineData("CAP_NET_BIND_SERVICE", 10)]
    [InlineData("CAP_SYS_ADMIN", 21)]
    [InlineData("cap_audit_write", 29)]
    [InlineData("SETFCAP", 31)]
    [InlineData("CAP_CHECKPOINT_RESTORE", 40)]
    [InlineData("CAP_NOPE", -1)]
    public void CapabilityNumbers(string name, int number) => Assert.Equal(number, CapabilityTable.Number(name));

    [Fact]
    public void CapabilityTableCoversTheRunningKernel()
    {
        // /proc/sys/kernel/cap_last_cap is the kernel's own CAP_LAST_CAP.
        int last = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim());
        Assert.True(CapabilityTable.Last >= last, $"kernel knows capabilities up to {last}, the table up to {CapabilityTable.Last}");
        for (int i = 0; i <= CapabilityTable.Last; i++) Assert.Equal(i, CapabilityTable.Number(CapabilityTable.Name(i)!));
    }

    [Fact]
    public void CapabilityMaskOfThePodmanDefaults()
    {
        // The CapEff podman and crun show for their default set: 00000000800405fb.
        Assert.Equal(0x800405fbUL, CapabilityTable.Mask(RuntimeDefaults.Capabilities()));
        Assert.Equal(0UL, CapabilityTable.Mask(null));
    }

    [Theory]
    [InlineData("read", 0)]
    [InlineData("write", 1)]
    [InlineData("open", 2)]
    [InlineData("clone", 56)]
    [InlineData("execve", 59)]
    [InlineData("mount", 165)]
    [InlineData("umount2", 166)]
    [InlineData("pivot_root", 155)]
    [InlineData("unshare", 272)]
    [InlineData("setns", 308)]
    [InlineData("bpf", 321)]
    [InlineData("clone3", 435)]
    [InlineData("mseal", 462)]
    [InlineData("no_such_call", -1)]
    public void SyscallNumbers(string name, int number) => Assert.Equal(number, SyscallTable.X86_64(name));

    [Fact]
    public void DefaultSeccompNamesAreKnownOrDocumentedAbsent()
    {
        // Names without an x86_64 number are skipped by the filter (as libseccomp does); only these may be.
        string[] absentOnX86_64 = ["vm86", "vm86old"];
        foreach (var rule in RuntimeDefaults.Seccomp().Syscalls!)
            foreach (string name in rule.Names)
                Assert.True(SyscallTable.X86_64(name) >= 0 || absentOnX86_64.Contains(name), name);
    }

    [Fact]
    public void DefaultCapabilitiesAreKnown()
    {
        foreach (string cap in RuntimeDefaults.Capabilities()) Assert.True(CapabilityTable.Number(cap) >= 0, cap);
    }
}
