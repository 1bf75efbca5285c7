using System.Net;
using Containers.Core.Errors;
using Containers.Core.Networking;

namespace Containers.Core.Tests.Networking;

/// <summary>The -Publish grammar: every form podman accepts that we support, and typed refusals for the rest.</summary>
public sealed class PortMappingTests
{
    [Theory]
    [InlineData("80", null, 0, 80, "tcp", 1)]
    [InlineData("8080:80", null, 8080, 80, "tcp", 1)]
    [InlineData("127.0.0.1:8080:80/tcp", "127.0.0.1", 8080, 80, "tcp", 1)]
    [InlineData("53:53/udp", null, 53, 53, "udp", 1)]
    [InlineData("53:53/UDP", null, 53, 53, "udp", 1)]
    [InlineData("8000-8010:80-90", null, 8000, 80, "tcp", 11)]
    [InlineData("80-82", null, 0, 80, "tcp", 3)]
    [InlineData("127.0.0.1::80", "127.0.0.1", 0, 80, "tcp", 1)]
    [InlineData("[::1]:8080:80/sctp", "::1", 8080, 80, "sctp", 1)]
    [InlineData("[::1]::80", "::1", 0, 80, "tcp", 1)]
    [InlineData(" 65535:1 ", null, 65535, 1, "tcp", 1)]
    public void ParsesEachForm(string spec, string? ip, int host, int container, string protocol, int range)
    {
        var m = PortMapping.Parse(spec);
        Assert.Equal(new PortMapping(ip is null ? null : IPAddress.Parse(ip), host, container, protocol, range), m);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("80/icmp")]
    [InlineData("abc:80")]
    [InlineData("8080:")]
    [InlineData("8000-8001:80-90")]
    [InlineData("90-80")]
    [InlineData("999.1.1.1:80:80")]
    [InlineData(":8080:80")]
    [InlineData("1:2:3:4")]
    [InlineData("[::1]:80")]
    [InlineData("[::1:80:80")]
    [InlineData("+80")]
    [InlineData("8080:80/")]
    public void RefusesMalformedSpecsWithATypedError(string spec)
    {
        var e = Assert.Throws<ContainersException>(() => PortMapping.Parse(spec));
        Assert.Equal("InvalidPortMapping", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Equal(spec, e.Target);
        Assert.Contains("-Publish", e.RecommendedAction);
    }

    [Fact]
    public void ARangeExpandsToPairsAndPrintsLikePodmanPs()
    {
        var m = PortMapping.Parse("127.0.0.1:8000-8002:80-82/udp");
        Assert.Equal([(8000, 80), (8001, 81), (8002, 82)], m.Ports());
        Assert.Equal("127.0.0.1:8000-8002->80-82/udp", m.ToString());
        Assert.Equal("0.0.0.0:8080->80/tcp", PortMapping.Parse("8080:80").ToString());
        Assert.Equal("[::1]:8080->80/tcp", PortMapping.Parse("[::1]:8080:80").ToString());
        Assert.Equal([(0, 80), (0, 81)], PortMapping.Parse("80-81").Ports());
    }

    [Fact]
    public void TheSameHostPortTwiceIsRefusedButOtherProtocolsAndAddressesAreNot()
    {
        Assert.Equal(4, PortMapping.ParseAll(["53:53/udp", "53:53/tcp", "127.0.0.1:8080:80", "127.0.0.2:8080:80"]).Count);
        Assert.Equal(2, PortMapping.ParseAll(["80", "80"]).Count);
        var e = Assert.Throws<ContainersException>(() => PortMapping.ParseAll(["8000-8005:80-85", "8003:90"]));
        Assert.Equal("PortMappingConflict", e.ErrorId);
        Assert.Contains("8003", e.Message);
    }
}
