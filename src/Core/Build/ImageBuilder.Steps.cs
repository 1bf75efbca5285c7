using System.Text.Json;
using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Native;
using Containers.Core.Runtime;
using Containers.Core.Spec;

namespace Containers.Core.Build;

internal sealed partial class ImageBuilder
{
    /// <summary>What a stage has built so far.</summary>
    private sealed class StageState
    {
        public StoredImage? Image;
        public List<StoredLayer> Layers = [];
        public ImageConfig Config = new();
        public Dictionary<string, string?> Args = new(StringComparer.Ordinal);
        public List<string> Shell = ["/bin/sh", "-c"];
        public Platform Platform = ImageArchive.HostPlatform;
        /// <summary>The cache key's parent: the image so far, or an empty stage of its platform.</summary>
        public string ParentId => Image?.Id ?? "scratch:" + Platform;
        public ContainerConfig Exec => Config.Config ?? new ContainerConfig();
    }

    /// <summary>Runtime-made mount points a RUN container leaves empty in its upper dir; not part of the step's layer.</summary>
    private static readonly HashSet<string> MountPoints = ["dev", "proc", "sys", "etc/hosts", "etc/hostname", "etc/resolv.conf", "run"];

    private async Task<StoredImage> BuildStageAsync(BuildStage stage, Dictionary<string, string?> globalArgs, CancellationToken ct)
    {
        var s = new StageState();
        var host = ImageArchive.HostPlatform;
        foreach (var flag in stage.From.Flags.Keys.Where(f => f != "platform"))
            throw new ContainersException("UnsupportedContainerfileFeature", ErrorKind.NotSupported,
                $"{stage.From.Where}: FROM --{flag} is not supported.", stage.From.Where, "Remove the flag.");
        // The stage's platform: FROM --platform (which may name $BUILDPLATFORM or $TARGETPLATFORM), else -Platform, else this host.
        var buildArgs = new Dictionary<string, string?>(globalArgs, StringComparer.Ordinal) { ["BUILDPLATFORM"] = host.ToString(), ["TARGETPLATFORM"] = _target.ToString() };
        var platform = stage.From.Flags.TryGetValue("platform", out var wanted)
            ? BuildPlatforms.Parse(BuildVariables.Expand(wanted, n => buildArgs.GetValueOrDefault(n)), stage.From) : _target;
        s.Platform = platform;
        string baseName = BuildVariables.Expand(stage.Base, n => globalArgs.GetValueOrDefault(n));
        s.Image = await ResolveBaseAsync(baseName, stage.From, platform, ct).ConfigureAwait(false);
        s.Config = s.Image?.Config ?? new ImageConfig { Architecture = platform.Architecture, Os = platform.Os, Variant = platform.Variant, Config = new ContainerConfig() };
        s.Layers = s.Image?.Layers.ToList() ?? [];
        foreach (string p in Predefined) if (options.BuildArgs.TryGetValue(p, out var v)) s.Args[p] = v;
        s.Args["TARGETOS"] = platform.Os; s.Args["TARGETARCH"] = platform.Architecture; s.Args["TARGETPLATFORM"] = platform.ToString();
        s.Args["TARGETVARIANT"] = platform.Variant ?? "";
        s.Args["BUILDOS"] = host.Os; s.Args["BUILDARCH"] = host.Architecture; s.Args["BUILDPLATFORM"] = host.ToString();
        Report(stage.From.Text, cached: false);

        foreach (var ins in stage.Instructions)
        {
            ct.ThrowIfCancellationRequested();
            string Expand(string t) => BuildVariables.Expand(t, n => s.Args.TryGetValue(n, out var a) ? a : EnvValue(s, n));
            switch (ins.Keyword)
            {
                case "ARG":
                    var visible = new Dictionary<string, string?>(globalArgs, StringComparer.Ordinal);
                    foreach (var kv in s.Args) visible[kv.Key] = kv.Value;
                    DeclareArg(ins, s.Args, visible);
                    Report(ins.Text, cached: false);
                    continue;
                case "SHELL":
                    s.Shell = InstructionArguments.JsonArray(ins.Arguments) is { Count: > 0 } shell ? shell : throw ins.Invalid("a JSON array such as [\"/bin/bash\", \"-c\"]");
                    await ConfigStepAsync(s, ins, ins.Text, c => c, ct).ConfigureAwait(false);
                    continue;
                case "RUN":
                    await RunStepAsync(s, ins, Expand, ct).ConfigureAwait(false);
                    continue;
                case "COPY" or "ADD":
                    await CopyStepAsync(s, ins, Expand, ct).ConfigureAwait(false);
                    continue;
                case "MAINTAINER":
                    await ConfigStepAsync(s, ins, ins.Text, c => c, ct, author: ins.Arguments).ConfigureAwait(false);
                    continue;
                case "ONBUILD":
                    await ConfigStepAsync(s, ins, ins.Text, c => c with { OnBuild = [.. c.OnBuild ?? [], ins.Arguments] }, ct).ConfigureAwait(false);
                    continue;
                case "HEALTHCHECK":
                    var health = Healthcheck.Parse(ins);
                    await ConfigStepAsync(s, ins, ins.Text, c => c with { Healthcheck = health }, ct).ConfigureAwait(false);
                    continue;
                default:
                    // CMD, ENTRYPOINT (and their shell form through SHELL) take no substitution; the others do.
                    string args = ins.Keyword is "CMD" or "ENTRYPOINT" ? ins.Arguments : Expand(ins.Arguments);
                    string text = ins.Keyword + " " + args;
                    await ConfigStepAsync(s, ins, text, c => ins.Keyword is "CMD" or "ENTRYPOINT"
                        ? ins.Keyword == "CMD" ? c with { Cmd = ConfigChanges.Command(args, s.Shell) } : c with { Entrypoint = ConfigChanges.Command(args, s.Shell) }
                        : ConfigChanges.Apply(c, ins.Keyword, args, ins.Where), ct).ConfigureAwait(false);
                    continue;
            }
        }
        return s.Image ?? await SaveStepAsync(BuildCache.Key(s.ParentId, "FROM scratch", ""), s.Layers, s.Config, ct).ConfigureAwait(false);
    }

    private static string? EnvValue(StageState s, string name) =>
        s.Exec.Env?.LastOrDefault(e => e.StartsWith(name + "=", StringComparison.Ordinal)) is { } kv ? kv[(name.Length + 1)..] : null;

    /// <summary>A step that changes only the configuration: an empty_layer history entry and a new step image.</summary>
    private async Task ConfigStepAsync(StageState s, Instruction ins, string text, Func<ContainerConfig, ContainerConfig> change, CancellationToken ct, string? author = null)
    {
        string key = BuildCache.Key(s.ParentId, text, "");
        if (await TryCacheAsync(s, key, ins.Text, ct).ConfigureAwait(false)) return;
        var config = s.Config with
        {
            Config = change(s.Exec),
            Author = author ?? s.Config.Author,
            History = [.. s.Config.History ?? [], new HistoryEntry { Created = DateTimeOffset.UtcNow, CreatedBy = "/bin/sh -c #(nop) " + text, EmptyLayer = true }],
        };
        Report(ins.Text, cached: false);
        Apply(s, await SaveStepAsync(key, s.Layers, config, ct).ConfigureAwait(false));
    }

    private async Task<bool> TryCacheAsync(StageState s, string key, string text, CancellationToken ct)
    {
        if (options.NoCache || await _cache.LookupAsync(store, key, ct).ConfigureAwait(false) is not { } hit) return false;
        Report(text, cached: true);
        Apply(s, hit);
        return true;
    }

    private static void Apply(StageState s, StoredImage image)
    {
        s.Image = image;
        s.Layers = image.Layers.ToList();
        s.Config = image.Config;
    }

    private async Task AddLayerStepAsync(StageState s, string createdBy, string key, Action<LayerTarWriter, CancellationToken> write, CancellationToken ct)
    {
        var layer = await store.AddLayerAsync(write, ct).ConfigureAwait(false);
        var config = s.Config with
        {
            Created = DateTimeOffset.UtcNow,
            History = [.. s.Config.History ?? [], new HistoryEntry { Created = DateTimeOffset.UtcNow, CreatedBy = createdBy }],
        };
        Apply(s, await SaveStepAsync(key, [.. s.Layers, layer], config, ct).ConfigureAwait(false));
    }

    private async Task RunStepAsync(StageState s, Instruction ins, Func<string, string> expand, CancellationToken ct)
    {
        if (s.Image is null) throw ins.Invalid("a base image with a shell (RUN cannot run in an empty scratch stage)");
        BuildPlatforms.EnsureCanRun(s.Platform, ins);
        string? network = options.Network;
        foreach (var (flag, value) in ins.Flags)
            network = flag == "network" && value is "none" or "host" or "default" ? value == "default" ? options.Network : value
                : throw new ContainersException("UnsupportedContainerfileFeature", ErrorKind.NotSupported,
                    $"{ins.Where}: RUN --{flag}={value} is not supported.", ins.Where, "RUN takes --mount=... and --network=none|host|default.");
        var exec = InstructionArguments.JsonArray(ins.Arguments);
        var (argv, scripts) = exec is null ? HeredocRun.Command(ins, s.Shell) : (exec, []);
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var a in s.Args.Where(a => a.Value is not null)) env[a.Key] = a.Value;
        using var mounts = await PrepareMountsAsync(ins, expand, ct).ConfigureAwait(false);
        string inputs = string.Join("\n", env.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Key + "=" + e.Value)
            .Concat(ins.Heredocs.Select(h => h.Token + "\n" + h.Content)).Concat(mounts.KeyInputs).Append("network=" + network));
        string key = BuildCache.Key(s.ParentId, ins.Text, inputs);
        if (await TryCacheAsync(s, key, ins.Text, ct).ConfigureAwait(false)) return;
        Report(ins.Text, cached: false);

        var tail = new Queue<string>();
        using var scriptFiles = HeredocRun.WriteScripts(scripts);
        var create = new ContainerCreateOptions
        {
            Image = s.Image.Id, Name = "build-" + Guid.NewGuid().ToString("N")[..12], Command = argv, Entrypoint = [], Env = env,
            WorkingDir = s.Exec.WorkingDir is { Length: > 0 } w ? w : null, User = s.Exec.User is { Length: > 0 } u ? u : null,
            Volumes = [.. scriptFiles.Mounts, .. mounts.Volumes], Tmpfs = mounts.Tmpfs,
        };
        if (network is not null) create.Network = network;
        var c = await runtime.CreateAsync(create, ct).ConfigureAwait(false);
        try
        {
            await runtime.StartAsync(c.Id, ct).ConfigureAwait(false);
            await runtime.FollowLogsAsync(c.Id, null, null, e =>
            {
                output?.Invoke(e.Text);
                tail.Enqueue(e.Text);
                if (tail.Count > 10) tail.Dequeue();
            }, ct).ConfigureAwait(false);
            var done = await runtime.WaitAsync(c.Id, null, ct).ConfigureAwait(false);
            if (done.ExitCode != 0)
                throw new ContainersException("BuildStepFailed", ErrorKind.InvalidState,
                    $"{ins.Where}: {ins.Text} exited with code {done.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(killed by signal " + done.Signal + ")"}."
                    + (tail.Count > 0 ? " Last lines of its output:\n" + string.Join("\n", tail) : ""), ins.Where,
                    "Fix the command (the images of the steps before it are cached and will not run again).");
            string upper = runtime.Store.UpperDir(c.Id);
            string createdBy = exec is null ? string.Join(' ', s.Shell) + " " + HeredocRun.Script(ins) : JsonSerializer.Serialize(exec);
            var madeForMounts = MadeForMounts(upper, mounts.Targets, s.Layers);
            await AddLayerStepAsync(s, createdBy, key, (tar, t) => new LayeredTreeWriter([upper], LayeredTreeMode.Layer,
                include: (rel, st) => !IsMountPlaceholder(upper, rel, st) && !madeForMounts.Contains(rel)).Write(tar, t), ct).ConfigureAwait(false);
        }
        finally
        {
            await runtime.RemoveAsync(c.Id, force: true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static bool IsMountPlaceholder(string upper, string rel, LinkStatus st) =>
        MountPoints.Contains(rel) && (st.Type == FileSystemCalls.S_IFDIR ? !Directory.EnumerateFileSystemEntries(Path.Combine(upper, rel)).Any()
            : st.Type == FileSystemCalls.S_IFREG && st.Size == 0);
}
