using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Runtime;
using Containers.Core.Volumes;
using Serilog;

namespace Containers.Core.Kube;

/// <summary>
/// Creates and starts what a <see cref="KubePlan"/> describes, all or nothing: volumes (ConfigMap files written into
/// theirs), then per pod its containers, the first holding the pod's network namespace and published ports, the others
/// joining it (<c>container:NAME</c>), so they reach each other on localhost as in a pod. If anything fails, what was
/// made before is removed again. <see cref="DownAsync"/> removes what a plan made.
/// </summary>
internal sealed class KubePlayer(ContainerRuntime runtime, VolumeStore volumes)
{
    private static readonly ILogger Log = ModuleLog.For<KubePlayer>();

    /// <summary>Makes sure an image is in the store as the pull policy says; returns the name to create from.</summary>
    public delegate Task<string> ImageEnsurer(string image, KubePullPolicy pull, CancellationToken ct);

    /// <summary>The containers created and started, in YAML order; on failure, throws after removing what it made.</summary>
    public async Task<List<Container>> PlayAsync(KubePlan plan, string? network, ImageEnsurer ensure, CancellationToken ct)
    {
        var createdDirs = new List<string>();
        var createdVolumes = new List<string>();
        var created = new List<string>();
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
                // Every image first: a missing one fails the pod before any of its containers exists.
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
                string? owner = null;
                for (int i = 0; i < pod.Containers.Count; i++)
                {
                    var o = pod.Containers[i].Options;
                    o.Image = pulled[i];
                    o.Labels[KubeExportPod.PodLabel] = pod.Name;
                    if (owner is null)
                    {
                        o.Network = pod.Network ?? network;
                        o.Publish = pod.Publish;
                    }
                    else o.Network = "container:" + owner;
                    var c = await runtime.CreateAsync(o, ct).ConfigureAwait(false);
                    created.Add(c.Id);
                    owner ??= c.Name;
                }
            }
            var result = new List<Container>();
            foreach (string id in created) result.Add(await runtime.StartAsync(id, ct).ConfigureAwait(false));
            Log.Information("Played {Pods} pods with {Containers} containers", plan.Pods.Count, created.Count);
            return result;
        }
        catch
        {
            await UndoAsync(created, createdVolumes, createdDirs).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Removes what failed half-way, newest first; a failure here is logged, the first failure is what the caller sees.</summary>
    private async Task UndoAsync(List<string> containers, List<string> createdVolumes, List<string> dirs)
    {
        for (int i = containers.Count - 1; i >= 0; i--)
        {
            try { await runtime.RemoveAsync(containers[i], force: true, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) { Log.Warning(e, "Could not remove container {Id} after a failed play", containers[i]); }
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
    /// Removes the containers the plan's pods have here (stopping them), newest first, and the emptyDir volumes; claims' and
    /// ConfigMaps' volumes only with <paramref name="removeVolumes"/> (podman's --down keeps them). Returns what it removed.
    /// </summary>
    public async Task<List<string>> DownAsync(KubePlan plan, bool removeVolumes, CancellationToken ct)
    {
        var removed = new List<string>();
        var records = runtime.Store.List();
        foreach (var pod in plan.Pods)
        {
            // Sharers first: the first container holds the others' network namespace.
            foreach (var c in Enumerable.Reverse(pod.Containers))
            {
                string name = c.Options.Name!;
                if (records.FirstOrDefault(r => r.Name == name) is not { } r) continue;
                await runtime.RemoveAsync(r.Id, force: true, ct).ConfigureAwait(false);
                removed.Add(name);
            }
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
