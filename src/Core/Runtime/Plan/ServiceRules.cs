using System.Text.Json;

namespace Containers.Core.Runtime.Plan;

/// <summary>The restart decisions of the monitor, as pure functions (the monitor and the tests use the same ones).</summary>
internal static class RestartRules
{
    /// <summary>The first delay; it doubles with each exit that follows a short run (Docker's and podman's backoff).</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    /// <summary>The delay never grows beyond this.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(1);
    /// <summary>A run at least this long resets the backoff to <see cref="FirstDelay"/>.</summary>
    public static readonly TimeSpan ResetAfter = TimeSpan.FromSeconds(10);

    /// <summary>Whether a container that exited with <paramref name="exitCode"/> after <paramref name="restarts"/> restarts
    /// is started again. A stop asked for by Stop-Container is checked by the caller first and always wins.</summary>
    public static bool ShouldRestart(RestartPlan? plan, int restarts, int exitCode) => plan?.Policy switch
    {
        ContainerRestartPolicy.OnFailure => exitCode != 0 && (plan.MaxRestarts <= 0 || restarts < plan.MaxRestarts),
        ContainerRestartPolicy.Always or ContainerRestartPolicy.UnlessStopped => true,
        _ => false,
    };

    /// <summary>The next streak of short runs: one more after a run shorter than <see cref="ResetAfter"/>, else 0.</summary>
    public static int NextStreak(int streak, TimeSpan ran) => ran >= ResetAfter ? 0 : streak + 1;

    /// <summary>The delay before the restart that follows <paramref name="streak"/> short runs (1: the first, 100 ms).</summary>
    public static TimeSpan Delay(int streak)
    {
        if (streak <= 1) return FirstDelay;
        double ms = FirstDelay.TotalMilliseconds * Math.Pow(2, Math.Min(streak - 1, 20));
        return ms >= MaxDelay.TotalMilliseconds ? MaxDelay : TimeSpan.FromMilliseconds(ms);
    }
}

/// <summary>How a check's result changes the health (podman's and Docker's rules), and the file that keeps it.</summary>
internal static class HealthRules
{
    public const int KeptResults = 5;
    public const int MaxOutput = 4096;
    public const string FileName = "health.json";
    public const string LockName = "health.lock";

    /// <summary>
    /// Applies one result: a pass makes it healthy and clears the streak; a failure inside the start period is recorded
    /// but not counted; otherwise the streak grows and reaching <paramref name="retries"/> makes it unhealthy.
    /// </summary>
    public static void Apply(HealthState state, HealthCheckRecord result, int retries, DateTimeOffset startPeriodEnds)
    {
        if (result.Output.Length > MaxOutput) result.Output = result.Output[..MaxOutput];
        state.Log.Add(result);
        if (state.Log.Count > KeptResults) state.Log.RemoveRange(0, state.Log.Count - KeptResults);
        if (result.ExitCode == 0)
        {
            state.Status = ContainerHealthStatus.Healthy;
            state.FailingStreak = 0;
            return;
        }
        if (result.Start < startPeriodEnds && state.Status == ContainerHealthStatus.Starting) return;
        state.FailingStreak++;
        if (state.FailingStreak >= Math.Max(1, retries)) state.Status = ContainerHealthStatus.Unhealthy;
    }

    public static HealthState? Read(string stateDir)
    {
        try { return JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(stateDir, FileName)), PlanJsonContext.Default.HealthState); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Reads, applies and replaces <c>health.json</c> under its lock (the monitor and Test-ContainerHealth both
    /// write it); returns the status before and after.</summary>
    public static (ContainerHealthStatus Before, HealthState After) Record(string stateDir, HealthCheckRecord result, int retries, DateTimeOffset startPeriodEnds)
    {
        int fd = LockedFile.Lock(Path.Combine(stateDir, LockName));
        try
        {
            var state = Read(stateDir) ?? new HealthState();
            var before = state.Status;
            Apply(state, result, retries, startPeriodEnds);
            string path = Path.Combine(stateDir, FileName);
            string temp = path + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(state, PlanJsonContext.Default.HealthState));
            File.Move(temp, path, overwrite: true);
            return (before, state);
        }
        finally { LockedFile.Unlock(fd); }
    }
}
