using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Build;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>
/// Makes an image from a container: its changes (the overlay upper dir) become one new layer on top of
/// its image's layers (podman commit). -Change edits the config in Containerfile syntax.
/// </summary>
[Cmdlet(VerbsCommon.New, "ContainerImage", DefaultParameterSetName = ContainerSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerImage))]
public sealed class NewContainerImageCommand : ContainerCmdletBase
{
    public const string ContainerSet = "Container";

    /// <summary>The container to commit (name, id or id prefix); a piped container binds by its Id.</summary>
    [Parameter(ParameterSetName = ContainerSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [Alias("Id")]
    [ValidateNotNullOrEmpty]
    public string Container { get; set; } = "";

    /// <summary>The new image's name(s); none makes a dangling image.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Config edits in Containerfile syntax, applied in order: CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, WORKDIR, USER, VOLUME, STOPSIGNAL.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[] Change { get; set; } = [];

    /// <summary>The comment of the new history entry.</summary>
    [Parameter]
    public string? Message { get; set; }

    [Parameter]
    public string? Author { get; set; }

    /// <summary>Freezes a running container while its changes are read (default on; -Pause:$false reads it live).</summary>
    [Parameter]
    public SwitchParameter Pause { get; set; } = true;

    protected override void ProcessRecord()
    {
        foreach (var r in Resolve([Container], null, null, wildcards: false))
        {
            string what = Name is { Length: > 0 } ? $"{Target(r)} as {string.Join(", ", Name)}" : Target(r);
            if (!ShouldProcess(what, "Commit container")) continue;
            var options = new CommitOptions { Names = Name ?? [], Changes = Change, Message = Message, Author = Author, Pause = Pause };
            StoredImage? image = null;
            if (TryRun(async ct => image = await ContainerCommitter.CommitAsync(Runtime, ImageStoreAccess.Open(), r.Id, options, ct).ConfigureAwait(false)))
                WriteObject(ContainerImage.From(image!));
        }
    }
}
