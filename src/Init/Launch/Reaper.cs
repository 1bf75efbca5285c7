using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// <c>-Init</c>: the container's first process stays as its PID 1, a minimal init (as tini and catatonit): it forks the
/// command, forwards every signal it receives to it, reaps every orphan the pid namespace hands it, and exits with the
/// command's status (128+N when a signal ended it). Runs in the cloned child, so raw syscalls only (see ContainerChild).
/// An init of a pid namespace receives only signals it does not leave at SIG_DFL, unless they are blocked: all are
/// blocked here and taken with rt_sigtimedwait, so SIGTERM from Stop-Container reaches it and is passed on.
/// </summary>
internal static unsafe class Reaper
{
    private const long SYS_rt_sigprocmask = 14, SYS_rt_sigtimedwait = 128, SYS_wait4 = 61;
    private const int SIG_BLOCK = 0, CAP_KILL = 5;

    /// <summary>Returns in the command's process (signals still blocked: BecomeProcess resets them); PID 1 never returns.</summary>
    public static void Run(ChildSpec s)
    {
        ulong all = ~0UL;
        if (Syscall(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, 8) != 0) ContainerChild.Fail(s, ChildStep.Init, 0, Errno);
        int child = Clone(SIGCHLD);
        if (child < 0) ContainerChild.Fail(s, ChildStep.Init, 1, Errno);
        if (child == 0) return;

        // PID 1 keeps only what forwarding needs: no descriptor of the launch (the parent then sees the command's exec
        // through the error pipe), and of its capabilities only CAP_KILL (to signal a command running as another user).
        close(s.ErrorFd);
        if (s.ConsoleSocket >= 0) close(s.ConsoleSocket);
        uint* header = stackalloc uint[2];
        header[0] = 0x20080522; // _LINUX_CAPABILITY_VERSION_3
        header[1] = 0;
        uint* data = stackalloc uint[6];
        for (int i = 0; i < 6; i++) data[i] = 0;
        data[0] = data[1] = 1u << CAP_KILL; // effective, permitted
        Capset(header, data);

        byte* info = stackalloc byte[128];
        int status = 0;
        for (; ; )
        {
            int sig = (int)Syscall(SYS_rt_sigtimedwait, (long)&all, (long)info, 0, 8);
            if (sig <= 0) continue;
            if (sig != SIGCHLD) { kill(child, sig); continue; }
            int pid;
            while ((pid = (int)Syscall(SYS_wait4, -1, (long)&status, WNOHANG, 0)) > 0)
                if (pid == child) _exit((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f));
        }
    }
}
