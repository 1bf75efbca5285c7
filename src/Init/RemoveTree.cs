using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init;

/// <summary>
/// <c>pscontainers-init remove-tree --uid-map C:H:S[,...] --gid-map C:H:S[,...] [--newuidmap P --newgidmap P] &lt;dir&gt;</c>:
/// deletes a directory tree that holds files of subordinate ids, as an unprivileged user. The user cannot unlink
/// what a container wrote as, say, uid 1000 (host uid 100999) in directories of that id; in a user namespace with
/// the container's own id maps those ids are mapped and its root may (CAP_DAC_OVERRIDE, CAP_FOWNER over mapped
/// inodes), as <c>podman unshare rm</c> does. Mechanics: clone a child into a new user namespace, write its maps
/// from the parent (newuidmap/newgidmap for ranges), release it; the child becomes root there and execs
/// <c>pscontainers-init remove-inside &lt;dir&gt;</c>, a fresh process that deletes the tree.
/// Exit code 0 when the tree is gone, 1 when it could not be deleted (reason on stderr), 2 for a usage error.
/// </summary>
internal static unsafe class RemoveTree
{
    public static int Run(InitRemoveTree command)
    {
        var (uids, gids, newUidMap, newGidMap, dir) = command;
        if (!Directory.Exists(dir)) return 0;

        // Prepared before clone: the child only reads, waits and execs.
        byte* self = NativeString.Of(Environment.ProcessPath ?? "/proc/self/exe");
        byte** argv = NativeString.Array(["pscontainers-init", .. new InitRemoveInside(dir).ToArgs()]);
        byte** envp = NativeString.Array(["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
        int* sync = stackalloc int[2];
        if (pipe2(sync, O_CLOEXEC) != 0) return Fail("pipe: " + StrError(Errno));
        var noGc = NoGc.Enter();
        int pid = Clone(CLONE_NEWUSER | (ulong)SIGCHLD);
        if (pid == 0)
        {
            close(sync[1]);
            byte go = 0;
            nint r;
            while ((r = ReadNoGc(sync[0], &go, 1)) < 0 && Errno == EINTR) { }
            if (r != 1 || go != 1) _exit(1);
            if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) _exit(3);
            execve(self, argv, envp);
            _exit(4);
        }
        int cloneErr = Errno;
        noGc.Dispose();
        close(sync[0]);
        if (pid < 0) { close(sync[1]); return Fail("clone: " + StrError(cloneErr)); }
        string? error = IdMaps.Write(pid, uids, gids, newUidMap, newGidMap);
        byte ok = error is null ? (byte)1 : (byte)0;
        write(sync[1], &ok, 1);
        close(sync[1]);
        int status;
        while (waitpid(pid, &status, 0) < 0 && Errno == EINTR) { }
        if (error is not null) return Fail(error);
        int code = DecodeWaitStatus(status).ExitCode;
        return code switch
        {
            0 => 0,
            3 => Fail("becoming root in the user namespace failed"),
            4 => Fail("executing the remover in the user namespace failed"),
            _ => 1, // remove-inside printed its reason
        };
    }

    /// <summary><c>remove-inside &lt;dir&gt;</c>: runs as root of the user namespace made by <see cref="Run"/>.</summary>
    public static int Inside(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
            return 0;
        }
        catch (DirectoryNotFoundException) { return 0; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"deleting {dir}: {e.Message}");
        }
    }

    private static int Fail(string message)
    {
        Launch.Runner.WriteLine(2, "pscontainers-init: " + message);
        return 1;
    }
}
