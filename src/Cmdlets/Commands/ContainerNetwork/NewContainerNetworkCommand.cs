using System.Collections;
using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Networking;

namespace Containers.Cmdlets.Commands.ContainerNetwork;

/// <summary>Writes a CNI configuration list (bridge + host-local + portmap + firewall + tuning by default) that podman 4 reads too.</summary>
[Cmdlet(VerbsCommon.New, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Core.Networking.ContainerNetwork))]
public sealed class NewContainerNetworkCommand : ContainersCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>CIDR; a free 10.89.N.0/24 when not given.</summary>
    [Parameter]
    public string? Subnet { get; set; }

    [Parameter]
    public string? Gateway { get; set; }

    [Parameter]
    public string? IPRange { get; set; }

    [Parameter]
    public SwitchParameter Internal { get; set; }

    [Parameter]
    [ValidateSet("bridge", "macvlan", "ipvlan")]
    public string Driver { get; set; } = "bridge";

    [Parameter]
    public Hashtable? Label { get; set; }

    protected override void ProcessRecord() => Logged(() =>
    {
        if (!ShouldProcess($"{Name} in {Services.Paths.CniConfigDir}", "Create network")) return;
        var options = new NetworkCreateOptions
        {
            Name = Name, Driver = Driver, Subnet = Subnet, Gateway = Gateway, IPRange = IPRange, Internal = Internal,
            Labels = (Label ?? []).Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? ""),
        };
        try { WriteObject(Services.Runtime.CreateNetwork(options)); }
        catch (ContainersException e) { WriteError(ErrorRecordFactory.From(e)); }
    });
}
