namespace Containers.Init;
internal static class Exec { public static int Run(string s, string p) { Console.Error.WriteLine("not yet"); return 2; } }
