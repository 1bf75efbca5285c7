using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Build;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>
/// Imports images from an OCI layout directory, an oci-archive or a docker-archive tar into the local store;
/// with -RootFsTarball, makes an image of one layer from a root file system tar.
/// </summary>
[Cmdlet(VerbsData.Import, "ContainerImage", DefaultParameterSetName = ArchiveSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerImage))]
public sealed class ImportContainerImageCommand : ContainersCmdlet
{
    public const string ArchiveSet = "Archive";
    public const string RootFsSet = "RootFs";

    [Parameter(ParameterSetName = ArchiveSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>A root file system tar (plain, gzip or zstd), e.g. from Export-Container.</summary>
    [Parameter(ParameterSetName = RootFsSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string RootFsTarball { get; set; } = "";

    /// <summary>Names to give the imported image instead of those the archive carries.</summary>
    [Parameter(ParameterSetName = ArchiveSet, Position = 1)]
    [Parameter(ParameterSetName = RootFsSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Config instructions in Containerfile syntax for the image made from a root file system.</summary>
    [Parameter(ParameterSetName = RootFsSet)]
    [ValidateNotNull]
    public string[] Change { get; set; } = [];

    /// <summary>The comment of the history entry of the image made from a root file system.</summary>
    [Parameter(ParameterSetName = RootFsSet)]
    public string? Message { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == RootFsSet)
        {
            ImportRootFs();
            return;
        }
        string full = GetUnresolvedProviderPathFromPSPath(Path);
        string what = Name is { Length: > 0 } ? $"{full} as {string.Join(", ", Name)}" : full;
        if (!ShouldProcess(what, "Import image")) return;
        var store = Services.OpenImageStore();
        const string activity = "Importing image";
        var reporter = new LayerProgressReporter(Post, WriteProgress, activity);
        TryRun(async ct =>
        {
            var images = await ImageArchive.ImportAsync(store, full, Name, reporter, ct).ConfigureAwait(false);
            Post(() =>
            {
                reporter.Complete(WriteProgress);
                foreach (var image in images) WriteObject(ContainerImage.From(image));
            });
        });
    }

    private void ImportRootFs()
    {
        string full = GetUnresolvedProviderPathFromPSPath(RootFsTarball);
        string what = Name is { Length: > 0 } ? $"{full} as {string.Join(", ", Name)}" : full;
        if (!ShouldProcess(what, "Import root file system as image")) return;
        StoredImage? image = null;
        if (TryRun(async ct => image = await RootFsImporter.ImportAsync(Services.OpenImageStore(), full, Name ?? [], Change, Message, ct).ConfigureAwait(false)))
            WriteObject(ContainerImage.From(image!));
    }
}
