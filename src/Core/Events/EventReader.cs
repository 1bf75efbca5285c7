using Containers.Core.Events.Journal;
using Containers.Core.Native;

namespace Containers.Core.Events;

/// <summary>What Get-ContainerEvent asks for; null means "any".</summary>
internal sealed class EventQuery
{
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public IReadOnlyCollection<ContainerEventType>? Types { get; init; }
    /// <summary>Anything else (names, images, actions with wildcards): the cmdlet's own test.</summary>
    public Func<ContainerEvent, bool>? Filter { get; init; }

    internal bool Matches(ContainerEvent e) =>
        (Since is not { } s || e.Time >= s.LocalDateTime) && (Until is not { } u || e.Time <= u.LocalDateTime)
        && (Types is null || Types.Contains(e.Type)) && (Filter?.Invoke(e) ?? true);
}

/// <summary>Reads the journal (no lock: writers add whole lines) and tails it across rotations.</summary>
internal sealed class EventReader(EventJournal journal)
{
    /// <summary>How often -Follow looks for new lines.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    public List<ContainerEvent> Read(EventQuery query) =>
        journal.ReadAll().Select(ContainerEvent.From).OfType<ContainerEvent>().Where(query.Matches).ToList();

    /// <summary>
    /// Writes the events that match as they are appended, until cancelled or -Until passes. With Since, the journal's
    /// matching history comes first (podman events --since); without it, only what is written from now on.
    /// </summary>
    public async Task FollowAsync(EventQuery query, Action<ContainerEvent> write, CancellationToken ct)
    {
        long inode = 0, offset = 0;
        if (FileStat.TryGet(journal.FilePath, out inode, out _, out _, out long size)) offset = size;
        if (query.Since is not null)
        {
            // The history: the rotated generation, then the current file up to where the tail starts.
            var history = new List<EventRecord>();
            ReadFrom(journal.RotatedPath, 0, history);
            if (!FileStat.TryGet(journal.FilePath, out inode, out _, out _, out _)) inode = 0;
            offset = ReadFrom(journal.FilePath, 0, history);
            foreach (var e in history.Select(ContainerEvent.From).OfType<ContainerEvent>().Where(query.Matches)) write(e);
        }
        while (!ct.IsCancellationRequested)
        {
            if (query.Until is { } until && DateTimeOffset.Now > until) return;
            var batch = new List<EventRecord>();
            if (FileStat.TryGet(journal.FilePath, out long now, out _, out _, out _) && now != inode)
            {
                // Rotated: finish the old file (now the rotated generation) first.
                if (inode != 0 && FileStat.TryGet(journal.RotatedPath, out long rotated, out _, out _, out _) && rotated == inode)
                    ReadFrom(journal.RotatedPath, offset, batch);
                inode = now;
                offset = 0;
            }
            if (inode != 0) offset = ReadFrom(journal.FilePath, offset, batch);
            foreach (var e in batch.Select(ContainerEvent.From).OfType<ContainerEvent>().Where(query.Matches)) write(e);
            try { await Task.Delay(PollInterval, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Parses the whole lines from <paramref name="offset"/> on; returns the offset after the last one.</summary>
    private static long ReadFrom(string path, long offset, List<EventRecord> into)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (fs.Length < offset) offset = 0; // replaced under us
            fs.Position = offset;
            byte[] bytes = new byte[fs.Length - offset];
            fs.ReadExactly(bytes);
            return offset + EventJournal.ParseLines(bytes, into);
        }
        catch (FileNotFoundException) { return offset; }
        catch (DirectoryNotFoundException) { return offset; }
    }
}
