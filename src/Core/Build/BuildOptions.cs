namespace Containers.Core.Build;

/// <summary>What New-ContainerImage -Path builds.</summary>
internal sealed record BuildOptions
{
    public required string Containerfile { get; init; }
    public required string Context { get; init; }
    public IReadOnlyList<string> Names { get; init; } = [];
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();
    /// <summary>The stage to stop after (by name); the last stage by default.</summary>
    public string? Target { get; init; }
    public bool NoCache { get; init; }
    /// <summary>Merge the result's layers into one.</summary>
    public bool Squash { get; init; }
    /// <summary>The platform to build for (os/arch[/variant]); this host's when null.</summary>
    public string? Platform { get; init; }
    /// <summary>The network of RUN steps (<c>none</c>, <c>host</c>, <c>private</c>); null is the runtime's default.</summary>
    public string? Network { get; init; }
    /// <summary>Secrets RUN --mount=type=secret,id=... can mount: id to host file. Never part of a layer or a cache key.</summary>
    public IReadOnlyDictionary<string, string> Secrets { get; init; } = new Dictionary<string, string>();
    /// <summary>Where the layer cache's index (and RUN --mount=type=cache directories) live (the data directory's build/).</summary>
    public required string CacheDirectory { get; init; }
}

/// <summary>One step's progress: "STEP 3/9: RUN make", and whether it came from the cache.</summary>
internal sealed record BuildProgress(int Step, int Steps, string Instruction, bool Cached);
