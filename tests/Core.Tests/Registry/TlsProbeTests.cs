using System.Net;
using System.Net.Sockets;
using System.Text;
using Containers.Core.Registry;
using PSContainersFixture;

namespace Containers.Core.Tests.Registry;

/// <summary>
/// The insecure registry's https probe (TlsProbe) against real servers on loopback: the fixture's self-signed TLS server
/// (.NET's SslStream over OpenSSL), a plain HTTP server answering garbage with 400 as registries do, and one that hangs up.
/// </summary>
public sealed class TlsProbeTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public TlsProbeTests() => _listener.Start();

    public void Dispose()
    {
        _listener.Stop();
        _listener.Dispose();
    }

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    [Fact]
    public async Task ATlsServerAnswersTls()
    {
        using var server = new ScriptedServer(selfSignedTls: true);
        Assert.True(await TlsProbe.AnswersTlsAsync("127.0.0.1", server.Port, CancellationToken.None));
    }

    [Fact]
    public async Task OpenSslAnswersTheProbesHelloWithAServerHello()
    {
        // Not an alert: the hello is one a TLS stack accepts (a malformed one is answered with an alert record, 0x15).
        using var server = new ScriptedServer(selfSignedTls: true);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(TlsProbe.ClientHello("registry.example"));
        var head = new byte[6];
        await stream.ReadExactlyAsync(head);
        Assert.Equal(0x16, head[0]); // a handshake record
        Assert.Equal(0x02, head[5]); // whose first message is a ServerHello
    }

    [Fact]
    public async Task APlainHttpServerIsNotTls()
    {
        // What a plain HTTP registry (distribution's Go server) does with a ClientHello: a 400 and the connection closed.
        var server = Task.Run(async () =>
        {
            using var peer = await _listener.AcceptTcpClientAsync();
            var stream = peer.GetStream();
            _ = await stream.ReadAsync(new byte[4096]);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n400 Bad Request"));
        });
        Assert.False(await TlsProbe.AnswersTlsAsync("127.0.0.1", Port, CancellationToken.None));
        await server;
    }

    [Fact]
    public async Task AServerThatHangsUpIsNotTls()
    {
        var server = Task.Run(async () =>
        {
            using var peer = await _listener.AcceptTcpClientAsync();
            _ = await peer.GetStream().ReadAsync(new byte[4096]);
        });
        Assert.False(await TlsProbe.AnswersTlsAsync("127.0.0.1", Port, CancellationToken.None));
        await server;
    }

    [Fact]
    public async Task ARefusedConnectionIsTheCallersToHandle()
    {
        int port = Port;
        _listener.Stop();
        await Assert.ThrowsAsync<SocketException>(() => TlsProbe.AnswersTlsAsync("127.0.0.1", port, CancellationToken.None));
    }

    [Fact]
    public void TheHelloNamesADnsServerButNoAddress()
    {
        byte[] named = TlsProbe.ClientHello("registry.example");
        byte[] address = TlsProbe.ClientHello(null);
        Assert.Contains("registry.example", Encoding.ASCII.GetString(named), StringComparison.Ordinal);
        Assert.Equal(named.Length - address.Length, "registry.example".Length + 9); // the server_name extension
        // the record's length field covers the rest of the record
        Assert.Equal(named.Length - 5, (named[3] << 8) | named[4]);
    }
}
