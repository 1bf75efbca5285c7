using Containers.Core.Registry;

namespace Containers.Core.Tests.Registry;

/// <summary>The first pull's HTTP warm-up runs HttpClient's whole request and response path against its in-memory
/// answer, and needs no network (nothing answers at warm-up.invalid: a request that left the process would fail).</summary>
public sealed class HttpWarmUpTests
{
    [Fact]
    public async Task TheWarmUpReadsItsCannedAnswerWithoutTheNetwork()
    {
        Assert.Equal(2, await HttpWarmUp.RunAsync());
    }
}
