using Containers.Init.Launch;
namespace Containers.Init;

/// <summary>
/// Entry point of the launcher and monitor. Core plans, Init executes.
/// <code>
/// pscontainers-init --version
/// pscontainers-init probe                       JSON feature probe on stdout, exit 0
/// pscontainers-init run --plan &lt;plan.json&gt;      start and monitor a container (see Runner)
/// pscontainers-init exec --state-dir &lt;dir&gt; --process &lt;process.json&gt;   run a process in a running container
/// pscontainers-init remove-tree --uid-map C:H:S[,..] --gid-map C:H:S[,..] [--newuidmap P --newgidmap P] &lt;dir&gt;
///                                               delete a tree in a user namespace with those maps (see RemoveTree)
/// </code>
/// Exit code 2 is a usage error.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args)
        {
            case ["--version"]:
                Console.Out.WriteLine("pscontainers-init " + typeof(Program).Assembly.GetName().Version?.ToString(3));
                return 0;
            case ["probe"]:
                return Probe.Run();
            case ["run", "--plan", var plan]:
                return Runner.Run(plan);
            case ["exec", "--state-dir", var stateDir, "--process", var process]:
                return Exec.Run(stateDir, process);
            case ["remove-tree", ..]:
                return RemoveTree.Run(args);
            case ["remove-inside", var dir]:
                return RemoveTree.Inside(dir);
            default:
                Console.Error.WriteLine("usage: pscontainers-init --version | probe | run --plan <plan.json> | exec --state-dir <dir> --process <process.json> | remove-tree --uid-map <maps> --gid-map <maps> [--newuidmap <path> --newgidmap <path>] <dir>");
                return 2;
        }
    }
}
