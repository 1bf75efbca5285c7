using System.Management.Automation;
using Containers.Cmdlets.Commands.RegistryPolicy;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Configuration;
using Containers.Core.Policy;
using Containers.Core.Spec;

namespace Containers.Cmdlets.Commands.ImageTrust;

/// <summary>Checks a remote image against containers-policy.json: which requirement passed or failed, and why.</summary>
[Cmdlet(VerbsDiagnostic.Test, "ContainerImage")]
[OutputType(typeof(PolicyEvaluation))]
public sealed class TestContainerImageCommand : ContainersCmdlet
{
    /// <summary>The images to check, e.g. registry.example/team/app:1 (short names resolve through the search registries).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    public string[] Reference { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (string name in Reference)
        {
            TryRun(async ct =>
            {
                var paths = ContainerPaths.FromEnvironment();
                var trust = RemoteTrust.Load(paths);
                var resolution = RegistriesConfiguration.Load(paths).ResolveShortName(ImageReference.Parse(name), false);
                Core.Errors.ContainersException? last = null;
                foreach (var candidate in resolution.Candidates)
                {
                    try
                    {
                        var evaluation = await trust.TestAsync(candidate, ct).ConfigureAwait(false);
                        Post(() => WriteObject(evaluation));
                        return;
                    }
                    catch (Core.Errors.ContainersException e) when (e.Kind == Core.Errors.ErrorKind.NotFound && resolution.Candidates.Count > 1)
                    {
                        last = e;
                    }
                }
                throw last!;
            });
        }
    }
}
