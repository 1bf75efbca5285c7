using System.Runtime.InteropServices;
using System.Text.Json;
using Containers.Core.Runtime.Plan;
using Containers.Init.Launch;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init;

/// <summary>
/// <c>pscontainers-init exec --state-dir &lt;dir&gt; --process &lt;process.json&gt;</c>: runs a process inside a
/// running container. process.json is a runtime-spec <c>process</c> (args, env, cwd, user, capabilities,
/// rlimits, noNewPrivileges) that Core resolved; the container's seccomp profile comes from its bundle.
/// <para>Mechanics: setns into a user or mount namespace is refused to a multithreaded process, so Init
/// forks (the child has one thread). The child joins the container's cgroups (writes 0 to each
/// cgroup.procs of the state), then setns into its user (if any), ipc, uts, net, cgroup, pid and mount
/// namespaces, and clones the final process with CLONE_PARENT (a process only enters a pid namespace
/// when created in it); that process becomes Init's own child, sets credentials, capabilities,
/// no_new_privs and seccomp as the container's init did, and execs.</para>
/// <para>With <c>process.terminal</c> the process gets a pseudo-terminal of the container's devpts (its controlling
/// terminal on fds 0-2) and Init relays between it and its own stdio (<see cref="TerminalRelay"/>: raw mode and window
/// size when Init's stdin is a terminal). Otherwise stdio is inherited from the caller. Init forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to the process
/// and exits with its exit code (128+signal when killed). Failures before exec: message on stderr, exit 127
/// (command not found), 126 (not executable) or 125 (container not running, setns refused ...).</para>
/// <para>Stopping a container needs nothing from Init: Core signals the state's pid directly (SIGTERM, then
/// SIGKILL; PID 1 of a pid namespace only receives signals it has a handler for, plus SIGKILL), and
/// the monitor records the exit.</para>
/// </summary>
internal static unsafe class Exec
{
    private const int Failed = 125;
    private static volatile int s_target;

    public static int Run(string stateDir, string processPath)
    {
        Runner.CloseInheritedFds();
        RuntimeProcess process;
        ContainerRuntimeState? state;
        RuntimeSpec? spec = null;
        try
        {
            state = StateFile.Read(stateDir);
            process = JsonSerializer.Deserialize(File.ReadAllBytes(processPath), PlanJsonContext.Default.RuntimeProcess)
                ?? throw new Preparer.PlanException("BadProcess", "process.json is empty");
            if (state?.BundleDir is { } bundle && File.Exists(Path.Combine(bundle, "config.json")))
                spec = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(bundle, "config.json")), PlanJsonContext.Default.RuntimeSpec);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or Preparer.PlanException)
        {
            return Error(e.Message);
        }
        if (state is not { Status: ContainerStatus.Running, Pid: > 0 } || StateFile.StartTime(state.Pid) != state.PidStartTime)
            return Error("the container is not running");
        int pid = state.Pid;

        ChildSpec s;
        try
        {
            s = new ChildSpec { Slash = NativeString.Of("/") };
            Preparer.PrepareProcess(s, process, spec?.Linux?.Seccomp);
        }
        catch (Preparer.PlanException e)
        {
            return Error(e.Message);
        }

        // Namespaces that differ from ours, opened now (paths under /proc/<pid> are gone once we switch).
        var joins = new List<(int Fd, int Type)>();
        bool userNs = false;
        foreach (var (name, type) in new[] { ("user", (int)CLONE_NEWUSER), ("ipc", (int)CLONE_NEWIPC), ("uts", (int)CLONE_NEWUTS), ("net", (int)CLONE_NEWNET),
                     ("cgroup", (int)CLONE_NEWCGROUP), ("pid", (int)CLONE_NEWPID), ("mnt", (int)CLONE_NEWNS) })
        {
            string theirs = $"/proc/{pid}/ns/{name}";
            if (!File.Exists(theirs) || SameFile(theirs, $"/proc/self/ns/{name}")) continue;
            int fd = open(NativeString.Of(theirs), O_RDONLY | O_CLOEXEC, 0);
            if (fd < 0) return Error($"opening {theirs}: {StrError(Errno)}");
            joins.Add((fd, type));
            if (name == "user") userNs = true;
        }
        if (userNs)
        {
            try { s.SetgroupsAllowed = File.ReadAllText($"/proc/{pid}/setgroups").Trim() == "allow"; }
            catch (IOException) { s.SetgroupsAllowed = false; }
        }
        var cgroups = new List<nint>();
        foreach (string procs in state.CgroupProcsFiles ?? []) cgroups.Add((nint)NativeString.Of(procs));

        int* errp = stackalloc int[2];
        if (pipe2(errp, O_CLOEXEC) != 0) return Error("pipe: " + StrError(Errno));
        s.ErrorFd = errp[1];
        int* console = stackalloc int[2];
        console[0] = console[1] = -1;
        if (process.Terminal)
        {
            // The relay opens a pseudo-terminal in the container's devpts (after joining its mount namespace) and sends
            // us the master; the process gets the slave as its controlling terminal.
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) != 0) return Error("socketpair: " + StrError(Errno));
            s.ConsoleSocket = console[1];
            s.Ptmx = NativeString.Of("/dev/ptmx");
            s.PtsPtmx = NativeString.Of("/dev/pts/ptmx");
        }
        var nsFds = joins.Select(j => j.Fd).ToArray();
        var nsTypes = joins.Select(j => j.Type).ToArray();
        nint[] cgroupPaths = cgroups.ToArray();
        byte* zero = NativeString.Of("0");

        var noGc = NoGc.Enter();
        int relay = fork();
        if (relay == 0)
        {
            // Single-threaded from here: only syscalls on prepared data.
            for (int i = 0; i < cgroupPaths.Length; i++)
            {
                int fd = open((byte*)cgroupPaths[i], O_WRONLY | O_CLOEXEC, 0);
                if (fd < 0 || WriteNoGc(fd, zero, 1) != 1) ContainerChild.Fail(s, ChildStep.Cgroup, i, Errno);
                close(fd);
            }
            for (int i = 0; i < nsFds.Length; i++)
                if (Setns(nsFds[i], nsTypes[i]) != 0) ContainerChild.Fail(s, ChildStep.Setns, nsTypes[i], Errno);
            int slave = s.ConsoleSocket >= 0 ? ContainerChild.OpenTerminal(s, attach: false) : -1;
            int child = Clone(0x00008000 /* CLONE_PARENT */ | (ulong)SIGCHLD);
            if (child == 0)
            {
                if (slave >= 0) ContainerChild.AttachTerminal(s, slave);
                ContainerChild.BecomeProcess(s);
            }
            if (child < 0) ContainerChild.Fail(s, ChildStep.Setns, 0, Errno);
            int* report = stackalloc int[3];
            report[0] = (int)ChildStep.Started; report[1] = 0; report[2] = child;
            WriteNoGc(s.ErrorFd, (byte*)report, 12);
            _exit(0);
        }
        int forkErr = Errno;
        noGc.Dispose();
        close(errp[1]);
        if (console[1] >= 0) close(console[1]);
        foreach (int fd in nsFds) close(fd);
        if (relay < 0) return Error("fork: " + StrError(forkErr));

        // The relay reports the final pid (or its own failure); the process then reports an exec failure or EOF.
        int* r = stackalloc int[3];
        nint got = Probe.ReadFull(errp[0], (byte*)r, 12);
        int ws;
        while (waitpid(relay, &ws, 0) < 0 && Errno == EINTR) { }
        if (got != 12) { close(errp[0]); return Error("the exec helper died"); }
        if ((ChildStep)r[0] != ChildStep.Started) { close(errp[0]); if (console[0] >= 0) close(console[0]); return Describe(process, r); }
        int target = r[2];
        int master = -1;
        if (console[0] >= 0)
        {
            master = ReceiveFd(console[0]);
            close(console[0]);
        }
        s_target = target;
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Forward);
        using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Forward);
        got = Probe.ReadFull(errp[0], (byte*)r, 12);
        close(errp[0]);
        if (got != 12 && master >= 0) TerminalRelay.Run(master);
        while (waitpid(target, &ws, 0) < 0 && Errno == EINTR) { }
        if (got == 12) return Describe(process, r);
        return DecodeWaitStatus(ws).ExitCode;
    }

    private static void Forward(PosixSignalContext context)
    {
        int sig = context.Signal switch { PosixSignal.SIGINT => SIGINT, PosixSignal.SIGTERM => SIGTERM, PosixSignal.SIGHUP => SIGHUP, PosixSignal.SIGQUIT => 3, _ => 0 };
        if (sig != 0 && s_target > 0) kill(s_target, sig);
        context.Cancel = true;
    }

    private static int Describe(RuntimeProcess process, int* report)
    {
        var step = (ChildStep)report[0];
        if (step == ChildStep.Cgroup) return Error($"joining the container's cgroup: {StrError(report[1])}");
        if (step == ChildStep.Setns) return Error($"joining the container's namespaces: {StrError(report[1])}");
        var (message, _, code) = StartFailure.Describe(new RuntimeSpec { Process = process }, step, report[1], report[2]);
        Runner.WriteLine(2, "pscontainers-init: " + message);
        return code is 126 or 127 ? code : Failed;
    }

    private static int Error(string message)
    {
        Runner.WriteLine(2, "pscontainers-init: " + message);
        return Failed;
    }

    private static bool SameFile(string a, string b)
    {
        byte* sa = stackalloc byte[144];
        byte* sb = stackalloc byte[144];
        if (stat(NativeString.Of(a), sa) != 0 || stat(NativeString.Of(b), sb) != 0) return false;
        return *(ulong*)sa == *(ulong*)sb && *(ulong*)(sa + 8) == *(ulong*)(sb + 8);
    }
}
