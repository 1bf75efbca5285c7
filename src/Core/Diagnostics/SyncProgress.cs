namespace Containers.Core.Diagnostics;

/// <summary>
/// Reports on the reporting thread, at once. <see cref="Progress{T}"/> posts to the thread pool instead, so a report
/// could arrive after a cmdlet ended and find its write queue disposed, which took the whole session down.
/// </summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
