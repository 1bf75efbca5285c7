using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Core.Services;

/// <summary>
/// Replaces a container by one made from a new definition or image, under the same name: stop, remove, create, start
/// when the old one ran, verify; when creating, starting or verifying fails, the old container is made again from its
/// own definition and image (its id kept in the record; the image stays in the store) and started as it was.
/// </summary>
internal sealed class ContainerReplacer(ContainerRuntime runtime)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerReplacer>();

    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <param name="verify">Checks the started container (health); throws a <see cref="ContainersException"/> to roll back.</param>
    public async Task<ContainerChange> ReplaceAsync(ContainerRecord old, ContainerCreateOptions desired, IReadOnlyList<ContainerPropertyChange> changes,
        Func<Container, CancellationToken, Task>? verify, CancellationToken ct)
    {
        var state = runtime.Inspect(old).State;
        bool wasActive = state.IsActive() || state == ContainerState.Restarting;
        // A container in its restart delay counts as running: the stop ends the monitor's loop before it is removed.
        if (wasActive) await runtime.StopAsync(old.Id, StopTimeout, ct).ConfigureAwait(false);
        await runtime.RemoveAsync(old.Id, force: false, ct).ConfigureAwait(false);
        Container? created = null;
        try
        {
            created = await runtime.CreateAsync(ContainerDefinitions.Copy(desired, old.Name), ct).ConfigureAwait(false);
            if (wasActive)
            {
                created = await runtime.StartAsync(created.Id, ct).ConfigureAwait(false);
                if (verify is not null) await verify(created, ct).ConfigureAwait(false);
            }
            Log.Information("Recreated container {Name} ({Changes})", old.Name, string.Join(", ", changes.Select(c => c.Property)));
            return new ContainerChange { Name = old.Name, Action = ContainerChangeAction.Recreated, Changes = changes, Container = runtime.Get(created.Id) };
        }
        catch (ContainersException e) when (old.Definition is not null)
        {
            // Not cancellable from here on: a half-done rollback would leave no container at all.
            Log.Warning("The new {Name} failed ({Error}); putting back the previous container (image {ImageId})", old.Name, e.Message, old.ImageId);
            try
            {
                if (created is not null) await runtime.RemoveAsync(created.Id, force: true, CancellationToken.None).ConfigureAwait(false);
                var back = await runtime.CreateAsync(ContainerDefinitions.Copy(old.Definition, old.Name), old.ImageId, CancellationToken.None).ConfigureAwait(false);
                if (wasActive) await runtime.StartAsync(back.Id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (ContainersException back)
            {
                // The previous image was removed meanwhile (Clear-ContainerStorage), or its definition no longer holds.
                throw new ContainersException("ContainerNotRestored", back.Kind,
                    $"Container {old.Name} could not be replaced ({e.Message}), nor put back as it was ({back.Message}).", old.Name,
                    "Fix the cause and create it again with Set-Container.");
            }
            throw new ContainersException("ContainerRolledBack", e.Kind,
                $"Container {old.Name} was put back as it was (image {ContainerDefinitions.ShortImageId(old.ImageId)}): its replacement failed: {e.Message}", old.Name,
                "Fix the cause; the previous container runs unchanged meanwhile.");
        }
    }
}
