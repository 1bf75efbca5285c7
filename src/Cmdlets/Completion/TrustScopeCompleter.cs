using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Completion;

/// <summary>Completes the transports.docker scopes of the policy.json in force.</summary>
public sealed class TrustScopeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        SignaturePolicy policy;
        try { policy = CmdletContext.FromEnvironment().SignaturePolicy(); }
        catch (Exception) { yield break; }
        var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var (scope, reqs) in policy.DockerScopes.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (scope.Length == 0 || !pattern.IsMatch(scope)) continue;
            yield return new CompletionResult(scope.Contains('*') ? "'" + scope + "'" : scope, scope,
                CompletionResultType.ParameterValue, $"{scope}: {string.Join(", ", reqs.Select(r => r.Type))}");
        }
    }
}
