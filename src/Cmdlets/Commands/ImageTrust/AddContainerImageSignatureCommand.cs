using System.Management.Automation;
using System.Net;
using System.Security;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Policy;
using Containers.Core.Spec;

namespace Containers.Cmdlets.Commands.ImageTrust;

/// <summary>Signs an image in its registry with a sigstore key: adds a signature to its sha256-&lt;digest&gt;.sig attachment.</summary>
[Cmdlet(VerbsCommon.Add, "ContainerImageSignature", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class AddContainerImageSignatureCommand : ContainersCmdlet
{
    /// <summary>The fully-qualified image to sign (tag or digest).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    public string[] Reference { get; set; } = [];

    /// <summary>The private key file (from New-ContainerSigningKey, or an unencrypted PKCS#8 PEM).</summary>
    [Parameter(Mandatory = true)]
    public string KeyPath { get; set; } = "";

    /// <summary>The key's passphrase (not needed for an unencrypted key).</summary>
    [Parameter]
    public SecureString? Passphrase { get; set; }

    /// <summary>The reference the signature vouches for, when not the one signed (for example the name users pull it by).</summary>
    [Parameter]
    public string? SignedIdentity { get; set; }

    private SigningKey? _key;

    protected override void BeginProcessing()
    {
        string path = GetUnresolvedProviderPathFromPSPath(KeyPath);
        string? pass = Passphrase is null ? null : new NetworkCredential("", Passphrase).Password;
        try { _key = SigningKey.Load(path, pass); }
        catch (Core.Errors.ContainersException e) { ThrowTerminating(e); }
    }

    protected override void ProcessRecord()
    {
        foreach (string name in Reference)
        {
            if (!ShouldProcess(name, "Add a sigstore signature")) continue;
            TryRun(async ct =>
            {
                var trust = Services.RemoteTrust();
                var identity = SignedIdentity is null ? null : ImageReference.Parse(SignedIdentity);
                await trust.SignAsync(ImageReference.Parse(name), _key!, identity, ct).ConfigureAwait(false);
            });
        }
    }
}
