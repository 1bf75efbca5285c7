using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Containers.Core.Registry;

/// <summary>
/// Whether a registry answers TLS at its https address: a TLS 1.2 ClientHello is sent on a plain socket and the first
/// byte of the reply tells (a TLS handshake or alert record, or anything else: a plain HTTP server's "HTTP/1.1 400",
/// a closed connection). The https-then-http probe of an insecure registry asks this instead of a whole HTTPS request,
/// so a plain-HTTP registry never costs the session the loading of OpenSSL and its TLS client (tens of milliseconds in
/// a new session): the same two schemes are tried in the same order.
/// </summary>
internal static class TlsProbe
{
    private const byte HandshakeRecord = 0x16, AlertRecord = 0x15;

    /// <summary>True when the server at <paramref name="host"/>:<paramref name="port"/> replies to a ClientHello with a TLS
    /// record; false when it replies otherwise or closes. Connection errors and <paramref name="ct"/> are the caller's.</summary>
    public static async Task<bool> AnswersTlsAsync(string host, int port, CancellationToken ct)
    {
        EndPoint target = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(target, ct).ConfigureAwait(false);
        await socket.SendAsync(ClientHello(ip is null ? host : null), SocketFlags.None, ct).ConfigureAwait(false);
        var first = new byte[2];
        int n = await socket.ReceiveAsync(first, SocketFlags.None, ct).ConfigureAwait(false);
        // A record's first byte is its type; its second the major version (3) of every TLS.
        return n > 0 && first[0] is HandshakeRecord or AlertRecord && (n == 1 || first[1] == 3);
    }

    /// <summary>A TLS 1.2 ClientHello record with the usual suites and extensions (server_name for a DNS name, as
    /// RFC 6066 allows no IP literal there).</summary>
    internal static byte[] ClientHello(string? serverName)
    {
        var ext = new List<byte>();
        if (serverName is not null)
        {
            byte[] name = Encoding.ASCII.GetBytes(serverName);
            // server_name: list length, type host_name (0), name length, name
            AddExtension(ext, 0x0000, [.. U16(name.Length + 3), 0, .. U16(name.Length), .. name]);
        }
        AddExtension(ext, 0x000a, [0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]); // supported_groups: x25519, P-256, P-384
        AddExtension(ext, 0x000b, [0x01, 0x00]); // ec_point_formats: uncompressed
        // signature_algorithms: ECDSA/RSA-PSS/RSA PKCS#1 with SHA-256/384/512
        AddExtension(ext, 0x000d, [0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01]);
        byte[] suites = [0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35];

        var body = new List<byte> { 0x03, 0x03 }; // client_version TLS 1.2
        body.AddRange(RandomNumberGenerator.GetBytes(32));
        body.Add(0); // no session id
        body.AddRange(U16(suites.Length));
        body.AddRange(suites);
        body.AddRange([1, 0]); // compression: null only
        body.AddRange(U16(ext.Count));
        body.AddRange(ext);

        var record = new List<byte> { HandshakeRecord, 0x03, 0x01 };
        record.AddRange(U16(body.Count + 4));
        record.AddRange([0x01, 0, .. U16(body.Count)]); // handshake type ClientHello, 24-bit length
        record.AddRange(body);
        return [.. record];
    }

    private static void AddExtension(List<byte> to, ushort type, byte[] data)
    {
        to.AddRange(U16(type));
        to.AddRange(U16(data.Length));
        to.AddRange(data);
    }

    private static byte[] U16(int value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, checked((ushort)value));
        return b;
    }
}
