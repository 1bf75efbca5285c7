namespace Containers.Core.Networking;

/// <summary>What New-ContainerNetwork can be told; null means "choose" (a free 10.89.x.0/24 subnet that no host route covers, its .1 gateway).</summary>
internal sealed class NetworkCreateOptions
{
    public string Name { get; set; } = "";
    /// <summary><c>bridge</c>, <c>macvlan</c> or <c>ipvlan</c>.</summary>
    public string Driver { get; set; } = "bridge";
    public string? Subnet { get; set; }
    public string? Gateway { get; set; }
    /// <summary>A CIDR inside the subnet that addresses are leased from.</summary>
    public string? IPRange { get; set; }
    /// <summary>No default route, no masquerade, no gateway address on the bridge.</summary>
    public bool Internal { get; set; }
    public IDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
}
