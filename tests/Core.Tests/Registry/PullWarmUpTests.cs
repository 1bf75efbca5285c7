using Containers.Core.Registry;

namespace Containers.Core.Tests.Registry;

/// <summary>The first pull's warm-up ignores its own failures, so each of its steps is checked here to do its work: a
/// step that threw would warm nothing and nobody would notice.</summary>
public sealed class PullWarmUpTests
{
    // Nothing answers at warm-up.invalid: a request that left the process would fail.
    [Fact]
    public async Task TheRequestReadsItsCannedAnswerWithoutTheNetwork()
    {
        Assert.Equal(2, await PullWarmUp.RunAsync());
    }

    [Fact]
    public void TheDataPathStepSucceeds() => PullWarmUp.WarmDataPath();

    // Its canned manifest and config must stay documents the pull accepts, or the step warms only an exception.
    [Fact]
    public void TheDocumentsStepParsesItsCannedDocuments() => PullWarmUp.WarmDocuments();
}
