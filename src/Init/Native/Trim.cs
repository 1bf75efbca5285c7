using static Containers.Init.Native.Sys;

namespace Containers.Init.Native;

/// <summary>
/// Gives back what an idle monitor holds but does not use. A monitor waiting for its container touches a few pages
/// of code (poll, the log pump), yet its resident set still counts every page of the program text, read-only data
/// and libc that starting the container touched: about 5 MiB of clean file pages. <see cref="DropCleanFilePages"/>
/// unmaps those pages from this process (madvise MADV_DONTNEED on the pages of private file mappings that
/// /proc/self/pagemap shows as present file pages, never a copied-on-write one). They stay in the page cache, shared with every other process, and come back with a minor fault when the
/// monitor needs them again (a log line, the container's exit).
/// </summary>
internal static unsafe class Trim
{
    private const int MADV_DONTNEED = 4;

    /// <summary>Returns the number of KiB dropped from the resident set (0 when /proc/self/smaps is unreadable).</summary>
    public static long DropCleanFilePages()
    {
        string maps;
        try { maps = File.ReadAllText("/proc/self/maps"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        int pagemap = open(NativeString.Of("/proc/self/pagemap"), O_RDONLY | O_CLOEXEC, 0);
        if (pagemap < 0) return 0;
        long dropped = 0;
        try
        {
            foreach (var line in maps.AsSpan().EnumerateLines())
                if (PrivateFileMapping(line, out ulong start, out ulong end)) dropped += DropFilePages(pagemap, start, end);
        }
        finally { close(pagemap); }
        return dropped * 4;
    }

    /// <summary>"start-end perms offset dev inode path": a private mapping of a file (inode not 0).</summary>
    private static bool PrivateFileMapping(ReadOnlySpan<char> line, out ulong start, out ulong end)
    {
        start = end = 0;
        var f = new SpanFields(line);
        var range = f.Next();
        var perms = f.Next();
        f.Next(); f.Next(); // offset, dev
        var inode = f.Next();
        int dash = range.IndexOf('-');
        return dash > 0 && perms.Length == 4 && perms[3] == 'p' && inode.Length > 0 && inode is not "0"
            && ulong.TryParse(range[..dash], System.Globalization.NumberStyles.HexNumber, null, out start)
            && ulong.TryParse(range[(dash + 1)..], System.Globalization.NumberStyles.HexNumber, null, out end);
    }

    /// <summary>
    /// Drops the resident pages of [start, end) that still hold the file's bytes (pagemap: present, file page), in
    /// runs. A copied-on-write page (relocations, written data) is anonymous and stays: dropping it would revert it to
    /// the file's bytes. Returns the number of pages dropped.
    /// </summary>
    private static long DropFilePages(int pagemap, ulong start, ulong end)
    {
        const int Batch = 512;
        ulong* entries = stackalloc ulong[Batch];
        long dropped = 0;
        ulong runStart = 0, runPages = 0;
        for (ulong page = start; page < end; page += Batch * 4096UL)
        {
            ulong count = Math.Min(Batch, (end - page) / 4096);
            nint got = pread(pagemap, entries, (nint)(count * 8), (long)(page / 4096 * 8));
            if (got <= 0) break;
            count = (ulong)got / 8;
            for (ulong i = 0; i < count; i++)
            {
                ulong e = entries[i];
                bool clean = (e & (1UL << 63)) != 0 && (e & (1UL << 61)) != 0;
                if (clean)
                {
                    if (runPages == 0) runStart = page + i * 4096;
                    runPages++;
                    continue;
                }
                dropped += Flush(runStart, ref runPages);
            }
        }
        return dropped + Flush(runStart, ref runPages);
    }

    private static long Flush(ulong start, ref ulong pages)
    {
        if (pages == 0) return 0;
        long n = madvise((void*)start, (nuint)(pages * 4096), MADV_DONTNEED) == 0 ? (long)pages : 0;
        pages = 0;
        return n;
    }

    private ref struct SpanFields(ReadOnlySpan<char> text)
    {
        private ReadOnlySpan<char> _rest = text;

        public ReadOnlySpan<char> Next()
        {
            _rest = _rest.TrimStart(' ');
            int sp = _rest.IndexOf(' ');
            var field = sp < 0 ? _rest : _rest[..sp];
            _rest = sp < 0 ? [] : _rest[sp..];
            return field;
        }
    }
}
