using Containers.Core.Runtime;

namespace Containers.Core.Services;

/// <summary>
/// Set-Container: makes the container of a name match a definition. <see cref="Plan"/> says what differs (nothing, so
/// nothing is touched, when it matches); <see cref="ApplyAsync"/> creates it when it is missing or replaces it
/// (running state kept) when it differs.
/// </summary>
internal sealed class DesiredState(ContainerRuntime runtime)
{
    /// <summary>The container of <paramref name="name"/> (null when there is none) and how the definition differs from it.</summary>
    public (ContainerRecord? Current, List<ContainerPropertyChange> Changes) Plan(string name, ContainerCreateOptions desired, string desiredImageId)
    {
        var current = runtime.Store.Find(name);
        var changes = ContainerDefinitions.Compare(current?.Definition, desired);
        string before = current is null ? "" : ContainerDefinitions.ShortImageId(current.ImageId), after = ContainerDefinitions.ShortImageId(desiredImageId);
        if (current is not null && before != after) changes.Add(new ContainerPropertyChange("ImageId", before, after));
        return (current, changes);
    }

    public async Task<ContainerChange> ApplyAsync(string name, ContainerRecord? current, ContainerCreateOptions desired, IReadOnlyList<ContainerPropertyChange> changes,
        bool startNew, CancellationToken ct)
    {
        if (current is not null && changes.Count == 0)
            return new ContainerChange { Name = name, Action = ContainerChangeAction.Unchanged, Container = runtime.Inspect(current) };
        if (current is not null)
            return await new ContainerReplacer(runtime).ReplaceAsync(current, desired, changes, null, ct).ConfigureAwait(false);
        var created = await runtime.CreateAsync(ContainerDefinitions.Copy(desired, name), ct).ConfigureAwait(false);
        if (startNew) created = await runtime.StartAsync(created.Id, ct).ConfigureAwait(false);
        return new ContainerChange { Name = name, Action = ContainerChangeAction.Created, Changes = changes, Container = created };
    }
}
