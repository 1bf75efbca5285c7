using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>
/// Removes local images. By a name the image has besides others, only that name goes (untag); by its
/// last name, its id or a piped image, the image goes, then its layers no other image uses.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "ContainerImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(ContainerImage))]
public sealed class RemoveContainerImageCommand : ContainersCmdlet
{
    public const string NameSet = "Name";
    public const string IdSet = "Id";
    public const string InputObjectSet = "InputObject";

    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public ContainerImage[] InputObject { get; set; } = [];

    /// <summary>Delete even when containers use the image or it has several names.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write the removed (or untagged) image.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var store = Services.OpenImageStore();
        IEnumerable<string> targets = ParameterSetName switch
        {
            IdSet => Id,
            InputObjectSet => InputObject.Select(i => i.Name is not null && i.Names.Count > 1 ? i.Name : i.Id), // a row of several: untag its name
            _ => Name,
        };
        foreach (string target in targets)
        {
            StoredImage? image = null;
            if (!TryRun(async ct => image = await store.FindAsync(target, ct).ConfigureAwait(false) ?? throw ImageStoreErrors.NotFound(target))) continue;
            bool byName = ParameterSetName == NameSet || (ParameterSetName == InputObjectSet && target != image!.Id);
            bool untag = byName && image!.Names.Count > 1 && !image.Names.All(n => n == target);
            string action = untag ? $"Untag {target}" : Force ? "Remove image (forced)" : "Remove image";
            string display = $"{(image!.Names.Count > 0 ? string.Join(", ", image.Names) : "<none>")} ({image.ShortId})";
            if (!ShouldProcess(display, action)) continue; // -Force asks nothing more (Remove-Item)
            string query = byName ? target : image.Id;
            TryRun(async ct =>
            {
                var removal = await store.RemoveAsync(query, Force, ct).ConfigureAwait(false);
                Post(() =>
                {
                    WriteVerbose(removal.UntaggedName is { } name
                        ? $"Untagged {name} from image {removal.Image.ShortId}."
                        : $"Deleted image {removal.Image.ShortId} ({(removal.Image.Names.Count > 0 ? string.Join(", ", removal.Image.Names) : "<none>")}).");
                    if (!PassThru) return;
                    if (removal.UntaggedName is { } untagged) WriteObject(ContainerImage.From(removal.Image, untagged));
                    else foreach (var row in ContainerImage.Rows(removal.Image)) WriteObject(row);
                });
            });
        }
    }
}
