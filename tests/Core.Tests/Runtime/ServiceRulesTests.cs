using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

public sealed class ServiceRulesTests
{
    [Fact]
    public void TheBackoffStartsAt100MsDoublesAndIsCappedAtAMinute()
    {
        Assert.Equal([100, 200, 400, 800, 1600, 3200], Enumerable.Range(1, 6).Select(k => RestartRules.Delay(k).TotalMilliseconds));
        Assert.Equal(TimeSpan.FromMinutes(1), RestartRules.Delay(11));
        Assert.Equal(TimeSpan.FromMinutes(1), RestartRules.Delay(1000));
    }

    [Fact]
    public void TenSecondsUpResetsTheBackoff()
    {
        int streak = 0;
        foreach (int s in new[] { 1, 1, 1 }) streak = RestartRules.NextStreak(streak, TimeSpan.FromSeconds(s));
        Assert.Equal(3, streak);
        Assert.Equal(0, RestartRules.NextStreak(streak, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, RestartRules.NextStreak(0, TimeSpan.FromMilliseconds(5)));
    }

    [Theory]
    [InlineData(ContainerRestartPolicy.No, 0, 1, false)]
    [InlineData(ContainerRestartPolicy.OnFailure, 0, 0, false)]
    [InlineData(ContainerRestartPolicy.OnFailure, 0, 1, true)]
    [InlineData(ContainerRestartPolicy.OnFailure, 100, 137, true)]
    [InlineData(ContainerRestartPolicy.Always, 0, 0, true)]
    [InlineData(ContainerRestartPolicy.UnlessStopped, 5, 0, true)]
    public void ThePolicyDecides(ContainerRestartPolicy policy, int restarts, int exitCode, bool restart) =>
        Assert.Equal(restart, RestartRules.ShouldRestart(new RestartPlan { Policy = policy }, restarts, exitCode));

    [Fact]
    public void MaxRestartsBoundsOnFailure()
    {
        var plan = new RestartPlan { Policy = ContainerRestartPolicy.OnFailure, MaxRestarts = 3 };
        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(n => RestartRules.ShouldRestart(plan, n, 1)));
        Assert.False(RestartRules.ShouldRestart(null, 0, 1));
    }

    private static HealthCheckRecord Check(int code, DateTimeOffset at) => new() { Start = at, End = at, ExitCode = code, Output = new string('o', 5000) };

    [Fact]
    public void FailuresTurnUnhealthyAfterTheRetriesAndAPassHeals()
    {
        var s = new HealthState();
        var now = DateTimeOffset.UtcNow;
        HealthRules.Apply(s, Check(1, now), retries: 3, startPeriodEnds: now);
        HealthRules.Apply(s, Check(1, now), 3, now);
        Assert.Equal((ContainerHealthStatus.Starting, 2), (s.Status, s.FailingStreak));
        HealthRules.Apply(s, Check(1, now), 3, now);
        Assert.Equal((ContainerHealthStatus.Unhealthy, 3), (s.Status, s.FailingStreak));
        HealthRules.Apply(s, Check(0, now), 3, now);
        Assert.Equal((ContainerHealthStatus.Healthy, 0), (s.Status, s.FailingStreak));
        for (int i = 0; i < 4; i++) HealthRules.Apply(s, Check(1, now), 3, now);
        Assert.Equal(HealthRules.KeptResults, s.Log.Count);
        Assert.Equal(HealthRules.MaxOutput, s.Log[0].Output.Length);
    }

    [Fact]
    public void FailuresInTheStartPeriodDoNotCountUntilACheckPassed()
    {
        var s = new HealthState();
        var now = DateTimeOffset.UtcNow;
        var ends = now.AddMinutes(1);
        for (int i = 0; i < 5; i++) HealthRules.Apply(s, Check(1, now), 1, ends);
        Assert.Equal((ContainerHealthStatus.Starting, 0), (s.Status, s.FailingStreak));
        HealthRules.Apply(s, Check(0, now), 1, ends);
        HealthRules.Apply(s, Check(1, now), 1, ends); // started: a failure counts even inside the period
        Assert.Equal(ContainerHealthStatus.Unhealthy, s.Status);
    }

    [Fact]
    public void TheRestartArgumentsRoundTrip()
    {
        var run = new InitRun("/p/plan.json") { Restarts = 3, Streak = 2 };
        Assert.Equal(run, InitCommand.Parse(run.ToArgs()));
        Assert.Equal(["run", "--plan", "/p/plan.json"], new InitRun("/p/plan.json").ToArgs());
        Assert.Null(InitCommand.Parse(["run", "--plan", "/p", "--restarts", "-1", "--streak", "0"]));
    }

    [Fact]
    public void MaxRestartsIsForOnFailureOnlyAsInPodman()
    {
        var e = Assert.Throws<Containers.Core.Errors.ContainersException>(() =>
            ServiceOptions.MaxRestarts(new ContainerCreateOptions { RestartPolicy = ContainerRestartPolicy.Always, MaxRestarts = 3 }));
        Assert.Equal("InvalidMaxRestarts", e.ErrorId);
        Assert.Equal(3, ServiceOptions.MaxRestarts(new ContainerCreateOptions { RestartPolicy = ContainerRestartPolicy.OnFailure, MaxRestarts = 3 }));
    }

    [Fact]
    public void TheHealthCommandReplacesTheImagesAndTheImagesTimesFillTheRest()
    {
        var image = new Containers.Core.Spec.HealthConfig { Test = ["CMD", "/check", "x"], Interval = 5_000_000_000, Retries = 7 };
        var fromImage = ServiceOptions.Healthcheck(new ContainerCreateOptions(), image)!;
        Assert.Equal(["/check", "x"], fromImage.Command);
        Assert.Equal((TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), 7), (fromImage.Interval, fromImage.Timeout, fromImage.Retries));
        var shell = ServiceOptions.Healthcheck(new ContainerCreateOptions { HealthCommand = ["test -e /ok"], HealthRetries = 2 }, image)!;
        Assert.Equal(["/bin/sh", "-c", "test -e /ok"], shell.Command);
        Assert.Equal((TimeSpan.FromSeconds(5), 2), (shell.Interval, shell.Retries));
        Assert.Null(ServiceOptions.Healthcheck(new ContainerCreateOptions { HealthCommand = ["none"] }, image));
        Assert.Null(ServiceOptions.Healthcheck(new ContainerCreateOptions(), new Containers.Core.Spec.HealthConfig { Test = ["NONE"] }));
        Assert.Equal("InvalidHealthcheck", Assert.Throws<Containers.Core.Errors.ContainersException>(() =>
            ServiceOptions.Healthcheck(new ContainerCreateOptions { HealthCommand = ["true"], HealthInterval = TimeSpan.Zero }, null)).ErrorId);
    }
}
