namespace Containers.Core.Spec;

/// <summary>
/// Registry host names compare without case (DNS does), so every host a reference, a configuration
/// file, an auth file or a cmdlet names is brought to one form here, lowercase, before anything
/// matches on it: blocked, insecure, mirrors, policy scopes and credentials then agree on one spelling.
/// </summary>
internal static class RegistryHost
{
    /// <summary>host[:port] in lowercase (ports are digits; IPv6 literals are hex).</summary>
    public static string Normalize(string host) => host.ToLowerInvariant();

    /// <summary>A host[:port][/path...] key (a registries.conf prefix or location, an auth.json key, a policy scope) with its host part lowercase.</summary>
    public static string NormalizeKey(string key)
    {
        if (key.Contains("://", StringComparison.Ordinal)) return key; // a legacy Docker URL key: compared by its own rule
        int slash = key.IndexOf('/');
        return slash < 0 ? Normalize(key) : Normalize(key[..slash]) + key[slash..];
    }
}
