using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Core.Kube;

/// <summary>One entry of a pod's <c>containers</c>, read into New-Container's options as podman kube play 4.3 maps it.</summary>
internal static class KubeContainerReader
{
    public static KubeContainerPlan Read(KubeMap c, KubePodPlan pod, Dictionary<string, KubeVolumeSource?> volumes,
        Dictionary<string, Dictionary<string, string>> configMaps)
    {
        string name = c.Required("name");
        var o = new ContainerCreateOptions
        {
            Image = c.Required("image"),
            // podman names a played container <pod>-<container>.
            Name = pod.Name + "-" + name,
            // Kubernetes' command replaces the image's entrypoint (and drops its cmd); args replace the cmd.
            Entrypoint = c.Strs("command") is { Count: > 0 } command ? command : null,
            Command = c.Strs("args") is { Count: > 0 } args ? args : null,
            WorkingDir = c.Str("workingDir"),
            Tty = c.Bool("tty") == true,
            Interactive = c.Bool("stdin") == true,
        };
        if (o.Entrypoint is not null && o.Command is null) o.Command = [];
        var pull = c.Str("imagePullPolicy") switch
        {
            null or "IfNotPresent" => KubePullPolicy.IfNotPresent,
            "Always" => KubePullPolicy.Always,
            "Never" => KubePullPolicy.Never,
            _ => throw c.Invalid("imagePullPolicy", "IfNotPresent, Always or Never"),
        };
        c.Accept("terminationMessagePath", "terminationMessagePolicy", "stdinOnce");
        o.Env = Env(c, configMaps);
        pod.Publish.AddRange(Ports(c));
        Mounts(c, o, volumes);
        Resources(c, o);
        Security(c, o);
        Probe(c, o);
        c.Warn("readinessProbe", "readiness probes are not played (no Service routes traffic here); the livenessProbe is the health check.");
        c.Warn("startupProbe", "startup probes are not played; initialDelaySeconds of the livenessProbe gives a start period.");
        c.Warn("lifecycle", "postStart and preStop hooks are not played.");
        c.Refuse("volumeDevices", "devices are not played from YAML.");
        Annotations(pod, name, o);
        o.Security = Runtime.Security.ContainerSecurity.Parse(o.SecurityOpt, o.Privileged, Path.GetFullPath);
        c.Finish();
        return new KubeContainerPlan(name, o, pull);
    }

    /// <summary>podman's per-container annotations (<c>io.kubernetes.cri-o.TTY/web</c> ...): taken from the pod's, the rest stay for a warning.</summary>
    private static void Annotations(KubePodPlan pod, string name, ContainerCreateOptions o)
    {
        bool Take(string key)
        {
            string k = key + "/" + name;
            if (!pod.Annotations.Remove(k, out string? v)) return false;
            return string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);
        }
        if (Take("io.kubernetes.cri-o.TTY")) o.Tty = true;
        if (Take("io.podman.annotations.init")) o.Run.Init = true;
        if (Take("io.podman.annotations.privileged")) o.Privileged = true;
        if (Take("io.podman.annotations.publish-all")) o.PublishAll = true;
        Take("io.podman.annotations.autoremove"); // a played container is never removed on exit, TRUE or not
        // podman's bookkeeping of the pod it generated from (its infra container's id): meaningless here.
        Take("io.kubernetes.cri-o.ContainerType");
        Take("io.kubernetes.cri-o.SandboxID");
    }

    private static Dictionary<string, string?> Env(KubeMap c, Dictionary<string, Dictionary<string, string>> configMaps)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var from in c.Maps("envFrom"))
        {
            string prefix = from.Str("prefix") ?? "";
            if (from.Map("configMapRef") is { } r)
            {
                string map = r.Required("name");
                bool optional = r.Bool("optional") == true;
                r.Finish();
                if (configMaps.TryGetValue(map, out var data))
                    foreach (var (k, v) in data) env[prefix + k] = v;
                else if (!optional) throw MissingMap(r.At("name"), map);
            }
            from.Refuse("secretRef", "secrets are not played here.");
            from.Finish();
        }
        foreach (var e in c.Maps("env"))
        {
            string key = e.Required("name");
            if (e.Map("valueFrom") is { } from)
            {
                if (from.Map("configMapKeyRef") is { } r)
                {
                    string map = r.Required("name"), k = r.Required("key");
                    bool optional = r.Bool("optional") == true;
                    r.Finish();
                    if (configMaps.TryGetValue(map, out var data) && data.TryGetValue(k, out string? v)) env[key] = v;
                    else if (!optional) throw MissingMap(r.At("key"), map + "." + k);
                }
                from.Refuse("secretKeyRef", "secrets are not played here.");
                from.Refuse("fieldRef", "field references are not played here.");
                from.Refuse("resourceFieldRef", "resource field references are not played here.");
                from.Finish();
            }
            else env[key] = e.Str("value") ?? "";
            e.Finish();
        }
        return env;
    }

    private static ContainersException MissingMap(string at, string what) =>
        new("KubeConfigMapNotFound", ErrorKind.NotFound, $"{at}: there is no ConfigMap entry '{what}'.", what,
            "Put the ConfigMap in the same file or give it with -ConfigMap, or mark the reference optional.");

    /// <summary>Ports with a hostPort become -Publish specs; a containerPort alone only documents the port (as in podman).</summary>
    private static List<string> Ports(KubeMap c)
    {
        var specs = new List<string>();
        foreach (var p in c.Maps("ports"))
        {
            long port = p.Int("containerPort") ?? throw p.Invalid("containerPort", "a port number");
            long? host = p.Int("hostPort");
            string? ip = p.Str("hostIP");
            string protocol = (p.Str("protocol") ?? "TCP").ToLowerInvariant();
            if (protocol is not ("tcp" or "udp" or "sctp")) throw p.Invalid("protocol", "TCP, UDP or SCTP");
            p.Accept("name");
            p.Finish();
            if (host is > 0)
                specs.Add(string.Create(CultureInfo.InvariantCulture, $"{(string.IsNullOrEmpty(ip) ? "" : ip + ":")}{host}:{port}/{protocol}"));
        }
        return specs;
    }

    private static void Mounts(KubeMap c, ContainerCreateOptions o, Dictionary<string, KubeVolumeSource?> volumes)
    {
        var binds = new List<string>();
        var tmpfs = new List<string>();
        foreach (var m in c.Maps("volumeMounts"))
        {
            string name = m.Required("name"), path = m.Required("mountPath");
            bool ro = m.Bool("readOnly") == true;
            m.Refuse("subPath", "subPath mounts are not played here.");
            m.Refuse("subPathExpr", "subPath mounts are not played here.");
            m.Warn("mountPropagation", "mount propagation is not set here (private).");
            m.Finish();
            if (!volumes.TryGetValue(name, out var source))
                throw new ContainersException("KubeVolumeNotFound", ErrorKind.InvalidData, $"{m.At("name")}: the pod has no volume '{name}'.", name,
                    "Add it to spec.volumes.");
            if (source is null) continue; // an optional ConfigMap that is not there
            if (source.Tmpfs) tmpfs.Add(path);
            else binds.Add($"{source.Source}:{path}{(ro || source.ReadOnly ? ":ro" : "")}");
        }
        o.Volumes = binds;
        o.Tmpfs = tmpfs;
    }

    private static void Resources(KubeMap c, ContainerCreateOptions o)
    {
        if (c.Map("resources") is not { } r) return;
        if (r.Map("limits") is { } limits)
        {
            if (limits.Str("memory") is { } memory) o.MemoryBytes = (long)KubeQuantity.Parse(memory, limits.At("memory"));
            if (limits.Str("cpu") is { } cpu) o.Cpus = (double)KubeQuantity.Parse(cpu, limits.At("cpu"));
            limits.Finish();
        }
        r.Warn("requests", "requests only matter to a scheduler; limits are enforced here.");
        r.Finish();
    }

    private static void Security(KubeMap c, ContainerCreateOptions o)
    {
        if (c.Map("securityContext") is not { } s) return;
        long? uid = s.Int("runAsUser"), gid = s.Int("runAsGroup");
        if (uid is not null) o.User = gid is null ? $"{uid}" : $"{uid}:{gid}";
        else if (gid is not null) s.Warn("runAsGroup", "runAsGroup without runAsUser is not played.");
        if (s.Map("capabilities") is { } caps)
        {
            o.CapAdd = caps.Strs("add") ?? [];
            o.CapDrop = caps.Strs("drop") ?? [];
            caps.Finish();
        }
        o.ReadOnlyRootfs = s.Bool("readOnlyRootFilesystem") == true;
        o.Privileged = o.Privileged || s.Bool("privileged") == true;
        if (s.Bool("allowPrivilegeEscalation") == false) o.SecurityOpt = ["no-new-privileges"];
        s.Accept("runAsNonRoot");
        s.Warn("seLinuxOptions", "SELinux is not used here.");
        s.Warn("seccompProfile", "seccomp profiles from YAML are not played; the default profile applies.");
        s.Finish();
    }

    /// <summary>The livenessProbe as the health check: exec as an argv; httpGet and tcpSocket as podman turns them into commands.</summary>
    private static void Probe(KubeMap c, ContainerCreateOptions o)
    {
        if (c.Map("livenessProbe") is not { } p) return;
        if (p.Map("exec") is { } exec)
        {
            o.HealthCommand = exec.Strs("command") is { Count: > 0 } cmd ? cmd : throw exec.Invalid("command", "a non-empty list");
            exec.Finish();
        }
        else if (p.Map("httpGet") is { } http)
        {
            string scheme = (http.Str("scheme") ?? "HTTP").ToLowerInvariant(), host = http.Str("host") ?? "localhost", path = http.Str("path") ?? "/";
            string port = http.Str("port") ?? throw http.Invalid("port", "a port");
            http.Warn("httpHeaders", "probe headers are not sent.");
            http.Finish();
            o.HealthCommand = [$"curl -f {scheme}://{host}:{port}{path} || exit 1"];
        }
        else if (p.Map("tcpSocket") is { } tcp)
        {
            string port = tcp.Str("port") ?? throw tcp.Invalid("port", "a port");
            o.HealthCommand = [$"nc -z -v {tcp.Str("host") ?? "localhost"} {port} || exit 1"];
            tcp.Finish();
        }
        else throw p.Invalid("exec", "given (or httpGet, tcpSocket)");
        if (p.Int("periodSeconds") is { } period) o.HealthInterval = TimeSpan.FromSeconds(period);
        if (p.Int("timeoutSeconds") is { } timeout) o.HealthTimeout = TimeSpan.FromSeconds(timeout);
        if (p.Int("failureThreshold") is { } failures) o.HealthRetries = (int)failures;
        if (p.Int("initialDelaySeconds") is { } delay) o.HealthStartPeriod = TimeSpan.FromSeconds(delay);
        p.Accept("successThreshold");
        p.Warn("terminationGracePeriodSeconds", "not played.");
        p.Finish();
    }
}
