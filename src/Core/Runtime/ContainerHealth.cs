using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>A container's health check as New-Container (or the image's HEALTHCHECK) set it; kept in the record.</summary>
public sealed class ContainerHealthcheck
{
    /// <summary>Docker's form: <c>["CMD-SHELL", "curl -f http://localhost/"]</c> or <c>["CMD", "/bin/check", "arg"]</c>.</summary>
    public List<string> Test { get; set; } = [];
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan StartPeriod { get; set; }
    public int Retries { get; set; } = 3;
    public ContainerHealthAction OnFailure { get; set; }

    /// <summary>The argv the check runs: CMD-SHELL goes through <c>/bin/sh -c</c>.</summary>
    public IReadOnlyList<string> Command => Test is ["CMD-SHELL", var shell] ? ["/bin/sh", "-c", shell] : Test.Skip(1).ToList();

    public override string ToString() => string.Join(' ', Command);
}

/// <summary>The health of a container (Get-Container's Health, Test-ContainerHealth's output).</summary>
public sealed class ContainerHealth
{
    public string Name { get; init; } = "";
    public ContainerHealthStatus Status { get; init; }
    /// <summary>Failed checks in a row (those inside the start period do not count).</summary>
    public int FailingStreak { get; init; }
    /// <summary>The last checks, oldest first.</summary>
    public IReadOnlyList<ContainerHealthResult> Log { get; init; } = [];
    /// <summary>The most recent check, if any.</summary>
    public ContainerHealthResult? LastCheck => Log.Count > 0 ? Log[^1] : null;

    internal static ContainerHealth From(string name, HealthState s) => new()
    {
        Name = name,
        Status = s.Status,
        FailingStreak = s.FailingStreak,
        Log = s.Log.Select(r => new ContainerHealthResult { Start = r.Start.LocalDateTime, End = r.End.LocalDateTime, ExitCode = r.ExitCode, Output = r.Output }).ToList(),
    };

    /// <summary>podman's words: starting, healthy, unhealthy.</summary>
    public override string ToString() => Status.ToString().ToLowerInvariant();
}

/// <summary>One run of a health check.</summary>
public sealed class ContainerHealthResult
{
    public DateTime Start { get; init; }
    public DateTime End { get; init; }
    /// <summary>0 passed; -1 timed out.</summary>
    public int ExitCode { get; init; }
    public string Output { get; init; } = "";
    public TimeSpan Duration => End - Start;
}
