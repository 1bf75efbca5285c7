using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.ContainerRegistry;

/// <summary>Lists where one is logged in (registry, user, file) without ever showing a secret.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerRegistryLogin")]
[OutputType(typeof(RegistryLogin))]
public sealed class GetContainerRegistryLoginCommand : ContainersCmdlet
{
    /// <summary>Registries to show (wildcards allowed); all when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RegistryLoginCompleter))]
    public string[]? Registry { get; set; }

    protected override void ProcessRecord() => Logged(() =>
    {
        IReadOnlyList<RegistryLogin> logins;
        try { logins = Services.Logins().List(); }
        catch (ContainersException e) { ThrowTerminating(e); return; }
        if (Registry is null)
        {
            WriteObject(logins, true);
            return;
        }
        foreach (string pattern in Registry)
        {
            var w = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
            var matches = logins.Where(l => w.IsMatch(l.Registry)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                WriteError(ErrorRecordFactory.From(new ContainersException("RegistryLoginNotFound", ErrorKind.NotFound, $"There is no login for '{pattern}'.", pattern)));
            WriteObject(matches, true);
        }
    });
}
