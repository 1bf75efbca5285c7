using System.Globalization;
using Containers.Init.Native;

namespace Containers.Init.Launch;

/// <summary>
/// OOM kills so far in the container's memory cgroup: <c>oom_kill</c> of memory.events (v2) or memory.oom_control (v1)
/// in the directories of the planned cgroups. Read before the start and at the exit (the monitor records an OOM kill when
/// the count grew); the exit reads only the file the first read found it in, on the way to the stopped state.
/// </summary>
internal sealed class OomCount(IReadOnlyList<string> cgroupProcsFiles)
{
    private string? _file;

    /// <summary>The count; -1 when no cgroup file has one.</summary>
    public long Read()
    {
        Span<byte> text = stackalloc byte[1024];
        if (_file is not null) return Read(_file, text);
        foreach (string procs in cgroupProcsFiles)
        {
            string dir = Path.GetDirectoryName(procs) ?? "";
            foreach (string name in new[] { "memory.events", "memory.oom_control" })
            {
                string file = Path.Combine(dir, name);
                long kills = Read(file, text);
                if (kills < 0) continue;
                _file = file;
                return kills;
            }
        }
        return -1;
    }

    private static long Read(string file, Span<byte> text)
    {
        int n = NativeFile.ReadSmall(file, text);
        if (n < 0) return -1;
        foreach (var range in text[..n].Split((byte)'\n'))
        {
            var line = text[range];
            if (line.StartsWith("oom_kill "u8) && long.TryParse(line[9..], NumberStyles.None, CultureInfo.InvariantCulture, out long kills)) return kills;
        }
        return -1;
    }
}
