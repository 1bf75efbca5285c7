using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Build;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Writes a container's root file system (image layers plus its changes) as one tar (podman export).</summary>
[Cmdlet(VerbsData.Export, "Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(FileInfo))]
public sealed class ExportContainerCommand : ContainerCmdletBase
{
    /// <summary>The container (name, id or id prefix); a piped container binds by its Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The tar file to write (replaced if it exists).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        string full = GetUnresolvedProviderPathFromPSPath(Path);
        foreach (var r in Resolve([Name], null, null, wildcards: false))
        {
            if (!ShouldProcess($"{Target(r)} to {full}", "Export container file system")) continue;
            FileInfo? file = null;
            if (TryRun(async ct => file = await ContainerExporter.ExportAsync(Runtime, r.Id, full, ct).ConfigureAwait(false)))
                WriteObject(file);
        }
    }
}
