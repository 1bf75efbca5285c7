// Loopback helpers for the registry tests, compiled by Registry.psm1 with Add-Type:
//  - TokenIssuer: the Bearer token service a docker-registry with `auth: token` points at.
//  - FaultProxy:  an HTTP front for a registry that injects failures and redirects blob GETs to a
//                 second listener on another host name, recording the Authorization headers each saw.
//  - FixtureCerts: a CA, a server certificate for 127.0.0.1, and the token signing certificate.
#nullable enable
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace PSContainersFixture;

public static class FixtureCerts
{
    /// <summary>GET url, any certificate accepted (readiness probe only); -1 when nothing answers.</summary>
    public static int Probe(string url)
    {
        using var h = new SocketsHttpHandler();
#pragma warning disable CA5359 // a readiness probe: it only asks whether something answers, and sends nothing secret
        h.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        using var c = new HttpClient(h) { Timeout = TimeSpan.FromSeconds(2) };
        try { return (int)c.GetAsync(url).GetAwaiter().GetResult().StatusCode; } catch { return -1; }
    }

    /// <summary>Writes ca.crt, server.crt, server.key, token.crt, token.key into dir.</summary>
    public static void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        using var caKey = RSA.Create(2048);
        var caReq = new CertificateRequest("CN=pscontainers test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caReq.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caReq.PublicKey, false));
        using var ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));

        using var srvKey = RSA.Create(2048);
        var srvReq = new CertificateRequest("CN=127.0.0.1", srvKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback); san.AddDnsName("localhost");
        srvReq.CertificateExtensions.Add(san.Build());
        srvReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        srvReq.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        byte[] serial = RandomNumberGenerator.GetBytes(12); serial[0] &= 0x7f;
        using var srv = srvReq.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(4), serial);

        using var tokKey = RSA.Create(2048);
        var tokReq = new CertificateRequest("CN=pscontainers token issuer", tokKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var tok = tokReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));

        File.WriteAllText(Path.Combine(dir, "ca.crt"), ca.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(dir, "server.crt"), srv.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(dir, "server.key"), srvKey.ExportPkcs8PrivateKeyPem() + "\n");
        File.WriteAllText(Path.Combine(dir, "token.crt"), tok.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(dir, "token.key"), tokKey.ExportPkcs8PrivateKeyPem() + "\n");
    }
}

/// <summary>A minimal Docker token service: anonymous gets pull, the configured user gets pull and push.</summary>
public sealed class TokenIssuer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly RSA _key;
    private readonly string _certB64;
    private readonly string _service, _issuer, _user, _password;
    private readonly CancellationTokenSource _stop = new();
    public int Port { get; }
    public int ExpiresIn { get; set; } = 300;
    public ConcurrentQueue<string> Requests { get; } = new();

    public TokenIssuer(string certPem, string keyPem, string service, string issuer, string user, string password)
    {
        _key = RSA.Create(); _key.ImportFromPem(keyPem);
        _certB64 = Convert.ToBase64String(X509Certificate2.CreateFromPem(certPem).RawData);
        _service = service; _issuer = issuer; _user = user; _password = password;
        _listener = Http.Listen(Serve, _stop.Token);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            var s = client.GetStream();
            var req = await Http.ReadRequest(s);
            if (req is null) return;
            Requests.Enqueue(req.Target);
            var q = Http.Query(req.Target);
            bool authed = false;
            if (req.Headers.TryGetValue("authorization", out var a) && a.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                string pair = Encoding.UTF8.GetString(Convert.FromBase64String(a.Substring(6).Trim()));
                if (pair != _user + ":" + _password) { await Http.Write(s, 401, "Unauthorized", new() { ["Content-Type"] = "application/json" }, Encoding.UTF8.GetBytes("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}")); return; }
                authed = true;
            }
            var access = new List<object>();
            foreach (var scope in q.Where(kv => kv.Key == "scope").Select(kv => kv.Value))
            {
                var parts = scope.Split(':');
                if (parts.Length < 3) continue;
                var wanted = parts[parts.Length - 1].Split(',');
                var granted = wanted.Where(w => w == "pull" || (authed && (w == "push" || w == "*"))).ToArray();
                string name = string.Join(":", parts.Skip(1).Take(parts.Length - 2));
                access.Add(new { type = parts[0], name, actions = granted });
            }
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var header = new Dictionary<string, object> { ["typ"] = "JWT", ["alg"] = "RS256", ["x5c"] = new[] { _certB64 } };
            var claims = new Dictionary<string, object>
            {
                ["iss"] = _issuer, ["sub"] = authed ? _user : "", ["aud"] = _service,
                ["exp"] = now + ExpiresIn, ["nbf"] = now - 10, ["iat"] = now, ["jti"] = Guid.NewGuid().ToString("N"), ["access"] = access,
            };
            string signingInput = B64(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + B64(JsonSerializer.SerializeToUtf8Bytes(claims));
            string sig = B64(_key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            string token = signingInput + "." + sig;
            var body = JsonSerializer.SerializeToUtf8Bytes(new { token, access_token = token, expires_in = ExpiresIn, issued_at = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") });
            await Http.Write(s, 200, "OK", new() { ["Content-Type"] = "application/json" }, body);
        }
    }

    private static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose() { _stop.Cancel(); _listener.Stop(); _key.Dispose(); }
}

/// <summary>
/// Fronts one registry on 127.0.0.1. Rules apply in order to each request; each rule fires Count
/// times (0 = forever). Every Authorization header seen is recorded with the host it reached.
/// </summary>
public sealed class FaultProxy : IDisposable
{
    public sealed class Rule
    {
        public string PathContains { get; set; } = "";
        public string Method { get; set; } = "";
        /// <summary>"status" (answer Status with Retry-After), "drop" (send half the body, then close),
        /// "corrupt" (flip a byte of the body), "redirect" (307 to the blob listener on BlobHost).</summary>
        public string Action { get; set; } = "status";
        public int Status { get; set; } = 503;
        public string RetryAfter { get; set; } = "";
        public int Count { get; set; } = 1;
        public int Fired { get; set; }
        /// <summary>"body": the answer's body and Content-Type. "rewrite": Body replaces PathContains in the target.</summary>
        public string Body { get; set; } = "";
        public string ContentType { get; set; } = "";
    }

    private readonly TcpListener _front, _blobs;
    private readonly HttpClient _upstream;
    private readonly string _upstreamBase;
    private readonly CancellationTokenSource _stop = new();
    public int Port { get; }
    public int BlobPort { get; }
    /// <summary>The host name the redirect target uses (another name for loopback).</summary>
    public string BlobHost { get; set; } = "localhost";
    /// <summary>When set, the front answers 401 with a Basic challenge to requests without this "user:password".</summary>
    public string RequireBasic { get; set; } = "";
    public List<Rule> Rules { get; } = new();
    public ConcurrentQueue<string> FrontLog { get; } = new();
    public ConcurrentQueue<string> BlobLog { get; } = new();
    public ConcurrentQueue<string> FrontAuthorization { get; } = new();
    public ConcurrentQueue<string> BlobAuthorization { get; } = new();

    public FaultProxy(string upstreamBase)
    {
        _upstreamBase = upstreamBase.TrimEnd('/');
        _upstream = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None });
        _front = new TcpListener(IPAddress.Loopback, 0); _front.Start();
        _blobs = new TcpListener(IPAddress.Loopback, 0); _blobs.Start();
        Port = ((IPEndPoint)_front.LocalEndpoint).Port;
        BlobPort = ((IPEndPoint)_blobs.LocalEndpoint).Port;
        _ = Task.Run(() => Accept(_front, false));
        _ = Task.Run(() => Accept(_blobs, true));
    }

    public Rule AddRule(string action, string pathContains, int count = 1, int status = 503, string retryAfter = "", string method = "", string body = "", string contentType = "")
    {
        var r = new Rule { Action = action, PathContains = pathContains, Count = count, Status = status, RetryAfter = retryAfter, Method = method, Body = body, ContentType = contentType };
        lock (Rules) Rules.Add(r);
        return r;
    }

    public void Reset()
    {
        lock (Rules) Rules.Clear();
        while (FrontLog.TryDequeue(out _)) { }
        while (BlobLog.TryDequeue(out _)) { }
        while (FrontAuthorization.TryDequeue(out _)) { }
        while (BlobAuthorization.TryDequeue(out _)) { }
    }

    private async Task Accept(TcpListener l, bool blobSide)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient c;
            try { c = await l.AcceptTcpClientAsync(_stop.Token); } catch { return; }
            _ = Task.Run(async () => { try { await Serve(c, blobSide); } catch { } finally { c.Dispose(); } });
        }
    }

    private Rule? Match(Http.Request req)
    {
        lock (Rules)
            foreach (var r in Rules)
            {
                if (r.Count > 0 && r.Fired >= r.Count) continue;
                if (r.Method.Length > 0 && !string.Equals(r.Method, req.Method, StringComparison.OrdinalIgnoreCase)) continue;
                if (!req.Target.Contains(r.PathContains)) continue;
                r.Fired++;
                return r;
            }
        return null;
    }

    private async Task Serve(TcpClient client, bool blobSide)
    {
        var s = client.GetStream();
        var req = await Http.ReadRequest(s);
        if (req is null) return;
        req.Headers.TryGetValue("authorization", out var auth);
        (blobSide ? BlobLog : FrontLog).Enqueue(req.Method + " " + req.Target);
        if (auth is not null) (blobSide ? BlobAuthorization : FrontAuthorization).Enqueue(auth);

        if (!blobSide && RequireBasic.Length > 0 &&
            auth != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(RequireBasic)))
        {
            await Http.Write(s, 401, "Unauthorized", new() { ["WWW-Authenticate"] = "Basic realm=\"fault-proxy\"", ["Docker-Distribution-API-Version"] = "registry/2.0" }, Array.Empty<byte>());
            return;
        }
        var rule = blobSide ? null : Match(req);
        if (rule is not null && rule.Action == "close")
        {
            client.Client.Close(0);
            return;
        }
        if (rule is not null && rule.Action == "status")
        {
            var h = new Dictionary<string, string> { ["Content-Type"] = "application/json" };
            if (rule.RetryAfter.Length > 0) h["Retry-After"] = rule.RetryAfter;
            await Http.Write(s, rule.Status, "Injected", h, Encoding.UTF8.GetBytes("{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"injected\"}]}"));
            return;
        }
        if (rule is not null && rule.Action == "body")
        {
            var bytes = Encoding.UTF8.GetBytes(rule.Body);
            var h = new Dictionary<string, string> { ["Content-Type"] = rule.ContentType };
            await Http.WriteHead(s, rule.Status == 503 ? 200 : rule.Status, "OK", h, bytes.Length);
            if (req.Method != "HEAD") await s.WriteAsync(bytes);
            return;
        }
        if (rule is not null && rule.Action == "rewrite") req.Target = req.Target.Replace(rule.PathContains, rule.Body);
        if (rule is not null && rule.Action == "redirect")
        {
            await Http.Write(s, 307, "Temporary Redirect", new() { ["Location"] = $"http://{BlobHost}:{BlobPort}{req.Target}" }, Array.Empty<byte>());
            return;
        }

        using var up = new HttpRequestMessage(new HttpMethod(req.Method), _upstreamBase + req.Target);
        foreach (var kv in req.Headers)
        {
            if (kv.Key is "host" or "connection" or "content-length" or "content-type" or "authorization") continue;
            up.Headers.TryAddWithoutValidation(kv.Key, kv.Value);
        }
        if (req.Body.Length > 0 || req.Method is "PUT" or "POST" or "PATCH")
        {
            up.Content = new ByteArrayContent(req.Body);
            if (req.Headers.TryGetValue("content-type", out var ct)) up.Content.Headers.TryAddWithoutValidation("Content-Type", ct);
        }
        using var resp = await _upstream.SendAsync(up);
        byte[] body = await resp.Content.ReadAsByteArrayAsync();
        var headers = new Dictionary<string, string>();
        foreach (var h in resp.Headers.Concat(resp.Content.Headers))
        {
            if (h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Connection", StringComparison.OrdinalIgnoreCase)) continue;
            headers[h.Key] = string.Join(", ", h.Value);
        }
        if (headers.TryGetValue("Location", out var loc) && loc.StartsWith(_upstreamBase)) headers["Location"] = loc.Substring(_upstreamBase.Length);
        if (rule is not null && rule.Action == "corrupt" && body.Length > 0) body[body.Length / 2] ^= 0xff;
        bool head = req.Method == "HEAD";
        long length = head && resp.Content.Headers.ContentLength is long cl ? cl : body.Length;
        if (rule is not null && rule.Action == "drop" && body.Length > 1)
        {
            await Http.WriteHead(s, (int)resp.StatusCode, resp.ReasonPhrase ?? "", headers, body.Length);
            await s.WriteAsync(body.AsMemory(0, body.Length / 2));
            await s.FlushAsync();
            // A FIN, not a reset: a reset can reach the client before it read the half sent, and the kernel then drops
            // those bytes, so the client saw the cut anywhere between byte 0 and the half (tests of resumes flaked).
            client.Client.Shutdown(SocketShutdown.Send);
            return;
        }
        await Http.WriteHead(s, (int)resp.StatusCode, resp.ReasonPhrase ?? "", headers, length);
        if (!head) await s.WriteAsync(body);
    }

    public void Dispose() { _stop.Cancel(); _front.Stop(); _blobs.Stop(); _upstream.Dispose(); }
}

internal static class Http
{
    /// <summary>A listener on 127.0.0.1 (a free port) that hands every connection to serve until stop.</summary>
    internal static TcpListener Listen(Func<TcpClient, Task> serve, CancellationToken stop)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient c;
                try { c = await listener.AcceptTcpClientAsync(stop); } catch { return; }
                _ = Task.Run(() => serve(c), CancellationToken.None);
            }
        }, stop);
        return listener;
    }

    internal sealed class Request
    {
        public string Method = "", Target = "";
        public Dictionary<string, string> Headers = new();
        public byte[] Body = Array.Empty<byte>();
    }

    internal static async Task<Request?> ReadRequest(Stream s)
    {
        var head = new MemoryStream();
        var one = new byte[1];
        int matched = 0;
        while (matched < 4)
        {
            int n = await s.ReadAsync(one.AsMemory(0, 1));
            if (n == 0) return null;
            if (head.Length == 0 && one[0] == 0x16) return null; // a TLS handshake: this is plain HTTP, hang up
            head.WriteByte(one[0]);
            matched = (one[0] == '\r' && (matched == 0 || matched == 2)) || (one[0] == '\n' && (matched == 1 || matched == 3)) ? matched + 1 : 0;
            if (head.Length > 65536) return null;
        }
        var lines = Encoding.Latin1.GetString(head.ToArray()).Split("\r\n");
        var first = lines[0].Split(' ');
        var r = new Request { Method = first[0], Target = first.Length > 1 ? first[1] : "/" };
        foreach (var line in lines.Skip(1))
        {
            int c = line.IndexOf(':');
            if (c > 0) r.Headers[line.Substring(0, c).Trim().ToLowerInvariant()] = line.Substring(c + 1).Trim();
        }
        if (r.Headers.TryGetValue("content-length", out var len) && long.TryParse(len, out long l) && l > 0)
        {
            r.Body = new byte[l];
            int off = 0;
            while (off < l) { int n = await s.ReadAsync(r.Body.AsMemory(off, (int)(l - off))); if (n == 0) break; off += n; }
        }
        return r;
    }

    internal static List<KeyValuePair<string, string>> Query(string target)
    {
        var list = new List<KeyValuePair<string, string>>();
        int q = target.IndexOf('?');
        if (q < 0) return list;
        foreach (var p in target.Substring(q + 1).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int e = p.IndexOf('=');
            list.Add(new(Uri.UnescapeDataString(e < 0 ? p : p.Substring(0, e)), e < 0 ? "" : Uri.UnescapeDataString(p.Substring(e + 1).Replace('+', ' '))));
        }
        return list;
    }

    internal static async Task WriteHead(Stream s, int status, string reason, Dictionary<string, string> headers, long length)
    {
        var sb = new StringBuilder();
        sb.Append("HTTP/1.1 ").Append(status).Append(' ').Append(reason).Append("\r\n");
        foreach (var kv in headers) sb.Append(kv.Key).Append(": ").Append(kv.Value).Append("\r\n");
        sb.Append("Content-Length: ").Append(length).Append("\r\nConnection: close\r\n\r\n");
        var b = Encoding.Latin1.GetBytes(sb.ToString());
        await s.WriteAsync(b);
    }

    internal static async Task Write(Stream s, int status, string reason, Dictionary<string, string> headers, byte[] body)
    {
        await WriteHead(s, status, reason, headers, body.Length);
        await s.WriteAsync(body);
        await s.FlushAsync();
    }
}
