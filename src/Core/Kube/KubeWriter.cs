using System.Globalization;
using Containers.Core.Pods;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;
using YamlDotNet.RepresentationModel;
using static Containers.Core.Kube.KubeYaml;

namespace Containers.Core.Kube;

/// <summary>A pod to write: its containers (the first carries the restart policy) and, for a pod here, its record (network, ports, hostname, labels).</summary>
internal sealed record KubeExportPod(string Name, IReadOnlyList<KubeExportContainer> Containers, PodRecord? Pod = null)
{
    /// <summary>
    /// Groups containers into pods: the containers of a pod here go together (<paramref name="pods"/> finds it by id), and
    /// so do containers sharing a network namespace (<c>-Network container:NAME</c>); any other container is a pod of its
    /// own, named <c>name-pod</c> as podman names it. Containers are kept in the order they were made, as podman lists them.
    /// </summary>
    public static List<KubeExportPod> Group(IEnumerable<KubeExportContainer> containers, Func<string, PodRecord?>? pods = null)
    {
        var list = containers.ToList();
        var byName = list.ToDictionary(c => c.Record.Name, StringComparer.Ordinal);
        var records = new Dictionary<string, PodRecord>(StringComparer.Ordinal);
        string Key(KubeExportContainer c, int depth = 0)
        {
            if (c.Record.PodId is { } id && pods?.Invoke(id) is { } pod)
            {
                records[pod.Name] = pod;
                return pod.Name;
            }
            if (depth < 8 && c.Record.Network.StartsWith("container:", StringComparison.Ordinal) && byName.TryGetValue(c.Record.Network[10..], out var owner))
                return Key(owner, depth + 1);
            return c.Record.Name + "-pod";
        }
        return list.GroupBy(c => Key(c), StringComparer.Ordinal)
            .Select(g => new KubeExportPod(g.Key, g.OrderBy(c => c.Record.Created).ToList(), records.GetValueOrDefault(g.Key))).ToList();
    }
}

/// <summary>
/// Writes Kubernetes YAML for containers as <c>podman kube generate</c> 4.3 does: PersistentVolumeClaims for the named
/// volumes, a NodePort Service for the published ports (with -Service), then the Pods. Deliberate differences are in docs/Kube.md.
/// </summary>
internal static class KubeWriter
{
    public static string Write(IReadOnlyList<KubeExportPod> pods, bool service, DateTimeOffset now, string version)
    {
        var claims = new List<YamlMappingNode>();
        var services = new List<YamlMappingNode>();
        var podDocs = new List<YamlMappingNode>();
        var seenClaims = new HashSet<string>(StringComparer.Ordinal);
        var random = new Random();
        var nodePorts = new HashSet<long>();
        string timestamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        foreach (var pod in pods)
        {
            var doc = Pod(pod, timestamp);
            podDocs.Add(doc);
            foreach (var claim in pod.Containers.SelectMany(c => c.Record.Mounts).Where(m => m.Type == VolumeSpec.VolumeType && m.Volume is not null))
                if (seenClaims.Add(claim.Volume!)) claims.Add(Claim(claim.Volume!, timestamp));
            if (service && Service(pod.Name, doc, timestamp, random, nodePorts) is { } svc) services.Add(svc);
        }
        string header = "# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes.\n#\n# Created with Containers " + version + "\n";
        return KubeYaml.Write(claims.Concat(services).Concat(podDocs), header);
    }

    private static YamlMappingNode Pod(KubeExportPod pod, string timestamp)
    {
        var first = pod.Containers[0];
        var volumes = new List<(string Name, YamlMappingNode Volume)>();
        var containers = new YamlSequenceNode();
        var p = pod.Pod;
        var labels = new YamlMappingNode { { "app", Str(pod.Name.Replace("_", "", StringComparison.Ordinal)) } };
        var annotations = new YamlMappingNode();
        string? hostname = p?.Hostname;
        foreach (var c in pod.Containers)
        {
            // A container played into a pod is named pod-name here (as podman names it); in the YAML it is name again.
            string name = p is not null && c.Record.Name.StartsWith(p.Name + "-", StringComparison.Ordinal) ? c.Record.Name[(p.Name.Length + 1)..] : c.Record.Name;
            name = name.Replace("_", "", StringComparison.Ordinal);
            var publish = p is null ? c.Definition.Publish : c == first ? p.Publish : [];
            containers.Add(KubeContainerWriter.Write(c, name, publish, volumes));
            foreach (var (k, v) in (p?.Labels ?? []).Concat(c.Record.Labels).OrderBy(l => l.Key, StringComparer.Ordinal))
                if (!labels.Children.ContainsKey(new YamlScalarNode(k))) labels.Add(k, Str(v));
            var d = c.Definition;
            annotations.Add("io.kubernetes.cri-o.TTY/" + name, Str(c.Record.Tty ? "true" : "false"));
            annotations.Add("io.podman.annotations.autoremove/" + name, Str("FALSE"));
            annotations.Add("io.podman.annotations.init/" + name, Str(d.Run.Init ? "TRUE" : "FALSE"));
            annotations.Add("io.podman.annotations.privileged/" + name, Str(d.Privileged ? "TRUE" : "FALSE"));
            annotations.Add("io.podman.annotations.publish-all/" + name, Str(d.PublishAll ? "TRUE" : "FALSE"));
            if (hostname is null && !c.Record.Id.StartsWith(c.Record.Hostname, StringComparison.Ordinal)) hostname = c.Record.Hostname;
        }
        var dns = p?.Dns ?? first.Definition.Dns;
        var addHost = p?.AddHost ?? first.Definition.AddHost;
        string network = p?.Network ?? first.Record.Network;
        var spec = Map(
            ("automountServiceAccountToken", Bool(false)),
            ("containers", containers),
            ("enableServiceLinks", Bool(false)),
            ("hostname", hostname is null ? null : Str(hostname)),
            ("hostNetwork", network == "host" ? Bool(true) : null),
            ("restartPolicy", Str(Restart(first.Record.RestartPolicy))),
            ("dnsConfig", dns.Count > 0 ? Map(("nameservers", Strs(dns))) : null),
            ("hostAliases", addHost.Count > 0 ? HostAliases(addHost) : null),
            ("volumes", volumes.Count > 0 ? new YamlSequenceNode(volumes.Select(v => (YamlNode)v.Volume)) : null));
        return Map(
            ("apiVersion", Str("v1")),
            ("kind", Str("Pod")),
            ("metadata", Map(("annotations", annotations), ("creationTimestamp", Str(timestamp)), ("labels", labels), ("name", Str(pod.Name)))),
            ("spec", spec));
    }

    /// <summary>Kubernetes has no unless-stopped: Always is the nearest.</summary>
    private static string Restart(ContainerRestartPolicy p) => p switch
    {
        ContainerRestartPolicy.Always or ContainerRestartPolicy.UnlessStopped => "Always",
        ContainerRestartPolicy.OnFailure => "OnFailure",
        _ => "Never",
    };

    private static YamlSequenceNode HostAliases(IEnumerable<string> addHost) => new(addHost
        .Select(h => h.Split(':', 2)).Where(p => p.Length == 2)
        .GroupBy(p => p[1], StringComparer.Ordinal)
        .Select(g => (YamlNode)Map(("hostnames", Strs(g.Select(p => p[0]))), ("ip", Str(g.Key)))));

    /// <summary>A claim for a named volume, as podman writes one for <c>podman kube generate VOLUME</c>.</summary>
    private static YamlMappingNode Claim(string name, string timestamp) => Map(
        ("apiVersion", Str("v1")),
        ("kind", Str("PersistentVolumeClaim")),
        ("metadata", Map(("annotations", Map(("volume.podman.io/driver", Str("local")))), ("creationTimestamp", Str(timestamp)), ("name", Str(name)))),
        ("spec", Map(("accessModes", Strs(["ReadWriteOnce"])), ("resources", Map(("requests", Map(("storage", Str("1Gi")))))))),
        ("status", new YamlMappingNode()));

    /// <summary>A NodePort Service for the pod's container ports (node ports picked at random in 30000-32767, as podman picks them).</summary>
    private static YamlMappingNode? Service(string pod, YamlMappingNode podDoc, string timestamp, Random random, HashSet<long> used)
    {
        var ports = new YamlSequenceNode();
        var containers = (YamlSequenceNode)((YamlMappingNode)podDoc["spec"])["containers"];
        foreach (var c in containers.Children.Cast<YamlMappingNode>())
        {
            if (!c.Children.TryGetValue(new YamlScalarNode("ports"), out var list)) continue;
            foreach (var p in ((YamlSequenceNode)list).Children.Cast<YamlMappingNode>())
            {
                string port = ((YamlScalarNode)p["containerPort"]).Value!;
                long node;
                do node = random.Next(30000, 32768); while (!used.Add(node));
                ports.Add(Map(
                    ("name", Str(port)),
                    ("nodePort", Num(node)),
                    ("port", Num(long.Parse(port, CultureInfo.InvariantCulture))),
                    ("protocol", p.Children.TryGetValue(new YamlScalarNode("protocol"), out var proto) ? proto : null),
                    ("targetPort", Num(long.Parse(port, CultureInfo.InvariantCulture)))));
            }
        }
        if (ports.Children.Count == 0) return null;
        string app = pod.Replace("_", "", StringComparison.Ordinal);
        return Map(
            ("apiVersion", Str("v1")),
            ("kind", Str("Service")),
            ("metadata", Map(("creationTimestamp", Str(timestamp)), ("labels", Map(("app", Str(app)))), ("name", Str(pod)))),
            ("spec", Map(("ports", ports), ("selector", Map(("app", Str(app)))), ("type", Str("NodePort")))));
    }
}
