using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Pods;
using Containers.Core.Runtime;
using Containers.Core.Volumes;
using Serilog;

namespace Containers.Core.Kube;

/// <summary>
/// Creates and starts what a <see cref="KubePlan"/> describes, all or nothing: volumes (ConfigMap files written into
/// theirs), then each pod (its network and published ports) with its containers, which share its network, IPC and UTS
/// namespaces as in Kubernetes. If anything fails, what was made before is removed again. <see cref="DownAsync"/> removes
/// what a plan made.
/// </summary>
internal sealed class KubePlayer(ContainerRuntime runtime, PodRuntime pods, VolumeStore volumes)
{
    private static readonly ILogger Log = ModuleLog.For<KubePlayer>();

    /// <summary>Makes sure an image is in the store as the pull policy says; returns the name to create from.</summary>
    public delegate Task<string> ImageEnsurer(string image, KubePullPolicy pull, CancellationToken ct);

    /// <summary>The containers created and started, in YAML order; on failure, throws after removing what it made.</summary>
    public async Task<List<ContainerPod>> PlayAsync(KubePlan plan, string? network, ImageEnsurer ensure, CancellationToken ct)
    {
        var createdDirs = new List<string>();
        var createdVolumes = new List<string>();
        var createdPods = new List<string>();
        try
        {
            foreach (string dir in plan.HostDirectories)
            {
                Directory.CreateDirectory(dir);
                createdDirs.Add(dir);
            }
            foreach (var v in plan.Volumes)
            {
                volumes.GetOrCreate(v.Name, out bool isNew);
                if (isNew) createdVolumes.Add(v.Name);
                foreach (var (path, content) in v.Files)
                {
                    string file = Path.Combine(volumes.DataPath(v.Name), path);
                    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                    await File.WriteAllTextAsync(file, content, ct).ConfigureAwait(false);
                }
            }
            foreach (var pod in plan.Pods)
            {
                // Every image first: a missing one fails the pod before it exists.
                var pulled = new List<string>();
                foreach (var c in pod.Containers)
                {
                    try { pulled.Add(await ensure(c.Options.Image, c.Pull, ct).ConfigureAwait(false)); }
                    catch (ContainersException e) when (e.Kind != ErrorKind.OperationStopped)
                    {
                        throw new ContainersException("KubeImageUnavailable", e.Kind,
                            $"Pod {pod.Name}, container {c.YamlName}: the image '{c.Options.Image}' is not in the store and could not be pulled: {e.Message}",
                            c.Options.Image, e.RecommendedAction ?? "Pull or import the image first, or fix the image name in the YAML.", e);
                    }
                }
                var created = await pods.CreateAsync(new PodCreateOptions
                {
                    Name = pod.Name, Hostname = pod.Hostname, Labels = pod.Labels, Network = pod.Network ?? network, Publish = pod.Publish,
                    AddHost = pod.AddHost, Dns = pod.Dns,
                }, ct).ConfigureAwait(false);
                createdPods.Add(created.Id);
                for (int i = 0; i < pod.Containers.Count; i++)
                {
                    var o = pod.Containers[i].Options;
                    o.Image = pulled[i];
                    o.Pod = created.Id;
                    await runtime.CreateAsync(o, ct).ConfigureAwait(false);
                }
            }
            var result = new List<ContainerPod>();
            foreach (string id in createdPods) result.Add(await pods.StartAsync(pods.Store.Read(id)!, ct).ConfigureAwait(false));
            Log.Information("Played {Pods} pods", createdPods.Count);
            return result;
        }
        catch
        {
            await UndoAsync(createdPods, createdVolumes, createdDirs).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Removes what failed half-way, newest first; a failure here is logged, the first failure is what the caller sees.</summary>
    private async Task UndoAsync(List<string> createdPods, List<string> createdVolumes, List<string> dirs)
    {
        for (int i = createdPods.Count - 1; i >= 0; i--)
        {
            try
            {
                if (pods.Store.Read(createdPods[i]) is { } record) await pods.RemoveAsync(record, force: true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) { Log.Warning(e, "Could not remove pod {Id} after a failed play", createdPods[i]); }
        }
        foreach (string v in createdVolumes)
        {
            try { volumes.Delete(v); }
            catch (Exception e) { Log.Warning(e, "Could not remove volume {Volume} after a failed play", v); }
        }
        foreach (string d in dirs)
        {
            try { Directory.Delete(d); }
            catch (IOException e) { Log.Warning(e, "Could not remove directory {Dir} after a failed play", d); }
        }
    }

    /// <summary>
    /// Stops and removes the plan's pods that exist here (with their containers), and the emptyDir volumes; claims' and
    /// ConfigMaps' volumes only with <paramref name="removeVolumes"/> (podman's --down keeps them). Returns what it removed.
    /// </summary>
    public async Task<List<string>> DownAsync(KubePlan plan, bool removeVolumes, CancellationToken ct)
    {
        var removed = new List<string>();
        foreach (var pod in plan.Pods)
        {
            if (pods.Store.Find(pod.Name) is not { } record || record.Name != pod.Name) continue;
            await pods.RemoveAsync(record, force: true, ct).ConfigureAwait(false);
            removed.Add(pod.Name);
        }
        foreach (var v in plan.Volumes.Where(v => removeVolumes || v.Kind == KubeVolumeKind.EmptyDir))
        {
            if (!volumes.Exists(v.Name)) continue;
            volumes.Delete(v.Name);
            removed.Add(v.Name);
        }
        return removed;
    }
}
