using Containers.Core.FileSystem;
using Containers.Core.Tests.Images;

namespace Containers.Core.Tests.FileSystem;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FilePrimitivesTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void TheAtomicWriterKeepsTheModeOfTheFileItReplacesAndTakesAGivenOne()
    {
        string path = _tmp.Sub("a/conf.json");
        AtomicFile.Write(path, "one"u8);
        Assert.Equal((UnixFileMode)0x1A4, File.GetUnixFileMode(path));
        File.SetUnixFileMode(path, (UnixFileMode)0x180);
        AtomicFile.WriteAllText(path, "two");
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(path));
        AtomicFile.Write(path, "three"u8, (UnixFileMode)0x1E0, durable: false);
        Assert.Equal((UnixFileMode)0x1E0, File.GetUnixFileMode(path));
        Assert.Equal(["conf.json"], Directory.GetFiles(_tmp.Sub("a")).Select(Path.GetFileName));
    }

    [Fact]
    public void TheAtomicWriterLeavesTheOldContentAndNoSiblingWhenTheRenameFails()
    {
        // A directory where the file should go: the rename fails after the sibling was written.
        string path = _tmp.Sub("b/target");
        Directory.CreateDirectory(Path.Combine(path, "occupied"));
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(path, "new"u8));
        Assert.Equal(["target"], Directory.GetFileSystemEntries(_tmp.Sub("b")).Select(Path.GetFileName));
    }

    [Fact]
    public void TheFileLockIsExclusiveAcrossHandlesSharedForReadersAndCancellable()
    {
        string path = _tmp.Sub("store.lock");
        using (var reader = FileLock.Acquire(path, exclusive: false))
        using (var other = FileLock.Acquire(path, exclusive: false))
        {
            Assert.Null(FileLock.TryAcquire(path));
            using var cts = new CancellationTokenSource(50);
            Assert.ThrowsAny<OperationCanceledException>(() => FileLock.Acquire(path, exclusive: true, cts.Token));
        }
        using var writer = FileLock.TryAcquire(path);
        Assert.NotNull(writer);
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(path));
        Assert.Null(FileLock.TryAcquire(_tmp.Sub("absent.lock")));
        Assert.False(File.Exists(_tmp.Sub("absent.lock")));
        // A container's lock is made on first use.
        using (var made = FileLock.TryAcquire(_tmp.Sub("c/.lock"), create: true)) Assert.NotNull(made);
        Assert.True(File.Exists(_tmp.Sub("c/.lock")));
    }

    [Fact]
    public void TheRecursiveDeleteEntersDirectoriesWithoutAccessAndNeverFollowsLinks()
    {
        string outside = _tmp.Sub("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "keep"), "k");
        string tree = _tmp.Sub("tree");
        Directory.CreateDirectory(Path.Combine(tree, "work/work"));
        File.WriteAllText(Path.Combine(tree, "work/work/f"), "x");
        File.CreateSymbolicLink(Path.Combine(tree, "link"), outside);
        File.SetUnixFileMode(Path.Combine(tree, "work/work"), UnixFileMode.None);
        File.SetUnixFileMode(Path.Combine(tree, "work"), (UnixFileMode)0x16D /* 0555 */);
        DirectoryTree.Delete(tree);
        Assert.False(Directory.Exists(tree));
        Assert.True(File.Exists(Path.Combine(outside, "keep")));
        DirectoryTree.Delete(tree); // gone already: fine
    }
}
