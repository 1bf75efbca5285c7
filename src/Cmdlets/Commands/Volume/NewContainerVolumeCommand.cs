using System.Collections;
using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Runtime;
using Containers.Core.Volumes;

namespace Containers.Cmdlets.Commands.Volume;

/// <summary>Creates a named volume (a directory under the data root) that containers mount with -Volume name:/path.</summary>
[Cmdlet(VerbsCommon.New, "ContainerVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerVolume))]
public sealed class NewContainerVolumeCommand : ContainerCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter]
    public Hashtable? Label { get; set; }

    /// <summary>Only <c>local</c> (the default) exists.</summary>
    [Parameter]
    [ValidateSet(VolumeStore.LocalDriver)]
    public string Driver { get; set; } = VolumeStore.LocalDriver;

    protected override void ProcessRecord() => Logged(() =>
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Label ?? []) labels[e.Key.ToString() ?? ""] = e.Value?.ToString() ?? "";
        foreach (string name in Name)
        {
            try
            {
                VolumeStore.Validate(name);
                if (!ShouldProcess(name, "Create volume")) continue;
                WriteObject(new ContainerVolumes(Runtime).Create(name, labels));
            }
            catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); }
        }
    });
}
