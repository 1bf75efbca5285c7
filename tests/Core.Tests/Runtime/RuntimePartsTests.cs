using Containers.Core.Errors;
using Containers.Core.FileSystem;
using Containers.Core.Networking;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

public sealed class RuntimePartsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rt-parts-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("67108864", 67108864L)]
    [InlineData("64m", 64L << 20)]
    [InlineData("64MB", 64L << 20)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("512KiB", 512L << 10)]
    public void MemorySizesParse(string text, long bytes) => Assert.Equal(bytes, MemorySize.Parse(text));

    [Theory]
    [InlineData("lots")]
    [InlineData("12x")]
    [InlineData("")]
    [InlineData("m")]
    public void BadMemorySizesAreRefused(string text) =>
        Assert.Equal("InvalidMemoryLimit", Assert.Throws<ContainersException>(() => MemorySize.Parse(text)).ErrorId);

    [Theory]
    [InlineData("SIGTERM", 15)]
    [InlineData("quit", 3)]
    [InlineData("9", 9)]
    public void SignalsParse(string text, int number) => Assert.Equal(number, Signals.Parse(text));

    [Fact]
    public void UsersResolveByNameIdAndGroupAndUnknownNamesFail()
    {
        string layer = Path.Combine(_dir, "l");
        Directory.CreateDirectory(Path.Combine(layer, "etc"));
        File.WriteAllText(Path.Combine(layer, "etc/passwd"), "root:x:0:0::/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n");
        File.WriteAllText(Path.Combine(layer, "etc/group"), "root:x:0:\nwww:x:33:\nlog:x:4:web\n");
        var web = ImageUsers.Resolve("web", [layer]);
        Assert.Equal((33u, 33u, "/var/www"), (web.Uid, web.Gid, web.Home));
        Assert.Equal([4u], ImageUsers.Resolve("web", [layer]).AdditionalGids);
        Assert.Equal(4u, ImageUsers.Resolve("web:log", [layer]).Gid);
        Assert.Equal(1234u, ImageUsers.Resolve("1234", [layer]).Uid);
        Assert.Equal(5u, ImageUsers.Resolve("1234:5", [layer]).Gid);
        Assert.Equal("UserNotFound", Assert.Throws<ContainersException>(() => ImageUsers.Resolve("ghost", [layer])).ErrorId);
        Assert.Equal("GroupNotFound", Assert.Throws<ContainersException>(() => ImageUsers.Resolve("web:ghosts", [layer])).ErrorId);
        // An upper layer's whiteout hides the passwd below.
        string upper = Path.Combine(_dir, "u");
        Directory.CreateDirectory(Path.Combine(upper, "etc"));
        File.WriteAllText(Path.Combine(upper, "etc/.wh.passwd"), "");
        Assert.Equal("UserNotFound", Assert.Throws<ContainersException>(() => ImageUsers.Resolve("web", [layer, upper])).ErrorId);
    }

    [Fact]
    public void RootlessMapsUseSubordinateRangesOrFallBackToTheOwnId()
    {
        string subuid = Path.Combine(_dir, "subuid"), subgid = Path.Combine(_dir, "subgid");
        File.WriteAllText(subuid, "alice:100000:65536\n");
        File.WriteAllText(subgid, "alice:100000:65536\n");
        var alice = new IdMapSource { SubUidFile = subuid, SubGidFile = subgid, Uid = 1001, Gid = 1001, UserName = "alice" };
        var maps = alice.For(0, 0);
        Assert.True(maps.UsesHelpers);
        Assert.Equal([(0u, 1001u, 1u), (1u, 100000u, 65536u)], maps.Uid.Select(m => (m.ContainerId, m.HostId, m.Size)));

        var bob = new IdMapSource { SubUidFile = subuid, SubGidFile = subgid, Uid = 1002, Gid = 1002, UserName = "bob" };
        var single = bob.For(0, 0);
        Assert.False(single.UsesHelpers);
        Assert.Equal([(0u, 1002u, 1u)], single.Uid.Select(m => (m.ContainerId, m.HostId, m.Size)));
        Assert.Equal("UserNotMapped", Assert.Throws<ContainersException>(() => bob.For(1000, 1000)).ErrorId);
    }

    [Fact]
    public void HostsAndResolvConfAreGeneratedFromOptions()
    {
        string hostResolv = Path.Combine(_dir, "resolv.conf");
        File.WriteAllText(hostResolv, "search example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.1\n");
        string hosts = HostsFiles.Hosts("box", "private", ["db:10.0.0.5", "v6:[::1]"]);
        Assert.Contains("127.0.0.1\tlocalhost\n", hosts);
        Assert.Contains("127.0.1.1\tbox\n", hosts);
        Assert.Contains("10.0.0.5\tdb\n", hosts);
        Assert.Contains("::1\tv6\n", hosts);
        Assert.Equal("search example.org\nnameserver 192.0.2.1\n", HostsFiles.ResolvConf([], "private", hostResolv));
        Assert.Equal("search example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.1\n", HostsFiles.ResolvConf([], "host", hostResolv));
        Assert.Equal("nameserver 9.9.9.9\nsearch example.org\n", HostsFiles.ResolvConf(["9.9.9.9"], "private", hostResolv));
        Assert.Equal("InvalidDnsServer", Assert.Throws<ContainersException>(() => HostsFiles.ResolvConf(["dns.example"], "private", hostResolv)).ErrorId);
    }

    [Fact]
    public void LogReaderJoinsPartialRecordsAndAppliesTailAndSince()
    {
        string log = Path.Combine(_dir, "ctr.log");
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        File.WriteAllLines(log, [
            new ContainerLogLine(t0, LogStream.Stdout, true, "hel").ToString(),
            new ContainerLogLine(t0.AddSeconds(1), LogStream.Stderr, false, "warn").ToString(),
            new ContainerLogLine(t0.AddSeconds(2), LogStream.Stdout, false, "lo").ToString(),
            new ContainerLogLine(t0.AddSeconds(3), LogStream.Stdout, true, "tail-without-newline").ToString(),
        ]);
        var all = ContainerLogReader.ReadAll(log);
        Assert.Equal(["warn", "hello", "tail-without-newline"], all.Select(e => e.Text));
        Assert.Equal(t0, all[1].Timestamp);
        Assert.Equal(["tail-without-newline"], ContainerLogReader.ReadAll(log, tail: 1).Select(e => e.Text));
        Assert.Equal(["tail-without-newline"], ContainerLogReader.ReadAll(log, since: t0.AddSeconds(3)).Select(e => e.Text));

        // Incremental reads see only what is new, and keep a partial line until it completes.
        var reader = new ContainerLogReader(log);
        Assert.Equal(2, reader.ReadNew().Count);
        File.AppendAllText(log, new ContainerLogLine(t0.AddSeconds(4), LogStream.Stdout, false, "!").ToString() + "\n");
        Assert.Equal(["tail-without-newline!"], reader.ReadNew().Select(e => e.Text));
    }

    [Fact]
    public void GeneratedNamesAvoidTakenOnes()
    {
        var taken = new HashSet<string>();
        for (int i = 0; i < 200; i++) Assert.True(taken.Add(NameGenerator.NewName(taken.Contains)));
        Assert.False(NameGenerator.IsValidName("-x"));
        Assert.False(NameGenerator.IsValidName("a b"));
        Assert.True(NameGenerator.IsValidName("web.1_a-b"));
    }

    [Fact]
    public async Task FileLockExcludesASecondHolderUntilReleased()
    {
        string path = Path.Combine(_dir, "x.lock");
        var first = await FileLock.AcquireAsync(path, CancellationToken.None);
        using var cts = new CancellationTokenSource(200);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FileLock.AcquireAsync(path, cts.Token));
        first.Dispose();
        using var second = await FileLock.AcquireAsync(path, CancellationToken.None);
    }
}
