using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.ContainerTrustPolicy;

/// <summary>Writes containers-policy.json: the default requirement, or the requirement of one registry or repository (accept, reject, or sigstore-signed by a key).</summary>
[Cmdlet(VerbsCommon.Set, "ContainerTrustPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class SetContainerTrustPolicyCommand : ContainersCmdlet
{
    /// <summary>The requirement for every image no scope names (policy.json's "default").</summary>
    [Parameter]
    public TrustRequirementType? Default { get; set; }

    /// <summary>The docker scope to set: a registry (quay.io), a repository or namespace (quay.io/org/app), or *.domain.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegistryPrefixCompleter))]
    public string? Registry { get; set; }

    /// <summary>The requirement for -Registry: InsecureAcceptAnything, Reject or SigstoreSigned.</summary>
    [Parameter]
    public TrustRequirementType? Requirement { get; set; }

    /// <summary>The public key (PEM) a SigstoreSigned requirement trusts; stored as an absolute keyPath.</summary>
    [Parameter]
    public string? KeyPath { get; set; }

    /// <summary>How a signature's identity must match the image (signedIdentity); left out unless given, which means MatchRepoDigestOrExact.</summary>
    [Parameter]
    public SignedIdentityType? SignedIdentity { get; set; }

    /// <summary>Which policy.json to change: System or User (default: the file in force; for a new one, User when rootless, else System).</summary>
    [Parameter]
    public PolicyScope? Scope { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            if (Default is null && Registry is null)
                throw new ContainersException("NoPolicyChange", ErrorKind.InvalidArgument, "Nothing to change: give -Default, or -Registry with -Requirement.");
            if (Registry is not null && Requirement is null)
                throw new ContainersException("TrustRequirementRequired", ErrorKind.InvalidArgument, $"Give -Requirement for '{Registry}'.", Registry);
            if (Registry is null && Requirement is not null)
                throw new ContainersException("RegistryRequired", ErrorKind.InvalidArgument, "-Requirement sets one scope: name it with -Registry (or use -Default).");
            string? key = KeyPath is null ? null : GetUnresolvedProviderPathFromPSPath(KeyPath);
            var editor = TrustPolicyEditor.Open(Services.Paths, Scope);
            var changes = new List<string>();
            if (Default is { } d)
                changes.Add(editor.SetDefault(d, d == TrustRequirementType.SigstoreSigned ? key : null, d == TrustRequirementType.SigstoreSigned ? SignedIdentity : null));
            if (Registry is not null)
            {
                var r = Requirement!.Value;
                bool signed = r == TrustRequirementType.SigstoreSigned || Default != TrustRequirementType.SigstoreSigned;
                changes.Add(editor.SetScope(Registry, r, signed ? key : null, signed ? SignedIdentity : null));
            }
            if (ShouldProcess(editor.Path, string.Join("; ", changes)))
            {
                Run(_ => { editor.Save(); return Task.CompletedTask; });
                WriteVerbose($"Wrote {editor.Path}: {string.Join("; ", changes)}");
            }
        }
        catch (ContainersException e) { ThrowTerminating(e); }
    }
}
