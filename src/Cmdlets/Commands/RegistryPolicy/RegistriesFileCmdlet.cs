using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Configuration;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.RegistryPolicy;

/// <summary>Base of the cmdlets that edit one registries.conf-format file: which file (-Scope, -DropIn, -Path), and saving it.</summary>
public abstract class RegistriesFileCmdlet : ContainersCmdlet
{
    /// <summary>Which registries.conf to change: System or User (default: User when rootless, else System).</summary>
    [Parameter]
    public PolicyScope? Scope { get; set; }

    /// <summary>Edit the named drop-in of the scope's registries.conf.d (e.g. 50-mirrors; .conf is added) instead of the main file.</summary>
    [Parameter]
    public string? DropIn { get; set; }

    /// <summary>Edit this registries.conf-format file instead (not combined with -Scope or -DropIn).</summary>
    [Parameter]
    public string? Path { get; set; }

    /// <summary>Opens the file the parameters name; throws ContainersException.</summary>
    private protected RegistriesFile OpenFile(ContainerPaths paths) =>
        RegistryPolicyEditor.Open(paths, Scope, DropIn, Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path));

    /// <summary>Writes the file, and warns when the containers tools would not read it.</summary>
    private protected void SaveFile(ContainerPaths paths, RegistriesFile file)
    {
        Run(_ => { file.Save(); return Task.CompletedTask; });
        if (RegistryPolicyEditor.NotInForce(paths, file.Path) is { } why) WriteWarning(why);
    }
}
