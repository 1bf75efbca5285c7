namespace Containers.Core.Runtime.Plan;

/// <summary>
/// The user-mode network helper (pasta or slirp4netns) Init starts for a rootless container's network namespace, after
/// the id maps are written and before the container is released, and stops when the container has exited. Core
/// resolved everything: the binary, every argument, the port forwards; Init only runs it (see src/Init/README.md,
/// "Rootless networking").
/// </summary>
internal sealed class NetworkHelperPlan
{
    /// <summary><c>pasta</c> (forks into the background once the namespace is configured) or <c>slirp4netns</c>
    /// (stays in the foreground as Init's child and reports readiness on a pipe).</summary>
    public string Kind { get; set; } = "";
    /// <summary>Absolute path of the helper's binary.</summary>
    public string Path { get; set; } = "";
    /// <summary>The arguments; an element <see cref="PidPlaceholder"/> is replaced by the container's host pid.</summary>
    public List<string> Args { get; set; } = [];
    /// <summary>pasta: the file its <c>--pid</c> option writes (the daemon's pid), read by Init.</summary>
    public string? PidFile { get; set; }
    /// <summary>slirp4netns: where its stdout and stderr go (read for the reason when it fails).</summary>
    public string? LogFile { get; set; }
    /// <summary>slirp4netns: its API socket, through which Init asks for the port forwards.</summary>
    public string? ApiSocket { get; set; }
    /// <summary>slirp4netns: the host-to-container forwards requested through <see cref="ApiSocket"/> (pasta has them in its arguments).</summary>
    public List<HostForward> Forwards { get; set; } = [];
    /// <summary>The published ports of this run (random host ports resolved) as -Publish specs, for Container.Ports; Init ignores them.</summary>
    public List<string> Published { get; set; } = [];

    /// <summary>The argument Init replaces by the container's pid.</summary>
    public const string PidPlaceholder = "{pid}";
}

/// <summary>One host port forwarded to a port of the container (slirp4netns <c>add_hostfwd</c>).</summary>
internal sealed class HostForward
{
    /// <summary><c>tcp</c> or <c>udp</c>.</summary>
    public string Protocol { get; set; } = "tcp";
    /// <summary>The host address to listen on; <c>0.0.0.0</c> for every address.</summary>
    public string HostAddress { get; set; } = "0.0.0.0";
    public int HostPort { get; set; }
    public int ContainerPort { get; set; }
}
