using System.Management.Automation;
using Containers.Cmdlets.Commands.Image;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Registry;
using Containers.Core.Runtime;
using Containers.Core.Services;

namespace Containers.Cmdlets.Commands.Service;

/// <summary>
/// Pulls the image each container was created from; when the registry has a different image under that name, recreates
/// the container from it with the same definition (started again if it ran) and puts the previous container back when
/// the new one fails to start or to become healthy. As podman auto-update: without names, the containers labelled
/// io.containers.autoupdate=registry.
/// </summary>
[Cmdlet(VerbsData.Update, "Container", DefaultParameterSetName = ContainerCmdletBase.NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ContainerChange))]
public sealed class UpdateContainerCommand : ContainerCmdletBase
{
    public const string AutoUpdateLabel = "io.containers.autoupdate=registry";

    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Core.Runtime.Container[]? InputObject { get; set; }

    /// <summary>Only containers with these labels (<c>key=value</c>, or <c>key</c> for any value).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Label { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    protected override void ProcessRecord()
    {
        var targets = Name is null && InputObject is null ? Runtime.Store.List().OrderBy(r => r.Name, StringComparer.Ordinal).ToList() : Resolve(Name, null, InputObject);
        string[] labels = Label ?? (Name is null && InputObject is null ? [AutoUpdateLabel] : []);
        foreach (var r in targets.Where(r => labels.All(l => HasLabel(r, l))))
            Update(r);
    }

    private static bool HasLabel(ContainerRecord r, string label)
    {
        int eq = label.IndexOf('=');
        return eq < 0 ? r.Labels.ContainsKey(label) : r.Labels.TryGetValue(label[..eq], out string? v) && v == label[(eq + 1)..];
    }

    private void Update(ContainerRecord r)
    {
        if (r.Definition is not { } definition)
        {
            WriteError(ErrorRecordFactory.From(new ContainersException("ContainerDefinitionMissing", ErrorKind.InvalidState,
                $"Container {Target(r)} was made by an earlier version of the module, which did not keep its definition.", r.Name,
                "Recreate it once with Set-Container (or New-Container); later updates then work.")));
            return;
        }
        string? remoteId = null;
        if (!TryRun(async ct =>
            {
                var resolver = Services.Resolver();
                var remote = new RemoteImages(resolver, Services.Credentials(Credential, [ImagePuller.CredentialHost(resolver, definition.Image)]));
                remoteId = (await remote.InspectAsync(definition.Image, null, ct).ConfigureAwait(false)).Manifest.Config.Digest;
            })) return;
        var change = new ContainerPropertyChange("ImageId", ContainerDefinitions.ShortImageId(r.ImageId), ContainerDefinitions.ShortImageId(remoteId!));
        if (change.Before == change.After)
        {
            WriteVerbose($"{Target(r)}: {definition.Image} is unchanged on its registry.");
            WriteObject(new ContainerChange { Name = r.Name, Action = ContainerChangeAction.Unchanged, Container = Runtime.Inspect(r) });
            return;
        }
        WriteVerbose($"{Target(r)}: {change}");
        if (!ShouldProcess(Target(r), $"Update from {definition.Image} ({change.Before} -> {change.After})")) return;
        var progress = new RegistryProgressReporter(Post, WriteProgress, MyInvocation.MyCommand.Name, 1);
        ContainerChange? result = null;
        try
        {
            if (!TryRun(async ct =>
                {
                    await ImagePull.PullAsync(Services, definition.Image, null, Credential, 0, progress, ct).ConfigureAwait(false);
                    result = await new ContainerReplacer(Runtime).ReplaceAsync(r, definition, [change], (c, t) => HealthWait.UntilHealthyAsync(Runtime, c, t), ct).ConfigureAwait(false);
                })) return;
        }
        finally { progress.Complete(WriteProgress); }
        WriteObject(result);
    }
}
