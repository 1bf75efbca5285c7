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
