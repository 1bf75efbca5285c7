using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Pulls images from registries into the local store.</summary>
[Cmdlet(VerbsLifecycle.Install, "ContainerImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerImage))]
public sealed class InstallContainerImageCommand : ContainersCmdlet
{
    /// <summary>Image references: registry/repository:tag, @digest, or a short name resolved through registries.conf.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Reference", "Names")]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>os/arch[/variant] to pull from a multi-arch image; this host's platform by default.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(PlatformCompleter))]
    public string? Platform { get; set; }

    /// <summary>A credential for the image's registry (only ever sent to that registry).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>How many layers download at once; by default 4 for big layers and up to 16 for many small ones.</summary>
    [Parameter]
    [ValidateRange(1, 32)]
    public int ThrottleLimit { get; set; }

    /// <summary>Keep the registry's compressed layer blobs beside the unpacked layers (pushes and saves then send them unchanged).</summary>
    [Parameter]
    public SwitchParameter KeepBlobs { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            if (!ShouldProcess(name, "Install container image")) continue;
            TryRun(async ct =>
            {
                var progress = new RegistryProgressReporter(Post, WriteProgress, "Install-ContainerImage", 1);
                var image = await ImagePull.PullAsync(Services, name, Platform, Credential, ThrottleLimit, progress, ct, KeepBlobs).ConfigureAwait(false);
                Post(() => { progress.Complete(WriteProgress); WriteObject(image); });
            });
        }
    }
}
