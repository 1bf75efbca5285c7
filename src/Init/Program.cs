namespace Containers.Init;

/// <summary>Entry point of the launcher and monitor. Core plans, Init executes.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["--version"])
        {
            Console.Out.WriteLine("pscontainers-init " + typeof(Program).Assembly.GetName().Version?.ToString(3));
            return 0;
        }
        Console.Error.WriteLine("usage: pscontainers-init --version");
        return 2;
    }
}
