using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.ContainerTrustPolicy;

/// <summary>Removes docker scopes from containers-policy.json, so their images fall back to the next broader scope or the default.</summary>
[Cmdlet(VerbsCommon.Remove, "ContainerTrustPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveContainerTrustPolicyCommand : ContainersCmdlet
{
    /// <summary>The transports.docker scopes to remove (registry, repository, or *.domain).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowNull] // Get-ContainerTrustPolicy's default entry has no Registry: refused below with a clear error, not a binding one
    [ArgumentCompleter(typeof(TrustScopeCompleter))]
    public string[]? Registry { get; set; }

    /// <summary>Which policy.json to change: System or User (default: the file in force).</summary>
    [Parameter]
    public PolicyScope? Scope { get; set; }

    protected override void ProcessRecord()
    {
        if (Registry is null || Registry.Length == 0 || Registry.Any(r => r is null))
        {
            WriteError(ErrorRecordFactory.From(new ContainersException("TrustDefaultNotRemovable", ErrorKind.InvalidArgument,
                "The default requirement cannot be removed: policy.json needs one.", "default",
                "Change it with 'Set-ContainerTrustPolicy -Default <requirement>', or pass only docker scopes (filter out Scope 'default').")));
            return;
        }
        TrustPolicyEditor editor;
        try { editor = TrustPolicyEditor.Open(Services.Paths, Scope); }
        catch (ContainersException e) { ThrowTerminating(e); return; }
        var removed = new List<string>();
        foreach (string scope in Registry)
        {
            if (editor.RemoveScope(scope)) removed.Add(scope);
            else WriteError(ErrorRecordFactory.From(new ContainersException("TrustScopeNotFound", ErrorKind.NotFound,
                $"There is no transports.docker[\"{scope}\"] in {editor.Path}.", scope)));
        }
        if (removed.Count == 0 || !ShouldProcess(editor.Path, "remove " + string.Join(", ", removed.Select(s => $"transports.docker[\"{s}\"]")))) return;
        try { Run(_ => { editor.Save(); return Task.CompletedTask; }); }
        catch (ContainersException e) { ThrowTerminating(e); }
    }
}
