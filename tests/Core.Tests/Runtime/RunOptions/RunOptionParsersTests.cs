using Containers.Core.Errors;
using Containers.Core.Runtime.RunOptions;

namespace Containers.Core.Tests.Runtime.RunOptions;

public sealed class RunOptionParsersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("runoptions-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void UlimitsTakeSoftAndHardOrOneValueForBoth()
    {
        var limits = Ulimits.Parse(["nofile=1024:4096", "core=0", "stack=unlimited", "nofile=10:20"], 20000);
        Assert.Equal(["RLIMIT_CORE", "RLIMIT_STACK", "RLIMIT_NOFILE"], limits.Select(l => l.Type));
        Assert.Equal((0UL, 0UL), (limits[0].Soft, limits[0].Hard));
        Assert.Equal(ulong.MaxValue, limits[1].Hard);
        Assert.Equal((10UL, 20UL), (limits[2].Soft, limits[2].Hard));
    }

    [Theory]
    [InlineData("nofiles=10", "UnknownUlimit")]
    [InlineData("nofile", "UnknownUlimit")]
    [InlineData("nofile=a", "InvalidUlimit")]
    [InlineData("nofile=1:2:3", "InvalidUlimit")]
    [InlineData("nofile=20:10", "InvalidUlimit")]
    [InlineData("nofile=20001", "UlimitTooHigh")]
    public void UlimitsRefuseBadInput(string item, string errorId)
    {
        var e = Assert.Throws<ContainersException>(() => Ulimits.Parse([item], 20000));
        Assert.Equal(errorId, e.ErrorId);
    }

    [Fact]
    public void EnvFilesAreReadLiterallyInOrder()
    {
        string a = Path.Combine(_dir, "a.env"), b = Path.Combine(_dir, "b.env");
        File.WriteAllText(a, "# comment\n\n  A=\"quoted\"\nB=x=y\nFROMCALLER\nUNSET\nC=1\n");
        File.WriteAllText(b, "C=2\n");
        var env = EnvFiles.Read([a, b], name => name == "FROMCALLER" ? "caller" : null);
        Assert.Equal("\"quoted\"", env["A"]);
        Assert.Equal("x=y", env["B"]);
        Assert.Equal("caller", env["FROMCALLER"]);
        Assert.False(env.ContainsKey("UNSET"));
        Assert.Equal("2", env["C"]);
    }

    [Fact]
    public void EnvFilesNameTheFileAndLineOfABadLine()
    {
        string a = Path.Combine(_dir, "bad.env");
        File.WriteAllText(a, "OK=1\nBAD KEY=2\n");
        var e = Assert.Throws<ContainersException>(() => EnvFiles.Read([a], _ => null));
        Assert.Equal("InvalidEnvFileLine", e.ErrorId);
        Assert.Contains(a + ":2", e.Message, StringComparison.Ordinal);
        Assert.Equal("EnvFileNotFound", Assert.Throws<ContainersException>(() => EnvFiles.Read([Path.Combine(_dir, "none")], _ => null)).ErrorId);
    }

    [Theory]
    [InlineData("kernel.shmmax=1", true, null)]
    [InlineData("kernel/sem=250 32000 32 128", true, null)]
    [InlineData("fs.mqueue.msg_max=20", true, null)]
    [InlineData("net.ipv4.ip_forward=1", true, null)]
    [InlineData("net.ipv4.ip_forward=1", false, "SysctlNeedsNetworkNamespace")]
    [InlineData("vm.swappiness=1", true, "SysctlNotNamespaced")]
    [InlineData("kernel.hostname=x", true, "SysctlNotNamespaced")]
    [InlineData("kernel.shmmax", true, "InvalidSysctl")]
    [InlineData("net..x=1", true, "InvalidSysctl")]
    public void SysctlsAreOnlyTheNamespacedOnes(string item, bool ownNetwork, string? errorId)
    {
        if (errorId is null) Assert.Single(Sysctls.Parse([item], ownNetwork));
        else Assert.Equal(errorId, Assert.Throws<ContainersException>(() => Sysctls.Parse([item], ownNetwork)).ErrorId);
    }
}
