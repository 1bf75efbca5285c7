using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Pods;

namespace Containers.Cmdlets.Completion;

/// <summary>Completes pod names, and ids for -Id or when the word could be one (reads the pod records only).</summary>
public sealed class PodNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        List<PodRecord> pods;
        try { pods = new PodStore(CmdletContext.FromEnvironment().Paths).List(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        bool idsOnly = parameterName == "Id";
        var byName = idsOnly ? [] : pods.Where(p => pattern.IsMatch(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        foreach (var p in byName)
            yield return new CompletionResult(p.Name, p.Name, CompletionResultType.ParameterValue, $"{p.Name} ({p.Id[..12]})");
        if (!idsOnly && word.Length == 0) yield break;
        foreach (var p in pods.Where(p => !byName.Contains(p) && pattern.IsMatch(p.Id)).OrderBy(p => p.Id, StringComparer.Ordinal))
            yield return new CompletionResult(p.Id[..12], p.Id[..12], CompletionResultType.ParameterValue, $"{p.Id[..12]} ({p.Name})");
    }
}
