using System.Text;
using System.Text.Json;
using Containers.Core.Configuration;
using Containers.Core.Logging;

namespace Containers.Core.Registry;

/// <summary>
/// A stand-in containers-auth.json(5) reader (then ~/.docker/config.json) until Core/Policy's is merged:
/// "auths" keys are host[:port] optionally followed by a namespace; the longest matching key wins.
/// </summary>
public sealed class AuthFileCredentials : ICredentialSource
{
    private readonly List<(string Key, RegistryCredential Credential)> _entries = [];

    public static AuthFileCredentials Load(ContainerPaths paths)
    {
        var a = new AuthFileCredentials();
        foreach (string f in new[] { paths.AuthFile, paths.DockerConfigFile })
            if (File.Exists(f)) a.Read(File.ReadAllText(f));
        return a;
    }

    private void Read(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object) return;
            foreach (var p in auths.EnumerateObject())
            {
                string key = p.Name;
                if (key.StartsWith("https://", StringComparison.Ordinal)) key = key[8..];
                else if (key.StartsWith("http://", StringComparison.Ordinal)) key = key[7..];
                key = key.TrimEnd('/');
                if (key.EndsWith("/v1", StringComparison.Ordinal) || key.EndsWith("/v2", StringComparison.Ordinal)) key = key[..^3];
                if (_entries.Any(e => e.Key == key)) continue; // the first file wins
                string? auth = p.Value.TryGetProperty("auth", out var a) ? a.GetString() : null;
                string? identity = p.Value.TryGetProperty("identitytoken", out var t) ? t.GetString() : null;
                if (string.IsNullOrEmpty(auth)) continue;
                string pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
                int colon = pair.IndexOf(':');
                if (colon < 0) continue;
                _entries.Add((key, new RegistryCredential(pair[..colon], pair[(colon + 1)..]) { IdentityToken = string.IsNullOrEmpty(identity) ? null : identity }));
            }
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            ModuleLog.For<AuthFileCredentials>().Warning("Ignoring an unreadable auth file: {Error}", e.Message);
        }
    }

    public RegistryCredential? GetCredential(string host, string repository)
    {
        string full = repository.Length == 0 ? host : host + "/" + repository;
        return _entries.Where(e => full == e.Key || full.StartsWith(e.Key + "/", StringComparison.Ordinal))
            .OrderByDescending(e => e.Key.Length).Select(e => e.Credential).FirstOrDefault();
    }
}
