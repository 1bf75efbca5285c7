using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Events;

namespace Containers.Cmdlets.Commands.Event;

/// <summary>
/// Reads the event journal that cmdlets and container monitors write (podman events): what happened to containers and
/// images, oldest first. -Follow streams new events until Ctrl+C.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ContainerEvent")]
[OutputType(typeof(ContainerEvent))]
public sealed class GetContainerEventCommand : ContainersCmdlet
{
    [Parameter]
    public DateTime? Since { get; set; }

    [Parameter]
    public DateTime? Until { get; set; }

    /// <summary>Streams the events written from now on (after those since -Since, when given) until Ctrl+C or -Until.</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    [Parameter]
    public ContainerEventType[]? Type { get; set; }

    /// <summary>create, start, die, health_status ... (wildcards).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Action { get; set; }

    /// <summary>Container names (wildcards) or ids (or their prefixes).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Container { get; set; }

    /// <summary>Image names (wildcards) or ids: the image's own events and those of containers that run it.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Image { get; set; }

    protected override void EndProcessing()
    {
        var actions = Patterns(Action);
        var containers = Patterns(Container);
        var images = Patterns(Image);
        var query = new EventQuery
        {
            Since = Since,
            Until = Until,
            Types = Type,
            Filter = e => Any(actions, e.Action)
                && (containers is null || e.Type == ContainerEventType.Container && (Any(containers, e.Name) || IdMatches(Container!, e.Id)))
                && (images is null || Any(images, e.Type == ContainerEventType.Image ? e.Name : e.Image) || e.Type == ContainerEventType.Image && IdMatches(Image!, e.Id)),
        };
        var reader = new EventReader(EventLog.Journal(Services.Paths.DataDir));
        if (!Follow)
        {
            WriteObject(reader.Read(query), enumerateCollection: true);
            return;
        }
        Run(ct => reader.FollowAsync(query, e => Post(() => WriteObject(e)), ct));
    }

    private static List<WildcardPattern>? Patterns(string[]? values) =>
        values?.Select(v => new WildcardPattern(v, WildcardOptions.IgnoreCase)).ToList();

    private static bool Any(List<WildcardPattern>? patterns, string? value) => patterns is null || value is not null && patterns.Any(p => p.IsMatch(value));

    private static bool IdMatches(string[] prefixes, string id)
    {
        string hex = id.StartsWith("sha256:", StringComparison.Ordinal) ? id[7..] : id;
        return prefixes.Any(p => p.Length >= 3 && (hex.StartsWith(p, StringComparison.OrdinalIgnoreCase) || id.StartsWith(p, StringComparison.OrdinalIgnoreCase)));
    }
}
