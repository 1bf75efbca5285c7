using System.Text.Json;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Events.Journal;

/// <summary>
/// The append-only event journal: JSON lines in <see cref="FilePath"/>, one generation kept in <see cref="RotatedPath"/>.
/// Cmdlets (any number of pwsh sessions) and monitors append under an flock of <see cref="LockPath"/>, a file that is never
/// rotated, so a writer never appends to a file another writer just renamed away. Each record is one write(2) of a
/// whole line. A writer that died in the middle of a line leaves it without its newline: the next writer ends that line
/// first, and readers skip every line that is not a whole record. When the next record would take the file past
/// <see cref="MaxBytes"/> it is renamed to <see cref="RotatedPath"/> (replacing the older generation), so the journal
/// holds at most twice that. Compiled into Init too: nothing of Core but this folder.
/// </summary>
internal sealed class EventJournal(string path, long maxBytes = EventJournal.DefaultMaxBytes)
{
    /// <summary>podman's default events_logfile_max_size is 1 MB too.</summary>
    public const long DefaultMaxBytes = 1_000_000;
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string FilePath => path;
    public string RotatedPath => path + ".1";
    public string LockPath => path + ".lock";
    public long MaxBytes => maxBytes;

    /// <summary>The journal of a data directory.</summary>
    public static string PathIn(string dataDir) => Path.Combine(dataDir, "events", "events.jsonl");

    /// <summary>Appends one record (its time set now when unset). Throws IOException when the journal cannot be written.</summary>
    public void Append(EventRecord record)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        if (record.Time == default) record.Time = DateTimeOffset.UtcNow;
        byte[] json = EventRecordWriter.Write(record);
        int lockFd;
        // The directory is made only when the lock file cannot be (the first event): a mkdir and a stat per event otherwise.
        try { lockFd = LockedFile.Lock(LockPath); }
        catch (IOException)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            lockFd = LockedFile.Lock(LockPath);
        }
        try
        {
            var fs = Open();
            try
            {
                long length = fs.Length;
                if (length > 0 && length + json.Length + 2 > maxBytes)
                {
                    fs.Dispose();
                    File.Move(path, RotatedPath, overwrite: true);
                    fs = Open();
                    length = 0;
                }
                bool torn = false;
                if (length > 0)
                {
                    fs.Position = length - 1;
                    torn = fs.ReadByte() != '\n';
                }
                // One buffer, one write: a reader (which takes no lock) sees a line whole or not yet.
                byte[] line = new byte[json.Length + (torn ? 2 : 1)];
                if (torn) line[0] = (byte)'\n';
                json.CopyTo(line, torn ? 1 : 0);
                line[^1] = (byte)'\n';
                fs.Position = length;
                fs.Write(line);
            }
            finally { fs.Dispose(); }
        }
        finally { LockedFile.Unlock(lockFd); }
    }

    private FileStream Open()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        return new(path, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0, UnixCreateMode = Private,
        });
    }

    /// <summary>Every whole record, oldest first (the rotated generation, then the current file).</summary>
    public List<EventRecord> ReadAll()
    {
        var list = new List<EventRecord>();
        foreach (string file in new[] { RotatedPath, path })
        {
            byte[] bytes;
            try { bytes = File.ReadAllBytes(file); }
            catch (FileNotFoundException) { continue; }
            catch (DirectoryNotFoundException) { continue; }
            ParseLines(bytes, list);
        }
        return list;
    }

    /// <summary>Parses the whole lines of <paramref name="bytes"/> into <paramref name="into"/>, skipping torn or foreign ones;
    /// returns how many bytes were consumed (up to the last newline).</summary>
    public static int ParseLines(ReadOnlySpan<byte> bytes, List<EventRecord> into)
    {
        int consumed = 0;
        while (true)
        {
            int nl = bytes[consumed..].IndexOf((byte)'\n');
            if (nl < 0) return consumed;
            if (TryParse(bytes.Slice(consumed, nl), out var record)) into.Add(record);
            consumed += nl + 1;
        }
    }

    public static bool TryParse(ReadOnlySpan<byte> line, out EventRecord record)
    {
        record = null!;
        if (line.IsEmpty || line[0] != (byte)'{') return false;
        try
        {
            if (JsonSerializer.Deserialize(line, EventJsonContext.Default.EventRecord) is not { Type.Length: > 0, Action.Length: > 0 } r) return false;
            record = r;
            return true;
        }
        catch (JsonException) { return false; }
    }
}
