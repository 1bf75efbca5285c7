namespace Containers.Core.Runtime.Plan;

/// <summary>
/// The handshake of <c>pscontainers-init run</c>: exactly one JSON line on Init's stdout once the
/// container's process has either been exec'd (Pid set, Error null) or failed to start (Error set).
/// Init then closes its stdout, so the caller reads one line and then end-of-file; the exit code of
/// the Init process is not the handshake (in Log mode Init keeps running as the monitor).
/// </summary>
internal sealed class LaunchResult
{
    /// <summary>Host pid of the container's init; 0 when the start failed.</summary>
    public int Pid { get; set; }
    /// <summary>Host pid of the monitor.</summary>
    public int MonitorPid { get; set; }
    /// <summary>Why the start failed (null on success).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
    public string? Error { get; set; }
    /// <summary>A stable error id for the failure (<c>CommandNotFound</c>, <c>MountFailed</c> ...); null on success.</summary>
    public string? ErrorId { get; set; }
    /// <summary>The exit code the container will report for this failure (127 command not found, 126 not executable, else 1... ).</summary>
    public int? ExitCode { get; set; }
}

/// <summary>What <c>pscontainers-init probe</c> prints: measured kernel features.</summary>
internal sealed class FeatureProbe
{
    /// <summary>A child could be cloned into new user and mount namespaces with a single-id map.</summary>
    public bool UserNamespaces { get; set; }
    /// <summary>overlayfs (two lowers + upper/work) mounts inside that user namespace.</summary>
    public bool Overlay { get; set; }
    /// <summary>The new mount API accepts <c>lowerdir+</c> for overlay (layers passed one by one, no option-string length limit).</summary>
    public bool OverlayLowerDirPlus { get; set; }
    /// <summary>The first failure met, for support.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
    public string? Error { get; set; }
}
