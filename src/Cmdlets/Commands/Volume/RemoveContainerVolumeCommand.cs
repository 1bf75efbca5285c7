using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;
using Containers.Core.Volumes;

namespace Containers.Cmdlets.Commands.Volume;

/// <summary>Deletes named volumes and their data; refused while a container uses one, unless -Force (which removes those containers).</summary>
[Cmdlet(VerbsCommon.Remove, "ContainerVolume", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class RemoveContainerVolumeCommand : ContainerCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public ContainerVolume[] InputObject { get; set; } = [];

    /// <summary>Removes a volume in use too, with the containers that use it (running ones are killed).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var volumes = new ContainerVolumes(Runtime);
        foreach (string name in ParameterSetName == InputObjectSet ? InputObject.Select(v => v.Name) : Name)
        {
            string action = Force ? "Remove volume and the containers that use it" : "Remove volume";
            if (!ShouldProcess(name, action)) continue;
            TryRun(ct => volumes.RemoveAsync(name, Force, ct));
        }
    }
}
