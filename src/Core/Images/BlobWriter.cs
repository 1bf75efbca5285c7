using System.Security.Cryptography;
using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>
/// A blob being written: bytes go to a private staging file and are hashed on the way; CommitAsync
/// verifies digest and size and renames the file into blobs/. Until then the blob is invisible.
/// </summary>
internal sealed class BlobWriter : Stream
{
    private readonly ImageStore _store;
    private readonly Staging _staging;
    private readonly FileStream _file;
    private readonly IncrementalHash _hash;
    private bool _committed;

    internal BlobWriter(ImageStore store, Staging staging, Digest expected, long expectedSize)
    {
        _store = store;
        _staging = staging;
        Expected = expected;
        ExpectedSize = expectedSize;
        _hash = expected.CreateHasher();
        _file = new FileStream(Path.Combine(staging.Path, "blob"), PrivateStore.NewFile(FileMode.CreateNew, 1 << 16));
    }

    public Digest Expected { get; }
    public long ExpectedSize { get; }
    public long Written { get; private set; }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Check(buffer.Length);
        _hash.AppendData(buffer);
        _file.Write(buffer);
        Written += buffer.Length;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Check(buffer.Length);
        _hash.AppendData(buffer.Span);
        await _file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Check(int more)
    {
        if (_committed) throw new InvalidOperationException("The blob was already committed.");
        if (ExpectedSize >= 0 && Written + more > ExpectedSize)
            throw new ContainersException("SizeMismatch", ErrorKind.InvalidData,
                $"The blob {Expected} is longer than its declared {ExpectedSize} bytes; it was not stored.", Expected.ToString());
    }

    /// <summary>Verifies and publishes the blob. Throws DigestMismatch/SizeMismatch and discards it when wrong.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_committed) return;
        if (ExpectedSize >= 0 && Written != ExpectedSize)
            throw new ContainersException("SizeMismatch", ErrorKind.InvalidData,
                $"The blob {Expected} has {Written} bytes, not the declared {ExpectedSize}; it was not stored.", Expected.ToString());
        var actual = Digest.FromHash(Expected.Algorithm, _hash.GetHashAndReset());
        if (actual != Expected) throw ImageStore.DigestMismatch(Expected, actual);
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_store.Options.Durable) _file.Flush(flushToDisk: true);
        await _file.DisposeAsync().ConfigureAwait(false);
        _store.PublishBlob(Path.Combine(_staging.Path, "blob"), Expected);
        _committed = true;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
            _hash.Dispose();
            _staging.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _file.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
