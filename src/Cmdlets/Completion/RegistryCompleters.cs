using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Completion;

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

/// <summary>Completes registry hosts named in registries.conf: search registries, then [[registry]] locations (not wildcard prefixes or blocked ones).</summary>
public sealed class RegistryHostCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        RegistriesConfiguration conf;
        try { conf = CmdletContext.FromEnvironment().Registries(); }
        catch (Exception) { yield break; }
        var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        var hosts = conf.SearchRegistries.Select(h => (Host: h, Why: "search registry"))
            .Concat(conf.Registries.Where(r => !r.IsWildcard && !r.Blocked).Select(r => (Host: r.Location.Split('/')[0], Why: $"{r.SourceFile}:{r.SourceLine}")));
        foreach (var (host, why) in hosts.Where(h => h.Host.Length > 0 && pattern.IsMatch(h.Host)).DistinctBy(h => h.Host, StringComparer.OrdinalIgnoreCase))
            yield return new CompletionResult(host, host, CompletionResultType.ParameterValue, $"{host} ({why})");
    }
}
