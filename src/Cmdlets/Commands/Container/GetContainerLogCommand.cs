using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Reads what containers wrote to stdout and stderr, as objects with Timestamp, Stream and Text.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerLog", DefaultParameterSetName = NameSet)]
[OutputType(typeof(ContainerLogEntry))]
public sealed class GetContainerLogCommand : NamedContainerCmdlet
{
    /// <summary>Only the last N lines.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Tail { get; set; }

    /// <summary>Only lines written at or after this time.</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    /// <summary>Keeps writing new lines until the container exits (Ctrl+C stops following).</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    protected override void ProcessRecord()
    {
        DateTimeOffset? since = Since is { } s ? new DateTimeOffset(s.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(s, DateTimeKind.Local) : s) : null;
        foreach (var r in ResolveTargets())
        {
            if (Follow)
                TryRun(ct => Runtime.FollowLogsAsync(r.Id, Tail, since, e => Post(() => WriteObject(e)), ct));
            else
            {
                List<ContainerLogEntry> lines = [];
                if (TryRun(ct => { lines = Runtime.Logs(r.Id, Tail, since); return Task.CompletedTask; }))
                    foreach (var e in lines) WriteObject(e);
            }
        }
    }
}
