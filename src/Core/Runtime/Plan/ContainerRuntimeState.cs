using System.Text.Json.Serialization;

namespace Containers.Core.Runtime.Plan;

/// <summary>
/// The state file (<c>state.json</c> in the plan's StateDir) that Init maintains for one container.
/// Always replaced atomically (written to a temp file in the same directory, fsync, rename), so a
/// reader sees either the old or the new document. Init writes it at: running (pid known),
/// stopped (exit recorded) and on start failure (stopped with <see cref="Error"/>).
/// If the monitor is killed, the file keeps the running state and the pid; Core then checks
/// /proc/&lt;pid&gt; and <see cref="PidStartTime"/> to tell whether the container still runs.
/// </summary>
internal sealed class ContainerRuntimeState
{
    /// <summary>Format version of this document.</summary>
    public int Version { get; set; } = 1;
    public string ContainerId { get; set; } = "";
    public ContainerStatus Status { get; set; }
    /// <summary>Host pid of the container's init (0 before it was cloned).</summary>
    public int Pid { get; set; }
    /// <summary>Start time of <see cref="Pid"/> in clock ticks since boot (field 22 of /proc/pid/stat), to detect pid reuse.</summary>
    public ulong PidStartTime { get; set; }
    /// <summary>Host pid of the monitor (pscontainers-init) watching the container.</summary>
    public int MonitorPid { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>Exit code; 128+signal when killed by a signal (as shells report it).</summary>
    public int? ExitCode { get; set; }
    /// <summary>The signal that killed the container's init, if any.</summary>
    public int? Signal { get; set; }
    /// <summary>The memory cgroup recorded an OOM kill while the container ran.</summary>
    public bool OomKilled { get; set; }
    /// <summary>/proc/sys/kernel/random/boot_id when the state was written; a different boot id means the host rebooted.</summary>
    public string? BootId { get; set; }
    /// <summary>Why the start failed (null on success).</summary>
    public string? Error { get; set; }
    /// <summary>The bundle the container runs (exec reads its seccomp profile there).</summary>
    public string? BundleDir { get; set; }
    /// <summary>The cgroup.procs files the container's pid was written to (exec puts its process there too).</summary>
    public List<string>? CgroupProcsFiles { get; set; }
    /// <summary>How many times the monitor started the command again since Start-Container (restart policy, health action).</summary>
    public int RestartCount { get; set; }
    /// <summary>Stopped, and the monitor waits out the backoff delay before it starts the command again.</summary>
    public bool RestartPending { get; set; }
    /// <summary>Host pid of the rootless network helper (pasta, slirp4netns) serving the container; 0 when there is none.</summary>
    public int NetworkHelperPid { get; set; }
    /// <summary>Start time of <see cref="NetworkHelperPid"/> (field 22 of /proc/pid/stat), so a reused pid is never signalled.</summary>
    public ulong NetworkHelperStartTime { get; set; }
}

/// <summary>Lifecycle status as recorded by Init.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ContainerStatus>))]
internal enum ContainerStatus
{
    [JsonStringEnumMemberName("created")] Created,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("stopped")] Stopped,
}
