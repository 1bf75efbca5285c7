using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;
using Containers.Core.Volumes;

namespace Containers.Cmdlets.Commands.Volume;

/// <summary>Lists named volumes with the containers that mount them; a literal name that matches nothing is an error, a wildcard is not.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerVolume")]
[OutputType(typeof(ContainerVolume))]
public sealed class GetContainerVolumeCommand : ContainerCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord() => Logged(() =>
    {
        var all = new ContainerVolumes(Runtime).List();
        if (Name is null)
        {
            WriteObject(all, enumerateCollection: true);
            return;
        }
        foreach (string n in Name)
        {
            var pattern = new WildcardPattern(n, WildcardOptions.IgnoreCase);
            var matches = all.Where(v => pattern.IsMatch(v.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(n))
                WriteError(ErrorRecordFactory.From(ContainerVolumes.NotFound(n)));
            WriteObject(matches, enumerateCollection: true);
        }
    });
}
