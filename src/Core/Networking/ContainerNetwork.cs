namespace Containers.Core.Networking;

/// <summary>A CNI network as Get-ContainerNetwork shows it.</summary>
public sealed class ContainerNetwork
{
    public string Name { get; init; } = "";
    /// <summary>The first plugin's type: <c>bridge</c>, <c>macvlan</c>, <c>ipvlan</c> or whatever the file names.</summary>
    public string Driver { get; init; } = "";
    /// <summary>The IPAM subnets, in CIDR notation.</summary>
    public IReadOnlyList<string> Subnets { get; init; } = [];
    /// <summary>The plugin chain, in order.</summary>
    public IReadOnlyList<string> Plugins { get; init; } = [];
    /// <summary>The bridge device (bridge networks).</summary>
    public string? Bridge { get; init; }
    /// <summary>No route out and no masquerade (made with -Internal).</summary>
    public bool Internal { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>The configuration list's file.</summary>
    public string File { get; init; } = "";
    /// <summary>Names of this module's containers attached to it (created or running).</summary>
    public IReadOnlyList<string> Containers { get; init; } = [];

    public override string ToString() => Name;
}
