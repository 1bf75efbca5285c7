namespace Containers.Core.Networking;

/// <summary>
/// The keys of containers.conf(5) this module honours, all in <c>[network]</c>: <c>default_network</c> (the network a
/// root container joins when New-Container gets no -Network). Files are read in order, a later file's key winning, as
/// containers/common layers them. Only the simple forms are read (<c>key = "value"</c> under a <c>[table]</c> header);
/// other tables and keys are ignored.
/// </summary>
internal sealed record ContainersConf(string? DefaultNetwork)
{
    public static ContainersConf Read(IEnumerable<string> files)
    {
        string? defaultNetwork = null;
        foreach (string file in files.Where(File.Exists))
        {
            string table = "";
            foreach (string raw in File.ReadLines(file))
            {
                string line = raw.Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                if (line.StartsWith('[')) { table = line.Trim('[', ']', ' '); continue; }
                int eq = line.IndexOf('=');
                if (table != "network" || eq < 0 || line[..eq].Trim() != "default_network") continue;
                string value = line[(eq + 1)..].Trim();
                int hash = value.IndexOf(" #", StringComparison.Ordinal);
                if (hash >= 0) value = value[..hash].TrimEnd();
                if (value.Length >= 2 && value[0] is '"' or '\'' && value[^1] == value[0]) defaultNetwork = value[1..^1];
            }
        }
        return new ContainersConf(string.IsNullOrWhiteSpace(defaultNetwork) ? null : defaultNetwork);
    }
}
