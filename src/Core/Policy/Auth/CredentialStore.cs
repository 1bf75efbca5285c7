using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Core.Configuration;
using Containers.Core.Logging;
using Containers.Core.Spec;

namespace Containers.Core.Policy;

/// <summary>A user name and secret for exactly one registry host (and namespace, when keyed so).</summary>
internal sealed record RegistryCredential
{
    /// <summary>The auth-file key that matched: host, or host/namespace[/repo].</summary>
    public required string Key { get; init; }
    /// <summary>The one host these credentials may be sent to.</summary>
    public required string Host { get; init; }
    public required string UserName { get; init; }
    public required string Password { get; init; }
    /// <summary>An OAuth2 refresh token, when the file holds one instead of a password.</summary>
    public string? IdentityToken { get; init; }
    public required string SourceFile { get; init; }
    public override string ToString() => $"{UserName}@{Key} ({SourceFile})";
}

/// <summary>Where one is logged in, without the secret.</summary>
public sealed record RegistryLogin(string Registry, string UserName, string SourceFile, bool Fallback);

/// <summary>
/// containers-auth.json(5): credentials read from the auth file in force (REGISTRY_AUTH_FILE or
/// ${XDG_RUNTIME_DIR}/containers/auth.json), then ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json,
/// then ~/.docker/config.json (DOCKER_CONFIG) as a fallback. Within each file a credHelpers entry for
/// the host runs that docker-credential helper first; else the most specific key wins (host/ns/repo,
/// then host/ns, then host); the first file with a match decides. A credential
/// is only ever returned for the host it is keyed to. Logins are written to the auth file in force
/// with mode 0600.
/// </summary>
internal sealed class CredentialStore
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<CredentialStore>();

    public CredentialStore(string writeFile, IReadOnlyList<string> readFiles)
    {
        WriteFile = writeFile;
        ReadFiles = readFiles;
    }

    /// <summary>The file logins are saved to.</summary>
    public string WriteFile { get; }
    /// <summary>The files searched, in order.</summary>
    public IReadOnlyList<string> ReadFiles { get; }

    public static CredentialStore FromEnvironment(ContainerPaths paths) => FromEnvironment(paths, Environment.GetEnvironmentVariable);

    public static CredentialStore FromEnvironment(ContainerPaths paths, Func<string, string?> env)
    {
        string home = NonEmpty(env("HOME")) ?? "/root";
        string configHome = NonEmpty(env("XDG_CONFIG_HOME")) ?? Path.Combine(home, ".config");
        var files = new List<string> { paths.AuthFile, Path.Combine(configHome, "containers", "auth.json"), paths.DockerConfigFile };
        return new CredentialStore(paths.AuthFile, files.Distinct().ToList());
    }

    /// <summary>The credentials for a repository on a host (the host actually contacted, e.g. a mirror), or null.</summary>
    public RegistryCredential? Find(string host, string? repository)
    {
        host = RegistryHost.Normalize(host);
        var keys = new List<string>();
        if (!string.IsNullOrEmpty(repository))
        {
            string path = host + "/" + repository;
            while (true)
            {
                keys.Add(path);
                int slash = path.LastIndexOf('/');
                if (slash <= host.Length - 1) break;
                path = path[..slash];
                if (path == host) break;
            }
        }
        keys.Add(host);
        foreach (string file in ReadFiles)
        {
            // A credHelpers entry for the host decides for its file, before any auths key (as containers/image
            // does; helpers are keyed by host only). A helper without a login lets the next file answer.
            if (ReadCredHelpers(file) is { } helpers && helpers.TryGetValue(host, out string? helper))
            {
                if (CredentialHelper.Get(helper, host, file) is { } fromHelper) return fromHelper;
                continue;
            }
            var auths = ReadAuths(file);
            if (auths is null) continue;
            foreach (string key in keys)
                if (auths.TryGetValue(key, out var entry) && Decode(key, host, entry, file) is { } c) return c;
            // Docker's legacy keys carry a scheme and a path (https://index.docker.io/v1/); compare hosts only.
            foreach (var (key, entry) in auths)
                if (key.Contains("://") && NormalizeLegacy(key) == host && Decode(host, host, entry, file) is { } c)
                    return c;
        }
        Log.Debug("No credentials for {Host}/{Repository} in {Files}", host, repository, ReadFiles);
        return null;
    }

    /// <summary>Every login in every file, without secrets; the write file first.</summary>
    public IReadOnlyList<RegistryLogin> List()
    {
        var result = new List<RegistryLogin>();
        foreach (string file in ReadFiles)
        {
            // Helper entries are listed without running the helper (that could prompt or unlock a keyring).
            foreach (var (host, helper) in ReadCredHelpers(file) ?? [])
                result.Add(new RegistryLogin(host, $"(docker-credential-{helper})", file, file != WriteFile));
            var auths = ReadAuths(file);
            if (auths is null) continue;
            foreach (var (key, entry) in auths)
            {
                string registry = key.Contains("://") ? NormalizeLegacy(key) : key;
                var c = Decode(registry, registry.Split('/')[0], entry, file);
                if (c is not null) result.Add(new RegistryLogin(registry, c.UserName, file, file != WriteFile));
            }
        }
        return result;
    }

    /// <summary>Saves a login under key (host or host/namespace) in the write file, keeping every other entry; mode 0600.</summary>
    public void Save(string key, string userName, string password)
    {
        ValidateKey(key);
        key = RegistryHost.NormalizeKey(key);
        if (HelperFor(key) is { } helper)
        {
            CredentialHelper.Store(helper, key, userName, password, WriteFile);
            return;
        }
        var root = ReadRoot(WriteFile) ?? new JsonObject();
        if (root["auths"] is not JsonObject auths) root["auths"] = auths = new JsonObject();
        auths[key] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(userName + ":" + password)) };
        Write(root);
        Log.Information("Saved the login of {User} for {Key} in {File}", userName, key, WriteFile);
    }

    /// <summary>Removes the login for key from the write file; false when there was none.</summary>
    public bool Remove(string key)
    {
        key = RegistryHost.NormalizeKey(key);
        if (HelperFor(key) is { } helper) return CredentialHelper.Erase(helper, key, WriteFile);
        var root = ReadRoot(WriteFile);
        if (root?["auths"] is not JsonObject auths) return false;
        var spellings = auths.Select(a => a.Key).Where(k => RegistryHost.NormalizeKey(k) == key).ToList();
        if (spellings.Count == 0) return false;
        foreach (string k in spellings) auths.Remove(k);
        Write(root);
        Log.Information("Removed the login for {Key} from {File}", key, WriteFile);
        return true;
    }

    /// <summary>Removes every login from the write file; returns the keys removed.</summary>
    public IReadOnlyList<string> RemoveAll()
    {
        var root = ReadRoot(WriteFile);
        if (root?["auths"] is not JsonObject auths) return [];
        var keys = auths.Select(a => a.Key).ToList();
        auths.Clear();
        Write(root);
        return keys;
    }

    /// <summary>A key is host[:port] or host[:port]/namespace…, with no scheme, tag or digest.</summary>
    public static void ValidateKey(string key)
    {
        bool ok = !string.IsNullOrWhiteSpace(key) && !key.Contains("://") && !key.Contains('@') && !key.EndsWith('/')
            && Spec.ImageReference.TryParse(key.Contains('/') ? key : key + "/x", out var r) && !r.IsShortName && r.Tag is null;
        if (!ok)
            throw PolicyErrors.InvalidRegistryKey(key);
    }

    private void Write(JsonObject root)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(WriteFile))!;
        if (!Directory.Exists(dir) && !OperatingSystem.IsWindows())
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        AtomicFile.WriteAllText(WriteFile, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n",
            UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static JsonObject? ReadRoot(string file)
    {
        if (!File.Exists(file)) return null;
        string text = File.ReadAllText(file);
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return JsonNode.Parse(text) as JsonObject
                ?? throw PolicyErrors.AuthFileInvalid(file, $"{file}: the top level is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw PolicyErrors.AuthFileInvalid(file, $"{file}:{(e.LineNumber ?? 0) + 1}: {e.Message}", "Fix or remove the file; it was left as it is.", e);
        }
    }

    /// <summary>
    /// The helper the write file names for a key's host, as containers/image edits logins: a host with a
    /// credHelpers entry keeps its login in the helper; a namespaced key cannot go there.
    /// </summary>
    private string? HelperFor(string key)
    {
        string host = key.Split('/')[0];
        if (ReadCredHelpers(WriteFile) is not { } helpers || !helpers.TryGetValue(host, out string? helper)) return null;
        if (key != host)
            throw PolicyErrors.HelperNamespace(WriteFile, host, helper, key);
        return helper;
    }

    private static Dictionary<string, string>? ReadCredHelpers(string file)
    {
        if (ReadRoot(file)?["credHelpers"] is not JsonObject helpers) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in helpers)
            if (v is JsonValue value && value.TryGetValue(out string? name)) result[RegistryHost.NormalizeKey(k)] = name;
        return result;
    }

    private static Dictionary<string, JsonObject>? ReadAuths(string file)
    {
        var root = ReadRoot(file);
        if (root?["auths"] is not JsonObject auths) return null;
        var result = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        // Keys are matched in the references' spelling; an exact-case key wins over another spelling of the same host.
        foreach (var (k, v) in auths.OrderBy(a => a.Key == RegistryHost.NormalizeKey(a.Key) ? 1 : 0))
            if (v is JsonObject o) result[RegistryHost.NormalizeKey(k)] = o;
        return result;
    }

    private static RegistryCredential? Decode(string key, string host, JsonObject entry, string file)
    {
        string? auth = entry["auth"]?.GetValue<string>();
        string? token = entry["identitytoken"]?.GetValue<string>();
        if (string.IsNullOrEmpty(auth)) return null;
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth)); }
        catch (FormatException e)
        {
            throw PolicyErrors.AuthFileInvalid(file, $"{file}: the auth of '{key}' is not base64.", null, e);
        }
        int colon = decoded.IndexOf(':');
        if (colon < 0) return null;
        return new RegistryCredential
        {
            Key = key, Host = host, UserName = decoded[..colon], Password = decoded[(colon + 1)..],
            IdentityToken = string.IsNullOrEmpty(token) ? null : token, SourceFile = file,
        };
    }

    private static string NormalizeLegacy(string key)
    {
        string rest = key[(key.IndexOf("://", StringComparison.Ordinal) + 3)..];
        string host = rest.Split('/')[0];
        host = RegistryHost.Normalize(host);
        return host is "index.docker.io" or "registry-1.docker.io" ? "docker.io" : host;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
