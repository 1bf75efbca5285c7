using System.Text.Json;

namespace Containers.Core.Runtime.Plan;

/// <summary>
/// Reads the launch plan and a bundle's config.json for Init's start path with <see cref="Utf8JsonReader"/> alone: the
/// same documents, names and rules as <see cref="PlanJsonContext"/> (camelCase, unknown members skipped, comments and
/// trailing commas allowed, a property given twice keeps its last value), but no serializer metadata. Building that
/// metadata (a type info per type, a converter per property, attribute lookups through reflection) and collecting its
/// garbage were a third of the monitor's CPU time before the clone. A value of the wrong kind throws
/// <see cref="JsonException"/> naming the property and the byte offset.
/// </summary>
internal static partial class PlanReader
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>A document reader (<see cref="ReadPlan"/> or <see cref="ReadSpec"/>).</summary>
    public delegate T? Reader<T>(ReadOnlySpan<byte> json) where T : class;

    public static LaunchPlan? ReadPlan(ReadOnlySpan<byte> json) => Read(json, Plan);

    public static RuntimeSpec? ReadSpec(ReadOnlySpan<byte> json) => Read(json, Spec);

    private delegate T ReadValue<T>(ref Utf8JsonReader r);

    /// <summary>One document: a top-level null gives null (as JsonSerializer does). The reader itself refuses an empty
    /// or truncated document and anything after the value (the last Read).</summary>
    private static T? Read<T>(ReadOnlySpan<byte> json, ReadValue<T> value) where T : class
    {
        var r = new Utf8JsonReader(json, Options);
        Next(ref r);
        T? result = r.TokenType == JsonTokenType.Null ? null : value(ref r);
        r.Read();
        return result;
    }

    private static LaunchPlan Plan(ref Utf8JsonReader r)
    {
        var p = Expect<LaunchPlan>(ref r, "the plan");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "version": p.Version = Int(ref r, name); break;
                case "containerId": p.ContainerId = Str(ref r, name)!; break;
                case "bundleDir": p.BundleDir = Str(ref r, name)!; break;
                case "stateDir": p.StateDir = Str(ref r, name)!; break;
                case "logPath": p.LogPath = Str(ref r, name); break;
                case "rootfs": p.Rootfs = Obj(ref r, Rootfs); break;
                case "cgroupProcsFiles": p.CgroupProcsFiles = Strings(ref r, name)!; break;
                case "newUidMap": p.NewUidMap = Str(ref r, name); break;
                case "newGidMap": p.NewGidMap = Str(ref r, name); break;
                case "stdio": p.Stdio = Enum(ref r, name, Stdio); break;
                case "networkHelper": p.NetworkHelper = Obj(ref r, NetworkHelper); break;
                case "containerName": p.ContainerName = Str(ref r, name); break;
                case "image": p.Image = Str(ref r, name); break;
                case "eventsPath": p.EventsPath = Str(ref r, name); break;
                case "restart": p.Restart = Obj(ref r, Restart); break;
                case "health": p.Health = Obj(ref r, Health); break;
                default: r.Skip(); break;
            }
        }
        return p;
    }

    private static RootfsLayers Rootfs(ref Utf8JsonReader r)
    {
        var l = new RootfsLayers();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "lowerDirs": l.LowerDirs = Strings(ref r, name)!; break;
                case "upperDir": l.UpperDir = Str(ref r, name); break;
                case "workDir": l.WorkDir = Str(ref r, name); break;
                case "mountPointsDir": l.MountPointsDir = Str(ref r, name); break;
                case "mountPointsEtc": l.MountPointsEtc = Strings(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return l;
    }

    private static NetworkHelperPlan NetworkHelper(ref Utf8JsonReader r)
    {
        var n = new NetworkHelperPlan();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "kind": n.Kind = Str(ref r, name)!; break;
                case "path": n.Path = Str(ref r, name)!; break;
                case "args": n.Args = Strings(ref r, name)!; break;
                case "pidFile": n.PidFile = Str(ref r, name); break;
                case "logFile": n.LogFile = Str(ref r, name); break;
                case "apiSocket": n.ApiSocket = Str(ref r, name); break;
                case "forwards": n.Forwards = List(ref r, name, Forward)!; break;
                case "published": n.Published = Strings(ref r, name)!; break;
                default: r.Skip(); break;
            }
        }
        return n;
    }

    private static HostForward Forward(ref Utf8JsonReader r)
    {
        var f = new HostForward();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "protocol": f.Protocol = Str(ref r, name)!; break;
                case "hostAddress": f.HostAddress = Str(ref r, name)!; break;
                case "hostPort": f.HostPort = Int(ref r, name); break;
                case "containerPort": f.ContainerPort = Int(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return f;
    }

    private static RestartPlan Restart(ref Utf8JsonReader r)
    {
        var p = new RestartPlan();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "policy": p.Policy = Enum(ref r, name, RestartPolicy); break;
                case "maxRestarts": p.MaxRestarts = Int(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return p;
    }

    private static HealthPlan Health(ref Utf8JsonReader r)
    {
        var h = new HealthPlan();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "processFile": h.ProcessFile = Str(ref r, name)!; break;
                case "intervalMs": h.IntervalMs = Long(ref r, name); break;
                case "timeoutMs": h.TimeoutMs = Long(ref r, name); break;
                case "startPeriodMs": h.StartPeriodMs = Long(ref r, name); break;
                case "retries": h.Retries = Int(ref r, name); break;
                case "onFailure": h.OnFailure = Enum(ref r, name, HealthAction); break;
                default: r.Skip(); break;
            }
        }
        return h;
    }

    private static StdioMode? Stdio(string s) => s switch { "log" => StdioMode.Log, "inherit" => StdioMode.Inherit, _ => null };

    private static ContainerRestartPolicy? RestartPolicy(string s) => s switch
    {
        "no" => ContainerRestartPolicy.No,
        "on-failure" => ContainerRestartPolicy.OnFailure,
        "always" => ContainerRestartPolicy.Always,
        "unless-stopped" => ContainerRestartPolicy.UnlessStopped,
        _ => null,
    };

    private static ContainerHealthAction? HealthAction(string s) => s switch
    {
        "none" => ContainerHealthAction.None,
        "kill" => ContainerHealthAction.Kill,
        "restart" => ContainerHealthAction.Restart,
        _ => null,
    };
}
