using Containers.Core.FileSystem;
using Containers.Core.Tests.Images;

namespace Containers.Core.Tests.FileSystem;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ForkGateTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task ALockHeldUntilAForkEndsIsTakenWhenItEndsNotRefused()
    {
        // A forked child holds a copy of the session's lock descriptors until it execs; here another handle holds the lock
        // for the whole fork, as that child would. A try while the fork is under way gets the lock once the fork is done.
        string path = _tmp.Sub("store.lock");
        using var taken = new ManualResetEventSlim();
        var fork = Task.Run(() => ForkGate.Fork(() =>
        {
            using var child = FileLock.TryAcquire(path, create: true);
            Assert.NotNull(child);
            taken.Set();
            Thread.Sleep(300);
            return true;
        }));
        Assert.True(taken.Wait(TimeSpan.FromSeconds(30)));
        using var mine = FileLock.TryAcquire(path);
        Assert.NotNull(mine);
        Assert.True(await fork);
    }
}
