using System.Management.Automation;
using System.Net;
using System.Security;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.ContainerSigningKey;

/// <summary>The files of a new signing key pair.</summary>
public sealed record SigningKeyFiles(string PrivateKeyPath, string PublicKeyPath, string Algorithm);

/// <summary>Creates a sigstore signing key pair: an encrypted private key skopeo and cosign also read, and the public key policy.json's keyPath names.</summary>
[Cmdlet(VerbsCommon.New, "ContainerSigningKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(SigningKeyFiles))]
public sealed class NewContainerSigningKeyCommand : ContainersCmdlet
{
    /// <summary>Path prefix: writes &lt;Path&gt;.key and &lt;Path&gt;.pub.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = "";

    /// <summary>The passphrase that encrypts the private key.</summary>
    [Parameter(Mandatory = true)]
    public SecureString Passphrase { get; set; } = new();

    /// <summary>ECDSA (P-256, the default) or Ed25519.</summary>
    [Parameter]
    [ValidateSet("ECDSA", "Ed25519")]
    public string Algorithm { get; set; } = "ECDSA";

    /// <summary>Overwrite existing key files.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        string prefix = GetUnresolvedProviderPathFromPSPath(Path);
        string keyPath = prefix + ".key", pubPath = prefix + ".pub";
        if (!Force && (File.Exists(keyPath) || File.Exists(pubPath)))
        {
            WriteError(ErrorRecordFactory.From(new ContainersException("SigningKeyExists", ErrorKind.AlreadyExists,
                $"{keyPath} or {pubPath} already exists.", keyPath, "Use -Force to replace them, or another -Path.")));
            return;
        }
        if (!ShouldProcess($"{keyPath}, {pubPath}", $"Create an {Algorithm} signing key")) return;
        string passphrase = new NetworkCredential("", Passphrase).Password;
        Run(_ =>
        {
            SigningKey.Generate(Algorithm).WriteKeyPair(keyPath, pubPath, passphrase);
            return Task.CompletedTask;
        });
        WriteObject(new SigningKeyFiles(keyPath, pubPath, Algorithm));
    }
}
