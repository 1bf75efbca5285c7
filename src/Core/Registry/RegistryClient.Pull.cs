using System.Net;
using System.Text.Json;
using Containers.Core.Spec;

namespace Containers.Core.Registry;

/// <summary>A manifest or index as fetched: its exact bytes, media type and verified digest.</summary>
internal sealed record RemoteManifest(byte[] Bytes, string MediaType, Digest Digest)
{
    public bool IsIndex => MediaTypes.IsIndex(MediaType);
}

internal sealed partial class RegistryClient
{
    private const int MaxListBytes = 16 << 20;

    /// <summary>
    /// GET a manifest by tag or digest with every supported media type accepted. The digest is computed
    /// from the bytes; it must equal the requested digest (by-digest pulls) and Docker-Content-Digest.
    /// </summary>
    public async Task<RemoteManifest> GetManifestAsync(string repository, string reference, CancellationToken ct)
    {
        string target = $"{Host}/{repository}:{reference}";
        using var r = await SendAsync(HttpMethod.Get, $"v2/{repository}/manifests/{reference}", PullScope(repository), repository, ct,
            headers: h => { foreach (string a in MediaTypes.ManifestAccept) h.Accept.ParseAdd(a); }).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.NotFound) throw RegistryErrors.ManifestNotFound(target, await ErrorText(r, ct).ConfigureAwait(false));
        if (!r.IsSuccessStatusCode) throw RegistryErrors.Protocol(Host, $"manifest GET answered {await ErrorText(r, ct).ConfigureAwait(false)}");

        byte[] bytes = await BoundedBody.ReadAsync(r.Content, SpecJson.MaxManifestBytes, size => RegistryErrors.ManifestTooLarge(target, size), ct).ConfigureAwait(false);

        // Verify before parsing: bytes that do not match their digest are not read at all.
        bool byDigest = Digest.TryParse(reference, out var requested);
        Digest? header = r.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var h) ? h : null;
        Digest actual = Digest.Sha256(bytes);
        if (byDigest)
        {
            actual = Compute(requested, bytes);
            if (actual != requested) throw RegistryErrors.DigestMismatch(target, requested.ToString(), actual.ToString());
        }
        if (header is { } hd)
        {
            var mine = hd.Algorithm == actual.Algorithm ? actual : Compute(hd, bytes);
            if (mine != hd) throw RegistryErrors.DigestMismatch(target, hd.ToString(), mine.ToString());
        }

        string? contentType = r.Content.Headers.ContentType?.MediaType;
        string mediaType;
        try { mediaType = SpecJson.DetectMediaType(bytes, contentType, target); }
        catch (Errors.ContainersException e) when (e.ErrorId == SpecJson.UnknownManifestTypeId) { throw RegistryErrors.UnknownMediaType(target, contentType); }
        if (!MediaTypes.IsIndex(mediaType) && !MediaTypes.IsManifest(mediaType)) throw RegistryErrors.UnknownMediaType(target, mediaType);
        _log.Debug("Fetched manifest {Target} {MediaType} {Digest}", target, mediaType, actual.ToString());
        return new RemoteManifest(bytes, mediaType, actual);
    }

    /// <summary>HEAD a manifest: its digest and media type, or null when it does not exist.</summary>
    public async Task<(Digest Digest, string? MediaType, long? Size)?> HeadManifestAsync(string repository, string reference, CancellationToken ct)
    {
        using var r = await SendAsync(HttpMethod.Head, $"v2/{repository}/manifests/{reference}", PullScope(repository), repository, ct,
            headers: h => { foreach (string a in MediaTypes.ManifestAccept) h.Accept.ParseAdd(a); }).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.NotFound) return null;
        if (!r.IsSuccessStatusCode) throw RegistryErrors.Protocol(Host, $"manifest HEAD answered {(int)r.StatusCode}");
        if (!r.Headers.TryGetValues("Docker-Content-Digest", out var v) || !Digest.TryParse(v.FirstOrDefault(), out var d))
            return null; // the caller falls back to GET
        return (d, r.Content.Headers.ContentType?.MediaType, r.Content.Headers.ContentLength);
    }

    private static Digest Compute(Digest like, byte[] bytes)
    {
        using var h = like.CreateHasher();
        h.AppendData(bytes);
        return Digest.FromHash(like.Algorithm, h.GetHashAndReset());
    }

    /// <summary>
    /// Opens a blob as a stream that verifies digest and size as it is read (the last read throws
    /// DigestMismatch/SizeMismatch), resuming with Range when the connection drops.
    /// </summary>
    /// <param name="verify">False when the consumer hashes the bytes itself (the store does); the size is still enforced.</param>
    public async Task<Stream> OpenBlobAsync(string repository, Descriptor descriptor, CancellationToken ct, IProgress<long>? progress = null, bool verify = true)
    {
        var digest = descriptor.ParsedDigest;
        var first = await OpenBlobRangeAsync(repository, digest, 0, ct).ConfigureAwait(false);
        return new VerifyingBlobStream(this, repository, digest, descriptor.Size, first, progress, verify);
    }

    /// <summary>GET a blob from an offset: the response body positioned at that offset.</summary>
    internal async Task<Stream> OpenBlobRangeAsync(string repository, Digest digest, long offset, CancellationToken ct)
    {
        var r = await SendAsync(HttpMethod.Get, $"v2/{repository}/blobs/{digest}", PullScope(repository), repository, ct,
            headers: offset > 0 ? h => h.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, null) : null).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.NotFound)
        {
            r.Dispose();
            throw RegistryErrors.NotFound($"The blob {digest} of '{repository}'", $"{Host}/{repository}@{digest}");
        }
        if (!r.IsSuccessStatusCode)
        {
            string text = await ErrorText(r, ct).ConfigureAwait(false);
            r.Dispose();
            throw RegistryErrors.Protocol(Host, $"blob GET answered {text}");
        }
        var body = await r.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        if (offset > 0 && r.StatusCode != HttpStatusCode.PartialContent)
        {
            // The server ignored Range: skip what we already have.
            byte[] skip = new byte[81920];
            long left = offset;
            while (left > 0)
            {
                int n = await body.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, left)), ct).ConfigureAwait(false);
                if (n == 0) break;
                left -= n;
            }
        }
        return new ResponseStream(r, body);
    }

    /// <summary>Reads a whole (small) blob, verified; for configs.</summary>
    public async Task<byte[]> GetBlobBytesAsync(string repository, Descriptor descriptor, long limit, CancellationToken ct)
    {
        if (descriptor.Size > limit) throw RegistryErrors.SizeMismatch($"{Host}/{repository}@{descriptor.Digest}", limit, descriptor.Size);
        await using var s = await OpenBlobAsync(repository, descriptor, ct).ConfigureAwait(false);
        var ms = new MemoryStream((int)Math.Max(0, descriptor.Size));
        await s.CopyToAsync(ms, ct).ConfigureAwait(false);
        return ms.ToArray();
    }

    /// <summary>Tags of a repository, following Link pagination.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken ct)
    {
        var tags = new List<string>();
        await foreach (var page in PagesAsync($"v2/{repository}/tags/list", PullScope(repository), repository, "tags", ct).ConfigureAwait(false))
            tags.AddRange(page);
        return tags;
    }

    /// <summary>Repositories of the registry (_catalog), following Link pagination.</summary>
    public async Task<IReadOnlyList<string>> CatalogAsync(CancellationToken ct, int pageSize = 100)
    {
        var repos = new List<string>();
        await foreach (var page in PagesAsync($"v2/_catalog?n={pageSize}", "registry:catalog:*", "", "repositories", ct).ConfigureAwait(false))
            repos.AddRange(page);
        return repos;
    }

    private async IAsyncEnumerable<List<string>> PagesAsync(string path, string scope, string repository, string field,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        string? next = path;
        var seen = new HashSet<string>();
        while (next is not null && seen.Add(next))
        {
            using var r = await SendAsync(HttpMethod.Get, next, scope, repository, ct).ConfigureAwait(false);
            if (r.StatusCode == HttpStatusCode.NotFound) throw RegistryErrors.NotFound($"'{repository}'", $"{Host}/{repository}");
            if (!r.IsSuccessStatusCode) throw RegistryErrors.Protocol(Host, $"{path} answered {await ErrorText(r, ct).ConfigureAwait(false)}");
            byte[] body = await BoundedBody.ReadAsync(r.Content, MaxListBytes, _ => RegistryErrors.ResponseTooLarge(Host, path + " list", MaxListBytes), ct).ConfigureAwait(false);
            var page = new List<string>();
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty(field, out var arr) && arr.ValueKind == JsonValueKind.Array)
                    foreach (var e in arr.EnumerateArray()) if (e.GetString() is { } s) page.Add(s);
            }
            catch (JsonException e) { throw RegistryErrors.Protocol(Host, $"{path} is not valid JSON: {e.Message}"); }
            yield return page;
            next = LinkHeader.Next(r.Headers.TryGetValues("Link", out var links) ? links : null);
            if (next is not null && next.StartsWith('/')) next = next[1..];
            if (next is not null && Uri.TryCreate(next, UriKind.Absolute, out var abs))
                next = SameHost(abs) ? abs.PathAndQuery.TrimStart('/') : null; // never page onto another host
        }
    }

    /// <summary>A response body that disposes its response.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => inner.ReadAsync(buffer, ct);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.ReadAsync(buffer, offset, count, ct);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.Dispose(); response.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
