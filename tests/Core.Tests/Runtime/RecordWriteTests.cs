using System.Text.Json;
using Containers.Core.FileSystem;
using Containers.Core.Runtime;
using Containers.Core.Tests.Images;

namespace Containers.Core.Tests.Runtime;

/// <summary>
/// The files New-Container writes: the record a session just wrote is not parsed again by its next read (Start-Container
/// right after New-Container), yet a record replaced since is read from disk; the generated /etc files are written as
/// File.WriteAllText wrote them; the atomic writer makes a missing directory.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RecordWriteTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly ContainerStore _store;

    public RecordWriteTests() => _store = new ContainerStore(TestPaths.Under(_tmp.Path));

    public void Dispose() => _tmp.Dispose();

    private static ContainerRecord Record(string id, string name) =>
        new() { Id = id, Name = name, Image = "busybox", Created = DateTimeOffset.UtcNow, Command = ["/bin/true"] };

    private static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void TheRecordJustWrittenIsTheOneReadBackWithoutAParse()
    {
        string id = NewId();
        var written = Record(id, "fresh");
        _store.Write(written, durable: false);

        // The same object: the file was not read and parsed again (it was, before the write kept it).
        Assert.Same(written, _store.TryRead(id));
        Assert.Same(written, _store.Find("fresh"));
    }

    [Fact]
    public void ARecordAnotherWriterReplacedAfterOurWriteIsReadFromDisk()
    {
        string id = NewId();
        _store.Write(Record(id, "ours"), durable: false);
        // Another session (or an older version of the module) replaces the record the way every writer does: a sibling
        // renamed over it, with the same size (names of equal length), so only the file's identity tells it apart.
        var theirs = Record(id, "them");
        AtomicFile.Write(_store.RecordPath(id), JsonSerializer.SerializeToUtf8Bytes(theirs, RecordJsonContext.Default.ContainerRecord),
            PrivateStore.FileMode, durable: false);

        Assert.Equal("them", _store.TryRead(id)!.Name);
    }

    [Fact]
    public void GeneratedFilesAreReplacedWholeWithTheModeFileWriteAllTextGave()
    {
        string reference = _tmp.Sub("reference"), path = _tmp.Sub("hosts");
        File.WriteAllText(reference, "x");
        Containers.Core.FileSystem.SmallFile.Write(path, "127.0.0.1\tlocalhost a-much-longer-line-than-the-next\n");
        Containers.Core.FileSystem.SmallFile.Write(path, "::1\tlocalhost\n");

        Assert.Equal("::1\tlocalhost\n", File.ReadAllText(path));
        // 0666 less the umask, as File.WriteAllText creates files (the container's processes read them through bind mounts).
        Assert.Equal(File.GetUnixFileMode(reference), File.GetUnixFileMode(path));
    }

    [Fact]
    public void TheAtomicWriterMakesAMissingDirectoryAndLeavesNoSibling()
    {
        string path = _tmp.Sub("new/deeper/plan.json");
        AtomicFile.Write(path, "{}"u8, PrivateStore.FileMode, durable: false);

        Assert.Equal("{}", File.ReadAllText(path));
        Assert.Equal(PrivateStore.FileMode, File.GetUnixFileMode(path));
        Assert.Equal(["plan.json"], Directory.GetFileSystemEntries(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }
}
