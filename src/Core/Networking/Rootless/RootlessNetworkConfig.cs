using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Policy;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Containers.Core.Networking.Rootless;

/// <summary>
/// The containers.conf(5) keys rootless networking honours: <c>[network] default_rootless_network_cmd</c> (<c>pasta</c> or
/// <c>slirp4netns</c>) and <c>[engine] helper_binaries_dir</c> (where pasta and slirp4netns are looked for first). Files are
/// read in containers.conf's order, a later file's key winning: /usr/share/containers/containers.conf,
/// /etc/containers/containers.conf, /etc/containers/containers.conf.d/*.conf, then the user's
/// ~/.config/containers/containers.conf and its .d folder. <c>CONTAINERS_CONF</c> names the only file read;
/// <c>PSCONTAINERS_CONFIG_DIR</c> (as for registries.conf) replaces every location by its containers.conf and .d folder.
/// </summary>
internal sealed record RootlessNetworkConfig(string? DefaultNetworkCommand, IReadOnlyList<string> HelperBinariesDirs, IReadOnlyList<string> Files)
{
    public const string ContainersConfVariable = "CONTAINERS_CONF";

    public static RootlessNetworkConfig Load() => Load(Environment.GetEnvironmentVariable);

    public static RootlessNetworkConfig Load(Func<string, string?> env)
    {
        string? command = null;
        IReadOnlyList<string> dirs = [];
        var files = Locations(env).Where(File.Exists).ToList();
        foreach (string file in files)
        {
            var doc = SyntaxParser.Parse(File.ReadAllText(file), file, true);
            if (doc.HasErrors)
            {
                var first = doc.Diagnostics.First(d => d.Kind == DiagnosticMessageKind.Error);
                throw Invalid(file, first.Span.Start.Line + 1, first.Message);
            }
            foreach (var table in doc.Tables)
            {
                string name = RegistriesFile.KeyName(table.Name!);
                foreach (var kv in table.Items.OfType<KeyValueSyntax>())
                {
                    int line = kv.Span.Start.Line + 1;
                    switch (name, RegistriesFile.KeyName(kv.Key!))
                    {
                        case ("network", "default_rootless_network_cmd"):
                            command = kv.Value is StringValueSyntax v ? v.Value : throw Invalid(file, line, "default_rootless_network_cmd must be a string");
                            break;
                        case ("engine", "helper_binaries_dir"):
                            dirs = kv.Value is ArraySyntax a && a.Items.All(i => i.Value is StringValueSyntax)
                                ? [.. a.Items.Select(i => ((StringValueSyntax)i.Value!).Value ?? "")]
                                : throw Invalid(file, line, "helper_binaries_dir must be an array of strings");
                            break;
                    }
                }
            }
        }
        if (command is not null && command is not ("pasta" or "slirp4netns"))
            throw new ContainersException("ContainersConfInvalid", ErrorKind.InvalidData,
                $"containers.conf sets default_rootless_network_cmd = \"{command}\", which is neither pasta nor slirp4netns.", command, "Set it to \"pasta\" or \"slirp4netns\".");
        return new RootlessNetworkConfig(command, dirs, files);
    }

    private static ContainersException Invalid(string file, int line, string why) =>
        new("ContainersConfInvalid", ErrorKind.InvalidData, $"{file}:{line}: {why}.", file, "Fix the file (see containers.conf(5)).");

    /// <summary>The files that may hold settings, lowest priority first.</summary>
    internal static IEnumerable<string> Locations(Func<string, string?> env)
    {
        if (NonEmpty(env(ContainersConfVariable)) is { } only) return [only];
        if (NonEmpty(env(ContainerPaths.ConfigDirVariable)) is { } dir) return WithDropIns(Path.Combine(dir, "containers.conf"));
        string home = NonEmpty(env("HOME")) ?? "/root";
        return ["/usr/share/containers/containers.conf", .. WithDropIns("/etc/containers/containers.conf"),
            .. WithDropIns(Path.Combine(home, ".config", "containers", "containers.conf"))];
    }

    private static IEnumerable<string> WithDropIns(string file)
    {
        yield return file;
        string dropIns = file + ".d";
        if (Directory.Exists(dropIns))
            foreach (string f in Directory.GetFiles(dropIns, "*.conf").Order(StringComparer.Ordinal)) yield return f;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
