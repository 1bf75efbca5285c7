using System.Management.Automation;
using Containers.Cmdlets.Commands.Image;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Kube;
using Containers.Core.Pods;
using Containers.Core.Volumes;

namespace Containers.Cmdlets.Commands.Kube;

/// <summary>
/// Creates and starts what a Kubernetes YAML describes (podman kube play): Pods, Deployments of one replica,
/// PersistentVolumeClaims as volumes, ConfigMaps as files; -Down removes it again. All or nothing: a failure removes
/// what the call made before it.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "ContainerKube", DefaultParameterSetName = PlaySet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ContainerPod))]
public sealed class InvokeContainerKubeCommand : ContainerCmdletBase
{
    public const string PlaySet = "Play";
    public const string DownSet = "Down";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Files holding more ConfigMaps the YAML refers to (podman's --configmap).</summary>
    [Parameter(ParameterSetName = PlaySet)]
    public string[]? ConfigMap { get; set; }

    /// <summary>The network of the pods (a CNI network name, host, none ...); not given: containers.conf's default_network.</summary>
    [Parameter(ParameterSetName = PlaySet)]
    [ArgumentCompleter(typeof(Completion.NetworkNameCompleter))]
    public string[]? Network { get; set; }

    /// <summary>Stops and removes the containers the YAML describes instead of creating them.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DownSet)]
    public SwitchParameter Down { get; set; }

    /// <summary>With -Down, removes the volumes of its PersistentVolumeClaims and ConfigMaps too (podman's --down keeps them).</summary>
    [Parameter(ParameterSetName = DownSet)]
    public SwitchParameter RemoveVolume { get; set; }

    protected override void ProcessRecord()
    {
        string path = GetUnresolvedProviderPathFromPSPath(Path);
        KubePlan plan;
        try
        {
            var maps = (ConfigMap ?? []).Select(GetUnresolvedProviderPathFromPSPath).Select(p => (Read(p), p)).ToList();
            plan = KubeReader.Read(Read(path), path, maps);
        }
        catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); return; }
        foreach (var w in plan.Warnings) WriteWarning($"{System.IO.Path.GetFileName(path)}: {w}");
        var player = new KubePlayer(Runtime, Services.Pods, new VolumeStore(Services.Paths));
        if (Down)
        {
            plan.Pods.RemoveAll(p => !ShouldProcess(p.Name, "Stop and remove pod and its containers"));
            plan.Volumes.RemoveAll(v => (RemoveVolume || v.Kind == KubeVolumeKind.EmptyDir) && !ShouldProcess(v.Name, "Remove volume"));
            TryRun(ct => player.DownAsync(plan, RemoveVolume, ct));
            return;
        }
        // Asked here, on the pipeline thread: what is declined (or -WhatIf) leaves the plan.
        plan.HostDirectories.RemoveAll(d => !ShouldProcess(d, "Create host directory"));
        plan.Volumes.RemoveAll(v => !ShouldProcess(v.Name, v.Files.Count > 0 ? "Create volume with the ConfigMap's files" : "Create volume"));
        plan.Pods.RemoveAll(p => !ShouldProcess(Target(p), "Create and start pod"));
        if (plan.Pods.Count == 0 && plan.Volumes.Count == 0) return;
        List<ContainerPod>? created = null;
        string? network = Network is null ? null : string.Join(',', Network);
        if (TryRun(async ct => created = await player.PlayAsync(plan, network, EnsureImageAsync, ct).ConfigureAwait(false)))
            WriteObject(created, enumerateCollection: true);
    }

    /// <summary><c>shop: containers shop-web (busybox), shop-sidecar (busybox)</c>.</summary>
    private static string Target(KubePodPlan p) =>
        $"{p.Name}: containers {string.Join(", ", p.Containers.Select(c => $"{c.Options.Name} ({c.Options.Image})"))}";

    private static string Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersException("KubeFileNotReadable", e is FileNotFoundException or DirectoryNotFoundException ? ErrorKind.NotFound : ErrorKind.PermissionDenied,
                $"Cannot read '{path}': {e.Message}", path, "Give the path of a readable YAML file.", e);
        }
    }

    /// <summary>As New-Container -Pull Missing (imagePullPolicy IfNotPresent), Always or Never.</summary>
    private async Task<string> EnsureImageAsync(string image, KubePullPolicy pull, CancellationToken ct)
    {
        if (pull != KubePullPolicy.Always)
        {
            var local = await Services.OpenImageStore().FindAsync(image, ct).ConfigureAwait(false);
            if (local is not null || pull == KubePullPolicy.Never) return image;
        }
        var progress = new RegistryProgressReporter(Post, WriteProgress, MyInvocation.MyCommand.Name, 1);
        try
        {
            var pulled = await ImagePull.PullAsync(Services, image, null, null, 0, progress, ct).ConfigureAwait(false);
            return pulled.Name ?? pulled.Id;
        }
        finally { Post(() => progress.Complete(WriteProgress)); }
    }
}
