using System.Runtime.InteropServices;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Native;

/// <summary>Runs a helper program (newuidmap/newgidmap, pasta, slirp4netns) with posix_spawn.</summary>
internal static unsafe class Spawn
{
    [DllImport("libc")] private static extern int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_init(void* fa);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_adddup2(void* fa, int fd, int newfd);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addopen(void* fa, int fd, byte* path, int oflag, int mode);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_destroy(void* fa);
    [DllImport("libc")] private static extern int posix_spawnattr_init(void* attr);
    [DllImport("libc")] private static extern int posix_spawnattr_setflags(void* attr, short flags);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigdefault(void* attr, void* sigset);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigmask(void* attr, void* sigset);
    [DllImport("libc")] private static extern int posix_spawnattr_destroy(void* attr);

    /// <summary>
    /// The helper starts with every signal unblocked and SIGPIPE at its default: the runtime ignores SIGPIPE and an ignored
    /// signal stays ignored across exec (pasta of Debian 12 refuses to start when it finds SIGPIPE already ignored).
    /// </summary>
    private static void CleanSignals(byte* attr)
    {
        posix_spawnattr_init(attr);
        ulong* set = stackalloc ulong[16]; // sigset_t: 1024 bits
        for (int i = 0; i < 16; i++) set[i] = 0;
        posix_spawnattr_setsigmask(attr, set);
        set[0] = 1UL << (13 - 1); // SIGPIPE
        posix_spawnattr_setsigdefault(attr, set);
        posix_spawnattr_setflags(attr, 0x04 | 0x08); // POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
    }

    /// <summary>Starts a program with stdin on /dev/null and stdout and stderr on <paramref name="outFd"/>; its pid, or -1.</summary>
    public static int Start(IReadOnlyList<string> argv, int outFd)
    {
        byte* fa = stackalloc byte[256];
        posix_spawn_file_actions_init(fa);
        posix_spawn_file_actions_addopen(fa, 0, NativeString.Of("/dev/null"), O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(fa, outFd, 1);
        posix_spawn_file_actions_adddup2(fa, outFd, 2);
        int pid;
        int rc = posix_spawn(&pid, NativeString.Of(argv[0]), fa, null, NativeString.Array(argv), NativeString.Array(["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]));
        posix_spawn_file_actions_destroy(fa);
        return rc == 0 ? pid : -1;
    }

    /// <summary>Exit code of the program (127 when it could not be started); its stderr in <paramref name="stderr"/>.</summary>
    public static int Run(IReadOnlyList<string> argv, out string? stderr)
    {
        stderr = null;
        int* p = stackalloc int[2];
        if (pipe2(p, O_CLOEXEC) != 0) { stderr = StrError(Errno); return 127; }
        byte* fa = stackalloc byte[256];
        posix_spawn_file_actions_init(fa);
        byte* devnull = NativeString.Of("/dev/null");
        posix_spawn_file_actions_addopen(fa, 0, devnull, O_RDONLY, 0);
        posix_spawn_file_actions_addopen(fa, 1, devnull, O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(fa, p[1], 2);
        int rc = SpawnWith(argv, fa, out int pid);
        close(p[1]);
        if (rc != 0) { close(p[0]); stderr = $"{argv[0]}: {StrError(rc)}"; return 127; }
        var text = new System.Text.StringBuilder();
        byte* buf = stackalloc byte[1024];
        nint n;
        while ((n = read(p[0], buf, 1024)) > 0 || (n < 0 && Errno == EINTR))
            if (n > 0) text.Append(System.Text.Encoding.UTF8.GetString(buf, (int)n));
        close(p[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
            if (Errno != EINTR) return 127;
        stderr = text.ToString();
        return DecodeWaitStatus(status).ExitCode;
    }

    /// <summary>
    /// Starts a long-running program without waiting: stdin on /dev/null, stdout and stderr written to
    /// <paramref name="logFile"/> (truncated), and <paramref name="extraFd"/> (when not -1) as its fd 3. Returns its pid, or -1 with
    /// the reason in <paramref name="error"/>.
    /// </summary>
    public static int Start(IReadOnlyList<string> argv, string logFile, int extraFd, out string? error)
    {
        error = null;
        byte* fa = stackalloc byte[256];
        posix_spawn_file_actions_init(fa);
        posix_spawn_file_actions_addopen(fa, 0, NativeString.Of("/dev/null"), O_RDONLY, 0);
        posix_spawn_file_actions_addopen(fa, 1, NativeString.Of(logFile), O_WRONLY | O_CREAT | O_TRUNC, 0x180 /* 0600 */);
        posix_spawn_file_actions_adddup2(fa, 1, 2);
        if (extraFd >= 0) posix_spawn_file_actions_adddup2(fa, extraFd, 3);
        int rc = SpawnWith(argv, fa, out int pid);
        if (rc == 0) return pid;
        error = $"{argv[0]}: {StrError(rc)}";
        return -1;
    }

    /// <summary>posix_spawn with a minimal PATH and clean signals; consumes the file actions. Returns posix_spawn's error (0 when started).</summary>
    private static int SpawnWith(IReadOnlyList<string> argv, byte* fa, out int pid)
    {
        byte** args = NativeString.Array(argv);
        byte** env = NativeString.Array(["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
        byte* attr = stackalloc byte[512];
        CleanSignals(attr);
        int spawned;
        int rc = posix_spawn(&spawned, args[0], fa, attr, args, env);
        posix_spawn_file_actions_destroy(fa);
        posix_spawnattr_destroy(attr);
        pid = spawned;
        return rc;
    }
}
