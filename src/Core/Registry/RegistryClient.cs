using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Containers.Core.Logging;
using Serilog;

namespace Containers.Core.Registry;

/// <summary>Tunables of the registry client; tests shorten the delays.</summary>
internal sealed record RegistryClientOptions
{
    /// <summary>Attempts for a request answered 429/5xx or cut off before its headers.</summary>
    public int MaxAttempts { get; init; } = 4;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>The longest wait honoured from a Retry-After header or backoff.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How often one blob download resumes with Range after a dropped connection.</summary>
    public int MaxResumes { get; init; } = 5;
    /// <summary>Blobs larger than this are pushed in chunks of this size.</summary>
    public long ChunkSize { get; init; } = 16L << 20;
    /// <summary>Directories in the containers-certs.d(5) layout: &lt;dir&gt;/&lt;host:port&gt;/*.crt are trusted CAs.</summary>
    public IReadOnlyList<string> CertDirectories { get; init; } = DefaultCertDirectories();
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>/etc/containers/certs.d, the user's ~/.config/containers/certs.d and /etc/docker/certs.d;
    /// PSCONTAINERS_CONFIG_DIR/certs.d alone when that override is set (tests).</summary>
    public static IReadOnlyList<string> DefaultCertDirectories()
    {
        string? configDir = Environment.GetEnvironmentVariable(Configuration.ContainerPaths.ConfigDirVariable);
        if (!string.IsNullOrWhiteSpace(configDir)) return [Path.Combine(configDir, "certs.d")];
        string home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        string configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".config");
        return ["/etc/containers/certs.d", Path.Combine(configHome, "containers", "certs.d"), "/etc/docker/certs.d"];
    }
}

/// <summary>
/// An OCI distribution client for one registry host. It authenticates (anonymous, Basic, Bearer
/// tokens per scope), retries 429/5xx with backoff and Retry-After, follows redirects itself so a
/// credential never leaves its host, and verifies every manifest and blob against its digest and size.
/// </summary>
internal sealed partial class RegistryClient
{
    private static readonly ConcurrentDictionary<string, HttpClient> Clients = new();
    private static readonly ConcurrentDictionary<string, string> Schemes = new();
    private static readonly TokenCache SharedTokens = new();

    private readonly ILogger _log = ModuleLog.For<RegistryClient>();
    private readonly HttpClient _http;
    private readonly ICredentialSource _credentials;
    private readonly TokenCache _tokens;
    private readonly bool _insecure;
    private volatile string? _basicRealm; // set once the host asked for Basic
    private Uri? _base;

    public RegistryClient(string host, bool insecure, ICredentialSource? credentials = null, RegistryClientOptions? options = null, TokenCache? tokens = null)
    {
        Host = Spec.RegistryHost.Normalize(host);
        _insecure = insecure;
        _credentials = credentials ?? NoCredentials.Instance;
        Options = options ?? new RegistryClientOptions();
        _tokens = tokens ?? SharedTokens;
        _http = Clients.GetOrAdd(Host + "|" + insecure + "|" + TrustKey(Host, Options.CertDirectories), _ => CreateHttpClient(Host, insecure, Options));
    }

    public string Host { get; }
    public RegistryClientOptions Options { get; }

    /// <summary>Requests sent, for diagnostics and tests (no-op pulls send only the manifest request).</summary>
    public int RequestCount => _requests;
    private int _requests;

    internal static HttpClient CreateHttpClient(string host, bool insecure, RegistryClientOptions options)
    {
        var cas = LoadCertificates(host, options.CertDirectories);
        var handler = NewHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
        {
            if (errors == SslPolicyErrors.None) return true;
            if (insecure) return true; // registries.conf said so
            if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || cas.Count == 0) return false;
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(cas);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null) foreach (var e in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(e.Certificate);
            return custom.Build(new X509Certificate2(cert));
        };
        return new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    /// <summary>The connection settings of every registry client (PullWarmUp runs its request through the same).</summary>
    internal static SocketsHttpHandler NewHandler() => new()
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = 16,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        UseCookies = false,
    };

    // A changed certs.d (file added, removed or rewritten) gives a new connection pool with the new trust.
    internal static string TrustKey(string host, IReadOnlyList<string> dirs) =>
        string.Join("|", dirs.SelectMany(d =>
        {
            string dir = Path.Combine(d, host);
            return Directory.Exists(dir)
                ? Directory.GetFiles(dir, "*.crt").Order(StringComparer.Ordinal).Select(f => f + "@" + File.GetLastWriteTimeUtc(f).Ticks + "#" + new FileInfo(f).Length)
                : [];
        }));

    private static X509Certificate2Collection LoadCertificates(string host, IReadOnlyList<string> dirs)
    {
        var c = new X509Certificate2Collection();
        foreach (string d in dirs)
        {
            string dir = Path.Combine(d, host);
            if (!Directory.Exists(dir)) continue;
            foreach (string f in Directory.GetFiles(dir, "*.crt").Order(StringComparer.Ordinal))
                try { c.ImportFromPemFile(f); }
                catch (Exception e) { ModuleLog.For<RegistryClient>().Warning("Ignoring CA file {File}: {Error}", f, e.Message); }
        }
        return c;
    }

    /// <summary>The registry's base URI: https, or for an insecure registry whichever of https/http answers.</summary>
    private async Task<Uri> BaseAsync(CancellationToken ct)
    {
        if (_base is not null) return _base;
        if (!_insecure) return _base = new Uri("https://" + Host + "/");
        if (Schemes.TryGetValue(Host, out string? known)) return _base = new Uri(known + "://" + Host + "/");
        string scheme = "http";
        var https = new Uri("https://" + Host + "/v2/");
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(5));
            if (await AnswersHttpsAsync(https, cts.Token).ConfigureAwait(false)) scheme = "https";
        }
        catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException or IOException) { }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        Schemes[Host] = scheme;
        _log.Debug("Registry {Host} is insecure; using {Scheme}", Host, scheme);
        return _base = new Uri(scheme + "://" + Host + "/");
    }

    // Through a proxy the question is the proxy's to answer: a whole HTTPS request. Directly, a ClientHello on a socket
    // tells as much without the TLS client (TlsProbe).
    private async Task<bool> AnswersHttpsAsync(Uri https, CancellationToken ct)
    {
        if (HttpClient.DefaultProxy.IsBypassed(https))
            return await TlsProbe.AnswersTlsAsync(https.IdnHost.Trim('[', ']'), https.Port, ct).ConfigureAwait(false);
        using var probe = new HttpRequestMessage(HttpMethod.Get, https);
        using var r = await _http.SendAsync(probe, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        return true;
    }

    public static string PullScope(string repository) => $"repository:{repository}:pull";
    public static string PushScope(string repository) => $"repository:{repository}:pull,push";

    /// <summary>
    /// Sends a request (its <paramref name="content"/> made again for every retry and redirect),
    /// authenticating for <paramref name="scope"/>. Returns the final response (any status the caller
    /// handles: 2xx, 404, 416...); throws typed errors for refused connections, 401/403 after auth,
    /// and 429/5xx after the retries.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, string scope, string repository,
        CancellationToken ct, Func<HttpContent?>? content = null, Action<HttpRequestHeaders>? headers = null, bool allowRetry = true)
    {
        Uri baseUri = await BaseAsync(ct).ConfigureAwait(false);
        bool triedAuth = false;
        int attempt = 0;
        while (true)
        {
            attempt++;
            Uri uri = new(baseUri, pathAndQuery);
            HttpResponseMessage response;
            try
            {
                response = await SendFollowingRedirectsAsync(method, uri, scope, content, headers, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (!ct.IsCancellationRequested)
            {
                var typed = RegistryErrors.FromTransport(Host, e);
                if (RegistryErrors.IsPermanent(typed) || !allowRetry || attempt >= Options.MaxAttempts) throw typed;
                _log.Debug("Request to {Host} failed ({Error}); retrying", Host, e.Message);
                await Task.Delay(Backoff(attempt), ct).ConfigureAwait(false);
                continue;
            }

            int status = (int)response.StatusCode;
            if (status == 401 && response.RequestMessage?.RequestUri is { } answered && !SameHost(answered))
            {
                // Only the registry itself may ask for its credential: a 401 from where it redirected
                // to names a realm the registry never vouched for.
                response.Dispose();
                throw RegistryErrors.ForeignChallenge(Host, answered.Authority);
            }
            if (status == 401 && !triedAuth)
            {
                triedAuth = true;
                var challenges = AuthChallenge.Parse(string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString())));
                response.Dispose();
                await AuthenticateAsync(challenges, scope, repository, ct).ConfigureAwait(false);
                attempt--;
                continue;
            }
            if (status == 401)
            {
                response.Dispose();
                throw RegistryErrors.Unauthorized(Host, repository, _credentials.GetCredential(Host, repository) is not null);
            }
            if (status == 403)
            {
                response.Dispose();
                throw RegistryErrors.Forbidden(Host, repository);
            }
            if (status == 429 || status >= 500)
            {
                TimeSpan delay = RetryAfter(response) ?? Backoff(attempt);
                response.Dispose();
                if (!allowRetry || attempt >= Options.MaxAttempts) throw RegistryErrors.Exhausted(Host, status, attempt);
                _log.Debug("{Host} answered {Status}; retry {Attempt} in {Delay}", Host, status, attempt, delay);
                await Task.Delay(delay, ct).ConfigureAwait(false);
                continue;
            }
            return response;
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpMethod method, Uri uri, string scope,
        Func<HttpContent?>? content, Action<HttpRequestHeaders>? headers, CancellationToken ct)
    {
        for (int hop = 0; ; hop++)
        {
            var request = new HttpRequestMessage(method, uri);
            if (content is not null) request.Content = content();
            headers?.Invoke(request.Headers);
            // A credential belongs to its host (and port): requests anywhere else go without one.
            if (SameHost(uri)) AddAuthorization(request, scope);
            Interlocked.Increment(ref _requests);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop >= 5) throw RegistryErrors.Protocol(Host, "too many redirects");
                uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                if (uri.Scheme != "https" && uri.Scheme != "http") throw RegistryErrors.Protocol(Host, $"redirect to unsupported URI {uri}");
                if (uri.Scheme == "http" && !_insecure)
                    throw RegistryErrors.Protocol(Host, $"a redirect to plain HTTP ({uri.Authority}) from a registry that is not configured insecure was refused");
                if (status == 303) method = method == HttpMethod.Head ? HttpMethod.Head : HttpMethod.Get;
                _log.Debug("Following redirect to {Host}", uri.Authority);
                continue;
            }
            return response;
        }
    }

    private bool SameHost(Uri uri) => string.Equals(uri.Authority, Host, StringComparison.OrdinalIgnoreCase)
        || (uri.IsDefaultPort && string.Equals(uri.Host, Host, StringComparison.OrdinalIgnoreCase));

    private void AddAuthorization(HttpRequestMessage request, string scope)
    {
        string? token = _tokens.Get(TokenKey(scope));
        if (token is not null) { request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token); return; }
        if (_basicRealm is not null && _credentials.GetCredential(Host, RepositoryOf(scope)) is { } c)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(c.Username + ":" + c.Password)));
    }

    // One token service per registry host: the key is host, identity and scope, so a later client of
    // the same host finds the token before it has seen a challenge, and another identity (a different
    // -Credential, or anonymous) never reuses it.
    private string TokenKey(string scope) => TokenCache.Key(Host, Identity(scope), scope);

    private string Identity(string scope)
    {
        if (_credentials.GetCredential(Host, RepositoryOf(scope)) is not { } c) return "anonymous";
        byte[] hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(c.Username + "\0" + c.Password + "\0" + c.IdentityToken));
        return c.Username + "#" + Convert.ToHexStringLower(hash, 0, 8);
    }

    private static string RepositoryOf(string scope)
    {
        // repository:name:actions — the name may itself hold ':' only for ports in other resource types.
        int space = scope.IndexOf(' ');
        if (space > 0) scope = scope[..space];
        int first = scope.IndexOf(':'), last = scope.LastIndexOf(':');
        return first >= 0 && last > first ? scope[(first + 1)..last] : "";
    }

    private async Task AuthenticateAsync(IReadOnlyList<AuthChallenge> challenges, string scope, string repository, CancellationToken ct)
    {
        var bearer = challenges.FirstOrDefault(c => c.IsBearer && !string.IsNullOrEmpty(c.Realm));
        var credential = _credentials.GetCredential(Host, repository);
        if (bearer is not null)
        {
            await FetchTokenAsync(bearer, scope, credential, ct).ConfigureAwait(false);
            return;
        }
        if (challenges.Any(c => c.IsBasic))
        {
            if (credential is null) throw RegistryErrors.Unauthorized(Host, repository, false);
            _basicRealm = challenges.First(c => c.IsBasic).Realm ?? "";
            return;
        }
        throw RegistryErrors.Unauthorized(Host, repository, credential is not null);
    }

    private async Task FetchTokenAsync(AuthChallenge challenge, string scope, RegistryCredential? credential, CancellationToken ct)
    {
        Uri realm = TokenService.Realm(Host, challenge.Realm, await BaseAsync(ct).ConfigureAwait(false));
        var uri = TokenService.RequestUri(realm, challenge.Service, scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Interlocked.Increment(ref _requests);
        var issued = await TokenService.FetchAsync(Host, uri, credential, Options, ct).ConfigureAwait(false)
            ?? throw RegistryErrors.Unauthorized(Host, RepositoryOf(scope), credential is not null);
        _tokens.Put(TokenKey(scope), issued.Token, issued.Lifetime, issued.IssuedAt);
        _log.Debug("Got a token from {Realm} for {Scope}", realm.Authority, scope);
    }

    internal TimeSpan Backoff(int attempt)
    {
        double ms = Options.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1) * (0.8 + Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(ms, Options.MaxDelay.TotalMilliseconds));
    }

    internal TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var ra = response.Headers.RetryAfter;
        TimeSpan? d = ra?.Delta ?? (ra?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (d is null) return null;
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        return d > Options.MaxDelay ? Options.MaxDelay : d;
    }

    /// <summary>The registry's error text from an error response body, for messages (read with a limit).</summary>
    internal async Task<string> ErrorText(HttpResponseMessage response, CancellationToken ct)
    {
        byte[] body = await BoundedBody.ReadAsync(response.Content, BoundedBody.MaxErrorBytes,
            _ => RegistryErrors.ResponseTooLarge(Host, $"the error body of a {(int)response.StatusCode} answer", BoundedBody.MaxErrorBytes), ct).ConfigureAwait(false);
        try
        {
            if (body.Length > 0)
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
                    return string.Join("; ", errors.EnumerateArray().Select(e =>
                        (e.TryGetProperty("code", out var c) ? c.GetString() : "") + (e.TryGetProperty("message", out var m) ? ": " + m.GetString() : "")));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { }
        return $"{(int)response.StatusCode} {response.ReasonPhrase}";
    }

    /// <summary>GET /v2/: checks that the host speaks the distribution API and that we may talk to it.</summary>
    public async Task PingAsync(CancellationToken ct)
    {
        using var r = await SendAsync(HttpMethod.Get, "v2/", "", "", ct).ConfigureAwait(false);
        if (!r.IsSuccessStatusCode) throw RegistryErrors.Protocol(Host, $"/v2/ answered {(int)r.StatusCode}; is this a registry?");
    }
}
