using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>
/// Copies files between the host and a container (running or stopped, both ways), as
/// <c>podman cp</c>: <c>web:/etc/nginx</c> names a path inside container web. Modes, owners, links and xattrs are kept;
/// the container's symlinks resolve inside its root, never on the host.
/// </summary>
[Cmdlet(VerbsCommon.Copy, "ContainerItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class CopyContainerItemCommand : ContainerCmdletBase
{
    /// <summary>What to copy: <c>container:/path</c> or a host path.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Where to: a host path, or <c>container:/path</c>.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Copies directories with their contents (without it, a directory is copied empty, as Copy-Item does).</summary>
    [Parameter]
    public SwitchParameter Recurse { get; set; }

    protected override void ProcessRecord()
    {
        var copier = new ContainerCopier(Runtime);
        var (toContainer, toPath) = ContainerCopier.ParseSpec(Destination);
        foreach (string item in Path)
        {
            var (fromContainer, fromPath) = ContainerCopier.ParseSpec(item);
            if ((fromContainer is null) == (toContainer is null))
            {
                WriteError(ErrorRecordFactory.From(new ContainersException("CopyNeedsOneContainer", ErrorKind.InvalidArgument,
                    $"Exactly one of '{item}' and '{Destination}' must name a container path (container:/path).", item,
                    "Copy from container:/path to a host path, or from a host path to container:/path.")));
                continue;
            }
            if (fromContainer is not null)
            {
                string host = GetUnresolvedProviderPathFromPSPath(Destination);
                if (!ShouldProcess($"{item} -> {host}", "Copy from container")) continue;
                TryRun(ct => copier.CopyOutAsync(fromContainer, fromPath, host, Recurse, ct));
            }
            else
            {
                string host = GetUnresolvedProviderPathFromPSPath(fromPath);
                if (!ShouldProcess($"{host} -> {Destination}", "Copy into container")) continue;
                TryRun(ct => copier.CopyInAsync(host, toContainer!, toPath, Recurse, ct));
            }
        }
    }
}
