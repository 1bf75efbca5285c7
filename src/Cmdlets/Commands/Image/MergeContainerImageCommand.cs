using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Merges all or a range of an image's layers into one layer (squash), as a new image.</summary>
[Cmdlet(VerbsData.Merge, "ContainerImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerImage))]
public sealed class MergeContainerImageCommand : ContainersCmdlet
{
    /// <summary>The image to merge (name, id or digest).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [Alias("Id")]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>First layer to merge, 1-based (default 1).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? From { get; set; }

    /// <summary>Last layer to merge, 1-based (default the top layer).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? To { get; set; }

    /// <summary>The new image's name(s).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[] Destination { get; set; } = [];

    protected override void ProcessRecord()
    {
        string range = From is null && To is null ? "all layers" : $"layers {From ?? 1} to {(To is { } t ? t.ToString(System.Globalization.CultureInfo.InvariantCulture) : "top")}";
        if (!ShouldProcess($"{Name} ({range}) as {string.Join(", ", Destination)}", "Merge image layers")) return;
        StoredImage? image = null;
        if (TryRun(async ct => image = await ImageMerger.MergeAsync(Services.OpenImageStore(), Name, From, To, Destination, ct).ConfigureAwait(false)))
            WriteObject(ContainerImage.From(image!));
    }
}
