using Containers.Core.Errors;
using Containers.Core.Pods;
using Containers.Core.Runtime;

namespace Containers.Core.Tests.Pods;

/// <summary>The pod records under a throw-away data root: written, found by name, id and prefix, removed whole.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PodStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pscontainers-podstore-").FullName;
    private readonly PodStore _store;

    public PodStoreTests() => _store = new PodStore(TestPaths.Under(_root));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private PodRecord Write(string name, string id)
    {
        var p = new PodRecord { Id = id, Name = name, Created = DateTimeOffset.UtcNow, InfraName = id[..12] + "-infra", Share = ["ipc", "net", "uts"], Hostname = name };
        _store.Write(p);
        return p;
    }

    [Fact]
    public void FindsByNameFullIdAndUniquePrefixAndRefusesAnAmbiguousOne()
    {
        var a = Write("web", "ab" + new string('1', 62));
        var b = Write("db", "ab" + new string('2', 62));
        Assert.Equal(a.Id, _store.Find("web")?.Id);
        Assert.Equal(b.Id, _store.Find(b.Id)?.Id);
        Assert.Equal(b.Id, _store.Find("ab2")?.Id);
        Assert.Equal("AmbiguousPodId", Assert.Throws<ContainersException>(() => _store.Find("ab")).ErrorId);
        Assert.Null(_store.Find("nosuch"));
        var e = Assert.Throws<ContainersException>(() => _store.Get("nosuch"));
        Assert.Equal(("PodNotFound", ErrorKind.NotFound, "nosuch"), (e.ErrorId, e.Kind, e.Target));
    }

    [Fact]
    public void KeepsRecordsPrivateAndRemovesThemWhole()
    {
        var p = Write("web", NameGenerator.NewId());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_store.Dir(p.Id), "pod.json")));
        var m = _store.Resolve("web");
        Assert.Equal((p.Id, "web", p.InfraName), (m.PodId, m.PodName, m.InfraName));
        Assert.True(m.Shares("net"));
        _store.Delete(p.Id);
        Assert.False(Directory.Exists(_store.Dir(p.Id)));
        Assert.Empty(_store.List());
    }

    [Fact]
    public void ListsNothingForAMissingRootAndSkipsForeignDirectories()
    {
        Assert.Empty(_store.List());
        Write("web", NameGenerator.NewId());
        Directory.CreateDirectory(Path.Combine(_store.Root, "not-a-pod"));
        Directory.CreateDirectory(Path.Combine(_store.Root, NameGenerator.NewId())); // a half-made pod: no record
        Assert.Equal(["web"], _store.List().Select(p => p.Name));
    }
}
