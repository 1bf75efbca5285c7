using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>
/// A read-only pass-through that hashes and counts what is read, optionally copies it to a sink
/// (the blob file) and refuses to read past a limit (declared size or decompression bound).
/// </summary>
internal sealed class HashingStream(Stream inner, string algorithm, long limit, Func<long, Exception> overLimit, Stream? sink = null,
    IProgress<long>? progress = null) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);
    private long _lastReport;

    public long BytesRead { get; private set; }

    public Digest Digest() => Spec.Digest.FromHash(algorithm, _hash.GetCurrentHash());

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        Account(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Account(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Account(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0) return;
        BytesRead += data.Length;
        if (BytesRead > limit) throw overLimit(BytesRead);
        _hash.AppendData(data);
        sink?.Write(data);
        if (progress is not null && BytesRead - _lastReport >= 1 << 20)
        {
            _lastReport = BytesRead;
            progress.Report(BytesRead);
        }
    }

    /// <summary>Reads the rest of the stream (tar padding, trailing gzip bytes) so the digest covers everything.</summary>
    public void Drain()
    {
        var buf = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try { while (Read(buf) > 0) { } }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buf); }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Opens the decompressing stream for a layer's compression.</summary>
internal static class LayerDecompression
{
    public static Stream Open(Stream compressed, LayerCompression compression) => compression switch
    {
        LayerCompression.Gzip => new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true),
        LayerCompression.Zstd => OpenZstd(compressed),
        _ => new NonClosing(compressed),
    };

    // Apart, so that a session that only meets gzip layers never loads ZstdSharp (a method loads the types it names).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ZstdSharp.DecompressionStream OpenZstd(Stream compressed) => new(compressed, leaveOpen: true);

    /// <summary>Guesses the compression from the first bytes (docker-archive layers carry no media type).</summary>
    public static LayerCompression Sniff(ReadOnlySpan<byte> head) =>
        head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b ? LayerCompression.Gzip
        : head.Length >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd ? LayerCompression.Zstd
        : LayerCompression.None;

    private sealed class NonClosing(Stream inner) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
