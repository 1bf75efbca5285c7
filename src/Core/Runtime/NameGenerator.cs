namespace Containers.Core.Runtime;

/// <summary>Generated container names (<c>adjective_noun</c>) and generated ids.</summary>
internal static class NameGenerator
{
    private static readonly string[] Adjectives =
    [
        "amber", "brave", "calm", "clever", "crisp", "dapper", "eager", "fancy", "gentle", "happy", "jolly", "keen",
        "lively", "lucid", "merry", "nimble", "noble", "plucky", "quiet", "rapid", "serene", "sharp", "shiny", "silent",
        "steady", "sunny", "swift", "tidy", "upbeat", "vivid", "witty", "zealous",
    ];

    private static readonly string[] Nouns =
    [
        "badger", "beaver", "condor", "falcon", "ferret", "gecko", "heron", "ibis", "jackal", "koala", "lemur", "lynx",
        "marmot", "narwhal", "ocelot", "otter", "panda", "puffin", "quokka", "raven", "salmon", "stoat", "tapir", "toucan",
        "turtle", "urchin", "vole", "walrus", "weasel", "wombat", "yak", "zebra",
    ];

    /// <summary>A name like <c>brave_otter</c> that <paramref name="taken"/> does not hold (a number is appended if needed).</summary>
    public static string NewName(Func<string, bool> taken)
    {
        for (int i = 0; i < 100; i++)
        {
            string name = Adjectives[Random.Shared.Next(Adjectives.Length)] + "_" + Nouns[Random.Shared.Next(Nouns.Length)];
            if (i >= 20) name += "_" + Random.Shared.Next(1000, 9999).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!taken(name)) return name;
        }
        return "container_" + NewId()[..12];
    }

    /// <summary>64 random lowercase hex digits.</summary>
    public static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>Names as podman accepts them: <c>[a-zA-Z0-9][a-zA-Z0-9_.-]*</c>.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 128 && char.IsAsciiLetterOrDigit(name[0]) &&
        name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    /// <summary>True for 64 lowercase hex digits.</summary>
    public static bool IsFullId(string text) => text.Length == 64 && text.All(char.IsAsciiHexDigitLower);
}
