using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Logging;
using Containers.Core.Runtime;
using Containers.Core.Spec;

namespace Containers.Core.Build;

/// <summary>
/// Builds a Containerfile: every stage starts from an image (or scratch); every instruction makes the
/// next image of the stage, kept in the store as a dangling image and indexed by the layer cache, so an
/// unchanged rebuild runs no RUN step. RUN is a container of the runtime whose diff becomes a layer;
/// COPY and ADD write their layer directly. The result gets the names when the last step is done; a
/// failed step leaves the images of the steps before it (the cache) and nothing else.
/// </summary>
internal sealed partial class ImageBuilder(ContainerRuntime runtime, ImageStore store, BuildOptions options,
    IProgress<BuildProgress>? progress = null, Action<string>? output = null)
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<ImageBuilder>();
    private readonly BuildCache _cache = new(options.CacheDirectory);
    private readonly Dictionary<string, StoredImage> _stageResults = new(StringComparer.Ordinal);
    private BuildContext _context = null!;
    private int _step, _steps;
    /// <summary>The platform the stages are built for unless FROM --platform says otherwise (-Platform, or this host).</summary>
    private Platform _target = ImageArchive.HostPlatform;

    /// <summary>The build args every build knows (podman's and Docker's predefined ones).</summary>
    private static readonly string[] Predefined =
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

    public async Task<StoredImage> BuildAsync(CancellationToken ct = default)
    {
        string text;
        try { text = await File.ReadAllTextAsync(options.Containerfile, ct).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersException("ContainerfileNotFound", ErrorKind.NotFound, $"Cannot read {options.Containerfile}: {e.Message}", options.Containerfile,
                "Give -Path the Containerfile or Dockerfile to build.", e);
        }
        var file = Containerfile.Parse(text, Path.GetFileName(options.Containerfile));
        _target = options.Platform is { } target0 ? BuildPlatforms.Parse(target0, null) : ImageArchive.HostPlatform;
        _context = new BuildContext(options.Context);
        var stages = file.Stages.ToList();
        if (options.Target is { } target)
        {
            int t = stages.FindIndex(s => string.Equals(s.Name, target, StringComparison.OrdinalIgnoreCase));
            if (t < 0)
                throw new ContainersException("BuildStageNotFound", ErrorKind.NotFound, $"The Containerfile has no stage named '{target}'.", target,
                    $"Name one of: {string.Join(", ", stages.Where(s => s.Name is not null).Select(s => s.Name))}.");
            stages = stages.Take(t + 1).ToList();
        }
        _steps = stages.Sum(s => s.Instructions.Count + 1);

        var globalArgs = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var a in file.GlobalArgs) DeclareArg(a, globalArgs, globalArgs);
        StoredImage? result = null;
        foreach (var stage in stages)
        {
            result = await BuildStageAsync(stage, globalArgs, ct).ConfigureAwait(false);
            _stageResults[stage.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)] = result;
            if (stage.Name is not null) _stageResults[stage.Name] = result;
        }
        if (options.Squash && result!.Layers.Count > 1)
            return await ImageMerger.MergeAsync(store, result.Id, null, null, options.Names, ct).ConfigureAwait(false);
        foreach (string name in options.Names) result = await store.TagAsync(result!.Id, name, ct).ConfigureAwait(false);
        Log.Information("Built image {Id} {Names}", result!.ShortId, options.Names);
        return result;
    }

    /// <summary>Declares an ARG: its value is the -BuildArg one, else its default (expanded), else an outer value.</summary>
    private void DeclareArg(Instruction ins, Dictionary<string, string?> into, IReadOnlyDictionary<string, string?> visible)
    {
        foreach (string word in InstructionArguments.Words(ins.Arguments, e => ins.Invalid(e)))
        {
            int eq = word.IndexOf('=');
            string name = eq < 0 ? word : word[..eq];
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) throw ins.Invalid($"NAME or NAME=default, not '{word}'");
            string? value = options.BuildArgs.TryGetValue(name, out var given) ? given
                : eq >= 0 ? BuildVariables.Expand(word[(eq + 1)..], n => visible.GetValueOrDefault(n))
                : visible.GetValueOrDefault(name);
            into[name] = value;
        }
    }

    private void Report(string text, bool cached)
    {
        _step++;
        progress?.Report(new BuildProgress(_step, _steps, text, cached));
        Log.Information("STEP {Step}/{Steps}: {Instruction:l}{Cached:l}", _step, _steps, text, cached ? " (cached)" : "");
    }

    /// <summary>The image a FROM names: an earlier stage, scratch (null), or an image in the store.</summary>
    private async Task<StoredImage?> ResolveBaseAsync(string name, Instruction from, Platform platform, CancellationToken ct)
    {
        if (name.Equals("scratch", StringComparison.OrdinalIgnoreCase)) return null;
        var image = (_stageResults.TryGetValue(name.ToLowerInvariant(), out var stage) ? stage : null) ?? await store.FindAsync(name, ct).ConfigureAwait(false)
            ?? throw new ContainersException("BuildBaseImageNotFound", ErrorKind.NotFound, $"{from.Where}: FROM {name}: no such stage or local image.", name,
                "Install the image first (Install-ContainerImage), or name an earlier stage.");
        if (BuildPlatforms.Matches(image, platform)) return image;
        // The name holds one platform; another platform of the same index may be in the store too (Install-ContainerImage -Platform).
        var sibling = (await store.ListAsync(ct).ConfigureAwait(false))
            .FirstOrDefault(i => BuildPlatforms.Matches(i, platform) && i.ExtraDigests.Intersect(image.ExtraDigests).Any());
        return sibling ?? throw new ContainersException("BuildBasePlatformNotFound", ErrorKind.NotFound,
            $"{from.Where}: FROM {name} is {image.Os}/{image.Architecture} in the store, not {platform}.", name,
            $"Install that platform's image first: Install-ContainerImage {name} -Platform {platform}.");
    }

    /// <summary>Records a step's image in the store and the cache.</summary>
    private async Task<StoredImage> SaveStepAsync(string key, IReadOnlyList<StoredLayer> layers, ImageConfig config, CancellationToken ct)
    {
        var image = await store.CreateImageAsync(layers, config, [], ct).ConfigureAwait(false);
        _cache.Add(key, image.Id);
        return image;
    }
}
