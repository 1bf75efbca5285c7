using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// A pod's infra container (podman's pause process): every step of a container but the exec, then it waits in its
/// namespaces, holding the pod's network, IPC and UTS namespaces for the pod's other containers. It closes the error
/// pipe as a good exec would (the monitor then reports the start), ends on SIGTERM, SIGINT, SIGHUP or SIGQUIT with 0, and
/// reaps what an exec into it leaves (it is PID 1 of its own pid namespace). Runs in the cloned child: raw syscalls only.
/// </summary>
internal static unsafe class Pause
{
    private const long SYS_rt_sigprocmask = 14, SYS_rt_sigtimedwait = 128, SYS_wait4 = 61;
    private const int SIG_BLOCK = 0, SIGQUIT = 3;

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Run(ChildSpec s)
    {
        ulong all = ~0UL;
        if (Syscall(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, 8) != 0) ContainerChild.Fail(s, ChildStep.Init, 0, Errno);
        close(s.ErrorFd);
        byte* info = stackalloc byte[128];
        int status = 0;
        for (; ; )
        {
            int sig = (int)Syscall(SYS_rt_sigtimedwait, (long)&all, (long)info, 0, 8);
            if (sig is SIGTERM or SIGINT or SIGHUP or SIGQUIT) _exit(0);
            if (sig == SIGCHLD) while (Syscall(SYS_wait4, -1, (long)&status, WNOHANG, 0) > 0) { }
        }
    }
}
