using System.Globalization;
using Containers.Core.Formatting;

namespace Containers.Core.Runtime;

/// <summary>Where a container is in its life.</summary>
public enum ContainerState
{
    Created,
    Running,
    Paused,
    Exited,
    /// <summary>Exited, and its monitor starts it again after the restart policy's backoff delay.</summary>
    Restarting,
}

/// <summary>The state predicates, in one place.</summary>
internal static class ContainerStates
{
    /// <summary>Running or paused: the container has a live process and a monitor.</summary>
    public static bool IsActive(this ContainerState state) => state is ContainerState.Running or ContainerState.Paused;
}

/// <summary>A container as Get-Container shows it: its record joined with its live state.</summary>
public sealed class Container
{
    public string Id { get; init; } = "";
    /// <summary>The first 12 hex digits of <see cref="Id"/>.</summary>
    public string ShortId => Id.Length > 12 ? Id[..12] : Id;
    public string Name { get; init; } = "";
    public string Image { get; init; } = "";
    public string ImageId { get; init; } = "";
    public ContainerState State { get; init; }
    /// <summary>Host pid of the container's first process while it runs; 0 otherwise.</summary>
    public int Pid { get; init; }
    /// <summary>Host pid of its monitor while it runs.</summary>
    public int MonitorPid { get; init; }
    public int? ExitCode { get; init; }
    public int? Signal { get; init; }
    public bool OomKilled { get; init; }
    /// <summary>Why the container failed to start, or why its state was found stale.</summary>
    public string? Error { get; init; }
    // Local DateTime as Get-Process's StartTime, so (Get-Date) - $c.StartedAt works in scripts.
    public DateTime Created { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public IReadOnlyList<string> Command { get; init; } = [];
    public bool Rootless { get; init; }
    /// <summary>Created with -Tty: started detached, it has a pseudo-terminal whose output is logged as stdout.</summary>
    public bool Tty { get; init; }
    public ContainerResources Resources { get; init; } = new();
    public IReadOnlyList<ContainerMount> Mounts { get; init; } = [];
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string Network { get; init; } = "";
    /// <summary>Published ports as podman ps shows them (<c>0.0.0.0:8080-&gt;80/tcp</c>); random host ports are 0 until started.</summary>
    public IReadOnlyList<string> Ports { get; init; } = [];
    /// <summary>Addresses on its CNI networks while attached.</summary>
    public IReadOnlyList<string> IPAddresses { get; init; } = [];
    public string Hostname { get; init; } = "";
    public string? User { get; init; }
    /// <summary>When the monitor starts the command again after it exits.</summary>
    public Plan.ContainerRestartPolicy RestartPolicy { get; init; }
    /// <summary>How many times the monitor restarted it since Start-Container.</summary>
    public int RestartCount { get; init; }
    /// <summary>The health check (null: none).</summary>
    public ContainerHealthcheck? Healthcheck { get; init; }
    /// <summary>Its health while it runs with a health check (null otherwise).</summary>
    public ContainerHealth? Health { get; init; }
    /// <summary>The name of the pod the container belongs to (null: none).</summary>
    public string? Pod { get; init; }
    /// <summary>The container is its pod's infra container (it holds the pod's namespaces).</summary>
    public bool PodInfra { get; init; }

    /// <summary>The command line as one string, quoted where needed.</summary>
    public string CommandLine => string.Join(' ', Command.Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? "\"" + a + "\"" : a));

    /// <summary><c>Up 5 minutes</c>, <c>Exited (0) 3 seconds ago</c>, <c>Created</c>, like podman ps.</summary>
    public string Status => State switch
    {
        ContainerState.Running => "Up " + Since(StartedAt) + (Health is { } h ? $" ({h})" : ""),
        ContainerState.Restarting => $"Restarting ({(ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?")}) {HumanTime.Ago(FinishedAt)}",
        ContainerState.Paused => "Up " + Since(StartedAt) + " (Paused)",
        ContainerState.Exited => $"Exited ({(ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?")}) {HumanTime.Ago(FinishedAt)}",
        _ => "Created",
    };

    private static string Since(DateTime? t) => t is null ? "" : HumanTime.Span(t.Value);

    public override string ToString() => $"{Name} ({(Id.Length >= 8 ? Id[..8] : Id)})";
}
