using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Containers.Core.Errors;
using Containers.Core.Logging;

namespace Containers.Core.Registry;

/// <summary>
/// Checks a user name and password against a registry's /v2/ before they are saved: Basic directly,
/// or the Bearer challenge's token endpoint under the same rules as a pull (<see cref="TokenService"/>).
/// Only the named host (and, for Bearer, its realm) ever sees the credentials; redirects are not followed.
/// </summary>
internal static class RegistryLoginVerifier
{
    private static readonly Serilog.ILogger Log = ModuleLog.Logger.ForContext(typeof(RegistryLoginVerifier));

    public static async Task VerifyAsync(string host, string userName, string password, bool insecure, CancellationToken ct, RegistryClientOptions? options = null)
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
        if (response is null || endpoint is null)
            throw RegistryErrors.LoginUnreachable(host, insecure, last);

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                // Anonymous access is open; still check the credentials so a typo is not saved.
                using var check = new HttpRequestMessage(HttpMethod.Get, endpoint);
                check.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                using var r = await http.SendAsync(check, ct).ConfigureAwait(false);
                if (r.StatusCode == HttpStatusCode.Unauthorized) throw RegistryErrors.LoginRejected(host);
                return;
            }
            if (response.StatusCode != HttpStatusCode.Unauthorized)
                throw RegistryErrors.LoginFailed(host, ErrorKind.ConnectionFailed, $"{endpoint} answered {(int)response.StatusCode} {response.ReasonPhrase}.");

            var challenges = AuthChallenge.Parse(string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString())));
            var challenge = challenges.Count > 0 ? challenges[0] : null;
            if (challenge is null || challenge.IsBasic)
            {
                using var retry = new HttpRequestMessage(HttpMethod.Get, endpoint);
                retry.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                using var r = await http.SendAsync(retry, ct).ConfigureAwait(false);
                if (r.IsSuccessStatusCode) return;
                throw RegistryErrors.LoginRejected(host);
            }
            if (challenge.IsBearer)
            {
                if (string.IsNullOrEmpty(challenge.Realm))
                    throw RegistryErrors.LoginFailed(host, ErrorKind.InvalidData, $"{host} sent a Bearer challenge without a usable realm.");
                Uri realm = TokenService.Realm(host, challenge.Realm, endpoint);
                var uri = TokenService.RequestUri(realm, challenge.Service, [], account: userName);
                _ = await TokenService.FetchAsync(host, uri, new RegistryCredential(userName, password), options ?? new RegistryClientOptions(), ct).ConfigureAwait(false)
                    ?? throw RegistryErrors.LoginRejected(host);
                return;
            }
            throw RegistryErrors.LoginFailed(host, ErrorKind.NotSupported, $"{host} asks for {challenge.Scheme} authentication, which is not supported.");
        }
    }
}
