using System.Text.Json;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>What Invoke-ContainerCommand runs inside a running container.</summary>
internal sealed class ExecOptions
{
    public IReadOnlyList<string> Command { get; set; } = [];
    /// <summary>Added to (or replacing in) the container's environment.</summary>
    public IDictionary<string, string?> Env { get; set; } = new Dictionary<string, string?>();
    public string? WorkingDir { get; set; }
    /// <summary>User inside the container (resolved against the image); the container's user when null.</summary>
    public string? User { get; set; }
    /// <summary>Connects the process to this session's terminal (stdio inherited) instead of capturing its output.</summary>
    public bool Inherit { get; set; }
    /// <summary>Gives the process a pseudo-terminal of the container (its stdin, stdout and stderr; TERM=xterm unless set).
    /// Init relays it to this session's stdio (raw mode when that is a terminal); its output has one stream.</summary>
    public bool Tty { get; set; }
    /// <summary>
    /// Pieces written to the process's stdin as they arrive, which is closed (end of file) when the writer completes the
    /// channel; null for an empty stdin. A process that stops reading is no error: the rest is read and dropped, so the
    /// writer never waits on it.
    /// </summary>
    public System.Threading.Channels.ChannelReader<byte[]>? Stdin { get; set; }
}

/// <summary>
/// Plans an exec: the process <c>pscontainers-init exec</c> runs, derived from the container's own process (its
/// environment, rlimits, no_new_privs, capabilities) and the caller's options. A pure function: no file is read, the
/// user is resolved through the given function, and the container's process is left unchanged.
/// </summary>
internal static class ExecPlanner
{
    /// <summary>Throws NoCommand or InvalidWorkingDirectory for bad options; <paramref name="resolveUser"/> is only called for <see cref="ExecOptions.User"/>.</summary>
    public static RuntimeProcess Plan(RuntimeProcess? container, ExecOptions options, Func<string, ResolvedUser> resolveUser, string target)
    {
        if (options.Command.Count == 0 || options.Command[0].Length == 0)
            throw new ContainersException("NoCommand", ErrorKind.InvalidArgument, "Give the command to run.", target);
        if (options.WorkingDir is { } wd && !wd.StartsWith('/'))
            throw new ContainersException("InvalidWorkingDirectory", ErrorKind.InvalidArgument, $"The working directory '{wd}' is not absolute.", wd);
        // A deep copy through the plan's own serialiser: every field the container's process has is carried.
        var p = container is null ? new RuntimeProcess()
            : JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(container, PlanJsonContext.Default.RuntimeProcess), PlanJsonContext.Default.RuntimeProcess)!;
        p.Args = [.. options.Command];
        p.Terminal = options.Tty;
        var env = (p.Env ?? []).ToList();
        if (options.Tty && !env.Any(e => e.StartsWith("TERM=", StringComparison.Ordinal))) env.Add("TERM=xterm");
        foreach (var (key, value) in options.Env)
        {
            env.RemoveAll(e => e.StartsWith(key + "=", StringComparison.Ordinal));
            if (value is not null) env.Add(key + "=" + value);
        }
        p.Env = env;
        if (options.WorkingDir is not null) p.Cwd = options.WorkingDir;
        if (options.User is { } userSpec)
        {
            var u = resolveUser(userSpec);
            p.User = new RuntimeUser { Uid = u.Uid, Gid = u.Gid, AdditionalGids = u.AdditionalGids.Count > 0 ? [.. u.AdditionalGids] : null };
            p.Capabilities = LinuxCapabilities.For(u.Uid, p.Capabilities?.Bounding ?? []);
        }
        return p;
    }
}
