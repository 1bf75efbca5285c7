using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Containers.Core.Registry;

/// <summary>A Bearer token as a token service issued it.</summary>
internal sealed record IssuedToken(string Token, TimeSpan? Lifetime, DateTimeOffset? IssuedAt);

/// <summary>
/// The Bearer token service a registry's challenge names (its realm). The rules that keep a credential
/// safe live here once, for pulls and for the login check: the realm must be http(s) and, for a registry
/// spoken to over TLS, https; the request is made with normal TLS checks (the system's CAs and certs.d),
/// never the registry's own <c>insecure</c> setting, follows no redirect, and its answer is read with a
/// size limit.
/// </summary>
internal static class TokenService
{
    private static readonly ConcurrentDictionary<string, HttpClient> Clients = new();

    /// <summary>The realm of a challenge that came from <paramref name="host"/>, reached at <paramref name="registryBase"/>; throws when it may not be used.</summary>
    public static Uri Realm(string host, string? realm, Uri registryBase)
    {
        if (!Uri.TryCreate(realm, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw RegistryErrors.Protocol(host, $"the token realm '{realm}' is not an http(s) URL");
        if (uri.Scheme == Uri.UriSchemeHttp && registryBase.Scheme == Uri.UriSchemeHttps)
            throw RegistryErrors.PlainHttpRealm(host, uri);
        return uri;
    }

    /// <summary>The token request's URI: the realm's own query, then service, scopes and account.</summary>
    public static Uri RequestUri(Uri realm, string? service, IEnumerable<string> scopes, string? account = null)
    {
        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : "");
        if (!string.IsNullOrEmpty(account)) query.Append("account=").Append(Uri.EscapeDataString(account)).Append('&');
        if (!string.IsNullOrEmpty(service)) query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        foreach (string s in scopes) query.Append("scope=").Append(Uri.EscapeDataString(s)).Append('&');
        return new UriBuilder(realm) { Query = query.ToString().TrimEnd('&') }.Uri;
    }

    /// <summary>
    /// Asks the token service for a token, with the credential when there is one. Null when the service
    /// refuses (401/403); typed errors for anything else that goes wrong.
    /// </summary>
    public static async Task<IssuedToken?> FetchAsync(string host, Uri uri, RegistryCredential? credential, RegistryClientOptions options, CancellationToken ct)
    {
        var http = Clients.GetOrAdd(uri.Authority + "|" + RegistryClient.TrustKey(uri.Authority, options.CertDirectories),
            _ => RegistryClient.CreateHttpClient(uri.Authority, insecure: false, options));
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        // The credential goes to the token service the registry named: that service acts for this registry.
        if (credential is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":" + credential.Password)));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) return null;
            if (!response.IsSuccessStatusCode)
                throw RegistryErrors.Protocol(host, $"the token service {uri.Authority} answered {(int)response.StatusCode}");
            byte[] body = await BoundedBody.ReadAsync(response.Content, BoundedBody.MaxTokenBytes,
                size => RegistryErrors.ResponseTooLarge(host, $"the token response of {uri.Authority}", BoundedBody.MaxTokenBytes), cts.Token).ConfigureAwait(false);
            return Parse(host, body);
        }
        catch (HttpRequestException e) when (!ct.IsCancellationRequested) { throw RegistryErrors.FromTransport(uri.Authority, e); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { throw RegistryErrors.Unreachable(uri.Authority, "the token service did not answer in time"); }
    }

    private static IssuedToken Parse(string host, byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw RegistryErrors.Protocol(host, "the token response is not a JSON object");
            string? token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : root.TryGetProperty("access_token", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString() : null;
            if (string.IsNullOrEmpty(token)) throw RegistryErrors.Protocol(host, "the token response has no token");
            TimeSpan? life = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out int secs) ? TimeSpan.FromSeconds(secs) : null;
            DateTimeOffset? issued = root.TryGetProperty("issued_at", out var i) && i.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(i.GetString(), out var d) ? d : null;
            return new IssuedToken(token, life, issued);
        }
        catch (JsonException e) { throw RegistryErrors.Protocol(host, "the token response is not JSON: " + e.Message); }
    }
}
