using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Build;
using Containers.Core.Diagnostics;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>
/// Makes an image from a container: its changes (the overlay upper dir) become one new layer on top of
/// its image's layers (podman commit). -Change edits the config in Containerfile syntax. With -Path,
/// builds a Containerfile (buildah bud).
/// </summary>
[Cmdlet(VerbsCommon.New, "ContainerImage", DefaultParameterSetName = ContainerSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerImage))]
public sealed class NewContainerImageCommand : ContainerCmdletBase
{
    public const string ContainerSet = "Container";
    public const string BuildSet = "Build";

    /// <summary>The container to commit (name, id or id prefix); a piped container binds by its Id.</summary>
    [Parameter(ParameterSetName = ContainerSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    [Alias("Id")]
    [ValidateNotNullOrEmpty]
    public string Container { get; set; } = "";

    /// <summary>The Containerfile or Dockerfile to build.</summary>
    [Parameter(ParameterSetName = BuildSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The build context directory (default: the Containerfile's directory).</summary>
    [Parameter(ParameterSetName = BuildSet)]
    [ValidateNotNullOrEmpty]
    public string? Context { get; set; }

    /// <summary>Values for ARG instructions.</summary>
    [Parameter(ParameterSetName = BuildSet)]
    public System.Collections.Hashtable? BuildArg { get; set; }

    /// <summary>The stage to build (by name); the last stage by default.</summary>
    [Parameter(ParameterSetName = BuildSet)]
    [ValidateNotNullOrEmpty]
    public new string? Target { get; set; }

    /// <summary>Runs every step, not using the layer cache.</summary>
    [Parameter(ParameterSetName = BuildSet)]
    public SwitchParameter NoCache { get; set; }

    /// <summary>Merges the built image's layers into one.</summary>
    [Parameter(ParameterSetName = BuildSet)]
    public SwitchParameter Squash { get; set; }

    /// <summary>The platform to build for (os/arch[/variant]); this host's by default.</summary>
    [Parameter(ParameterSetName = BuildSet)]
    [ArgumentCompleter(typeof(PlatformCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Platform { get; set; }

    /// <summary>The network of RUN steps: none, host or private (the runtime's default when not given).</summary>
    [Parameter(ParameterSetName = BuildSet)]
    [ValidateSet("none", "host", "private")]
    public string? Network { get; set; }

    /// <summary>Secrets for RUN --mount=type=secret,id=ID: a hashtable of id to host file. Never stored in the image or the cache.</summary>
    [Parameter(ParameterSetName = BuildSet)]
    public System.Collections.Hashtable? Secret { get; set; }

    /// <summary>The new image's name(s); none makes a dangling image.</summary>
    [Parameter(ParameterSetName = ContainerSet, Position = 1)]
    [Parameter(ParameterSetName = BuildSet, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Config edits in Containerfile syntax, applied in order: CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, WORKDIR, USER, VOLUME, STOPSIGNAL.</summary>
    [Parameter(ParameterSetName = ContainerSet)]
    [ValidateNotNull]
    public string[] Change { get; set; } = [];

    /// <summary>The comment of the new history entry.</summary>
    [Parameter(ParameterSetName = ContainerSet)]
    public string? Message { get; set; }

    [Parameter(ParameterSetName = ContainerSet)]
    public string? Author { get; set; }

    /// <summary>Freezes a running container while its changes are read (default on; -Pause:$false reads it live).</summary>
    [Parameter(ParameterSetName = ContainerSet)]
    public SwitchParameter Pause { get; set; } = true;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == BuildSet)
        {
            Build();
            return;
        }
        foreach (var r in Resolve([Container], null, null, wildcards: false))
        {
            string what = Name is { Length: > 0 } ? $"{ContainerCmdletBase.Target(r)} as {string.Join(", ", Name)}" : ContainerCmdletBase.Target(r);
            if (!ShouldProcess(what, "Commit container")) continue;
            var options = new CommitOptions { Names = Name ?? [], Changes = Change, Message = Message, Author = Author, Pause = Pause };
            StoredImage? image = null;
            if (TryRun(async ct => image = await ContainerCommitter.CommitAsync(Runtime, Services.OpenImageStore(), r.Id, options, ct).ConfigureAwait(false)))
                WriteObject(ContainerImage.From(image!));
        }
    }

    private void Build()
    {
        string file = GetUnresolvedProviderPathFromPSPath(Path);
        string context = Context is null ? System.IO.Path.GetDirectoryName(file)! : GetUnresolvedProviderPathFromPSPath(Context);
        if (!ShouldProcess(Name is { Length: > 0 } ? $"{file} as {string.Join(", ", Name)}" : file, "Build image")) return;
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in BuildArg ?? []) args[e.Key.ToString() ?? ""] = e.Value?.ToString() ?? "";
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Secret ?? []) secrets[e.Key.ToString() ?? ""] = GetUnresolvedProviderPathFromPSPath(e.Value?.ToString() ?? "");
        var options = new BuildOptions
        {
            Containerfile = file, Context = context, Names = Name ?? [], BuildArgs = args, Target = Target, NoCache = NoCache, Squash = Squash,
            CacheDirectory = BuildCache.DirectoryFor(Services.Paths), Network = Network, Secrets = secrets, Platform = Platform,
        };
        const int activity = 4720;
        var progress = new SyncProgress<BuildProgress>(p => Post(() => WriteProgress(new ProgressRecord(activity, "Building " + System.IO.Path.GetFileName(file),
            $"STEP {p.Step}/{p.Steps}: {p.Instruction}{(p.Cached ? " (cached)" : "")}")
        { PercentComplete = 100 * p.Step / Math.Max(1, p.Steps) })));
        StoredImage? image = null;
        bool ok = TryRun(async ct => image = await new ImageBuilder(Runtime, Services.OpenImageStore(), options, progress,
            line => Post(() => WriteInformation(line, ["Build", "RUN"]))).BuildAsync(ct).ConfigureAwait(false));
        WriteProgress(new ProgressRecord(activity, "Building", "Done") { RecordType = ProgressRecordType.Completed });
        if (ok) WriteObject(ContainerImage.From(image!));
    }
}
