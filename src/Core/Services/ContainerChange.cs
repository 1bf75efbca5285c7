namespace Containers.Core.Services;

/// <summary>What Set-Container or Update-Container did to a container.</summary>
public enum ContainerChangeAction
{
    /// <summary>It already matched: nothing was touched.</summary>
    Unchanged,
    /// <summary>It did not exist and was created.</summary>
    Created,
    /// <summary>It was replaced by a new container with the same name (and started when it was running).</summary>
    Recreated,
}

/// <summary>One property of a container's definition that differs: before and after, as text.</summary>
public sealed record ContainerPropertyChange(string Property, string? Before, string? After)
{
    public override string ToString() => $"{Property}: {Before ?? "(none)"} -> {After ?? "(none)"}";
}

/// <summary>The result of Set-Container or Update-Container for one container.</summary>
public sealed class ContainerChange
{
    public string Name { get; init; } = "";
    public ContainerChangeAction Action { get; init; }
    /// <summary>The properties that differed (empty when Unchanged).</summary>
    public IReadOnlyList<ContainerPropertyChange> Changes { get; init; } = [];
    /// <summary>The container as it is now.</summary>
    public Runtime.Container? Container { get; init; }
    public bool Changed => Action != ContainerChangeAction.Unchanged;

    public override string ToString() => Name + ": " + Action + (Changes.Count == 0 ? "" : " (" + string.Join(", ", Changes.Select(c => c.Property)) + ")");
}
