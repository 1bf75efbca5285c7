using System.Collections;
using System.Management.Automation;
using Containers.Core.Pods;

namespace Containers.Cmdlets.Commands.Pod;

/// <summary>Creates a pod: its infra container (which holds the shared namespaces, the network and the published ports) and its record. Join it with New-Container -Pod.</summary>
[Cmdlet(VerbsCommon.New, "ContainerPod", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerPod))]
public sealed class NewContainerPodCommand : PodCmdletBase
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>The hostname of the pod's containers (default: the pod's name).</summary>
    [Parameter]
    public string? Hostname { get; set; }

    [Parameter]
    public Hashtable? Label { get; set; }

    /// <summary>The pod's network, as New-Container -Network.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.NetworkNameCompleter))]
    public string[]? Network { get; set; }

    /// <summary>Host ports published to the pod: [hostIP:][hostPort:]containerPort[/tcp|udp|sctp].</summary>
    [Parameter]
    public string[]? Publish { get; set; }

    [Parameter]
    public string[]? AddHost { get; set; }

    [Parameter]
    public string[]? Dns { get; set; }

    /// <summary>The namespaces the pod's containers share: ipc, net, uts (default: all three).</summary>
    [Parameter]
    [ValidateSet("ipc", "net", "uts")]
    public string[]? Share { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Name ?? "a new pod", "Create pod")) return;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Label ?? [])
            labels[e.Key.ToString() ?? ""] = e.Value?.ToString() ?? "";
        var options = new PodCreateOptions
        {
            Name = Name, Hostname = Hostname, Labels = labels, Network = Network is null ? null : string.Join(',', Network),
            Publish = Publish ?? [], AddHost = AddHost ?? [], Dns = Dns ?? [], Share = Share,
        };
        ContainerPod? pod = null;
        if (TryRun(async ct => pod = await Pods.CreateAsync(options, ct).ConfigureAwait(false))) WriteObject(pod);
    }
}
