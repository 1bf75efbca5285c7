using System.Security.Cryptography;
using Containers.Core.Spec;

namespace Containers.Core.Registry;

/// <summary>
/// A blob being downloaded: hashes and counts every byte, refuses more than the declared size, throws
/// DigestMismatch or SizeMismatch at the end, and resumes with a Range request when the connection drops.
/// </summary>
internal sealed class VerifyingBlobStream : Stream
{
    private readonly RegistryClient _client;
    private readonly string _repository;
    private readonly Digest _digest;
    private readonly long _size;
    private readonly IncrementalHash? _hash;
    private readonly IProgress<long>? _progress;
    private Stream _body;
    private long _read;
    private int _resumes;
    private bool _verified;

    public VerifyingBlobStream(RegistryClient client, string repository, Digest digest, long size, Stream body, IProgress<long>? progress, bool verify = true)
    {
        _client = client;
        _repository = repository;
        _digest = digest;
        _size = size;
        _body = body;
        _progress = progress;
        _hash = verify ? digest.CreateHasher() : null;
    }

    private string Target => $"{_client.Host}/{_repository}@{_digest}";

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _size;
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>
    /// A plain blocking read of the response (the store unpacks on a thread of its own): not the async read waited
    /// on, which handed every chunk through the thread pool and left the reader spinning for it.
    /// </summary>
    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        while (true)
        {
            int n;
            try
            {
                n = _body.Read(buffer);
            }
            catch (Exception e) when (CanResume(e, CancellationToken.None))
            {
                ResumeAsync(CancellationToken.None).GetAwaiter().GetResult();
                continue;
            }
            return Account(buffer[..n]);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (buffer.Length == 0) return 0;
        while (true)
        {
            int n;
            try
            {
                n = await _body.ReadAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (CanResume(e, ct))
            {
                await ResumeAsync(ct).ConfigureAwait(false);
                continue;
            }
            return Account(buffer.Span[..n]);
        }
    }

    private bool CanResume(Exception e, CancellationToken ct) =>
        e is IOException or HttpRequestException && !ct.IsCancellationRequested && _resumes < _client.Options.MaxResumes && _read < _size;

    /// <summary>Reopens the blob where the dropped connection left it (a Range request).</summary>
    private async Task ResumeAsync(CancellationToken ct)
    {
        _resumes++;
        await _body.DisposeAsync().ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromMilliseconds(100 * _resumes), ct).ConfigureAwait(false);
        _body = await _client.OpenBlobRangeAsync(_repository, _digest, _read, ct).ConfigureAwait(false);
        Serilog.Log.Logger.Debug("Resumed {Target} at byte {Offset}", Target, _read);
    }

    /// <summary>Counts, size-checks and hashes what a read returned; verifies at the end.</summary>
    private int Account(ReadOnlySpan<byte> data)
    {
        int n = data.Length;
        if (n == 0)
        {
            Verify();
            return 0;
        }
        if (_read + n > _size) throw RegistryErrors.SizeMismatch(Target, _size, _read + n);
        _hash?.AppendData(data);
        _read += n;
        _progress?.Report(n);
        if (_read == _size) Verify();
        return n;
    }

    private void Verify()
    {
        if (_verified) return;
        if (_read != _size) throw RegistryErrors.SizeMismatch(Target, _size, _read);
        if (_hash is null) { _verified = true; return; }
        var actual = Digest.FromHash(_digest.Algorithm, _hash.GetHashAndReset());
        if (actual != _digest) throw RegistryErrors.DigestMismatch(Target, _digest.ToString(), actual.ToString());
        _verified = true;
    }

    /// <summary>Whether every byte arrived and matched.</summary>
    public bool Verified => _verified;

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _body.Dispose(); _hash?.Dispose(); }
        base.Dispose(disposing);
    }
}
