using System.Net;
using System.Net.Http.Headers;
using Containers.Core.Spec;

namespace Containers.Core.Registry;

internal sealed partial class RegistryClient
{
    /// <summary>HEAD a blob: whether the repository already has it.</summary>
    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken ct)
    {
        using var r = await SendAsync(HttpMethod.Head, $"v2/{repository}/blobs/{digest}", PushScope(repository), repository, ct).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.NotFound) return false;
        if (r.IsSuccessStatusCode) return true;
        throw RegistryErrors.Protocol(Host, $"blob HEAD answered {(int)r.StatusCode}");
    }

    /// <summary>Asks the registry to mount a blob from another repository; true when it did (201).</summary>
    public async Task<bool> MountBlobAsync(string repository, Digest digest, string fromRepository, CancellationToken ct)
    {
        string scope = PushScope(repository) + " " + PullScope(fromRepository);
        using var r = await SendAsync(HttpMethod.Post, $"v2/{repository}/blobs/uploads/?mount={digest}&from={Uri.EscapeDataString(fromRepository)}", scope, repository, ct,
            content: () => new ByteArrayContent([]), allowRetry: true).ConfigureAwait(false);
        if (r.StatusCode == HttpStatusCode.Created) return true;
        if (r.StatusCode == HttpStatusCode.Accepted && r.Headers.Location is { } loc)
        {
            // Not mounted: an upload session was opened instead; cancel it.
            using var _ = await SendAsync(HttpMethod.Delete, Relative(loc), PushScope(repository), repository, ct).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>
    /// Uploads a blob: monolithic (POST then PUT with the body) up to the chunk size, otherwise chunked
    /// (PATCH per chunk with Content-Range, then PUT with the digest).
    /// </summary>
    public async Task UploadBlobAsync(string repository, Digest digest, long size, Func<Stream> open, CancellationToken ct, IProgress<long>? progress = null)
    {
        string scope = PushScope(repository);
        string location = await StartUploadAsync(repository, scope, ct).ConfigureAwait(false);
        if (size <= Options.ChunkSize)
        {
            byte[] all;
            await using (var s = open())
            {
                var ms = new MemoryStream((int)size);
                await s.CopyToAsync(ms, ct).ConfigureAwait(false);
                all = ms.ToArray();
            }
            using var put = await SendAsync(HttpMethod.Put, WithDigest(location, digest), scope, repository, ct,
                content: () => Octets(all, 0, all.Length)).ConfigureAwait(false);
            await ExpectAsync(put, HttpStatusCode.Created, "blob PUT", ct).ConfigureAwait(false);
            progress?.Report(size);
            return;
        }
        await using var stream = open();
        byte[] buffer = new byte[Options.ChunkSize];
        long offset = 0;
        while (true)
        {
            int filled = 0, n;
            while (filled < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false)) > 0) filled += n;
            if (filled == 0) break;
            long start = offset;
            using var patch = await SendAsync(HttpMethod.Patch, location, scope, repository, ct, content: () =>
            {
                var c = Octets(buffer, 0, filled);
                c.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + filled - 1}");
                return c;
            }, allowRetry: false).ConfigureAwait(false);
            await ExpectAsync(patch, HttpStatusCode.Accepted, "blob PATCH", ct).ConfigureAwait(false);
            location = patch.Headers.Location is { } l ? Relative(l) : location;
            offset += filled;
            progress?.Report(filled);
        }
        if (offset != size) throw RegistryErrors.SizeMismatch(digest.ToString(), size, offset);
        using var done = await SendAsync(HttpMethod.Put, WithDigest(location, digest), scope, repository, ct,
            content: () => Octets([], 0, 0)).ConfigureAwait(false);
        await ExpectAsync(done, HttpStatusCode.Created, "blob PUT", ct).ConfigureAwait(false);
    }

    /// <summary>PUT a manifest under a tag or digest; returns the digest the registry reports (checked against ours).</summary>
    public async Task<Digest> PutManifestAsync(string repository, string reference, byte[] manifest, string mediaType, CancellationToken ct)
    {
        using var r = await SendAsync(HttpMethod.Put, $"v2/{repository}/manifests/{reference}", PushScope(repository), repository, ct, content: () =>
        {
            var c = new ByteArrayContent(manifest);
            c.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return c;
        }).ConfigureAwait(false);
        await ExpectAsync(r, HttpStatusCode.Created, "manifest PUT", ct).ConfigureAwait(false);
        var ours = Digest.Sha256(manifest);
        if (r.Headers.TryGetValues("Docker-Content-Digest", out var v) && Digest.TryParse(v.FirstOrDefault(), out var theirs) && theirs != ours)
            throw RegistryErrors.DigestMismatch($"{Host}/{repository}:{reference}", ours.ToString(), theirs.ToString());
        return ours;
    }

    private async Task<string> StartUploadAsync(string repository, string scope, CancellationToken ct)
    {
        using var r = await SendAsync(HttpMethod.Post, $"v2/{repository}/blobs/uploads/", scope, repository, ct, content: () => new ByteArrayContent([])).ConfigureAwait(false);
        await ExpectAsync(r, HttpStatusCode.Accepted, "upload POST", ct).ConfigureAwait(false);
        return r.Headers.Location is { } l ? Relative(l) : throw RegistryErrors.Protocol(Host, "the upload POST gave no Location");
    }

    private string Relative(Uri location)
    {
        if (!location.IsAbsoluteUri) return location.OriginalString.TrimStart('/');
        if (!SameHost(location)) throw RegistryErrors.Protocol(Host, $"the upload location points at another host ({location.Authority})");
        return location.PathAndQuery.TrimStart('/');
    }

    private static string WithDigest(string location, Digest digest) =>
        location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest.ToString());

    private static ByteArrayContent Octets(byte[] data, int offset, int count)
    {
        var c = new ByteArrayContent(data, offset, count);
        c.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return c;
    }

    private async Task ExpectAsync(HttpResponseMessage r, HttpStatusCode expected, string what, CancellationToken ct)
    {
        if (r.StatusCode == expected || (expected == HttpStatusCode.Created && r.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent)) return;
        throw RegistryErrors.Protocol(Host, $"{what} answered {await ErrorText(r, ct).ConfigureAwait(false)}");
    }
}
