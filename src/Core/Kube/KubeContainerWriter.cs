using System.Globalization;
using Containers.Core.Networking;
using Containers.Core.Runtime;
using Containers.Core.Spec;
using YamlDotNet.RepresentationModel;
using static Containers.Core.Kube.KubeYaml;

namespace Containers.Core.Kube;

/// <summary>A container to write, with its image's execution defaults (podman writes only what differs from them).</summary>
internal sealed record KubeExportContainer(ContainerRecord Record, ContainerConfig? Image)
{
    public ContainerCreateOptions Definition => Record.Definition ?? new ContainerCreateOptions { Image = Record.Image };
}

/// <summary>One container as an entry of a pod's <c>containers</c>, field by field as podman kube generate 4.3 writes it.</summary>
internal static class KubeContainerWriter
{
    /// <summary>Environment the runtime sets itself: not part of what the user asked for.</summary>
    private static readonly string[] RuntimeEnv = ["container", "HOSTNAME"];

    /// <param name="publish">The -Publish specs written as its ports (a pod's go on its first container, as podman writes them).</param>
    public static YamlMappingNode Write(KubeExportContainer c, string name, IReadOnlyList<string> publish, List<(string Name, YamlMappingNode Volume)> volumes)
    {
        var (command, args) = CommandAndArgs(c);
        return Map(
            ("name", Str(name)),
            ("image", Str(ImageName(c.Record.Image))),
            ("command", command is null ? null : Strs(command)),
            ("args", args is null ? null : Strs(args)),
            ("env", Env(c)),
            ("workingDir", c.Record.WorkingDir != "/" && c.Record.WorkingDir != (c.Image?.WorkingDir ?? "") ? Str(c.Record.WorkingDir) : null),
            ("ports", Ports(publish)),
            ("resources", Resources(c.Record.Resources)),
            ("securityContext", Security(c)),
            ("volumeMounts", Mounts(c.Record, c.Definition, volumes)),
            ("livenessProbe", Probe(c.Record.Healthcheck)),
            ("stdin", c.Record.Interactive ? Bool(true) : null),
            ("tty", c.Record.Tty ? Bool(true) : null));
    }

    /// <summary>The image with its tag, as podman names it (<c>localhost/busybox:latest</c>).</summary>
    public static string ImageName(string image)
    {
        int slash = image.LastIndexOf('/');
        return image.Contains('@', StringComparison.Ordinal) || image.IndexOf(':', slash + 1) >= 0 ? image : image + ":latest";
    }

    /// <summary>podman's rule: with an entrypoint, command is the entrypoint and args the cmd; without, command is the cmd;
    /// a command equal to the image's cmd or entrypoint is left out.</summary>
    private static (List<string>? Command, List<string>? Args) CommandAndArgs(KubeExportContainer c)
    {
        var d = c.Definition;
        var entrypoint = (d.Entrypoint ?? c.Image?.Entrypoint ?? []).ToList();
        var cmd = (d.Command ?? (d.Entrypoint is not null ? [] : c.Image?.Cmd ?? [])).ToList();
        List<string>? command, args = null;
        if (entrypoint.Count > 0) (command, args) = (entrypoint, cmd);
        else command = cmd;
        if (command.SequenceEqual(c.Image?.Cmd ?? []) || command.SequenceEqual(c.Image?.Entrypoint ?? [])) command = null;
        return (command is { Count: > 0 } ? command : null, args is { Count: > 0 } ? args : null);
    }

    /// <summary>Only what differs from the image's environment and from what the runtime adds, as podman writes it.</summary>
    private static YamlSequenceNode? Env(KubeExportContainer c)
    {
        var image = (c.Image?.Env ?? []).ToHashSet(StringComparer.Ordinal);
        var asked = c.Definition.Env;
        var list = new YamlSequenceNode();
        foreach (string kv in c.Record.Env)
        {
            int eq = kv.IndexOf('=');
            if (eq <= 0) continue;
            string key = kv[..eq], value = kv[(eq + 1)..];
            bool given = asked.ContainsKey(key);
            if (image.Contains(kv) || (!given && (RuntimeEnv.Contains(key) || key is "HOME" || kv == Runtime.Plan.RuntimeDefaults.Path || kv == "TERM=xterm")))
                continue;
            list.Add(Map(("name", Str(key)), ("value", Str(value))));
        }
        return list.Children.Count > 0 ? list : null;
    }

    private static YamlSequenceNode? Ports(IReadOnlyList<string> publish)
    {
        var list = new YamlSequenceNode();
        foreach (var p in publish.Select(PortMapping.Parse))
        {
            foreach (var (host, container) in p.Ports())
            {
                list.Add(Map(
                    ("containerPort", Num(container)),
                    ("hostIP", p.HostIP is null ? null : Str(p.HostIP.ToString())),
                    ("hostPort", host == 0 ? null : Num(host)),
                    ("protocol", p.Protocol == "tcp" ? null : Str(p.Protocol.ToUpperInvariant()))));
            }
        }
        return list.Children.Count > 0 ? list : null;
    }

    private static YamlMappingNode? Resources(ContainerResources r)
    {
        var limits = Map(
            ("memory", r.MemoryBytes is { } m ? Str(KubeQuantity.Memory(m)) : null),
            ("cpu", r.Cpus is { } cpus && cpus * 1000 >= 1 ? Str(KubeQuantity.Cpu((long)(cpus * 1000))) : null));
        return limits.Children.Count > 0 ? Map(("limits", limits)) : null;
    }

    /// <summary>Capabilities added and dropped (<c>CAP_</c> names, podman writes an empty mapping when none), user, read-only root, privileged.</summary>
    private static YamlMappingNode Security(KubeExportContainer c)
    {
        var d = c.Definition;
        static YamlSequenceNode? Caps(IEnumerable<string> names)
        {
            var list = names.Select(n => n.Trim().ToUpperInvariant()).Select(n => n.StartsWith("CAP_", StringComparison.Ordinal) ? n : "CAP_" + n).Distinct().ToList();
            return list.Count > 0 ? Strs(list) : null;
        }
        bool user = c.Record.User is { Length: > 0 } u && u != (c.Image?.User ?? "");
        bool noNewPrivileges = d.SecurityOpt.Any(o => o is "no-new-privileges" or "no-new-privileges=true");
        return Map(
            ("capabilities", d.Privileged ? null : Map(("add", Caps(d.CapAdd)), ("drop", Caps(d.CapDrop)))),
            ("privileged", d.Privileged ? Bool(true) : null),
            ("readOnlyRootFilesystem", c.Record.ReadOnlyRootfs ? Bool(true) : null),
            ("allowPrivilegeEscalation", noNewPrivileges ? Bool(false) : null),
            ("runAsUser", user ? Num(c.Record.Uid) : null),
            ("runAsGroup", user ? Num(c.Record.Gid) : null));
    }

    /// <summary>
    /// Binds and secrets as hostPath volumes named after the path (<c>srv-www-host-0</c>), named volumes as claims
    /// (<c>data-pvc</c>), tmpfs as memory emptyDirs; the volumes go into <paramref name="volumes"/> for the pod.
    /// </summary>
    private static YamlSequenceNode? Mounts(ContainerRecord r, ContainerCreateOptions d, List<(string Name, YamlMappingNode Volume)> volumes)
    {
        var mounts = new YamlSequenceNode();
        var named = new List<YamlMappingNode>();
        var namedVolumes = new List<(string, YamlMappingNode)>();
        int index = 0;
        foreach (var m in r.Mounts)
        {
            string name;
            YamlMappingNode volume;
            if (m.Type == VolumeSpec.VolumeType && m.Volume is { } v)
            {
                name = v + "-pvc";
                volume = Map(("persistentVolumeClaim", Map(("claimName", Str(v)), ("readOnly", m.ReadOnly ? Bool(true) : null))));
            }
            else if (m.Type == "tmpfs")
            {
                // -ReadOnly's own tmpfs: played with readOnlyRootFilesystem they come back by themselves.
                if (r.ReadOnlyRootfs && m.Destination is "/tmp" or "/var/tmp" or "/run" && !d.Tmpfs.Any(t => t.Split(':')[0] == m.Destination)) continue;
                name = PathName(m.Destination) + "-tmpfs-" + index.ToString(CultureInfo.InvariantCulture);
                volume = Map(("emptyDir", Map(("medium", Str("Memory")))));
                index++;
            }
            else
            {
                string source = m.Source ?? "";
                name = PathName(source) + "-host-" + index.ToString(CultureInfo.InvariantCulture);
                string type = Directory.Exists(source) ? "Directory" : File.Exists(source) ? "File" : "DirectoryOrCreate";
                volume = Map(("hostPath", Map(("path", Str(source)), ("type", Str(type)))));
                index++;
            }
            var mount = Map(("mountPath", Str(m.Destination)), ("name", Str(name)), ("readOnly", m.ReadOnly ? Bool(true) : null));
            // podman lists binds first, then named volumes.
            if (m.Type == VolumeSpec.VolumeType) named.Add(mount); else mounts.Add(mount);
            volume.Add("name", Str(name));
            if (!volumes.Any(x => x.Name == name) && !namedVolumes.Any(x => x.Item1 == name))
                (m.Type == VolumeSpec.VolumeType ? namedVolumes : volumes).Add((name, volume));
        }
        foreach (var n in named) mounts.Add(n);
        volumes.AddRange(namedVolumes);
        return mounts.Children.Count > 0 ? mounts : null;
    }

    /// <summary><c>/srv/www/</c> → <c>srv-www</c>, <c>/</c> → <c>root</c> (podman's convertVolumePathToName).</summary>
    private static string PathName(string path) => path.Trim('/') is { Length: > 0 } t ? t.Replace('/', '-') : "root";

    /// <summary>The health check as an exec livenessProbe (podman 4.3 writes none; Kubernetes and podman kube play read it).</summary>
    private static YamlMappingNode? Probe(ContainerHealthcheck? h)
    {
        if (h is null || h.Test is [] or ["NONE", ..]) return null;
        return Map(
            ("exec", Map(("command", Strs(h.Command)))),
            ("periodSeconds", Num((long)h.Interval.TotalSeconds)),
            ("timeoutSeconds", Num((long)h.Timeout.TotalSeconds)),
            ("failureThreshold", Num(h.Retries)),
            ("initialDelaySeconds", h.StartPeriod > TimeSpan.Zero ? Num((long)h.StartPeriod.TotalSeconds) : null));
    }
}
