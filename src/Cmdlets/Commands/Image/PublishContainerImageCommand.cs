using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Registry;
using Containers.Core.Spec;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Pushes an image from the local store to a registry.</summary>
[Cmdlet(VerbsData.Publish, "ContainerImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(PushResult))]
public sealed class PublishContainerImageCommand : ContainersCmdlet
{
    /// <summary>The local image: name, id or digest.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Where to push: registry/repository[:tag]. The image's own name when omitted.</summary>
    [Parameter(Position = 1)]
    public string? Destination { get; set; }

    /// <summary>A credential for the destination registry (only ever sent to that registry).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Blobs larger than this many bytes are uploaded in chunks of this size.</summary>
    [Parameter]
    [ValidateRange(1024, 1L << 30)]
    public long ChunkSize { get; set; } = 16L << 20;

    /// <summary>os/arch[/variant]: push only this platform's image of a multi-arch index instead of the whole index.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Platform { get; set; }

    protected override void ProcessRecord()
    {
        var store = Services.OpenImageStore();
        StoredImage? image = null;
        if (!TryRun(async ct => image = await store.GetAsync(Name, ct).ConfigureAwait(false)) || image is null) return;
        string? destination = Destination ?? image.Names.FirstOrDefault(n => !n.StartsWith(ImageStore.LocalRegistry + "/", StringComparison.Ordinal));
        if (destination is null)
        {
            WriteError(ErrorRecordFactory.From(new ContainersException("DestinationRequired", ErrorKind.InvalidArgument,
                $"The image '{Name}' has no registry name to push to.", Name, "Give -Destination registry/repository:tag.")));
            return;
        }
        if (!ShouldProcess($"{image} -> {destination}", "Publish container image")) return;
        TryRun(async ct =>
        {
            var dest = ImageReference.Parse(destination);
            var resolver = Services.Resolver();
            var credentials = Services.Credentials(Credential, dest.Registry is null ? [] : [dest.Registry]);
            var pusher = new ImagePusher(store, resolver, credentials, new RegistryClientOptions { ChunkSize = ChunkSize });
            var progress = new RegistryProgressReporter(Post, WriteProgress, "Publish-ContainerImage", 100);
            var result = await pusher.PushAsync(image, destination, progress, ct, Platform).ConfigureAwait(false);
            Post(() => { progress.Complete(WriteProgress); WriteObject(result); });
        });
    }
}
