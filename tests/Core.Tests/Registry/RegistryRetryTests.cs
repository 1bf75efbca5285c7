using System.Net;
using Containers.Core.Errors;
using Containers.Core.Registry;
using PSContainersFixture;

namespace Containers.Core.Tests.Registry;

/// <summary>
/// Which failures the registry client retries, how often and after how long, against a registry on
/// loopback behind the fixture's FaultProxy (which injects the failures and counts the requests).
/// </summary>
public sealed class RegistryRetryTests : IDisposable
{
    private const string Repository = "team/app";
    private readonly ScriptedRegistry _registry = new ScriptedRegistry().Serve(Repository);
    private readonly FaultProxy _proxy;

    public RegistryRetryTests() => _proxy = new FaultProxy("http://" + _registry.Host);

    public void Dispose()
    {
        _proxy.Dispose();
        _registry.Dispose();
    }

    private string ProxyHost => "127.0.0.1:" + _proxy.Port;
    private int Requests(string pathContains) => _proxy.FrontLog.Count(r => r.Contains(pathContains, StringComparison.Ordinal));

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task TooManyRequestsAndServerErrorsAreRetriedUntilTheyPass(int status)
    {
        _proxy.AddRule("status", "/manifests/", count: 2, status: status);
        var manifest = await ScriptedRegistry.Client(ProxyHost).GetManifestAsync(Repository, "1", CancellationToken.None);
        Assert.Equal(_registry.Manifest, System.Text.Encoding.UTF8.GetString(manifest.Bytes));
        Assert.Equal(3, Requests("/manifests/"));
    }

    [Fact]
    public async Task AServerErrorThatPersistsIsRetriedMaxAttemptsTimesThenReported()
    {
        _proxy.AddRule("status", "/manifests/", count: 0, status: 503);
        var e = await Assert.ThrowsAsync<ContainersException>(() => ScriptedRegistry.Client(ProxyHost, maxAttempts: 3).GetManifestAsync(Repository, "1", CancellationToken.None));
        Assert.Equal("RegistryUnavailable", e.ErrorId);
        Assert.Equal(3, Requests("/manifests/"));
    }

    [Theory]
    [InlineData(400, "RegistryProtocolError")]
    [InlineData(403, "RegistryAccessDenied")]
    [InlineData(404, "ManifestNotFound")]
    [InlineData(405, "RegistryProtocolError")]
    public async Task AClientErrorIsNotRetried(int status, string errorId)
    {
        _proxy.AddRule("status", "/manifests/", count: 0, status: status);
        var e = await Assert.ThrowsAsync<ContainersException>(() => ScriptedRegistry.Client(ProxyHost).GetManifestAsync(Repository, "1", CancellationToken.None));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(1, Requests("/manifests/"));
    }

    [Fact]
    public async Task AConnectionClosedBeforeTheAnswerIsRetried()
    {
        _proxy.AddRule("close", "/manifests/", count: 1);
        await ScriptedRegistry.Client(ProxyHost).GetManifestAsync(Repository, "1", CancellationToken.None);
        Assert.Equal(2, Requests("/manifests/"));
    }

    [Fact]
    public async Task ABlobCutOffMidwayResumesAndArrivesWhole()
    {
        _proxy.AddRule("drop", "/blobs/", count: 2);
        var bytes = await ScriptedRegistry.ReadBlobAsync(ScriptedRegistry.Client(ProxyHost), Repository, _registry.BlobDescriptor);
        Assert.Equal(_registry.Blob, bytes);
        Assert.Equal(3, Requests("/blobs/"));
    }

    [Fact]
    public async Task ABlobReadBlockingResumesWhereTheConnectionDropped()
    {
        // The store unpacks a big layer with blocking reads on a thread of its own: that path resumes too.
        _proxy.AddRule("drop", "/blobs/", count: 2);
        await using var s = await ScriptedRegistry.Client(ProxyHost).OpenBlobAsync(Repository, _registry.BlobDescriptor, CancellationToken.None);
        using var copy = new MemoryStream();
        await Task.Run(() => s.CopyTo(copy));
        Assert.Equal(_registry.Blob, copy.ToArray());
        Assert.Equal(3, Requests("/blobs/"));
    }

    [Fact]
    public async Task ABlobCutOffEveryTimeGivesUpAfterMaxResumes()
    {
        _proxy.AddRule("drop", "/blobs/", count: 0);
        var client = ScriptedRegistry.Client(ProxyHost);
        await Assert.ThrowsAnyAsync<Exception>(() => ScriptedRegistry.ReadBlobAsync(client, Repository, _registry.BlobDescriptor));
        Assert.Equal(1 + client.Options.MaxResumes, Requests("/blobs/"));
    }

    [Fact]
    public void BackoffDoublesPerAttemptWithJitterAndStopsAtMaxDelay()
    {
        var client = new RegistryClient("127.0.0.1:1", true, options: new RegistryClientOptions
        {
            BaseDelay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromMilliseconds(1000),
            CertDirectories = [],
        });
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            double expected = 100 * Math.Pow(2, attempt - 1);
            for (int i = 0; i < 50; i++)
                Assert.InRange(client.Backoff(attempt).TotalMilliseconds, expected * 0.8, expected * 1.2);
        }
        Assert.Equal(TimeSpan.FromMilliseconds(1000), client.Backoff(10));
    }

    [Theory]
    [InlineData("2", 2000)]
    [InlineData("3600", 30000)]
    [InlineData("0", 0)]
    public void RetryAfterIsHonouredUpToMaxDelay(string retryAfter, int expectedMs)
    {
        var client = new RegistryClient("127.0.0.1:1", true, options: new RegistryClientOptions { MaxDelay = TimeSpan.FromSeconds(30), CertDirectories = [] });
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), client.RetryAfter(response));
    }

    [Fact]
    public void RetryAfterInThePastMeansNowAndNoneMeansBackoff()
    {
        var client = new RegistryClient("127.0.0.1:1", true, options: new RegistryClientOptions { CertDirectories = [] });
        using var past = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        past.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Equal(TimeSpan.Zero, client.RetryAfter(past));
        using var none = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        Assert.Null(client.RetryAfter(none));
    }
}
