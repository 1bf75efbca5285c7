using Containers.Core.Runtime.Plan;
using Containers.Init.Launch;
namespace Containers.Init;

/// <summary>
/// Entry point of the launcher and monitor. Core plans, Init executes.
/// <code>
/// pscontainers-init --version
/// pscontainers-init probe                       JSON feature probe on stdout, exit 0
/// pscontainers-init run --plan &lt;plan.json&gt;      start and monitor a container (see Runner)
/// pscontainers-init spare --idle-seconds N      wait on stdin for a run command line, then run it (see Spare)
/// pscontainers-init exec --state-dir &lt;dir&gt; --process &lt;process.json&gt;   run a process in a running container
/// pscontainers-init remove-tree --uid-map C:H:S[,..] --gid-map C:H:S[,..] [--newuidmap P --newgidmap P] &lt;dir&gt;
///                                               delete a tree in a user namespace with those maps (see RemoveTree)
/// </code>
/// The command lines are defined once, in <see cref="InitCommand"/>, which Core uses to build them.
/// Exit code 2 is a usage error.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (InitCommand.Parse(args))
        {
            case InitVersion:
                Console.Out.WriteLine("pscontainers-init " + typeof(Program).Assembly.GetName().Version?.ToString(3));
                return 0;
            case InitProbe:
                return Probe.Run();
            case InitRun run:
                return Runner.Run(run);
            case InitSpare spare:
                return Spare.Run(spare);
            case InitExec exec:
                return Exec.Run(exec.StateDir, exec.ProcessFile);
            case InitRemoveTree remove:
                return RemoveTree.Run(remove);
            case InitRemoveInside inside:
                return RemoveTree.Inside(inside.Dir);
            default:
                Console.Error.WriteLine(InitCommand.Usage);
                return 2;
        }
    }
}
