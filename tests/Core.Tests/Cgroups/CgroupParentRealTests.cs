using Containers.Core.Cgroups;

namespace Containers.Core.Tests.Cgroups;

/// <summary>
/// The shared parent of the containers' cgroups in this host's real v1 hierarchies (and the hybrid cgroup2 tree), under a
/// parent private to the test so that other containers running meanwhile never keep or lose it.
/// </summary>
public sealed class CgroupParentRealTests : IDisposable
{
    private const string First = "feedface0123456789abcdef0123456789abcdef0123456789abcdef0000aaaa";
    private const string Second = "feedface0123456789abcdef0123456789abcdef0123456789abcdef0000bbbb";
    private readonly string _parent = "pscontainers-test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly RacingTree _fs = new();
    private readonly CgroupV1Manager? _manager;

    /// <summary>The real cgroupfs; <see cref="BeforeMakeDirectory"/> plays another process between the two mkdirs.</summary>
    private sealed class RacingTree : CgroupFileSystem
    {
        public Action<string>? BeforeMakeDirectory { get; set; }

        /// <summary>Runs after a successful CreateDirectory; it may throw what .NET throws when it loses a race.</summary>
        public Action<string>? AfterCreateDirectory { get; set; }

        /// <summary>How many times a v1 parent was made (or found) with CreateDirectory (the cgroup2 tree prepares its parent each time).</summary>
        public int ParentCreations { get; private set; }

        public override void CreateDirectory(string path)
        {
            if (!path.StartsWith("/sys/fs/cgroup/unified/", StringComparison.Ordinal)) ParentCreations++;
            base.CreateDirectory(path);
            AfterCreateDirectory?.Invoke(path);
        }

        public override bool MakeDirectory(string path)
        {
            // Plays its part after our mkdir of the parent: not at the first try of the child alone, when there is no parent.
            if (Directory.Exists(Path.GetDirectoryName(path))) BeforeMakeDirectory?.Invoke(path);
            return base.MakeDirectory(path);
        }
    }

    public CgroupParentRealTests()
    {
        if (Native.Identity.IsRoot && CgroupDetector.Detect() is CgroupV1Manager)
            _manager = new CgroupV1Manager(CgroupV1RealTests.V1Mounts(), _fs, _parent, Directory.Exists("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : null);
    }

    private List<string> ParentDirs() =>
        [.. CgroupV1RealTests.V1Mounts().Values.Append("/sys/fs/cgroup/unified").Distinct().Select(root => Path.Combine(root, _parent)).Where(Directory.Exists)];

    public void Dispose()
    {
        if (_manager is null) return;
        _manager.Remove(First);
        _manager.Remove(Second);
        foreach (string dir in ParentDirs()) Directory.Delete(dir);
    }

    [CgroupV1Fact]
    public void RealParentStaysWhileAContainerIsInItAndGoesWithTheLast()
    {
        Assert.NotNull(_manager);
        _manager.Create(First, null);
        _manager.Create(Second, null);
        int hierarchies = ParentDirs().Count;
        Assert.True(hierarchies >= 2, "the parent is made in each hierarchy");

        _manager.Remove(First);
        _manager.RemoveParentIfEmpty();
        Assert.Equal(hierarchies, ParentDirs().Count);
        Assert.True(_manager.Exists(Second));

        _manager.Remove(Second);
        _manager.RemoveParentIfEmpty();
        Assert.Empty(ParentDirs());
        _manager.RemoveParentIfEmpty(); // gone already: no error
    }

    [CgroupV1Fact]
    public void RealCreateMakesOnlyTheChildWhenTheParentIsThere()
    {
        Assert.NotNull(_manager);
        _manager.Create(First, null);
        int made = _fs.ParentCreations;
        Assert.True(made >= 2, "the first container makes the parent in each hierarchy");
        // A loop's next container: one mkdir per hierarchy, no look at the parent (a mkdir's EEXIST and a stat each).
        _manager.Create(Second, null);
        Assert.Equal(made, _fs.ParentCreations);
        Assert.True(_manager.Exists(Second));
        Assert.Equal(File.ReadAllText($"/sys/fs/cgroup/cpuset/{_parent}/cpuset.cpus"), File.ReadAllText($"/sys/fs/cgroup/cpuset/{_parent}/{Second}/cpuset.cpus"));
        Assert.Equal(File.ReadAllText($"/sys/fs/cgroup/cpuset/{_parent}/cpuset.mems"), File.ReadAllText($"/sys/fs/cgroup/cpuset/{_parent}/{Second}/cpuset.mems"));
    }

    [CgroupV1Fact]
    public void RealCreateMakesTheParentAgainWhenItGoesBetweenTheTwoMkdirs()
    {
        Assert.NotNull(_manager);
        int removed = 0;
        // Another process removes its last container, and with it the empty parent, right after our mkdir of the parent.
        _fs.BeforeMakeDirectory = child =>
        {
            if (_fs.TryRemoveEmpty(Path.GetDirectoryName(child)!)) removed++;
            _fs.BeforeMakeDirectory = null;
        };
        var procs = _manager.Create(First, CgroupLimits.Build(32L << 20, null, null, null, null, null));
        Assert.Equal(1, removed);
        Assert.True(_manager.Exists(First));
        Assert.All(procs, f => Assert.True(File.Exists(f), f));
        Assert.Equal(32L << 20, long.Parse(File.ReadAllText($"/sys/fs/cgroup/memory/{_parent}/{First}/memory.limit_in_bytes")));
    }

    [CgroupV1Fact]
    public void RealCreateMakesTheParentAgainWhenItGoesDuringItsOwnMkdir()
    {
        Assert.NotNull(_manager);
        int removed = 0;
        // Another process removes the empty parent between CreateDirectory's mkdir (EEXIST) and its look at the path:
        // .NET then reports that the path "already exists" (seen on this host with two containers starting at once).
        _fs.AfterCreateDirectory = parent =>
        {
            _fs.AfterCreateDirectory = null;
            if (_fs.TryRemoveEmpty(parent)) removed++;
            throw new IOException($"The file '{parent}' already exists.");
        };
        _manager.Create(First, null);
        Assert.Equal(1, removed);
        Assert.True(_manager.Exists(First));
    }

    [CgroupV1Fact]
    public void RealCreateMakesTheChildWhenTheParentWentAndCameBackBetweenTheTwoMkdirs()
    {
        Assert.NotNull(_manager);
        int removed = 0, lost = 0;
        // One process removes its last container and the parent right after our mkdir of the parent, and another one, starting
        // a container, makes the parent again before we look: our child's mkdir failed (ENOENT) though the parent exists.
        _fs.BeforeMakeDirectory = child =>
        {
            _fs.BeforeMakeDirectory = null;
            string parent = Path.GetDirectoryName(child)!;
            if (_fs.TryRemoveEmpty(parent)) removed++;
            try { _fs.MakeDirectory(child); }
            catch (DirectoryNotFoundException)
            {
                lost++;
                Directory.CreateDirectory(parent);
                throw;
            }
        };
        _manager.Create(First, null);
        Assert.Equal(1, removed);
        Assert.Equal(1, lost);
        Assert.True(_manager.Exists(First));
    }

    [CgroupV1Fact]
    public void RealParentStaysUntilTheDeferredReleaseAndGoesThen()
    {
        Assert.NotNull(_manager);
        _manager.Create(First, null);
        int hierarchies = ParentDirs().Count;
        _manager.Remove(First);
        // Remove-Container asks for the release: the parent stays for the next container of a loop, and goes a moment later.
        CgroupParentRelease.Later(_manager, TimeSpan.FromMilliseconds(100));
        Assert.Equal(hierarchies, ParentDirs().Count);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ParentDirs().Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Empty(ParentDirs());
    }

    [CgroupV1Fact]
    public void RealDeferredReleaseLeavesAParentThatHoldsAContainerAndRunsAtTheSessionsEnd()
    {
        Assert.NotNull(_manager);
        _manager.Create(First, null);
        _manager.Create(Second, null);
        _manager.Remove(First);
        CgroupParentRelease.Later(_manager, TimeSpan.FromHours(1));
        // What the session's exit runs: the parent is busy with Second's cgroup, so it stays.
        CgroupParentRelease.ReleaseNow();
        Assert.NotEmpty(ParentDirs());
        Assert.True(_manager.Exists(Second));
        _manager.Remove(Second);
        CgroupParentRelease.Later(_manager, TimeSpan.FromHours(1));
        CgroupParentRelease.ReleaseNow();
        Assert.Empty(ParentDirs());
    }
}
