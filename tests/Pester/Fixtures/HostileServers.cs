// A scripted HTTP(S) server on 127.0.0.1 for the hostile-registry tests, compiled with FixtureServers.cs
// by Registry.psm1: each route answers a path prefix with a fixed status, headers and body (or an endless
// body), and every request is recorded with the Authorization header it carried.
#nullable enable
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace PSContainersFixture;

public sealed class ScriptedServer : IDisposable
{
    public sealed class Route
    {
        public string PathPrefix { get; set; } = "/";
        public int Status { get; set; } = 200;
        public Dictionary<string, string> Headers { get; set; } = new();
        public string Body { get; set; } = "";
        /// <summary>Streams bytes until the client hangs up (an endless body).</summary>
        public bool Endless { get; set; }
        /// <summary>Only when the request carries an Authorization header (true), or only without one (false).</summary>
        public bool? WithAuthorization { get; set; }
    }

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly X509Certificate2? _certificate;
    public int Port { get; }
    public string Host => "127.0.0.1:" + Port;
    public List<Route> Routes { get; } = new();
    /// <summary>"METHOD target" of every request.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();
    /// <summary>Every Authorization header received, as sent.</summary>
    public ConcurrentQueue<string> Authorization { get; } = new();
    /// <summary>Every request ("METHOD target") with the Authorization header it carried (null: none).</summary>
    public ConcurrentQueue<KeyValuePair<string, string?>> Exchanges { get; } = new();

    /// <param name="selfSignedTls">Speak TLS with a fresh self-signed certificate that no CA vouches for.</param>
    public ScriptedServer(bool selfSignedTls = false)
    {
        if (selfSignedTls)
        {
            using var key = RSA.Create(2048);
            var req = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            req.CertificateExtensions.Add(san.Build());
            using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            _certificate = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
        }
        _listener = Http.Listen(Serve, _stop.Token);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    public Route Add(string pathPrefix, int status, string body = "", bool endless = false, bool? withAuthorization = null)
    {
        var r = new Route { PathPrefix = pathPrefix, Status = status, Body = body, Endless = endless, WithAuthorization = withAuthorization };
        lock (Routes) Routes.Add(r);
        return r;
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                Stream s = client.GetStream();
                if (_certificate is not null)
                {
                    var ssl = new SslStream(s);
                    await ssl.AuthenticateAsServerAsync(_certificate);
                    s = ssl;
                }
                var req = await Http.ReadRequest(s);
                if (req is null) return;
                Requests.Enqueue(req.Method + " " + req.Target);
                bool authed = req.Headers.TryGetValue("authorization", out var a);
                if (authed) Authorization.Enqueue(a!);
                Exchanges.Enqueue(new(req.Method + " " + req.Target, authed ? a : null));
                Route? route;
                lock (Routes)
                    route = Routes.FirstOrDefault(r => req.Target.StartsWith(r.PathPrefix, StringComparison.Ordinal)
                        && (r.WithAuthorization is null || r.WithAuthorization == authed));
                if (route is null) { await Http.Write(s, 404, "Not Found", new(), Array.Empty<byte>()); return; }
                if (route.Endless)
                {
                    var head = new StringBuilder("HTTP/1.1 ").Append(route.Status).Append(" X\r\nContent-Type: application/json\r\n");
                    foreach (var kv in route.Headers) head.Append(kv.Key).Append(": ").Append(kv.Value).Append("\r\n");
                    head.Append("Connection: close\r\n\r\n");
                    await s.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()));
                    var chunk = Encoding.ASCII.GetBytes("{\"token\":\"" + new string('a', 65536));
                    var more = Encoding.ASCII.GetBytes(new string('a', 65536));
                    await s.WriteAsync(chunk);
                    for (long sent = 0; sent < (1L << 34) && !_stop.IsCancellationRequested; sent += more.Length) await s.WriteAsync(more);
                    return;
                }
                await Http.Write(s, route.Status, "X", new Dictionary<string, string>(route.Headers), Encoding.UTF8.GetBytes(route.Body));
            }
            catch (IOException) { }
            catch (System.Security.Authentication.AuthenticationException) { }
        }
    }

    public void Dispose() { _stop.Cancel(); _listener.Stop(); _certificate?.Dispose(); }
}
