using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Diagnostics;
using Containers.Core.Errors;
using Containers.Core.Kube;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Kube;

/// <summary>ConvertTo- and Export-ContainerKube: gathers the containers of the whole pipeline, then writes one YAML stream for them.</summary>
public abstract class KubeExportCmdletBase : MatchedContainerCmdlet
{
    private readonly List<ContainerRecord> _records = [];

    /// <summary>Adds a NodePort Service for each pod's published ports (podman kube generate --service).</summary>
    [Parameter]
    public SwitchParameter Service { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
            if (!_records.Any(x => x.Id == r.Id)) _records.Add(r);
    }

    /// <summary>The YAML for everything gathered, or null (after an error) when nothing was.</summary>
    private protected string? BuildYaml()
    {
        if (_records.Count == 0) return null;
        var store = Services.OpenImageStore();
        var containers = _records.Select(r =>
        {
            Core.Spec.ContainerConfig? image = null;
            // An image removed since keeps its defaults unknown: everything the container has is written.
            try { image = Run(ct => store.GetAsync(r.ImageId, ct)).Config.Config; }
            catch (ContainersException e) { WriteWarning($"{r.Name}: {e.Message} The YAML lists all of its command and environment."); }
            return new KubeExportContainer(r, image);
        }).ToList();
        return KubeWriter.Write(KubeExportPod.Group(containers), Service, DateTimeOffset.UtcNow, SystemInfoCollector.ModuleVersion);
    }
}
