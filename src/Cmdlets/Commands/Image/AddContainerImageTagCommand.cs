using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Gives a local image one or more additional names (registry/name:tag).</summary>
[Cmdlet(VerbsCommon.Add, "ContainerImageTag", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ImageSet)]
[OutputType(typeof(ContainerImage))]
public sealed class AddContainerImageTagCommand : ContainersCmdlet
{
    public const string ImageSet = "Image";
    public const string InputObjectSet = "InputObject";

    /// <summary>The image to tag: a name, an id (prefix) or a digest.</summary>
    [Parameter(ParameterSetName = ImageSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Image { get; set; } = "";

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public ContainerImage? InputObject { get; set; }

    /// <summary>The new names, e.g. registry.example.com/team/app:1.0 (a name without registry goes under localhost/).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[] Tag { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var store = Services.OpenImageStore();
        string target = InputObject?.Id ?? Image;
        StoredImage? image = null;
        if (!TryRun(async ct => image = await store.FindAsync(target, ct).ConfigureAwait(false) ?? throw ImageStoreErrors.NotFound(target))) return;
        foreach (string tag in Tag)
        {
            if (!ShouldProcess($"{image} -> {tag}", "Tag image")) continue;
            var before = image!.Names;
            if (!TryRun(async ct => image = await store.TagAsync(image!.Id, tag, ct).ConfigureAwait(false))) continue;
            // The row of the name just added (as the store spells it: localhost/ for a short name, :latest by default).
            string added = image!.Names.Except(before).FirstOrDefault() ?? ImageStore.NormalizeName(tag);
            if (PassThru) WriteObject(ContainerImage.From(image, added));
        }
    }
}
