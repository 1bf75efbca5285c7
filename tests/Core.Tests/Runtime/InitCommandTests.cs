using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

/// <summary>Core builds Init's command lines and Init parses them from one definition: each must come back as itself.</summary>
public sealed class InitCommandTests
{
    // InitCommand is internal: the theory passes an index into this list.
    private static readonly InitCommand[] Cases =
    [
        new InitVersion(),
        new InitProbe(),
        new InitRun("/run/pscontainers/containers/abc/plan.json"),
        new InitRun("/run/pscontainers/containers/abc/plan.json") { AwaitGo = true },
        new InitSpare(300),
        new InitSpare(300, "/var/lib/x/containers/abc/plan.json"),
        new InitExec("/run/pscontainers/containers/abc", "/run/pscontainers/containers/abc/exec-1.json"),
        new InitRemoveTree([new() { ContainerId = 0, HostId = 1000, Size = 1 }, new() { ContainerId = 1, HostId = 100000, Size = 65536 }],
            [new() { ContainerId = 0, HostId = 1000, Size = 1 }], "/usr/bin/newuidmap", "/usr/bin/newgidmap", "/var/lib/x/--odd dir"),
        new InitRemoveTree([new() { ContainerId = 0, HostId = 1000, Size = 1 }], [new() { ContainerId = 0, HostId = 1000, Size = 1 }], null, null, "/tmp/t"),
        new InitRemoveInside("/tmp/t"),
    ];

    public static TheoryData<int> Commands() => [.. Enumerable.Range(0, Cases.Length)];

    [Theory]
    [MemberData(nameof(Commands))]
    public void EveryCommandLineCoreBuildsIsParsedBackByInitToTheSameCommand(int index)
    {
        var command = Cases[index];
        var parsed = InitCommand.Parse(command.ToArgs());
        Assert.NotNull(parsed);
        Assert.Equal(command.GetType(), parsed.GetType());
        Assert.Equal(command.ToArgs(), parsed.ToArgs());
        if (command is InitRemoveTree tree)
        {
            var back = (InitRemoveTree)parsed;
            Assert.Equal(tree.Uids.Select(m => (m.ContainerId, m.HostId, m.Size)), back.Uids.Select(m => (m.ContainerId, m.HostId, m.Size)));
            Assert.Equal(tree.Gids.Select(m => (m.ContainerId, m.HostId, m.Size)), back.Gids.Select(m => (m.ContainerId, m.HostId, m.Size)));
            Assert.Equal((tree.NewUidMap, tree.NewGidMap, tree.Dir), (back.NewUidMap, back.NewGidMap, back.Dir));
        }
    }

    public static TheoryData<string[]> NotInitCommandLines() =>
    [
        [],
        ["run"],
        ["run", "--plan"],
        ["run", "--plan", "p", "--await-go", "--restarts", "1", "--streak", "0"],
        ["spare"],
        ["spare", "--idle-seconds", "0"],
        ["spare", "--idle-seconds", "-5"],
        ["spare", "--idle-seconds", "soon"],
        ["spare", "--idle-seconds", "30", "--warm"],
        ["exec", "--process", "p", "--state-dir", "d"],
        ["remove-tree", "/tmp/t"],
        ["remove-tree", "--uid-map", "0:1000:1", "--gid-map", "0:1000:1", "relative"],
        ["remove-tree", "--uid-map", "0:1000", "--gid-map", "0:1000:1", "/tmp/t"],
        ["remove-tree", "--uid-map", "0:1000:99999999999", "--gid-map", "0:1000:1", "/tmp/t"],
        ["remove-tree", "--uid-map", "", "--gid-map", "0:1000:1", "/tmp/t"],
        ["remove-tree", "--uid-map", "0:1000:1", "--gid-map", "0:1000:1", "/a", "/b"],
        ["remove-tree", "--uid-map", "0:1000:1", "--gid-map", "0:1000:1", "--force", "/a"],
    ];

    [Theory]
    [MemberData(nameof(NotInitCommandLines))]
    public void CommandLinesThatAreNotInitsAreUsageErrors(string[] args) => Assert.Null(InitCommand.Parse(args));
}
