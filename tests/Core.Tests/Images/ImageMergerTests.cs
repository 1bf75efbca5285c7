using Containers.Core.Images;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Images;

public class ImageMergerTests
{
    private static HistoryEntry Layer(string by) => new() { CreatedBy = by };
    private static HistoryEntry Empty(string by) => new() { CreatedBy = by, EmptyLayer = true };

    [Fact]
    public void FoldsTheRangeIntoItsLastLayersEntry()
    {
        var history = new[] { Layer("1"), Empty("env"), Layer("2"), Layer("3"), Empty("cmd"), Layer("4") };
        var folded = ImageMerger.FoldHistory(history, 4, 2, 3);
        Assert.Equal(7, folded.Count);
        Assert.Equal([null, true, true, null, true, null, true], folded.Select(h => h.EmptyLayer));
        Assert.Equal("Merge-ContainerImage -From 2 -To 3", folded[^1].CreatedBy);
        Assert.Equal(3, folded.Count(h => h.EmptyLayer != true)); // layers 1, 3 (now holding 2 and 3) and 4
    }

    [Fact]
    public void KeepsAHistoryThatDoesNotMatchTheLayers()
    {
        var folded = ImageMerger.FoldHistory([Layer("only one")], 3, 1, 3);
        Assert.Equal([null, true], folded.Select(h => h.EmptyLayer));
        Assert.Single(ImageMerger.FoldHistory(null, 3, 1, 3));
    }
}
