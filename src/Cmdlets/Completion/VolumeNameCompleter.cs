using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Volumes;

namespace Containers.Cmdlets.Completion;

/// <summary>Completes named volume names (reads the volume records only).</summary>
public sealed class VolumeNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        List<VolumeRecord> volumes;
        try { volumes = new VolumeStore(CmdletContext.FromEnvironment().Paths).List(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var v in volumes.Where(v => pattern.IsMatch(v.Name)))
            yield return new CompletionResult(v.Name, v.Name, CompletionResultType.ParameterValue, $"{v.Name} (created {v.Created.LocalDateTime:g})");
    }
}
