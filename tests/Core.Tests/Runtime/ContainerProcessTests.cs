using Containers.Core.Runtime;

namespace Containers.Core.Tests.Runtime;

public sealed class ContainerProcessTests
{
    // uid_map as the kernel shows it: inside, outside, count (columns padded with spaces).
    private static readonly string[] Map = ["         0     100000      65536", "     65536       1000          1"];

    [Theory]
    [InlineData(100000u, 0u)]
    [InlineData(100033u, 33u)]
    [InlineData(165535u, 65535u)]
    [InlineData(1000u, 65536u)]
    public void MapsAHostUidIntoTheNamespace(uint host, uint inside) =>
        Assert.Equal(inside, ContainerProcess.MapToNamespace(Map, host));

    [Theory]
    [InlineData(0u)]
    [InlineData(99999u)]
    [InlineData(165536u)]
    public void AHostUidOutsideEveryRangeIsUnmapped(uint host) =>
        Assert.Null(ContainerProcess.MapToNamespace(Map, host));

    [Fact]
    public void TheInitialNamespaceMapsEveryUidToItself() =>
        Assert.Equal(4242u, ContainerProcess.MapToNamespace(["         0          0 4294967295"], 4242));
}
