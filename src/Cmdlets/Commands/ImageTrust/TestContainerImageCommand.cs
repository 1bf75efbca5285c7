using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;
using Containers.Core.Policy;
using Containers.Core.Spec;

namespace Containers.Cmdlets.Commands.ImageTrust;

/// <summary>Checks a remote image, or an image in the local store, against containers-policy.json: which requirement passed or failed, and why.</summary>
[Cmdlet(VerbsDiagnostic.Test, "ContainerImage", DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(PolicyEvaluation))]
public sealed class TestContainerImageCommand : ContainersCmdlet
{
    private const string RemoteSet = "Remote";
    private const string LocalSet = "Local";
    // The default set is InputObject so that a piped ContainerImage binds as itself; a string can never
    // become a ContainerImage, so piped and positional strings still select the Remote set.
    private const string InputObjectSet = "InputObject";

    /// <summary>The images to check: a registry reference (short names resolve through the search registries), or with -Local a local image's name or id.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = RemoteSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = LocalSet)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    public string[] Reference { get; set; } = [];

    /// <summary>Check images in the local store (by name or id) instead of the registry's.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LocalSet)]
    public SwitchParameter Local { get; set; }

    /// <summary>Local images to check, e.g. from Get-ContainerImage.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public ContainerImage[] InputObject { get; set; } = [];

    /// <summary>For a local image, use only the signatures stored at pull; never ask a registry.</summary>
    [Parameter(ParameterSetName = LocalSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    public SwitchParameter Offline { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == RemoteSet)
        {
            foreach (string name in Reference) TryRun(ct => TestRemoteAsync(name, ct));
            return;
        }
        var targets = ParameterSetName == LocalSet ? Reference : InputObject.Select(i => i.Id).ToArray();
        foreach (string target in targets)
        {
            TryRun(async ct =>
            {
                var store = Services.OpenImageStore();
                var image = await store.GetAsync(target, ct).ConfigureAwait(false);
                var evaluations = await Services.LocalTrust(store).TestAsync(image, Offline, ct).ConfigureAwait(false);
                Post(() => WriteObject(evaluations, enumerateCollection: true));
            });
        }
    }

    private async Task TestRemoteAsync(string name, CancellationToken ct)
    {
        var trust = Services.RemoteTrust();
        var resolution = Services.Registries().ResolveShortName(ImageReference.Parse(name), false);
        Core.Errors.ContainersException? last = null;
        foreach (var candidate in resolution.Candidates)
        {
            try
            {
                var evaluation = await trust.TestAsync(candidate, ct).ConfigureAwait(false);
                Post(() => WriteObject(evaluation));
                return;
            }
            catch (Core.Errors.ContainersException e) when (e.Kind == Core.Errors.ErrorKind.NotFound && resolution.Candidates.Count > 1)
            {
                last = e;
            }
        }
        throw last!;
    }
}
