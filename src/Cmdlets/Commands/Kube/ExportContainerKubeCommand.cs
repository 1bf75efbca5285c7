using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;

namespace Containers.Cmdlets.Commands.Kube;

/// <summary>Writes the Kubernetes YAML of ConvertTo-ContainerKube to a file; -Force and -NoClobber as Out-File has them.</summary>
[Cmdlet(VerbsData.Export, "ContainerKube", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(System.IO.FileInfo))]
public sealed class ExportContainerKubeCommand : KubeExportCmdletBase
{
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Does not overwrite an existing file.</summary>
    [Parameter]
    [Alias("NoOverwrite")]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Overwrites a read-only file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes the file's FileInfo.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing() => Logged(() =>
    {
        string path = GetUnresolvedProviderPathFromPSPath(Path);
        var file = new System.IO.FileInfo(path);
        if (file.Exists && NoClobber)
        {
            WriteError(ErrorRecordFactory.From(new ContainersException("KubeFileExists", ErrorKind.AlreadyExists,
                $"The file '{path}' already exists and -NoClobber was given.", path, "Give another -Path, or leave -NoClobber out to overwrite it.")));
            return;
        }
        if (BuildYaml() is not { } yaml || !ShouldProcess(path, "Write Kubernetes YAML")) return;
        if (file.Exists && file.IsReadOnly)
        {
            if (!Force)
            {
                WriteError(ErrorRecordFactory.From(new ContainersException("KubeFileReadOnly", ErrorKind.PermissionDenied,
                    $"The file '{path}' is read-only.", path, "Give -Force to overwrite it.")));
                return;
            }
            file.IsReadOnly = false;
        }
        System.IO.File.WriteAllText(path, yaml);
        if (PassThru) WriteObject(new System.IO.FileInfo(path));
    });
}
