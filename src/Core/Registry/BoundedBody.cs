namespace Containers.Core.Registry;

/// <summary>
/// Reads a response body up to a limit. A registry (or a token service it names) is not trusted to
/// send a reasonable amount: an endless body must end in a typed error, not in the caller's memory.
/// </summary>
internal static class BoundedBody
{
    /// <summary>Token responses: a JWT and a few fields; 1 MiB is far more than any issuer sends.</summary>
    public const int MaxTokenBytes = 1 << 20;
    /// <summary>Error bodies are read for their message only.</summary>
    public const int MaxErrorBytes = 64 << 10;

    /// <summary>The whole body, or <paramref name="tooLarge"/> (given the bytes read so far) once more than <paramref name="limit"/> arrive.</summary>
    public static async Task<byte[]> ReadAsync(HttpContent content, int limit, Func<long, Exception> tooLarge, CancellationToken ct)
    {
        if (content.Headers.ContentLength is long declared && declared > limit) throw tooLarge(declared);
        await using var s = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var ms = new MemoryStream();
        byte[] buffer = new byte[81920];
        int n;
        while ((n = await s.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > limit) throw tooLarge(ms.Length);
        }
        return ms.ToArray();
    }
}
