using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Opens an interactive shell inside a running container, on this console (through a pseudo-terminal of the
/// container when this session's input is a terminal, so the shell has job control and a /dev/pts tty).</summary>
[Cmdlet(VerbsCommon.Enter, "Container", DefaultParameterSetName = NameSet)]
public sealed class EnterContainerCommand : ContainerCmdletBase
{
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Id { get; set; }

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Core.Runtime.Container? InputObject { get; set; }

    /// <summary>The shell to run (default /bin/sh).</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Shell { get; set; } = "/bin/sh";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    protected override void ProcessRecord()
    {
        var records = Resolve(Name is null ? null : [Name], Id is null ? null : [Id], InputObject is null ? null : [InputObject], wildcards: false);
        foreach (var r in records.Take(1))
        {
            int code = 0;
            if (TryRun(async ct => code = await Runtime.ExecAsync(r.Id, new ExecOptions { Command = [Shell], User = User, Inherit = true, Tty = !Console.IsInputRedirected }, null, null, ct).ConfigureAwait(false)))
                SessionState.PSVariable.Set("global:LASTEXITCODE", code);
        }
    }
}
