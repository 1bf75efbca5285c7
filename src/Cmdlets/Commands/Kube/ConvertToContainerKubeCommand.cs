using System.Management.Automation;

namespace Containers.Cmdlets.Commands.Kube;

/// <summary>Writes Kubernetes YAML (Pods, PersistentVolumeClaims, with -Service a NodePort Service) for containers, as podman kube generate does.</summary>
[Cmdlet(VerbsData.ConvertTo, "ContainerKube", DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(string))]
public sealed class ConvertToContainerKubeCommand : KubeExportCmdletBase
{
    protected override void EndProcessing() => Logged(() =>
    {
        if (BuildYaml() is { } yaml) WriteObject(yaml);
    });
}
