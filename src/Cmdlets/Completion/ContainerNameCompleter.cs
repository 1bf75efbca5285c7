using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Completion;

/// <summary>Completes container names, and ids when the word starts like one (cheap: no state is read).</summary>
public sealed class ContainerNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        List<ContainerRecord> records;
        try { records = CmdletContext.FromEnvironment().Containers.List(); }
        catch (IOException) { yield break; }
        bool idsOnly = parameterName == "Id";
        var byName = idsOnly ? [] : records.Where(r => pattern.IsMatch(r.Name)).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        foreach (var r in byName)
            yield return new CompletionResult(r.Name, r.Name, CompletionResultType.ParameterValue, $"{r.Name} ({r.Id[..12]}) {r.Image}");
        // Ids only once the word could be one (or for -Id), so an empty word lists names, not hex.
        if (!idsOnly && word.Length == 0) yield break;
        foreach (var r in records.Where(r => !byName.Contains(r) && pattern.IsMatch(r.Id)).OrderBy(r => r.Id, StringComparer.Ordinal))
            yield return new CompletionResult(r.Id[..12], r.Id[..12], CompletionResultType.ParameterValue, $"{r.Id[..12]} ({r.Name}) {r.Image}");
    }
}
