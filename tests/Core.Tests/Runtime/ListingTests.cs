using Containers.Core.Cgroups;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

/// <summary>
/// Listing many containers: records and states read whole with their identity, and the cgroup hierarchies looked at
/// once per listing (a directory tree in a temp dir stands in for /sys/fs/cgroup: no root needed).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ListingTests : IDisposable
{
    /// <summary>The real file calls on a temp tree, counted.</summary>
    private sealed class CountingTree : CgroupFileSystem
    {
        public int Exists, Listed;
        public override bool DirectoryExists(string path) { Interlocked.Increment(ref Exists); return base.DirectoryExists(path); }
        public override IEnumerable<string> SubDirectories(string path) { Interlocked.Increment(ref Listed); return base.SubDirectories(path); }
    }

    private static readonly string[] Hierarchies = ["memory", "cpu", "pids", "freezer"];
    private readonly string _root = Directory.CreateTempSubdirectory("listing-tests-").FullName;
    private readonly CountingTree _tree = new();
    private readonly ContainerRuntime _runtime;

    public ListingTests()
    {
        var paths = TestPaths.Under(_root);
        var mounts = Hierarchies.ToDictionary(h => h, h => Path.Combine(_root, "cgroup", h));
        _runtime = new ContainerRuntime(paths, null, new CgroupV1Manager(mounts, _tree), "/nonexistent/init");
    }

    public void Dispose()
    {
        // The trash thread may still be deleting what the removals moved there (in SCHED_IDLE: later on a busy host).
        ContainerTrash.WaitForDeletions(TimeSpan.FromSeconds(10));
        Directory.Delete(_root, recursive: true);
    }

    private string CgroupDir(string hierarchy, string id) => Path.Combine(_root, "cgroup", hierarchy, "pscontainers", id);

    /// <summary>An exited container's record and state (its monitor, a pid that cannot exist, is long gone).</summary>
    private string AddExited(string name)
    {
        string id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        _runtime.Store.Write(new ContainerRecord { Id = id, Name = name, Image = "test", Created = DateTimeOffset.UtcNow });
        _runtime.Store.WriteState(new ContainerRuntimeState { ContainerId = id, Status = ContainerStatus.Stopped, ExitCode = 0, MonitorPid = int.MaxValue - 3 });
        return id;
    }

    [Fact]
    public void ListingLooksAtEachCgroupHierarchyOnceAndRemovesOnlyLeftovers()
    {
        var ids = Enumerable.Range(0, 40).Select(i => AddExited("c" + i)).ToList();
        // A dead monitor left empty cgroups of two containers behind, in some hierarchies.
        Directory.CreateDirectory(CgroupDir("memory", ids[3]));
        Directory.CreateDirectory(CgroupDir("pids", ids[3]));
        Directory.CreateDirectory(CgroupDir("freezer", ids[7]));
        // Another container's cgroup that is no record of this store stays.
        string stranger = new('e', 64);
        Directory.CreateDirectory(CgroupDir("memory", stranger));
        // States younger than the file system's clock tick are not cached (FileStat.IsRacy): let them age.
        Thread.Sleep(1100);

        var listed = _runtime.List();

        Assert.Equal(40, listed.Count);
        Assert.All(listed, c => Assert.Equal(ContainerState.Exited, c.State));
        Assert.False(Directory.Exists(CgroupDir("memory", ids[3])));
        Assert.False(Directory.Exists(CgroupDir("pids", ids[3])));
        Assert.False(Directory.Exists(CgroupDir("freezer", ids[7])));
        Assert.True(Directory.Exists(CgroupDir("memory", stranger)));
        // One listing of each hierarchy, not a look per container and hierarchy (40 x 4 before).
        Assert.Equal(Hierarchies.Length, _tree.Listed);
        Assert.True(_tree.Exists <= 2 * Hierarchies.Length, $"{_tree.Exists} existence checks");

        // Known clean now: the next listing needs no look at the hierarchies at all.
        int listedBefore = _tree.Listed;
        _runtime.List();
        Assert.Equal(listedBefore, _tree.Listed);
    }

    [Fact]
    public async Task RemovedContainersLeaveNothingInTheSessionsCaches()
    {
        var ids = Enumerable.Range(0, 5).Select(i => AddExited("gone" + i)).ToList();
        Thread.Sleep(1100); // old enough to be cached (FileStat.IsRacy)
        _runtime.List();
        Assert.All(ids, id => Assert.True(_runtime.Store.HoldsParsed(id) && CgroupLifetime.Remembers(id)));

        // Removed one by one with no listing in between, as a script's New | Start | Remove loop does.
        foreach (string id in ids) await _runtime.RemoveAsync(id, force: false, CancellationToken.None);

        Assert.All(ids, id => Assert.False(_runtime.Store.HoldsParsed(id), $"parsed record or state of removed {id} kept"));
        Assert.All(ids, id => Assert.False(CgroupLifetime.Remembers(id), $"cgroup state of removed {id} kept"));
    }

    [Fact]
    public void ListContainerIdsUnitesTheHierarchies()
    {
        Directory.CreateDirectory(CgroupDir("memory", "a1"));
        Directory.CreateDirectory(CgroupDir("cpu", "a1"));
        Directory.CreateDirectory(CgroupDir("pids", "b2"));

        var ids = _runtime.Cgroups.ListContainerIds();

        Assert.Equal(["a1", "b2"], ids.Order());
    }

    [Fact]
    public void AReplacedRecordIsReadAgainEvenWithTheSameSize()
    {
        string id = AddExited("first");
        Assert.Equal("first", _runtime.Store.TryRead(id)!.Name);
        var replaced = _runtime.Store.TryRead(id)!;
        _runtime.Store.Write(new ContainerRecord { Id = id, Name = "other", Image = replaced.Image, Created = replaced.Created });

        Assert.Equal("other", _runtime.Store.TryRead(id)!.Name);
        Assert.Equal("other", Assert.Single(_runtime.Store.List()).Name);
    }

    [Fact]
    public void TryReadAllReadsWholeFilesIncludingOnesThatStatAsEmpty()
    {
        string file = Path.Combine(_root, "f");
        byte[] content = new byte[70_000];
        new Random(3).NextBytes(content);
        File.WriteAllBytes(file, content);

        Assert.True(Native.FileStat.TryReadAll(file, out var read, out long inode, out _, out long size));
        Assert.Equal(content, read.ToArray());
        Assert.Equal(content.Length, size);
        Assert.True(Native.FileStat.TryGet(file, out long statInode, out _, out _, out _));
        Assert.Equal(statInode, inode);

        // /proc files say size 0 and have content: read to the end, not to the size fstat gave.
        Assert.True(Native.FileStat.TryReadAll("/proc/self/status", out var status, out _, out _, out _));
        Assert.Contains("VmRSS", System.Text.Encoding.ASCII.GetString(status));

        Assert.False(Native.FileStat.TryReadAll(Path.Combine(_root, "missing"), out _, out _, out _, out _));
    }
}
