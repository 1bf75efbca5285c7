using Containers.Core.Spec;

namespace Containers.Core.Tests.Images;

public sealed partial class ImageStoreTests
{
    [Fact]
    public async Task ALookupSeesTheDatabaseRewrittenAfterItsParsedCopyWasKept()
    {
        var store = NewStore();
        var image = await Store(store, BuildImage("a", (Base, LayerCompression.Gzip)), "one");
        // Lookups keep the parsed database once its file is older than a second (a younger time is not trusted).
        await Task.Delay(1100);
        Assert.Equal(image.Id, (await store.FindAsync("one"))?.Id);
        Assert.Equal(image.Id, (await store.FindAsync("one"))?.Id);
        await store.TagAsync("one", "two");
        Assert.Equal(image.Id, (await store.FindAsync("two"))?.Id);
        Assert.Equal(2, (await NewStore().ListAsync()).Single().Names.Count);
        Assert.Null(await store.FindAsync("three"));
    }
}
