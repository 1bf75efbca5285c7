namespace Containers.Core.Networking;

/// <summary>
/// The keys of containers.conf(5) this module honours: <c>[network] default_network</c> (the network a root container joins
/// when New-Container gets no -Network; made on first use when missing), <c>[network] default_subnet</c> (the subnet that network is
/// made with), <c>[network] default_rootless_network_cmd</c> (<c>pasta</c> or <c>slirp4netns</c>, a
/// rootless container's default) and <c>[engine] helper_binaries_dir</c> (where pasta and slirp4netns are looked for
/// before PATH; a one-line array of strings). Files are read in order, a later file's key winning, as
/// containers/common layers them. Only the simple forms are read (<c>key = "value"</c> under a <c>[table]</c> header);
/// other tables and keys are ignored.
/// </summary>
internal sealed record ContainersConf(string? DefaultNetwork, string? DefaultRootlessNetworkCmd = null, IReadOnlyList<string>? HelperBinariesDirs = null,
    string? DefaultSubnet = null)
{
    public static ContainersConf Read(IEnumerable<string> files)
    {
        string? defaultNetwork = null, rootlessCmd = null, defaultSubnet = null;
        List<string> helperDirs = [];
        foreach (string file in files.Where(File.Exists))
        {
            string table = "";
            foreach (string raw in File.ReadLines(file))
            {
                string line = raw.Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                if (line.StartsWith('[')) { table = line.Trim('[', ']', ' '); continue; }
                int eq = line.IndexOf('=');
                if (eq < 0) continue;
                string value = line[(eq + 1)..].Trim();
                int hash = value.IndexOf(" #", StringComparison.Ordinal);
                if (hash >= 0) value = value[..hash].TrimEnd();
                switch (table, line[..eq].Trim())
                {
                    case ("network", "default_network"): defaultNetwork = Unquote(value) ?? defaultNetwork; break;
                    case ("network", "default_subnet"): defaultSubnet = Unquote(value) ?? defaultSubnet; break;
                    case ("network", "default_rootless_network_cmd"): rootlessCmd = Unquote(value) ?? rootlessCmd; break;
                    case ("engine", "helper_binaries_dir") when value.StartsWith('[') && value.EndsWith(']'):
                        helperDirs = [.. value[1..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Unquote).OfType<string>()];
                        break;
                }
            }
        }
        return new ContainersConf(string.IsNullOrWhiteSpace(defaultNetwork) ? null : defaultNetwork,
            string.IsNullOrWhiteSpace(rootlessCmd) ? null : rootlessCmd, helperDirs, string.IsNullOrWhiteSpace(defaultSubnet) ? null : defaultSubnet);
    }

    private static string? Unquote(string value) =>
        value.Length >= 2 && value[0] is '"' or '\'' && value[^1] == value[0] ? value[1..^1] : null;
}
