using System.Globalization;
using Containers.Core.Events.Journal;
using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Monitor;

/// <summary>
/// The monitor's services around one run of the container: events, the stop request, the restart policy.
/// <para>A restart is a new start of the whole container, as runc/crun and conmon do it: when the container's init exits
/// its pid namespace is gone with it, so no new process can join the old namespaces. The monitor waits out the backoff
/// delay and then executes itself again (<c>execve</c> of <c>/proc/self/exe run --plan P --restarts N --streak K</c>):
/// the same pid (Core's pidfd on the monitor and the state's monitorPid stay valid), a fresh process with one thread for
/// the clone, the same plan and cgroups (not released between runs).</para>
/// </summary>
internal sealed unsafe class Supervisor(LaunchPlan plan, int restarts, int streak)
{
    /// <summary>Core's <c>HealthCheckRunner.RestartRequestFile</c>: Test-ContainerHealth's "restart" action.</summary>
    private const string RestartRequestFile = "restart-requested";

    public int Restarts => restarts;

    /// <summary>Set by the health monitor's "restart" action before it kills the container.</summary>
    public volatile bool HealthRestart;

    public bool StopRequested => File.Exists(Path.Combine(plan.StateDir, LaunchPlan.StopFileName));

    /// <summary>Right after a launch was recorded as running: the start or restart event; a stop that came while it started
    /// kills it at once (the stop wins over the restart; Stop-Container created its request before it read the state).</summary>
    public void AfterLaunch(int pid)
    {
        // start (or restart) comes from here, not from Start-Container: before the handshake, so before any die of the run.
        if (restarts == 0) Event("start", null, null);
        else Event("restart", null, new() { ["restartCount"] = restarts.ToString(CultureInfo.InvariantCulture) });
        if (StopRequested) kill(pid, SIGKILL);
    }

    /// <summary>Whether the run that just ended is started again (decided before its stopped state is written).</summary>
    public bool ShouldRestart(ContainerRuntimeState state)
    {
        if (plan.Stdio != StdioMode.Log || StopRequested) return false;
        // One unlink: it succeeds only when the request was there (and takes it).
        bool asked;
        fixed (byte* request = NativeString.Z(Path.Combine(plan.StateDir, RestartRequestFile))) asked = unlink(request) == 0;
        return HealthRestart || asked || RestartRules.ShouldRestart(plan.Restart, restarts, state.ExitCode ?? 0);
    }

    /// <summary>After the exit is recorded: waits out the backoff (watching for a stop) and runs the monitor again. Returns
    /// only when a stop came (or the exec failed): the caller then ends as after a last run.</summary>
    public void Restart(ContainerRuntimeState state)
    {
        var ran = (state.FinishedAt ?? DateTimeOffset.UtcNow) - (state.StartedAt ?? DateTimeOffset.UtcNow);
        int next = RestartRules.NextStreak(streak, ran);
        var until = DateTimeOffset.UtcNow + RestartRules.Delay(next);
        while (DateTimeOffset.UtcNow < until)
        {
            if (StopRequested) return;
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(50, Math.Max(1, (until - DateTimeOffset.UtcNow).TotalMilliseconds))));
        }
        if (StopRequested) return;
        try { File.Delete(Path.Combine(plan.StateDir, HealthRules.FileName)); } catch (IOException) { }
        var args = new InitRun(PlanPath) { Restarts = restarts + 1, Streak = next }.ToArgs();
        byte** argv = NativeString.Array(["pscontainers-init", .. args]);
        var env = Environment.GetEnvironmentVariables();
        var list = new List<string>();
        foreach (System.Collections.DictionaryEntry e in env) list.Add($"{e.Key}={e.Value}");
        SchedSlice.Reset(); // kept across exec, and the next container would inherit it
        execve(NativeString.Of("/proc/self/exe"), argv, NativeString.Array(list));
        Launch.Runner.WriteLine(2, $"pscontainers-init: restarting: execve: {StrError(Errno)}");
    }

    /// <summary>The plan file this monitor runs (the restart runs the same one).</summary>
    public required string PlanPath { get; init; }

    /// <summary>die (and oom) once the exit is recorded.</summary>
    public void Exited(ContainerRuntimeState state)
    {
        if (state.OomKilled) Event("oom", null, null);
        Event("die", state.ExitCode, null);
    }

    public void Event(string action, int? exitCode, Dictionary<string, string>? attributes)
    {
        if (plan.EventsPath is not { Length: > 0 } path) return;
        try
        {
            new EventJournal(path).Append(new EventRecord
            {
                Type = EventTypes.Container, Action = action, Id = plan.ContainerId, Name = plan.ContainerName, Image = plan.Image,
                ExitCode = exitCode, Attributes = attributes,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
