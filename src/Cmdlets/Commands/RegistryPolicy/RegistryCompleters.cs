using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.RegistryPolicy;

/// <summary>Completes [[registry]] prefixes from the registries configuration in force.</summary>
public sealed class RegistryPrefixCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<RegistryRule> rules;
        try { rules = CmdletContext.FromEnvironment().Registries().Registries; }
        catch (Exception) { yield break; }
        var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var rule in rules.Where(r => pattern.IsMatch(r.Prefix)))
            yield return new CompletionResult(rule.Prefix.Contains('*') ? "'" + rule.Prefix + "'" : rule.Prefix, rule.Prefix,
                CompletionResultType.ParameterValue, $"{rule.Prefix} ({rule.SourceFile}:{rule.SourceLine})");
    }
}

/// <summary>Completes the registries one is logged in to.</summary>
public sealed class RegistryLoginCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<RegistryLogin> logins;
        try { logins = CmdletContext.FromEnvironment().Logins().List(); }
        catch (Exception) { yield break; }
        var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var login in logins.Where(l => pattern.IsMatch(l.Registry)).DistinctBy(l => l.Registry))
            yield return new CompletionResult(login.Registry, login.Registry, CompletionResultType.ParameterValue, $"{login.UserName} ({login.SourceFile})");
    }
}
