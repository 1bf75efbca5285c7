using Containers.Core.Errors;
using Containers.Core.Volumes;

namespace Containers.Core.Kube;

/// <summary>
/// Reads Kubernetes YAML into a <see cref="KubePlan"/>, as <c>podman kube play</c> 4.3 reads it: Pods, Deployments of one
/// replica, PersistentVolumeClaims, ConfigMaps. A key it does not play is a warning with its YAML path; one whose absence
/// would change what runs (an unsupported volume type, replicas above 1, an unknown kind) is an error. Nothing is created.
/// </summary>
internal static class KubeReader
{
    /// <summary>Reads <paramref name="yaml"/>; <paramref name="configMaps"/> are more YAML texts (with their file names) holding ConfigMaps.</summary>
    public static KubePlan Read(string yaml, string source, IEnumerable<(string Text, string Source)>? configMaps = null)
    {
        var plan = new KubePlan();
        var docs = KubeYaml.Parse(yaml, source).Select((d, i) => (Doc: d, Source: source, Index: i)).ToList();
        var maps = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (text, file) in configMaps ?? [])
        {
            foreach (var (doc, i) in KubeYaml.Parse(text, file).Select((d, i) => (d, i)))
            {
                var root = KubeMap.Root(doc, plan.Warnings);
                if (root.Str("kind") != "ConfigMap")
                    throw new ContainersException("KubeConfigMapInvalid", ErrorKind.InvalidData, $"{file}: document {i + 1} is not a ConfigMap.", file,
                        "Give -ConfigMap files that hold kind: ConfigMap documents.");
                ReadConfigMap(root, maps);
            }
        }
        // ConfigMaps and claims first, wherever they are in the file, so pods can use them (podman sorts the same way).
        var workloads = new List<KubeMap>();
        foreach (var (doc, _, index) in docs)
        {
            var root = new KubeMap(doc, "", plan.Warnings);
            string kind = root.Required("kind");
            switch (kind)
            {
                case "ConfigMap": ReadConfigMap(root, maps); break;
                case "PersistentVolumeClaim": ReadClaim(root, plan); break;
                case "Pod" or "Deployment": workloads.Add(root); break;
                case "Service":
                    // Published ports come from the containers' hostPort, as podman plays them; a Service has no effect here.
                    plan.Warnings.Add(new KubeWarning($"{kind} {root.Map("metadata")?.Str("name")}", "Services are not played; the containers' hostPort publishes."));
                    break;
                default:
                    throw new ContainersException("KubeKindNotSupported", ErrorKind.NotSupported,
                        $"{source}: document {index + 1} is a {kind}; only Pod, Deployment, PersistentVolumeClaim, ConfigMap and Service are played here.", kind,
                        "Remove that document, or apply it to a Kubernetes cluster.");
            }
        }
        foreach (var root in workloads)
        {
            if (root.Str("kind") == "Pod") ReadPod(root, plan, maps);
            else ReadDeployment(root, plan, maps);
        }
        return plan;
    }

    private static void ReadConfigMap(KubeMap root, Dictionary<string, Dictionary<string, string>> maps)
    {
        root.Accept("apiVersion", "kind");
        var meta = root.Map("metadata") ?? throw root.Invalid("metadata", "a mapping with a name");
        string name = meta.Required("name");
        meta.Accept("creationTimestamp", "labels", "annotations");
        meta.Finish();
        maps[name] = root.StrMap("data");
        root.Warn("binaryData", "binary ConfigMap data is not played.");
        root.Finish();
    }

    private static void ReadClaim(KubeMap root, KubePlan plan)
    {
        root.Accept("apiVersion", "kind");
        var meta = root.Map("metadata") ?? throw root.Invalid("metadata", "a mapping with a name");
        string name = meta.Required("name");
        VolumeName(name, meta.At("name"));
        meta.Accept("creationTimestamp", "labels");
        // podman's volume options (driver, mount options ...) ride in annotations; the module's volumes have none. The
        // local driver (what podman and ConvertTo-ContainerKube write for every claim) is what is made anyway.
        var annotations = meta.StrMap("annotations");
        annotations.Remove("volume.podman.io/driver", out string? driver);
        if (annotations.Count > 0 || driver is not (null or "local"))
            meta.Warn("annotations", "volume annotations (driver, mount options) are not played; a local volume is made.");
        else
            meta.Accept("annotations");
        meta.Finish();
        // A claim's size and access modes mean nothing to a local volume (podman ignores them too).
        root.Map("spec")?.Accept("accessModes", "resources", "storageClassName", "volumeMode");
        root.Accept("spec", "status");
        root.Finish();
        plan.AddVolume(name, KubeVolumeKind.Claim);
    }

    private static void ReadDeployment(KubeMap root, KubePlan plan, Dictionary<string, Dictionary<string, string>> maps)
    {
        root.Accept("apiVersion", "kind", "status");
        var meta = root.Map("metadata") ?? throw root.Invalid("metadata", "a mapping with a name");
        string name = meta.Required("name");
        meta.Accept("creationTimestamp", "labels");
        meta.Warn("annotations", "Deployment annotations are not played.");
        meta.Finish();
        var spec = root.Map("spec") ?? throw root.Invalid("spec", "a mapping with a template");
        long replicas = spec.Int("replicas") ?? 1;
        if (replicas != 1)
            throw new ContainersException("KubeReplicasNotSupported", ErrorKind.NotSupported,
                $"{spec.At("replicas")} is {replicas}: a Deployment is played as one pod here (one host runs one replica).", spec.At("replicas"),
                "Set replicas: 1, or apply the Deployment to a Kubernetes cluster.");
        spec.Accept("selector", "strategy", "revisionHistoryLimit", "progressDeadlineSeconds", "minReadySeconds");
        var template = spec.Map("template") ?? throw spec.Invalid("template", "a pod template");
        spec.Finish();
        // podman names a Deployment's pod <name>-pod-0.
        ReadPodSpec(template, name + "-pod-0", "Deployment", plan, maps);
        template.Finish();
        root.Finish();
    }

    private static void ReadPod(KubeMap root, KubePlan plan, Dictionary<string, Dictionary<string, string>> maps)
    {
        root.Accept("apiVersion", "kind", "status");
        var name = (root.Map("metadata") ?? throw root.Invalid("metadata", "a mapping with a name")).Required("name");
        ReadPodSpec(root, name, "Pod", plan, maps);
        root.Finish();
    }

    /// <summary>A Pod's or template's metadata and spec.</summary>
    private static void ReadPodSpec(KubeMap root, string name, string kind, KubePlan plan, Dictionary<string, Dictionary<string, string>> maps)
    {
        var pod = new KubePodPlan(name, kind);
        if (root.Map("metadata") is { } meta)
        {
            meta.Accept("name", "creationTimestamp", "namespace");
            foreach (var (k, v) in meta.StrMap("labels")) pod.Labels[k] = v;
            foreach (var (k, v) in meta.StrMap("annotations")) pod.Annotations[k] = v;
            meta.Finish();
        }
        var spec = root.Map("spec") ?? throw root.Invalid("spec", "a mapping with containers");
        spec.Accept("enableServiceLinks", "automountServiceAccountToken", "terminationGracePeriodSeconds", "dnsPolicy", "schedulerName");
        pod.Hostname = spec.Str("hostname");
        if (spec.Bool("hostNetwork") == true) pod.Network = "host";
        var restart = spec.Str("restartPolicy") switch
        {
            null or "Always" => Runtime.Plan.ContainerRestartPolicy.Always,
            "OnFailure" => Runtime.Plan.ContainerRestartPolicy.OnFailure,
            "Never" => Runtime.Plan.ContainerRestartPolicy.No,
            _ => throw spec.Invalid("restartPolicy", "Always, OnFailure or Never"),
        };
        spec.Refuse("initContainers", "init containers are not played here.");
        var dns = spec.Map("dnsConfig");
        pod.Dns.AddRange(dns?.Strs("nameservers") ?? []);
        dns?.Finish();
        pod.AddHost.AddRange(spec.Maps("hostAliases").SelectMany(h =>
        {
            string ip = h.Required("ip");
            var names = h.Strs("hostnames") ?? [];
            h.Finish();
            return names.Select(n => n + ":" + ip);
        }));
        var volumes = ReadVolumes(spec, pod, plan, maps);
        var containers = spec.Maps("containers");
        if (containers.Count == 0)
            throw new ContainersException("KubeFieldMissing", ErrorKind.InvalidData, $"{spec.At("containers")}: a pod needs at least one container.", spec.At("containers"));
        foreach (var c in containers)
        {
            var container = KubeContainerReader.Read(c, pod, volumes, maps);
            if (pod.Containers.Any(x => x.YamlName == container.YamlName))
                throw new ContainersException("KubeFieldInvalid", ErrorKind.InvalidData, $"{c.At("name")}: the pod {name} has two containers named {container.YamlName}.", c.At("name"));
            var o = container.Options;
            o.RestartPolicy = restart;
            // As podman: a liveness probe with a restart policy restarts the container when it turns unhealthy.
            if (o.HealthCommand is not null && restart != Runtime.Plan.ContainerRestartPolicy.No) o.HealthOnFailure = Runtime.Plan.ContainerHealthAction.Restart;
            foreach (var (k, v) in pod.Labels) o.Labels[k] = v;
            pod.Containers.Add(container);
        }
        spec.Finish();
        foreach (var (k, _) in pod.Annotations)
            plan.Warnings.Add(new KubeWarning($"{root.At("metadata")}.annotations.{k}", "annotations have no effect here; ignored."));
        plan.Pods.Add(pod);
    }

    /// <summary>The pod's volumes by name, as -Volume sources (a host path or a volume name) or tmpfs; null for an optional ConfigMap that is missing.</summary>
    private static Dictionary<string, KubeVolumeSource?> ReadVolumes(KubeMap spec, KubePodPlan pod, KubePlan plan, Dictionary<string, Dictionary<string, string>> maps)
    {
        var result = new Dictionary<string, KubeVolumeSource?>(StringComparer.Ordinal);
        foreach (var v in spec.Maps("volumes"))
        {
            string name = v.Required("name");
            if (v.Map("hostPath") is { } host)
            {
                string path = host.Required("path");
                string? type = host.Str("type");
                host.Finish();
                // podman kube generate writes a tmpfs mount as hostPath "tmpfs": read it back as one.
                result[name] = path == "tmpfs" ? new KubeVolumeSource(null, Tmpfs: true) : new KubeVolumeSource(HostPath(path, type, host.At("path"), plan));
            }
            else if (v.Map("persistentVolumeClaim") is { } claim)
            {
                string claimName = claim.Required("claimName");
                VolumeName(claimName, claim.At("claimName"));
                bool ro = claim.Bool("readOnly") == true;
                claim.Finish();
                plan.AddVolume(claimName, KubeVolumeKind.Claim);
                result[name] = new KubeVolumeSource(claimName, ReadOnly: ro);
            }
            else if (v.Map("configMap") is { } cm)
            {
                result[name] = ConfigMapVolume(cm, plan, maps);
            }
            else if (v.Map("emptyDir") is { } empty)
            {
                if (empty.Str("medium") == "Memory") result[name] = new KubeVolumeSource(null, Tmpfs: true);
                else
                {
                    string volume = VolumeName($"{pod.Name}-{name}", v.At("name"));
                    plan.AddVolume(volume, KubeVolumeKind.EmptyDir);
                    result[name] = new KubeVolumeSource(volume);
                }
                empty.Warn("sizeLimit", "emptyDir size limits are not enforced here.");
                empty.Finish();
            }
            else
            {
                string type = v.Has("secret") ? "secret" : "this";
                throw new ContainersException("KubeVolumeTypeNotSupported", ErrorKind.NotSupported,
                    $"{v.Path} ({name}): {type} volume type is not played here; hostPath, persistentVolumeClaim, configMap and emptyDir are.", v.Path,
                    "Use one of those volume types, or apply the pod to a Kubernetes cluster.");
            }
            v.Finish();
        }
        return result;
    }

    private static KubeVolumeSource? ConfigMapVolume(KubeMap cm, KubePlan plan, Dictionary<string, Dictionary<string, string>> maps)
    {
        string mapName = cm.Required("name");
        bool optional = cm.Bool("optional") == true;
        cm.Warn("defaultMode", "file modes of ConfigMap files are not set here (0644).");
        var items = cm.Maps("items").Select(i => { var kv = (Key: i.Required("key"), Path: i.Required("path")); i.Warn("mode", "file modes are not set here."); i.Finish(); return kv; }).ToList();
        cm.Finish();
        if (!maps.TryGetValue(mapName, out var data))
        {
            if (optional) return null;
            throw new ContainersException("KubeConfigMapNotFound", ErrorKind.NotFound, $"{cm.At("name")}: there is no ConfigMap '{mapName}'.", mapName,
                "Put the ConfigMap in the same file or give it with -ConfigMap.");
        }
        var volume = plan.AddVolume(VolumeName(mapName, cm.At("name")), KubeVolumeKind.ConfigMap);
        foreach (var (key, path) in items.Count > 0 ? items : data.Keys.Select(k => (k, k)).ToList())
        {
            if (!data.TryGetValue(key, out string? content))
                throw new ContainersException("KubeConfigMapKeyNotFound", ErrorKind.NotFound, $"{cm.Path}: ConfigMap '{mapName}' has no key '{key}'.", key);
            if (path.StartsWith('/') || path.Split('/').Contains(".."))
                throw new ContainersException("KubeFieldInvalid", ErrorKind.InvalidData, $"{cm.Path}: item path '{path}' must be relative and stay inside the volume.", path);
            volume.Files[path] = content;
        }
        return new KubeVolumeSource(volume.Name);
    }

    private static string HostPath(string path, string? type, string at, KubePlan plan)
    {
        if (!path.StartsWith('/'))
            throw new ContainersException("KubeFieldInvalid", ErrorKind.InvalidData, $"{at}: '{path}' is not an absolute host path.", at);
        bool isDir = Directory.Exists(path), isFile = File.Exists(path);
        string? problem = type switch
        {
            null or "" or "DirectoryOrCreate" or "FileOrCreate" => null,
            "Directory" when !isDir => "is not a directory",
            "File" when !isFile => "is not a file",
            "Directory" or "File" => null,
            _ => $"has type {type}, which is not played here (Directory, DirectoryOrCreate, File, FileOrCreate are)",
        };
        if (type == "DirectoryOrCreate" && !isDir && !isFile) plan.HostDirectories.Add(path);
        if (problem is not null)
            throw new ContainersException("KubeHostPathInvalid", ErrorKind.InvalidData, $"{at}: host path '{path}' {problem}.", path, "Create it, or fix the path or type.");
        return path;
    }

    private static string VolumeName(string name, string at) => VolumeStore.IsValidName(name) ? name
        : throw new ContainersException("KubeFieldInvalid", ErrorKind.InvalidData, $"{at}: '{name}' cannot be a volume name here (letters, digits, '_', '.', '-').", at);
}

/// <summary>A pod volume as a container mounts it: a host path or volume name, or a tmpfs.</summary>
internal sealed record KubeVolumeSource(string? Source, bool Tmpfs = false, bool ReadOnly = false);
