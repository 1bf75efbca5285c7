using Containers.Core.Runtime;

namespace Containers.Core.Tests.Runtime;

/// <summary>What the spare monitor's fingerprint holds: a spare is only used when what a fresh monitor would inherit is unchanged,
/// so the fingerprint must carry the whole of each inherited property it reads from /proc (a truncated read would let a spare
/// started under other limits or credentials serve a start).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SpareMonitorFingerprintTests
{
    [Fact]
    public void TheFingerprintHoldsTheCredentialsTheLimitsTheCgroupsAndTheBinary()
    {
        string print = SpareMonitor.Fingerprint("/bin/sh");

        var status = File.ReadAllLines("/proc/self/status");
        foreach (string field in new[] { "Umask:", "Uid:", "CapBnd:", "NoNewPrivs:", "Cpus_allowed_list:" })
            Assert.Contains(status.Single(l => l.StartsWith(field, StringComparison.Ordinal)) + "\n", print);
        Assert.Contains(File.ReadAllText("/proc/self/limits"), print);
        Assert.Contains(File.ReadAllText("/proc/self/cgroup"), print);
        Assert.Equal(print, SpareMonitor.Fingerprint("/bin/sh"));
        Assert.NotEqual(print, SpareMonitor.Fingerprint("/bin/true"));
    }
}
