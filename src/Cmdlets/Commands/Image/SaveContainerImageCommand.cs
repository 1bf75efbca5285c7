using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;
using Containers.Core.Spec;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Saves local images to an OCI layout directory, an oci-archive or a docker-archive tar.</summary>
[Cmdlet(VerbsData.Save, "ContainerImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ImageSet)]
[OutputType(typeof(ContainerImage))]
public sealed class SaveContainerImageCommand : ContainersCmdlet
{
    public const string ImageSet = "Image";
    public const string InputObjectSet = "InputObject";

    /// <summary>Images to save: names, ids or digests.</summary>
    [Parameter(ParameterSetName = ImageSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Image { get; set; } = [];

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public ContainerImage[] InputObject { get; set; } = [];

    /// <summary>Where to write: a directory for OciLayout, a file for the archives.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>OciLayout, OciArchive or DockerArchive; by default a path ending in .tar is an OciArchive, else an OciLayout.</summary>
    [Parameter]
    public ImageArchiveFormat? Format { get; set; }

    /// <summary>Replace an existing archive file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private ImageStore? _store;
    private readonly List<StoredImage> _images = [];

    protected override void ProcessRecord()
    {
        _store ??= Services.OpenImageStore();
        IEnumerable<string> targets = ParameterSetName == InputObjectSet ? InputObject.Select(i => i.Id) : Image;
        foreach (string target in targets)
        {
            TryRun(async ct =>
            {
                var image = await _store.FindAsync(target, ct).ConfigureAwait(false) ?? throw ImageStoreErrors.NotFound(target);
                // The name asked for comes first: it is the one the archive is labelled with.
                if (ImageReference.TryParse(target, out _) && image.Names.FirstOrDefault(n => n == SafeNormalize(target)) is { } asked)
                    image = image with { Names = [asked, .. image.Names.Where(n => n != asked)] };
                if (_images.All(i => i.Id != image.Id)) _images.Add(image);
            });
        }
    }

    private static string? SafeNormalize(string name)
    {
        try { return ImageStore.NormalizeName(name); }
        catch (Containers.Core.Errors.ContainersException) { return null; }
    }

    protected override void EndProcessing()
    {
        if (_images.Count == 0 || _store is null) return;
        string full = GetUnresolvedProviderPathFromPSPath(Path);
        var format = Format ?? ImageArchive.FormatFromPath(full);
        if (!ShouldProcess($"{string.Join(", ", _images)} -> {full} ({format})", "Save image")) return;
        const string activity = "Saving image";
        var reporter = new LayerProgressReporter(Post, WriteProgress, activity);
        if (TryRun(ct => ImageArchive.SaveAsync(_store, _images, full, format, Force, reporter, ct)))
        {
            reporter.Complete(WriteProgress);
            if (PassThru) foreach (var image in _images) WriteObject(ContainerImage.From(image));
        }
    }
}
