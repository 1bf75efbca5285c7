using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Imports images from an OCI layout directory, an oci-archive or a docker-archive tar into the local store.</summary>
[Cmdlet(VerbsData.Import, "ContainerImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerImage))]
public sealed class ImportContainerImageCommand : ContainersCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Names to give the imported image instead of those the archive carries.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        string full = GetUnresolvedProviderPathFromPSPath(Path);
        string what = Name is { Length: > 0 } ? $"{full} as {string.Join(", ", Name)}" : full;
        if (!ShouldProcess(what, "Import image")) return;
        var store = Context.OpenImageStore();
        const string activity = "Importing image";
        var reporter = new LayerProgressReporter(Post, WriteProgress, activity);
        TryRun(async ct =>
        {
            var images = await ImageArchive.ImportAsync(store, full, Name, reporter, ct).ConfigureAwait(false);
            Post(() =>
            {
                reporter.Complete(WriteProgress, activity);
                foreach (var image in images) WriteObject(ContainerImage.From(image));
            });
        });
    }
}
