using Containers.Core.FileSystem;
using Containers.Core.Images;
using Containers.Core.Native;

namespace Containers.Core.Tests.Images;

/// <summary>
/// Replacing a directory while unpacking into a tree that a running container can change (Copy-ContainerItem into it):
/// the container swaps a directory on the way for a symlink out of its root between the unpacker's lookups. The swap is
/// made deterministic by doing it when the replacing entry is read, after the unpacker resolved its parent.
/// </summary>
public sealed class LayerUnpackerRemovalTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private string Tree => _tmp.Sub("tree");
    private string Host => _tmp.Sub("host");

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void ASymlinkSwappedInForAParentCannotRedirectTheDeleteOfADirectory()
    {
        // The host's directory that a path walk through tree/a -> host would delete.
        Directory.CreateDirectory(Path.Combine(Host, "b"));
        File.WriteAllText(Path.Combine(Host, "b", "canary"), "keep");
        var tar = new TarBuilder()
            .Dir("a/").Dir("a/b/").File("a/b/f", "old").File("a/x", "x") // a/x leaves the unpacker holding a's descriptor
            .File("a/b", "replaces the directory")
            .Build();
        using var unpacker = new LayerUnpacker(Tree, new LayerUnpackOptions { Rootless = !Identity.IsRoot })
        {
            EntryRead = e =>
            {
                if (e.Name != "a/b" || e.Type != LayerEntryType.RegularFile) return;
                // The container's move: its directory a goes elsewhere in its root and a symlink out takes its place.
                Directory.Move(Path.Combine(Tree, "a"), Path.Combine(Tree, "moved"));
                File.CreateSymbolicLink(Path.Combine(Tree, "a"), Host);
            },
        };
        unpacker.Unpack(new MemoryStream(tar));

        Assert.Equal("keep", File.ReadAllText(Path.Combine(Host, "b", "canary")));
        Assert.Equal("replaces the directory", File.ReadAllText(Path.Combine(Tree, "moved", "b")));
    }

    [Fact]
    public void DeleteAtUnlinksASymlinkAndNeverItsTarget()
    {
        Directory.CreateDirectory(Path.Combine(Host, "d"));
        File.WriteAllText(Path.Combine(Host, "d", "canary"), "keep");
        Directory.CreateDirectory(Path.Combine(Tree, "dir", "sub"));
        File.CreateSymbolicLink(Path.Combine(Tree, "dir", "sub", "link"), Path.Combine(Host, "d"));
        File.CreateSymbolicLink(Path.Combine(Tree, "top"), Path.Combine(Host, "d"));
        int fd = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, Tree, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY);
        try
        {
            DirectoryTree.DeleteAt(fd, "dir");
            DirectoryTree.DeleteAt(fd, "top");
            DirectoryTree.DeleteAt(fd, "absent");
        }
        finally { FileSystemCalls.Close(fd); }
        Assert.Empty(Directory.EnumerateFileSystemEntries(Tree));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(Host, "d", "canary")));
    }

    [Fact]
    public void DeleteAtEmptiesDirectoriesItsOwnerCannotWrite()
    {
        Directory.CreateDirectory(Path.Combine(Tree, "ro", "locked"));
        File.WriteAllText(Path.Combine(Tree, "ro", "locked", "f"), "x");
        FileSystemCalls.FchmodAt(FileSystemCalls.AT_FDCWD, Path.Combine(Tree, "ro", "locked"), 0);
        FileSystemCalls.FchmodAt(FileSystemCalls.AT_FDCWD, Path.Combine(Tree, "ro"), 0x16D /* 0555 */);
        int fd = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, Tree, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY);
        try { DirectoryTree.DeleteAt(fd, "ro"); }
        finally { FileSystemCalls.Close(fd); }
        Assert.False(Directory.Exists(Path.Combine(Tree, "ro")));
    }
}
