using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>
/// Deletes a host file or directory tree that a rootless container filled with files of its subordinate ids (a bind
/// mount), which Remove-Item cannot: what you cannot delete yourself is deleted inside a user namespace with your id
/// maps, as <c>podman unshare rm -rf</c>. As root it is a plain recursive delete.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "ContainerItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
public sealed class RemoveContainerItemCommand : ContainerCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    protected override void ProcessRecord() => Logged(() =>
    {
        var remover = new HostTreeRemover(Runtime);
        foreach (string p in Path)
        {
            try
            {
                string full = HostTreeRemover.Check(GetUnresolvedProviderPathFromPSPath(p));
                if (!ShouldProcess(full, "Remove with everything in it")) continue;
                remover.Remove(full);
            }
            catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); }
        }
    });
}
