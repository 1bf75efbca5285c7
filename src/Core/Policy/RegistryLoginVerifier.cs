using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Containers.Core.Errors;
using Containers.Core.Logging;

namespace Containers.Core.Policy;

/// <summary>
/// Checks a user name and password against a registry's /v2/ before they are saved: Basic directly,
/// or the Bearer challenge's token endpoint. Only the named host (and, for Bearer, its realm) ever
/// sees the credentials; redirects are not followed.
/// </summary>
public static class RegistryLoginVerifier
{
    private static readonly Serilog.ILogger Log = ModuleLog.Logger.ForContext(typeof(RegistryLoginVerifier));

    public static async Task VerifyAsync(string host, string userName, string password, bool insecure, CancellationToken ct)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        if (insecure) handler.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        string basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(userName + ":" + password));

        HttpResponseMessage? response = null;
        Uri? endpoint = null;
        Exception? last = null;
        foreach (string scheme in insecure ? new[] { "https", "http" } : ["https"])
        {
            endpoint = new Uri($"{scheme}://{host}/v2/");
            try
            {
                response = await http.GetAsync(endpoint, ct).ConfigureAwait(false);
                break;
            }
            catch (HttpRequestException e) { last = e; Log.Debug("GET {Endpoint} failed: {Error}", endpoint, e.Message); }
        }
        if (response is null)
            throw new ContainersException("RegistryUnreachable", ErrorKind.ConnectionFailed,
                $"Cannot reach {host}: {last?.Message}", host, insecure ? null : "If the registry serves plain HTTP, mark it insecure with Set-RegistryPolicy -Registry " + host + " -Insecure.", last);

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                // Anonymous access is open; still check the credentials so a typo is not saved.
                using var check = new HttpRequestMessage(HttpMethod.Get, endpoint);
                check.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                using var r = await http.SendAsync(check, ct).ConfigureAwait(false);
                if (r.StatusCode == HttpStatusCode.Unauthorized) throw Rejected(host);
                return;
            }
            if (response.StatusCode != HttpStatusCode.Unauthorized)
                throw new ContainersException("RegistryLoginFailed", ErrorKind.ConnectionFailed, $"{endpoint} answered {(int)response.StatusCode} {response.ReasonPhrase}.", host);

            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            if (challenge is null || challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                using var retry = new HttpRequestMessage(HttpMethod.Get, endpoint);
                retry.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                using var r = await http.SendAsync(retry, ct).ConfigureAwait(false);
                if (r.IsSuccessStatusCode) return;
                throw Rejected(host);
            }
            if (challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                var p = ParseChallenge(challenge.Parameter ?? "");
                if (!p.TryGetValue("realm", out string? realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
                    throw new ContainersException("RegistryLoginFailed", ErrorKind.InvalidData, $"{host} sent a Bearer challenge without a usable realm.", host);
                var query = new StringBuilder("?account=").Append(Uri.EscapeDataString(userName));
                if (p.TryGetValue("service", out string? service)) query.Append("&service=").Append(Uri.EscapeDataString(service));
                using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, new Uri(realmUri, realmUri.AbsolutePath + query));
                tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                using var r = await http.SendAsync(tokenRequest, ct).ConfigureAwait(false);
                if (!r.IsSuccessStatusCode) throw Rejected(host);
                using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
                if (!doc.RootElement.TryGetProperty("token", out _) && !doc.RootElement.TryGetProperty("access_token", out _)) throw Rejected(host);
                return;
            }
            throw new ContainersException("RegistryLoginFailed", ErrorKind.NotSupported, $"{host} asks for {challenge.Scheme} authentication, which is not supported.", host);
        }
    }

    private static ContainersException Rejected(string host) =>
        new("RegistryLoginRejected", ErrorKind.AuthenticationFailed, $"{host} rejected the user name or password.", host, "Check the credentials and try again.");

    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || parameter[i] == ' ')) i++;
            int eq = parameter.IndexOf('=', i);
            if (eq < 0) break;
            string key = parameter[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameter.Length && parameter[i] == '"')
            {
                int end = parameter.IndexOf('"', i + 1);
                if (end < 0) end = parameter.Length;
                value = parameter[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                int end = parameter.IndexOf(',', i);
                if (end < 0) end = parameter.Length;
                value = parameter[i..end].Trim();
                i = end;
            }
            result[key] = value;
        }
        return result;
    }
}
