using System.Globalization;
using System.Text;
using Containers.Core.Runtime;

namespace Containers.Core.Services;

/// <summary>
/// A podman Quadlet <c>.container</c> file for a container: the same image, command, environment, mounts, labels, user,
/// capabilities and restart policy, for hosts that run it under podman (4.4 or later). Limits, tmpfs mounts, the working
/// directory and the hostname have no key of their own in 4.4 and go to PodmanArgs= (podman 4.5).
/// </summary>
internal static class QuadletUnit
{
    public static string For(ContainerRecord r)
    {
        var d = r.Definition;
        var u = new StringBuilder();
        u.Append("# Container ").Append(r.Name).Append(", written by Export-ContainerSystemdUnit -Format Quadlet (podman 4.4 or later).\n")
         .Append("[Unit]\nDescription=Container ").Append(r.Name).Append("\n\n[Container]\n");
        Line(u, "Image", r.Image);
        Line(u, "ContainerName", r.Name);
        // The record's argv is entrypoint + command; without a definition it is all given as the command.
        IReadOnlyList<string> exec = d is null ? r.Command : d.Command ?? [];
        if (exec.Count > 0) Line(u, "Exec", string.Join(' ', exec.Select(ModuleCommand.Word)));
        var env = d is null ? r.Env.Select(Split) : d.Env.Where(e => e.Value is not null).Select(e => (e.Key, e.Value!));
        foreach (var (k, v) in env.OrderBy(e => e.Item1, StringComparer.Ordinal)) Line(u, "Environment", ModuleCommand.Word(k + "=" + v));
        foreach (var m in r.Mounts.Where(m => m.Type is "bind" or "secret"))
            Line(u, "Volume", ModuleCommand.Word(m.Source + ":" + m.Destination + (m.ReadOnly ? ":ro" : "")));
        foreach (var (k, v) in r.Labels.OrderBy(l => l.Key, StringComparer.Ordinal)) Line(u, "Label", ModuleCommand.Word(k + "=" + v));
        if (d?.User is { } user) Line(u, "User", user);
        foreach (string cap in d?.CapAdd ?? []) Line(u, "AddCapability", cap);
        foreach (string cap in d?.CapDrop ?? []) Line(u, "DropCapability", cap);
        if (r.ReadOnlyRootfs) Line(u, "ReadOnly", "true");
        // Our private network (own namespace, loopback only) is podman's none.
        Line(u, "Network", r.Network == "host" ? "host" : "none");
        var args = PodmanArgs(r, d);
        if (args.Count > 0) Line(u, "PodmanArgs", string.Join(' ', args.Select(ModuleCommand.Word)));
        u.Append("\n[Service]\nRestart=").Append(SystemdUnits.Restart(r.RestartPolicy)).Append('\n')
         .Append("\n[Install]\nWantedBy=default.target\n");
        return u.ToString();
    }

    private static List<string> PodmanArgs(ContainerRecord r, ContainerCreateOptions? d)
    {
        var args = new List<string>();
        var res = r.Resources;
        if (res.MemoryBytes is { } m) args.Add("--memory=" + m.ToString(CultureInfo.InvariantCulture));
        if (res.CpuQuota is { } q) args.Add("--cpu-quota=" + q.ToString(CultureInfo.InvariantCulture));
        if (res.CpuPeriod is { } p) args.Add("--cpu-period=" + p.ToString(CultureInfo.InvariantCulture));
        if (res.CpuShares is { } s) args.Add("--cpu-shares=" + s.ToString(CultureInfo.InvariantCulture));
        if (res.PidsLimit is { } n) args.Add("--pids-limit=" + n.ToString(CultureInfo.InvariantCulture));
        foreach (var t in r.Mounts.Where(m => m.Type == "tmpfs")) args.Add("--tmpfs=" + t.Destination + (t.Options is { } o ? ":" + o : ""));
        if (d?.Entrypoint is { } e) args.Add("--entrypoint=" + System.Text.Json.JsonSerializer.Serialize(e, DefinitionJsonContext.Default.IReadOnlyListString));
        if (d?.WorkingDir is { } w) args.Add("--workdir=" + w);
        if (d?.Hostname is { } h) args.Add("--hostname=" + h);
        return args;
    }

    private static (string, string) Split(string kv)
    {
        int eq = kv.IndexOf('=');
        return eq < 0 ? (kv, "") : (kv[..eq], kv[(eq + 1)..]);
    }

    private static void Line(StringBuilder u, string key, string value) => u.Append(key).Append('=').Append(value).Append('\n');
}
