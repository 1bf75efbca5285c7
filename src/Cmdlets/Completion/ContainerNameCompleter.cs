using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Completion;

/// <summary>Completes container names from the records (cheap: no state is read).</summary>
public sealed class ContainerNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = new WildcardPattern((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        List<ContainerRecord> records;
        try { records = CmdletContext.FromEnvironment().Containers.List(); }
        catch (IOException) { yield break; }
        foreach (var r in records.Where(r => pattern.IsMatch(r.Name)).OrderBy(r => r.Name, StringComparer.Ordinal))
            yield return new CompletionResult(r.Name, r.Name, CompletionResultType.ParameterValue, $"{r.Name} ({r.Id[..12]}) {r.Image}");
    }
}
