using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Diagnostics;
using Containers.Core.Errors;
using Containers.Core.Kube;
using Containers.Core.Pods;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Kube;

/// <summary>
/// ConvertTo- and Export-ContainerKube: gathers the pods and containers of the whole pipeline (as podman kube generate
/// takes either), then writes one YAML stream for them.
/// </summary>
public abstract class KubeExportCmdletBase : ContainerCmdletBase
{
    private readonly List<ContainerRecord> _records = [];
    private List<PodRecord>? _pods;

    /// <summary>Pod or container names (a pod's name wins); wildcards match both.</summary>
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Containers (Get-Container) or pods (Get-ContainerPod).</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>Adds a NodePort Service for each pod's published ports (podman kube generate --service).</summary>
    [Parameter]
    public SwitchParameter Service { get; set; }

    private List<PodRecord> Pods => _pods ??= Services.Pods.Store.List();

    protected override void ProcessRecord()
    {
        var containers = new List<Core.Runtime.Container>();
        var names = new List<string>();
        foreach (var o in InputObject ?? [])
        {
            switch (o.BaseObject)
            {
                case Core.Runtime.Container c: containers.Add(c); break;
                case ContainerPod p when Pods.FirstOrDefault(r => r.Id == p.Id) is { } pod: AddPod(pod); break;
                case ContainerPod p: WriteError(ErrorRecordFactory.From(PodStore.NotFound(p.Name))); break;
                default:
                    WriteError(ErrorRecordFactory.From(new ContainersException("KubeInputInvalid", ErrorKind.InvalidArgument,
                        $"'{o}' is neither a container nor a pod.", o, "Pipe Get-Container or Get-ContainerPod output.")));
                    break;
            }
        }
        foreach (string n in Name ?? [])
        {
            var pattern = new WildcardPattern(n, WildcardOptions.IgnoreCase);
            var pods = Pods.Where(p => pattern.IsMatch(p.Name) || p.Id == n).ToList();
            pods.ForEach(AddPod);
            if (pods.Count == 0 || WildcardPattern.ContainsWildcardCharacters(n)) names.Add(n);
        }
        foreach (var r in Resolve([.. names], null, [.. containers]))
            if (!r.PodInfra) Add(r);
    }

    private void AddPod(PodRecord pod)
    {
        foreach (var r in Runtime.Store.List().Where(r => r.PodId == pod.Id && !r.PodInfra)) Add(r);
    }

    private void Add(ContainerRecord r)
    {
        if (!_records.Any(x => x.Id == r.Id)) _records.Add(r);
    }

    /// <summary>The YAML for everything gathered, or null when nothing was (the errors are written).</summary>
    private protected string? BuildYaml()
    {
        if (_records.Count == 0) return null;
        var store = Services.OpenImageStore();
        var containers = _records.Select(r =>
        {
            Core.Spec.ContainerConfig? image = null;
            // An image removed since keeps its defaults unknown: everything the container has is written.
            try { image = Run(ct => store.GetAsync(r.ImageId, ct)).Config.Config; }
            catch (ContainersException e) { WriteWarning($"{r.Name}: {e.Message} The YAML lists all of its command and environment."); }
            return new KubeExportContainer(r, image);
        }).ToList();
        var pods = KubeExportPod.Group(containers, id => Pods.FirstOrDefault(p => p.Id == id));
        return KubeWriter.Write(pods, Service, DateTimeOffset.UtcNow, SystemInfoCollector.ModuleVersion);
    }
}
