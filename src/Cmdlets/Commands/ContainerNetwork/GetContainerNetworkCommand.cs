using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;

namespace Containers.Cmdlets.Commands.ContainerNetwork;

/// <summary>Lists the CNI networks of the configuration directory (podman's too), with the containers attached.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerNetwork")]
[OutputType(typeof(Core.Networking.ContainerNetwork))]
public sealed class GetContainerNetworkCommand : ContainersCmdlet
{
    /// <summary>Network names; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(NetworkNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord() => Logged(() =>
    {
        var networks = Services.Runtime.ListNetworks(out var invalid);
        if (Name is null)
        {
            foreach (var e in invalid) WriteError(ErrorRecordFactory.From(e));
            WriteObject(networks, enumerateCollection: true);
            return;
        }
        foreach (string name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            var found = networks.Where(n => pattern.IsMatch(n.Name)).ToList();
            WriteObject(found, enumerateCollection: true);
            if (found.Count > 0 || WildcardPattern.ContainsWildcardCharacters(name)) continue;
            var bad = invalid.FirstOrDefault(e => e.Target is string f && Path.GetFileNameWithoutExtension(f) == name);
            WriteError(ErrorRecordFactory.From(bad ?? new ContainersException("NetworkNotFound", ErrorKind.NotFound,
                $"There is no network named '{name}' in {Services.Paths.CniConfigDir}.", name, "Get-ContainerNetwork lists the networks.")));
        }
    });
}
