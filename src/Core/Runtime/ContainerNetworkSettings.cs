namespace Containers.Core.Runtime;

/// <summary>A container's CNI networking as New-Container decided it (null on the record for none, host, private and container:).</summary>
public sealed class ContainerNetworkSettings
{
    /// <summary>The CNI networks, in order: the first gets eth0, the next eth1 ...</summary>
    public List<string> Networks { get; set; } = [];
    /// <summary>-IPAddress: asked of host-local on the first network (CNI_ARGS IP=).</summary>
    public string? IPAddress { get; set; }
    /// <summary>-MacAddress of eth0 (CNI_ARGS MAC=, applied by the tuning plugin).</summary>
    public string? MacAddress { get; set; }
    /// <summary>-NetworkAlias: names peers on the container's networks may use besides its name.</summary>
    public List<string> Aliases { get; set; } = [];
    /// <summary>-Publish specs (and -PublishAll's EXPOSE ports as random host ports), as given.</summary>
    public List<string> Publish { get; set; } = [];
}
