using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Containers.Cmdlets.Completion;

/// <summary>Completes common platforms.</summary>
public sealed class PlatformCompleter : IArgumentCompleter
{
    private static readonly string[] Platforms = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x", "linux/riscv64"];

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Platforms.Where(p => p.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(p => new CompletionResult(p, p, CompletionResultType.ParameterValue, p));
}
