using System.Globalization;
using Containers.Core.Errors;

namespace Containers.Core.Runtime;

/// <summary>A user resolved against the image: numeric ids, supplementary groups and home.</summary>
public sealed record ResolvedUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string Home);

/// <summary>Resolves <c>user</c>, <c>uid</c>, <c>user:group</c>, <c>uid:gid</c> against /etc/passwd and /etc/group of the image's layers (top layer wins).</summary>
public static class ImageUsers
{
    public static ResolvedUser Resolve(string? spec, IReadOnlyList<string> layersBottomToTop)
    {
        if (string.IsNullOrEmpty(spec)) spec = "0";
        string userPart = spec, groupPart = "";
        int colon = spec.IndexOf(':');
        if (colon >= 0) { userPart = spec[..colon]; groupPart = spec[(colon + 1)..]; }

        var passwd = ReadTable(layersBottomToTop, "etc/passwd");
        var groups = ReadTable(layersBottomToTop, "etc/group");

        uint uid, gid;
        string home = "/";
        string? userName = null;
        string[]? entry = passwd.FirstOrDefault(p => p.Length >= 6 && p[0] == userPart);
        if (entry is null && uint.TryParse(userPart, NumberStyles.None, CultureInfo.InvariantCulture, out uint numeric))
            entry = passwd.FirstOrDefault(p => p.Length >= 6 && p[2] == userPart) ?? [];
        if (entry is null)
            throw new ContainersException("UserNotFound", ErrorKind.NotFound,
                $"The user '{userPart}' is not in the image's /etc/passwd.", spec,
                "Give a user the image defines, or a numeric uid.");
        if (entry.Length >= 6)
        {
            userName = entry[0];
            uid = uint.Parse(entry[2], CultureInfo.InvariantCulture);
            gid = uint.TryParse(entry[3], CultureInfo.InvariantCulture, out uint g) ? g : 0;
            home = entry.Length > 5 && entry[5].Length > 0 ? entry[5] : "/";
        }
        else
        {
            uid = uint.Parse(userPart, CultureInfo.InvariantCulture);
            gid = 0;
        }

        if (groupPart.Length > 0)
        {
            string[]? grp = groups.FirstOrDefault(g => g.Length >= 3 && g[0] == groupPart);
            if (grp is not null) gid = uint.Parse(grp[2], CultureInfo.InvariantCulture);
            else if (uint.TryParse(groupPart, NumberStyles.None, CultureInfo.InvariantCulture, out uint ng)) gid = ng;
            else throw new ContainersException("GroupNotFound", ErrorKind.NotFound,
                $"The group '{groupPart}' is not in the image's /etc/group.", spec, "Give a group the image defines, or a numeric gid.");
        }

        var extra = new List<uint>();
        if (userName is not null)
            foreach (string[] g in groups)
                if (g.Length >= 4 && g[3].Split(',').Contains(userName) && uint.TryParse(g[2], CultureInfo.InvariantCulture, out uint eg) && eg != gid && !extra.Contains(eg))
                    extra.Add(eg);
        return new ResolvedUser(uid, gid, extra, home);
    }

    /// <summary>The colon-separated rows of the topmost layer's copy of <paramref name="relative"/> (none when no layer has it).</summary>
    private static List<string[]> ReadTable(IReadOnlyList<string> layers, string relative)
    {
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            string path = Path.Combine(layers[i], relative);
            // A whiteout in an upper layer hides the file below.
            if (File.Exists(Path.Combine(layers[i], Path.GetDirectoryName(relative)!, ".wh." + Path.GetFileName(relative)))) return [];
            if (!File.Exists(path)) continue;
            try
            {
                return File.ReadLines(path).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(':')).ToList();
            }
            catch (IOException)
            {
                // An overlay-form whiteout (a 0:0 character device) hides the file of the layers below.
                return [];
            }
        }
        return [];
    }
}
