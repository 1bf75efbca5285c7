using System.Text.Json.Serialization;

namespace Containers.Core.Runtime.Plan;

/// <summary>When the monitor starts the container's command again after it exits (podman's and Docker's --restart).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ContainerRestartPolicy>))]
public enum ContainerRestartPolicy
{
    /// <summary>Never (the default).</summary>
    [JsonStringEnumMemberName("no")] No,
    /// <summary>When it exits with a non-zero code, at most MaxRestarts times when that is set.</summary>
    [JsonStringEnumMemberName("on-failure")] OnFailure,
    /// <summary>Whatever its exit code, until Stop-Container; also started at boot.</summary>
    [JsonStringEnumMemberName("always")] Always,
    /// <summary>As Always, but not started at boot when it was stopped with Stop-Container.</summary>
    [JsonStringEnumMemberName("unless-stopped")] UnlessStopped,
}

/// <summary>What the monitor does when the health check turns the container unhealthy (podman's --health-on-failure).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ContainerHealthAction>))]
public enum ContainerHealthAction
{
    [JsonStringEnumMemberName("none")] None,
    /// <summary>SIGKILL to the container (its restart policy then applies).</summary>
    [JsonStringEnumMemberName("kill")] Kill,
    /// <summary>SIGKILL, and the monitor starts it again whatever its restart policy.</summary>
    [JsonStringEnumMemberName("restart")] Restart,
}

/// <summary>The health of a container with a health check.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ContainerHealthStatus>))]
public enum ContainerHealthStatus
{
    /// <summary>No check has passed yet (and the retries are not used up, or the start period still runs).</summary>
    [JsonStringEnumMemberName("starting")] Starting,
    [JsonStringEnumMemberName("healthy")] Healthy,
    [JsonStringEnumMemberName("unhealthy")] Unhealthy,
}

/// <summary>The restart policy in a <see cref="LaunchPlan"/>.</summary>
internal sealed class RestartPlan
{
    public ContainerRestartPolicy Policy { get; set; }
    /// <summary>OnFailure: at most this many restarts (0: no limit).</summary>
    public int MaxRestarts { get; set; }
}

/// <summary>The health check in a <see cref="LaunchPlan"/>: Core wrote the check's process (a runtime-spec process, as exec runs).</summary>
internal sealed class HealthPlan
{
    /// <summary>The check's <see cref="RuntimeProcess"/> JSON, for <c>pscontainers-init exec</c>.</summary>
    public string ProcessFile { get; set; } = "";
    public long IntervalMs { get; set; } = 30_000;
    public long TimeoutMs { get; set; } = 30_000;
    public long StartPeriodMs { get; set; }
    public int Retries { get; set; } = 3;
    public ContainerHealthAction OnFailure { get; set; }
}

/// <summary><c>health.json</c> in the container's directory: written by the monitor and by Test-ContainerHealth, under
/// <c>health.lock</c> (<see cref="HealthRules.Record"/>).</summary>
internal sealed class HealthState
{
    public ContainerHealthStatus Status { get; set; }
    public int FailingStreak { get; set; }
    /// <summary>The last checks, oldest first (at most <see cref="HealthRules.KeptResults"/>).</summary>
    public List<HealthCheckRecord> Log { get; set; } = [];
}

/// <summary>One run of the health check.</summary>
internal sealed class HealthCheckRecord
{
    public DateTimeOffset Start { get; set; }
    public DateTimeOffset End { get; set; }
    /// <summary>0 healthy; anything else failed (-1: timed out, as podman records it).</summary>
    public int ExitCode { get; set; }
    /// <summary>stdout and stderr together, at most <see cref="HealthRules.MaxOutput"/> characters.</summary>
    public string Output { get; set; } = "";
}
