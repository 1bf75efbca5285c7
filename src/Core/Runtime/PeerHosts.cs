using System.Text;

namespace Containers.Core.Runtime;

/// <summary>
/// Names between containers on a user-made network, without a resolver daemon: each attached container's own hosts
/// file (never the host's) ends with a block listing its own addresses and those of every attached peer that shares a
/// network with it, by name, short id and -NetworkAlias. The block is rewritten in place (the file is bind-mounted,
/// so its inode must stay) whenever a container attaches or detaches. Limits: names resolve through /etc/hosts only
/// (no DNS server, so tools that query DNS directly do not see them), and a reader may catch a rewrite half done.
/// </summary>
internal static class PeerHosts
{
    public const string Marker = "# pscontainers: names on the container's networks (rewritten as peers come and go)";

    /// <summary>Rewrites the block of every attached container that shares a network with <paramref name="changedId"/> (and its own);
    /// <paramref name="leftNetwork"/> is one it just left, whose members must forget it too.</summary>
    public static void Refresh(ContainerNetworking networking, ContainerStore store, string changedId, string? leftNetwork = null)
    {
        var attached = store.List().Where(r => r.NetworkSettings is not null)
            .Select(r => (Record: r, State: networking.ReadState(r.Id))).Where(x => x.State is not null).ToList();
        var changed = (store.TryRead(changedId)?.NetworkSettings?.Networks ?? []).Append(leftNetwork).OfType<string>().ToList();
        foreach (var (record, state) in attached)
        {
            if (record.Id != changedId && !record.NetworkSettings!.Networks.Intersect(changed).Any()) continue;
            string? hosts = record.GeneratedFiles.FirstOrDefault(f => Path.GetFileName(f) == "hosts");
            if (hosts is null || !File.Exists(hosts)) continue;
            var mine = state!.Attachments.Select(a => a.Network).ToHashSet();
            var block = new StringBuilder();
            foreach (var (peer, peerState) in attached)
                foreach (var a in peerState!.Attachments.Where(a => mine.Contains(a.Network)))
                    foreach (string ip in a.Addresses)
                        block.Append(ip).Append('\t').AppendJoin(' ', peer.Id == record.Id ? a.Aliases.Prepend(record.Hostname).Distinct() : a.Aliases).Append('\n');
            Rewrite(hosts, block.ToString());
        }
    }

    private static void Rewrite(string file, string block)
    {
        string text = File.ReadAllText(file);
        int at = text.IndexOf(Marker, StringComparison.Ordinal);
        string head = at < 0 ? text : text[..at];
        string next = block.Length == 0 ? head : head + Marker + "\n" + block;
        if (next == text) return;
        // Truncate and write the same inode: the container sees the file through a bind mount.
        using var f = new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        byte[] bytes = Encoding.UTF8.GetBytes(next);
        f.SetLength(0);
        f.Write(bytes);
    }
}
