using Containers.Core.Cgroups;
using Containers.Core.Errors;
using Containers.Core.Pods;
using Containers.Core.Runtime;

namespace Containers.Core.Tests.Pods;

/// <summary>The pure rules of pods: podman's status over the containers' states, -Share, what a joining container may not give.</summary>
public sealed class PodRulesTests
{
    public static TheoryData<ContainerState[], PodStatus> Statuses => new()
    {
        { [], PodStatus.Created },
        { [ContainerState.Created, ContainerState.Created], PodStatus.Created },
        { [ContainerState.Running, ContainerState.Running, ContainerState.Running], PodStatus.Running },
        { [ContainerState.Running, ContainerState.Exited, ContainerState.Running], PodStatus.Degraded },
        { [ContainerState.Running, ContainerState.Created], PodStatus.Degraded },
        { [ContainerState.Paused, ContainerState.Paused], PodStatus.Paused },
        { [ContainerState.Paused, ContainerState.Created], PodStatus.Degraded },
        { [ContainerState.Exited, ContainerState.Exited, ContainerState.Restarting], PodStatus.Exited },
        { [ContainerState.Exited, ContainerState.Created], PodStatus.Stopped },
    };

    [Theory]
    [MemberData(nameof(Statuses))]
    public void StatusFollowsPodmansRule(ContainerState[] states, PodStatus expected) => Assert.Equal(expected, ContainerPod.StatusOf(states));

    [Fact]
    public void ShareDefaultsToIpcNetUtsAndNormalizesWhatIsGiven()
    {
        Assert.Equal(["ipc", "net", "uts"], PodRuntime.Share(null));
        Assert.Equal(["net", "uts"], PodRuntime.Share(["UTS, net", "net"]));
        Assert.Empty(PodRuntime.Share([]));
    }

    [Theory]
    [InlineData("pid")]
    [InlineData("cgroup")]
    [InlineData("user")]
    [InlineData("mnt")]
    public void ShareRefusesWhatInitCannotJoin(string kind)
    {
        var e = Assert.Throws<ContainersException>(() => PodRuntime.Share(["net", kind]));
        Assert.Equal("PodShareUnsupported", e.ErrorId);
        Assert.Equal(kind, e.Target);
    }

    private static PodMembership Pod(params string[] share) => new("0123", "shop", "0123-infra", share, "shop", [], []);

    [Theory]
    [InlineData("-Network")]
    [InlineData("-Publish")]
    [InlineData("-PublishAll")]
    [InlineData("-IPAddress")]
    [InlineData("-MacAddress")]
    [InlineData("-NetworkAlias")]
    [InlineData("-Dns")]
    [InlineData("-AddHost")]
    public void AJoiningContainerMayNotGiveWhatTheSharedNetworkDecides(string parameter)
    {
        var o = new ContainerCreateOptions { Image = "busybox" };
        switch (parameter)
        {
            case "-Network": o.Network = "host"; break;
            case "-Publish": o.Publish = ["8080:80"]; break;
            case "-PublishAll": o.PublishAll = true; break;
            case "-IPAddress": o.IPAddress = "10.88.0.5"; break;
            case "-MacAddress": o.MacAddress = "02:00:00:00:00:01"; break;
            case "-NetworkAlias": o.NetworkAliases = ["db"]; break;
            case "-Dns": o.Dns = ["1.1.1.1"]; break;
            default: o.AddHost = ["db:10.0.0.2"]; break;
        }
        var e = Assert.Throws<ContainersException>(() => Pod("ipc", "net", "uts").CheckJoining(o));
        Assert.Equal("PodNetworkConflict", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(parameter, e.Message, StringComparison.Ordinal);
        Pod("ipc", "uts").CheckJoining(o); // without a shared network the container keeps its own
    }

    [Fact]
    public void AJoiningContainerMayNotNameItselfWhileTheHostnameIsShared()
    {
        var o = new ContainerCreateOptions { Image = "busybox", Hostname = "mine" };
        Assert.Equal("PodHostnameConflict", Assert.Throws<ContainersException>(() => Pod("net", "uts").CheckJoining(o)).ErrorId);
        Pod("net").CheckJoining(o);
        Pod("ipc", "net", "uts").CheckJoining(new ContainerCreateOptions { Image = "busybox" });
    }
}

/// <summary>What New-ContainerPod refuses before anything is written, against a throw-away store.</summary>
public sealed class PodCreateRefusalTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pscontainers-podcreate-").FullName;

    public void Dispose()
    {
        // A removal deletes the container's directory in the background: let it end before the root goes.
        ContainerTrash.WaitForDeletions(TimeSpan.FromSeconds(10));
        Directory.Delete(_root, recursive: true);
    }

    private PodRuntime Pods(uint euid)
    {
        var paths = TestPaths.Under(_root, euid);
        return new PodRuntime(new ContainerRuntime(paths, cgroups: new NoCgroupManager("test")), new PodStore(paths));
    }

    [Theory]
    [InlineData(1000u, "PodRootlessUnsupported", null, null)]
    [InlineData(0u, "InvalidPodName", "bad name", null)]
    [InlineData(0u, "PodShareUnsupported", "web", "pid")]
    [InlineData(0u, "PodNetworkNotShared", "web", "ipc")]
    public async Task RefusesBeforeWritingAnything(uint euid, string errorId, string? name, string? share)
    {
        var o = new PodCreateOptions { Name = name, Share = share is null ? null : [share], Publish = share == "ipc" ? ["8080:80"] : [] };
        var e = await Assert.ThrowsAsync<ContainersException>(() => Pods(euid).CreateAsync(o, CancellationToken.None));
        Assert.Equal(errorId, e.ErrorId);
        Assert.False(Directory.Exists(Path.Combine(_root, "data", "pods")));
        Assert.False(Directory.Exists(Path.Combine(_root, "data", "containers")) && Directory.EnumerateDirectories(Path.Combine(_root, "data", "containers")).Any());
    }
}
