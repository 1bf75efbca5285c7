using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Policy;
using Containers.Core.Registry;
using Containers.Core.Spec;

namespace Containers.Cmdlets.Commands.ContainerRegistry;

/// <summary>Logs in to a registry: checks the credential against the registry's /v2/ and saves it in the user's containers-auth.json (mode 0600).</summary>
[Cmdlet(VerbsCommunications.Connect, "ContainerRegistry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(RegistryLogin))]
public sealed class ConnectContainerRegistryCommand : ContainersCmdlet
{
    /// <summary>The registry (host[:port]) or registry/namespace the login is for.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegistryHostCompleter))]
    public string Registry { get; set; } = "";

    /// <summary>User name and password (or token).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [Credential]
    public PSCredential Credential { get; set; } = PSCredential.Empty;

    /// <summary>Save without asking the registry first (for a registry that is not reachable now).</summary>
    [Parameter]
    public SwitchParameter SkipVerification { get; set; }

    protected override void ProcessRecord()
    {
        TryRun(async ct =>
        {
            CredentialStore.ValidateKey(Registry);
            var conf = Services.Registries();
            string host = Registry.Split('/')[0];
            conf.EnsureAllowed(ImageReference.Parse(Registry.Contains('/') ? Registry : Registry + "/x"));
            var network = Credential.GetNetworkCredential();
            if (!SkipVerification)
                await RegistryLoginVerifier.VerifyAsync(host, network.UserName, network.Password, conf.IsInsecure(host), ct).ConfigureAwait(false);
            var store = Services.Logins();
            Post(() =>
            {
                if (!ShouldProcess($"{Registry} in {store.WriteFile}", $"Save the login of {network.UserName}")) return;
                store.Save(Registry, network.UserName, network.Password);
                WriteObject(new RegistryLogin(Registry, network.UserName, store.WriteFile, false));
            });
        });
    }
}
