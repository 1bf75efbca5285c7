using Containers.Core.Errors;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

/// <summary>The exec planner is a pure function: the container's process and the options in, the exec'd process out.</summary>
public sealed class ExecPlannerTests
{
    private static RuntimeProcess ContainerProcess() => new()
    {
        User = new RuntimeUser { Uid = 0, Gid = 0 },
        Args = ["/bin/sh"],
        Env = ["PATH=/bin", "HOME=/root", "LANG=C"],
        Cwd = "/srv",
        Capabilities = LinuxCapabilities.For(0, ["CAP_CHOWN", "CAP_KILL"]),
        Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }],
        NoNewPrivileges = true,
    };

    private static ResolvedUser NoUserLookup(string spec) => throw new InvalidOperationException($"the user '{spec}' was looked up without -User");

    [Fact]
    public void ExecCarriesTheContainersProcessAndLeavesItUnchanged()
    {
        var container = ContainerProcess();
        var p = ExecPlanner.Plan(container, new ExecOptions { Command = ["id", "-u"] }, NoUserLookup, "c");
        Assert.Equal(["id", "-u"], p.Args);
        Assert.Equal("/srv", p.Cwd);
        Assert.True(p.NoNewPrivileges);
        Assert.Equal(1024UL, Assert.Single(p.Rlimits!).Hard);
        Assert.Equal(["CAP_CHOWN", "CAP_KILL"], p.Capabilities!.Effective);
        Assert.Equal(0U, p.User.Uid);
        Assert.Equal(["/bin/sh"], container.Args);
        Assert.NotSame(container.Capabilities, p.Capabilities);
    }

    [Fact]
    public void ExecEnvironmentAddsReplacesAndRemovesVariablesAndATerminalGetsTERM()
    {
        var options = new ExecOptions
        {
            Command = ["env"],
            Tty = true,
            Env = new Dictionary<string, string?> { ["LANG"] = "C.UTF-8", ["HOME"] = null, ["EXTRA"] = "1" },
        };
        var p = ExecPlanner.Plan(ContainerProcess(), options, NoUserLookup, "c");
        Assert.True(p.Terminal);
        Assert.Equal(["PATH=/bin", "TERM=xterm", "LANG=C.UTF-8", "EXTRA=1"], p.Env);
        options.Env = new Dictionary<string, string?> { ["TERM"] = "dumb" };
        Assert.Equal(["PATH=/bin", "HOME=/root", "LANG=C", "TERM=dumb"], ExecPlanner.Plan(ContainerProcess(), options, NoUserLookup, "c").Env);
    }

    [Theory]
    [InlineData(0U, true)]
    [InlineData(33U, false)]
    public void ExecAsAnotherUserGetsTheBoundingSetEffectiveOnlyAsRoot(uint uid, bool effective)
    {
        var options = new ExecOptions { Command = ["id"], User = "someone", WorkingDir = "/tmp" };
        var p = ExecPlanner.Plan(ContainerProcess(), options, spec => new ResolvedUser(uid, 44, [5, 6], "/home"), "c");
        Assert.Equal(uid, p.User.Uid);
        Assert.Equal(44U, p.User.Gid);
        Assert.Equal([5U, 6U], p.User.AdditionalGids);
        Assert.Equal("/tmp", p.Cwd);
        Assert.Equal(["CAP_CHOWN", "CAP_KILL"], p.Capabilities!.Bounding);
        Assert.Equal(effective ? ["CAP_CHOWN", "CAP_KILL"] : [], p.Capabilities.Effective);
        Assert.Equal(effective ? ["CAP_CHOWN", "CAP_KILL"] : [], p.Capabilities.Permitted);
    }

    [Theory]
    [InlineData(new string[] { }, null, "NoCommand")]
    [InlineData(new[] { "" }, null, "NoCommand")]
    [InlineData(new[] { "ls" }, "relative/dir", "InvalidWorkingDirectory")]
    public void ExecRefusesAnEmptyCommandAndARelativeWorkingDirectory(string[] command, string? workingDir, string errorId)
    {
        var options = new ExecOptions { Command = command, WorkingDir = workingDir };
        Assert.Equal(errorId, Assert.Throws<ContainersException>(() => ExecPlanner.Plan(ContainerProcess(), options, NoUserLookup, "c")).ErrorId);
    }

    [Fact]
    public void ExecInABundleWithoutAProcessStartsFromTheDefaults()
    {
        var p = ExecPlanner.Plan(null, new ExecOptions { Command = ["true"] }, NoUserLookup, "c");
        Assert.Equal(["true"], p.Args);
        Assert.Empty(p.Env!);
        Assert.Equal("/", p.Cwd);
    }
}
