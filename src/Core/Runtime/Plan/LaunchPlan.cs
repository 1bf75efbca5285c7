namespace Containers.Core.Runtime.Plan;

/// <summary>
/// What Core resolved and Init needs beyond the bundle's config.json. Core writes it as JSON
/// (<see cref="PlanJsonContext"/>) and runs <c>pscontainers-init run --plan &lt;file&gt;</c>.
/// Init makes no policy decision: everything here is already checked and absolute.
/// </summary>
internal sealed class LaunchPlan
{
    /// <summary>Format version of this document; Init refuses versions it does not know.</summary>
    public int Version { get; set; } = 1;
    /// <summary>The container's full id (used in messages and as a name in the state).</summary>
    public string ContainerId { get; set; } = "";
    /// <summary>The OCI bundle directory; config.json lives there and a relative root.path is resolved against it.</summary>
    public string BundleDir { get; set; } = "";
    /// <summary>Per-container runtime directory where Init writes <see cref="StateFileName"/> (created if missing).</summary>
    public string StateDir { get; set; } = "";
    /// <summary>The container log (CRI format, see <see cref="ContainerLogLine"/>), used when <see cref="Stdio"/> is Log.</summary>
    public string? LogPath { get; set; }
    /// <summary>The overlay layers mounted on root.path; null when root.path is already a usable directory (it is then bind-mounted).</summary>
    public RootfsLayers? Rootfs { get; set; }
    /// <summary>cgroup.procs (v2) or tasks/cgroup.procs (v1) files Init writes the container's pid into before releasing it. Core creates the cgroups and sets limits beforehand.</summary>
    public List<string> CgroupProcsFiles { get; set; } = [];
    /// <summary>Path of newuidmap for multi-range mappings; null writes /proc/pid/uid_map directly (root, or a single id mapping of the caller's own uid).</summary>
    public string? NewUidMap { get; set; }
    /// <summary>Path of newgidmap; null writes /proc/pid/gid_map directly (after "deny" to setgroups when not root).</summary>
    public string? NewGidMap { get; set; }
    /// <summary>Where the container's stdio goes.</summary>
    public StdioMode Stdio { get; set; } = StdioMode.Log;
    /// <summary>Rootless networking: the pasta or slirp4netns process Init starts for the container's network namespace; null for none.</summary>
    public NetworkHelperPlan? NetworkHelper { get; set; }

    /// <summary>The container's name and image, for the events the monitor writes.</summary>
    public string? ContainerName { get; set; }
    public string? Image { get; set; }
    /// <summary>The event journal the monitor appends die, oom, restart and health_status to (null: none).</summary>
    public string? EventsPath { get; set; }
    /// <summary>The restart policy (null: never restarted).</summary>
    public RestartPlan? Restart { get; set; }
    /// <summary>The health check the monitor runs (null: none).</summary>
    public HealthPlan? Health { get; set; }

    /// <summary>Name of the state file Init maintains in <see cref="StateDir"/>.</summary>
    public const string StateFileName = "state.json";
    /// <summary>Created in <see cref="StateDir"/> by Stop-Container before it signals: the monitor restarts nothing after it.</summary>
    public const string StopFileName = "stop-requested";
}

/// <summary>The read-only layers and the writable upper of an overlay rootfs.</summary>
internal sealed class RootfsLayers
{
    /// <summary>Lower (read-only) layer directories, bottom → top (the image's layer order).</summary>
    public List<string> LowerDirs { get; set; } = [];
    /// <summary>Writable upper directory; null mounts the layers read-only (needs at least two lower dirs or one plus a bind).</summary>
    public string? UpperDir { get; set; }
    /// <summary>overlayfs work directory on the same filesystem as <see cref="UpperDir"/>.</summary>
    public string? WorkDir { get; set; }
    /// <summary>
    /// The store's directory of empty <see cref="MountPointNames"/> directories. Init stacks it above the layers when the
    /// config mounts over each of them (so it never shows), instead of making them in the upper directory; null for none.
    /// </summary>
    public string? MountPointsDir { get; set; }
    /// <summary>
    /// The names under <c>etc/</c> of <see cref="MountPointsDir"/> when it is a variant with /etc targets (empty files the
    /// config bind-mounts generated files onto): Init stacks it only when the config binds each of them. Null: none.
    /// </summary>
    public List<string>? MountPointsEtc { get; set; }

    /// <summary>What <see cref="MountPointsDir"/> holds: the default config's top-level mount points.</summary>
    public static readonly string[] MountPointNames = ["proc", "dev", "sys"];
}

/// <summary>How the container's stdin/stdout/stderr are connected.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<StdioMode>))]
internal enum StdioMode
{
    /// <summary>stdin is /dev/null; stdout and stderr are piped to the monitor, which writes them to LogPath. The monitor detaches.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("log")] Log,
    /// <summary>The container inherits the caller's fds 0, 1 and 2 (interactive/attach, with a tty when the caller has one).
    /// The monitor stays in the caller's session and exits with the container's exit code.</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("inherit")] Inherit,
}
