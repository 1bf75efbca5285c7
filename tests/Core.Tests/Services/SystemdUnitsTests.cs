using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;
using Containers.Core.Services;

namespace Containers.Core.Tests.Services;

/// <summary>The text of the units (systemd-analyze verify and running their commands are in tests/Pester/Boot.Tests.ps1).</summary>
public sealed class SystemdUnitsTests
{
    private static readonly ModuleCommand Deb = new("/usr/bin/pwsh", "/usr/local/share/powershell/Modules/Containers/Containers.psd1", new Dictionary<string, string>());

    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Containers.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, relative);
    }

    [Fact]
    public void TheShippedBootServiceIsTheOneTheCmdletWritesForTheDebianPaths()
    {
        Assert.Equal(File.ReadAllText(RepoFile("build/systemd/pscontainers-restart.service")), SystemdUnits.BootService(Deb));
    }

    [Fact]
    public void SystemdExpandsNothingInAQuotedWord()
    {
        Assert.Equal("\"a $$HOME %%h \\\"q\\\" \\\\\"", ModuleCommand.Quote("a $HOME %h \"q\" \\"));
        Assert.Equal("/usr/bin/pwsh", ModuleCommand.Word("/usr/bin/pwsh"));
        Assert.Equal("\"/opt/my pwsh\"", ModuleCommand.Word("/opt/my pwsh"));
        Assert.Equal("'it''s'", ModuleCommand.PowerShellLiteral("it's"));
    }

    [Theory]
    [InlineData(ContainerRestartPolicy.No, "no")]
    [InlineData(ContainerRestartPolicy.OnFailure, "on-failure")]
    [InlineData(ContainerRestartPolicy.Always, "always")]
    [InlineData(ContainerRestartPolicy.UnlessStopped, "always")]
    public void TheRestartPolicyBecomesRestart(ContainerRestartPolicy policy, string restart)
    {
        var r = new ContainerRecord { Id = new string('b', 64), Name = "web", Image = "busybox", RestartPolicy = policy };
        string unit = SystemdUnits.ContainerService(r, Deb with { Environment = new Dictionary<string, string> { ["PSCONTAINERS_DATA_DIR"] = "/srv/data" } }, "/run/pscontainers", 10);
        Assert.Contains("\nRestart=" + restart + "\n", unit, StringComparison.Ordinal);
        Assert.Contains("\nType=forking\nPIDFile=/run/pscontainers/pscontainers-web.pid\n", unit, StringComparison.Ordinal);
        Assert.Contains("\nEnvironment=\"PSCONTAINERS_DATA_DIR=/srv/data\"\n", unit, StringComparison.Ordinal);
        Assert.Contains("ExecStop=/usr/bin/pwsh -NoProfile -NonInteractive -Command \"Import-Module '/usr/local/share/powershell/Modules/Containers/Containers.psd1'; Stop-Container -Name 'web' -Timeout 10 -ErrorAction Stop\"", unit, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ContainerRestartPolicy.No, false, false)]
    [InlineData(ContainerRestartPolicy.OnFailure, false, false)]
    [InlineData(ContainerRestartPolicy.Always, false, true)]
    [InlineData(ContainerRestartPolicy.Always, true, true)]
    [InlineData(ContainerRestartPolicy.UnlessStopped, false, true)]
    [InlineData(ContainerRestartPolicy.UnlessStopped, true, false)]
    public void OnlyAlwaysAndUnlessStoppedNotStoppedByAUserStartAtBoot(ContainerRestartPolicy policy, bool stoppedByUser, bool starts)
    {
        Assert.Equal(starts, BootStart.StartsAtBoot(policy, stoppedByUser));
    }

    [Fact]
    public void AQuadletFileCarriesTheDefinition()
    {
        var d = new ContainerCreateOptions { Image = "reg.example/web:1", Command = ["sh", "-c", "echo $A; sleep 1"], MemoryBytes = 64 << 20, User = "1000" };
        d.Env["A"] = "b c";
        var r = new ContainerRecord
        {
            Id = new string('c', 64), Name = "web", Image = "reg.example/web:1", Definition = d, RestartPolicy = ContainerRestartPolicy.OnFailure,
            Resources = new ContainerResources { MemoryBytes = 64 << 20 }, Labels = new() { ["tier"] = "web" },
            Mounts = [new ContainerMount { Type = "bind", Source = "/srv", Destination = "/data", ReadOnly = true }],
        };
        string q = QuadletUnit.For(r);
        foreach (string line in new[]
        {
            "Image=reg.example/web:1", "ContainerName=web", "Exec=sh -c \"echo $$A; sleep 1\"", "Environment=\"A=b c\"", "Volume=/srv:/data:ro",
            "Label=tier=web", "User=1000", "Network=none", "PodmanArgs=--memory=67108864", "Restart=on-failure", "WantedBy=default.target",
        })
            Assert.Contains("\n" + line + "\n", q, StringComparison.Ordinal);
    }
}
