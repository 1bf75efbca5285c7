using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;

namespace Containers.Cmdlets.Commands.ContainerRegistry;

/// <summary>Logs out of a registry: removes its entry from the user's containers-auth.json.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "ContainerRegistry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = RegistrySet)]
[OutputType(typeof(void))]
public sealed class DisconnectContainerRegistryCommand : ContainersCmdlet
{
    public const string RegistrySet = "Registry";
    public const string AllSet = "All";

    /// <summary>The registry or registry/namespace keys to log out of.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = RegistrySet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegistryLoginCompleter))]
    public string[] Registry { get; set; } = [];

    /// <summary>Log out of every registry in the auth file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord() => Logged(() =>
    {
        var store = Services.Logins();
        if (All)
        {
            if (ShouldProcess(store.WriteFile, "Remove every login")) store.RemoveAll();
            return;
        }
        foreach (string key in Registry)
        {
            if (!ShouldProcess($"{key} in {store.WriteFile}", "Remove the login")) continue;
            try
            {
                if (!store.Remove(key))
                    WriteError(ErrorRecordFactory.From(new ContainersException("RegistryLoginNotFound", ErrorKind.NotFound,
                        $"There is no login for '{key}' in {store.WriteFile}.", key)));
            }
            catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); }
        }
    });
}
