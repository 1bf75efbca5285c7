using Containers.Core.Errors;
using Containers.Core.Native;
using Containers.Core.Runtime;

namespace Containers.Core.Tests.Runtime;

/// <summary>
/// The container store's name index on a real store in a temp dir: built for a store that has none, a link to no record
/// ignored and deleted (unless a create holds the store lock), a taken name refused, and the directory reader it uses.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ContainerNameIndexTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("name-index-tests-").FullName;
    private readonly ContainerStore _store;

    public ContainerNameIndexTests() => _store = new ContainerStore(TestPaths.Under(_root));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>A record written without its link, as a version before the index wrote them.</summary>
    private ContainerRecord AddRecord(string name, DateTimeOffset? created = null)
    {
        var r = new ContainerRecord { Id = NewId(), Name = name, Image = "test", Created = created ?? DateTimeOffset.UtcNow };
        _store.Write(r, durable: false);
        return r;
    }

    private string? LinkTarget(string name)
    {
        string path = Path.Combine(_store.Names.Dir, name);
        return LinkStat.Get(path) is null ? null : LinkStat.ReadLink(path);
    }

    [Fact]
    public void AStoreWithoutTheIndexGetsItBuiltOnTheFirstLookup()
    {
        var records = Enumerable.Range(0, 40).Select(i => AddRecord("old" + i)).ToList();
        Assert.False(_store.Names.Exists);

        Assert.Equal(records[17].Id, _store.FindByName("old17")?.Id);

        Assert.True(_store.Names.Exists);
        Assert.All(records, r => Assert.Equal("../" + r.Id, LinkTarget(r.Name)));
        Assert.Null(_store.FindByName("old40"));
    }

    [Fact]
    public void AListingLinksARecordWrittenAroundTheIndex()
    {
        var first = AddRecord("first");
        _store.EnsureNameIndex();
        var second = AddRecord("second"); // no link: written as an older version would
        Assert.Null(_store.FindByName("second"));

        Assert.Equal(2, _store.List().Count);

        Assert.Equal(second.Id, _store.FindByName("second")?.Id);
        Assert.Equal(first.Id, _store.FindByName("first")?.Id);
    }

    [Fact]
    public void ALinkToNoRecordIsIgnoredAndDeletedWhenTheStoreIsFree()
    {
        var kept = AddRecord("kept");
        var gone = AddRecord("gone");
        _store.EnsureNameIndex();
        // A remove killed after deleting the record: the directory and the link are left.
        File.Delete(_store.RecordPath(gone.Id));
        Assert.Equal("../" + gone.Id, LinkTarget("gone"));

        Assert.Null(_store.FindByName("gone"));

        Assert.Null(LinkTarget("gone"));
        Assert.Equal("../" + kept.Id, LinkTarget("kept"));
    }

    [Fact]
    public async Task ALinkToNoRecordStaysWhileACreateHoldsTheStoreLock()
    {
        _store.EnsureNameIndex();
        string id = NewId();
        using (await _store.LockStoreAsync(CancellationToken.None))
        {
            // A create between linking the name and writing the record.
            _store.ClaimName("coming", id);
            _store.CreateDir(id);

            Assert.Null(_store.FindByName("coming"));
            Assert.Equal("../" + id, LinkTarget("coming"));

            _store.Write(new ContainerRecord { Id = id, Name = "coming", Image = "test", Created = DateTimeOffset.UtcNow }, durable: false);
        }
        Assert.Equal(id, _store.FindByName("coming")?.Id);
    }

    [Fact]
    public void ATakenNameIsRefusedAndAStaleOneIsFreed()
    {
        var taken = AddRecord("taken");
        _store.EnsureNameIndex();
        Assert.True(_store.NameTaken("taken"));
        var e = Assert.Throws<ContainersException>(() => _store.ClaimName("taken", NewId()));
        Assert.Equal("ContainerNameInUse", e.ErrorId);

        // A create killed after linking: the link leads to a directory without a record.
        string orphan = NewId();
        _store.ClaimName("orphaned", orphan);
        _store.CreateDir(orphan);
        Assert.False(_store.NameTaken("orphaned"));
        Assert.Null(LinkTarget("orphaned"));
        Assert.Equal("../" + taken.Id, LinkTarget("taken"));
    }

    [Fact]
    public void AListingKeptByASessionDropsARecordDeletedBeforeItsDirectory()
    {
        var kept = AddRecord("kept");
        var removed = AddRecord("removed");
        _store.EnsureNameIndex();
        // A store directory old enough for the session to keep its listing (FileStat.IsRacy).
        Directory.SetLastWriteTimeUtc(_store.Root, DateTime.UtcNow.AddMinutes(-1));
        Assert.Equal(2, _store.List().Count);
        Assert.Equal(2, _store.List().Count);

        // Remove-Container's first step; its directory goes later (or never, if it is killed now).
        _store.DeleteRecord(removed);

        Assert.Equal([kept.Id], _store.List().Select(r => r.Id));
        Assert.True(Directory.Exists(_store.Dir(removed.Id)));
    }

    [Fact]
    public void AListingKeptByASessionShowsARewrittenRecord()
    {
        var r = AddRecord("connected");
        _store.EnsureNameIndex();
        Directory.SetLastWriteTimeUtc(_store.Root, DateTime.UtcNow.AddMinutes(-1));
        Assert.Equal("private", _store.List().Single().Network);
        Assert.Equal("private", _store.List().Single().Network);

        // Connect-ContainerNetwork in another session rewrites the record in place; no entry of the store changes.
        _store.Write(new ContainerRecord { Id = r.Id, Name = r.Name, Image = r.Image, Created = r.Created, Network = "web" }, durable: false);

        Assert.Equal("web", _store.List().Single().Network);
    }

    [Fact]
    public void APodMemberFindsItsInfraByTheNameThePodsIdGivesIt()
    {
        string podId = NewId(), otherPod = NewId();
        var infra = new ContainerRecord
        {
            Id = NewId(), Name = PodMembership.InfraNameOf(podId), Image = "infra", Created = DateTimeOffset.UtcNow, PodId = podId, PodInfra = true,
        };
        _store.Write(infra, durable: false);
        var member = new ContainerRecord { Id = NewId(), Name = "member", Image = "test", Created = DateTimeOffset.UtcNow, PodId = podId };
        _store.Write(member, durable: false);
        // A plain container that took the name another pod's infra would have: not that pod's infra.
        AddRecord(PodMembership.InfraNameOf(otherPod));
        var stray = new ContainerRecord { Id = NewId(), Name = "stray", Image = "test", Created = DateTimeOffset.UtcNow, PodId = otherPod };
        _store.Write(stray, durable: false);
        _store.EnsureNameIndex();

        Assert.Equal(infra.Id, _store.InfraOf(member)?.Id);
        Assert.Null(_store.InfraOf(infra));
        Assert.Null(_store.InfraOf(stray));
        Assert.Null(_store.InfraOf(AddRecord("alone")));
    }

    [Fact]
    public void TwoRecordsWithOneNameLinkTheOlder()
    {
        var older = AddRecord("twin", DateTimeOffset.UtcNow.AddMinutes(-5));
        AddRecord("twin");

        _store.EnsureNameIndex();

        Assert.Equal("../" + older.Id, LinkTarget("twin"));
    }

    [Fact]
    public void DirectoryNamesReadsEveryEntryOfALargeDirectory()
    {
        string dir = Path.Combine(_root, "many");
        Directory.CreateDirectory(dir);
        // More names than one 64 KiB getdents64 buffer holds, links to nothing among them.
        var expected = Enumerable.Range(0, 3000).Select(i => $"name-{i}-{new string('x', 20)}").ToHashSet();
        foreach (string n in expected) File.CreateSymbolicLink(Path.Combine(dir, n), "../nowhere-" + n);

        var names = DirectoryNames.Read(dir);

        Assert.Equal(expected.Order(), names.Order());
        Assert.Empty(DirectoryNames.Read(Path.Combine(_root, "missing")));
    }
}
