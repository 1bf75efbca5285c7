namespace Containers.Core.Diagnostics;

/// <summary>Reads a user's ranges from /etc/subuid or /etc/subgid ("name-or-id:start:count" lines).</summary>
internal static class SubordinateIds
{
    public static IReadOnlyList<IdRange> Read(string file, string userName, uint uid)
    {
        if (!File.Exists(file)) return [];
        var ranges = new List<IdRange>();
        string uidText = uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (string raw in File.ReadLines(file))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            string[] parts = line.Split(':');
            if (parts.Length != 3 || (parts[0] != userName && parts[0] != uidText)) continue;
            if (uint.TryParse(parts[1], out uint start) && uint.TryParse(parts[2], out uint count) && count > 0)
                ranges.Add(new IdRange(start, count));
        }
        return ranges;
    }
}
