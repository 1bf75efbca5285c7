using System.Collections;
using System.Management.Automation;
using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Infrastructure;

/// <summary>
/// Base of the container cmdlets: opens the runtime (records, image store, cgroups) once per call and
/// resolves -Name/-Id/-InputObject to containers, with podman-like lookup (name, id, id prefix) and
/// PowerShell's rule that a literal that matches nothing is an error while a wildcard is not.
/// </summary>
public abstract class ContainerCmdletBase : ContainersCmdlet
{
    public const string NameSet = "Name";
    public const string IdSet = "Id";
    public const string InputObjectSet = "InputObject";

    private protected ContainerRuntime Runtime => Services.Runtime;

    /// <summary>Resolves names (wildcards allowed when <paramref name="wildcards"/>), ids (or prefixes) and objects; writes ContainerNotFound for literals that match nothing.</summary>
    private protected List<ContainerRecord> Resolve(string[]? names, string[]? ids, Container[]? objects, bool wildcards = true)
    {
        var result = new List<ContainerRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(ContainerRecord r) { if (seen.Add(r.Id)) result.Add(r); }
        List<ContainerRecord>? all = null;
        List<ContainerRecord> All() => all ??= Runtime.Store.List();
        foreach (var c in objects ?? [])
        {
            if (Runtime.Store.TryRead(c.Id) is { } r) Add(r);
            else WriteError(NotFound(c.Name));
        }
        foreach (string n in names ?? [])
        {
            if (wildcards && WildcardPattern.ContainsWildcardCharacters(n))
            {
                var p = new WildcardPattern(n, WildcardOptions.IgnoreCase);
                foreach (var r in All().Where(r => p.IsMatch(r.Name)).OrderBy(r => r.Name, StringComparer.Ordinal)) Add(r);
                continue;
            }
            // A literal reads the one record it names (the name index, or the id), never the whole store.
            Lookup(n, Runtime.Store.Find);
        }
        foreach (string id in ids ?? []) Lookup(id, i => NameGenerator.IsFullId(i) ? Runtime.Store.TryRead(i) : Runtime.Store.FindByIdPrefix(i));
        return result;

        void Lookup(string what, Func<string, ContainerRecord?> find)
        {
            try
            {
                if (find(what) is { } r) Add(r);
                else WriteError(NotFound(what));
            }
            catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); }
        }
    }

    protected static ErrorRecord NotFound(string what) => ErrorRecordFactory.From(new ContainersException("ContainerNotFound", ErrorKind.NotFound,
        $"No container has the name or id '{what}'.", what, "List containers with Get-Container."));

    /// <summary><c>web (3f2a9c1d)</c>.</summary>
    private protected static string Target(ContainerRecord r) => $"{r.Name} ({r.Id[..8]})";

    /// <summary>An -Environment hashtable as variables (a null value unsets the name).</summary>
    protected static Dictionary<string, string?> ToEnvironment(Hashtable? table)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in table ?? []) env[e.Key.ToString() ?? ""] = e.Value?.ToString();
        return env;
    }
}
