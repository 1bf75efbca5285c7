using System.Runtime.InteropServices;
using System.Text.Json;
using Containers.Core.Runtime.Plan;
using Containers.Init.Monitor;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// <c>pscontainers-init run --plan &lt;plan.json&gt;</c>: starts the container described by the plan and its
/// bundle, then stays as its monitor.
/// <para>Handshake (Log mode): the caller starts Init with stdout on a pipe and reads ONE line of JSON
/// (<see cref="LaunchResult"/>): <c>{"pid":N,"monitorPid":M,"error":null}</c> once the container's command has
/// been exec'd, or <c>{"pid":0,...,"error":"...","errorId":"...","exitCode":127}</c> when the start failed.
/// Init then points its stdin/stdout/stderr at /dev/null (the caller sees end-of-file) and, in its own
/// session (setsid), streams the container's output into LogPath, waits for it, records the exit in
/// the state file and exits 0. A failed start prints its reason on stderr too (and into the log), records it in
/// the state file (status stopped, error, exitCode) and exits with 127 (command not found), 126 (not executable)
/// or 125 (any other start failure), as crun and podman do.</para>
/// <para>Inherit mode: no handshake on stdout (it belongs to the container). The container shares the caller's
/// fds 0-2 (in a session of its own); Init forwards SIGINT/SIGQUIT/SIGHUP from the terminal to it and exits with
/// the container's exit code (126/127 for a command that cannot be run, 125 for other start failures).
/// The state file is written in both modes.</para>
/// </summary>
internal static unsafe class Runner
{
    private const int StartFailed = 125;

    /// <param name="run">The command.</param>
    /// <param name="read">What a spare already read of stdin after the command (the go byte of <see cref="InitRun.AwaitGo"/>).</param>
    /// <param name="networkNamespace">A network namespace a spare made ahead (<see cref="PrepareNetworkNamespace"/>), or -1.</param>
    public static int Run(InitRun run, byte[]? read = null, int networkNamespace = -1)
    {
        string planPath = run.PlanPath;
        CloseInheritedFds();
        LaunchPlan plan;
        RuntimeSpec spec;
        // Read without serializer metadata (PlanReader): building it cost a third of the start's CPU time.
        try { (plan, spec) = ReadPlanAndSpec(planPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or Preparer.PlanException)
        {
            WriteLine(2, $"pscontainers-init: {e.Message}");
            Handshake(new LaunchResult { MonitorPid = Environment.ProcessId, Error = e.Message, ErrorId = (e as Preparer.PlanException)?.ErrorId ?? "BadPlan", ExitCode = StartFailed });
            return StartFailed;
        }
        return new Monitor(plan, spec, new Supervisor(plan, run.Restarts, run.Streak) { PlanPath = planPath })
        {
            AwaitGo = run.AwaitGo, GoRead = read is { Length: > 0 } ? read[0] : null, PreparedNetNs = networkNamespace,
        }.Start();
    }

    /// <summary>
    /// A spare makes the network namespace of the container it will serve ahead of time: making one is ~0.4 ms of the
    /// container's clone (every pernet subsystem sets itself up), done here while the spare waits (in SCHED_IDLE). An fd
    /// of the new namespace, the spare itself back in its own; -1 when not root (the child's setns needs CAP_SYS_ADMIN over
    /// it, and a user namespace's container needs one its user namespace owns) or when it cannot be made. Its loopback is
    /// brought up here too (~0.1 ms of the child's start otherwise: the ioctl waits for the device to open).
    /// </summary>
    internal static int PrepareNetworkNamespace()
    {
        if (geteuid() != 0) return -1;
        int own = open(NativeString.Of("/proc/self/ns/net"), O_RDONLY | O_CLOEXEC, 0);
        if (own < 0) return -1;
        int made = -1;
        if (Unshare(CLONE_NEWNET) == 0)
        {
            made = Loopback.Up(out _) ? open(NativeString.Of("/proc/self/ns/net"), O_RDONLY | O_CLOEXEC, 0) : -1;
            // A monitor must not live in a container's network namespace: a spare that cannot go back ends.
            if (Setns(own, (int)CLONE_NEWNET) != 0) Environment.Exit(0);
        }
        close(own);
        return made;
    }

    /// <summary>
    /// A spare's rehearsal with the last start's plan while it waits (in SCHED_IDLE, off any start's path): reading, parsing
    /// and preparing it as <see cref="Run"/> would, nothing done with the result. The start it serves then finds the
    /// code paged in and the runtime's one-time set-up done (type initialisers, the syscall table), not on its path.
    /// Best effort: a plan gone meanwhile (that container removed) or refused is no failure of the spare.
    /// </summary>
    internal static void Rehearse(string planPath)
    {
        try
        {
            var (plan, spec) = ReadPlanAndSpec(planPath);
            _ = Preparer.CloneFlags(spec, out bool userNs);
            _ = Preparer.Prepare(plan, spec, userNs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or Preparer.PlanException) { }
    }

    /// <summary>The plan at <paramref name="planPath"/> and its bundle's config.json, checked; PlanException when either is
    /// empty or the plan is not one this binary runs.</summary>
    private static (LaunchPlan Plan, RuntimeSpec Spec) ReadPlanAndSpec(string planPath)
    {
        var plan = ReadJson(planPath, PlanReader.ReadPlan) ?? throw new Preparer.PlanException("BadPlan", "the plan is empty");
        if (plan.Version != 1) throw new Preparer.PlanException("BadPlan", $"plan version {plan.Version} is not supported");
        if (plan.StateDir is not { Length: > 0 } || plan.BundleDir is not { Length: > 0 }) throw new Preparer.PlanException("BadPlan", "the plan needs bundleDir and stateDir");
        var spec = ReadJson(Path.Combine(plan.BundleDir, "config.json"), PlanReader.ReadSpec)
            ?? throw new Preparer.PlanException("BadBundle", "config.json is empty");
        return (plan, spec);
    }

    /// <summary>A JSON file read by <paramref name="read"/>; a malformed one is a JsonException naming the file.</summary>
    private static T? ReadJson<T>(string path, PlanReader.Reader<T> read) where T : class
    {
        byte[] bytes = File.ReadAllBytes(path);
        try { return read(bytes); }
        catch (JsonException e) { throw new JsonException($"{path}: {e.Message}", e); }
    }

    /// <summary>Writes the handshake line straight to fd 1: Console would keep a dup of the pipe open in the monitor
    /// and the caller would never see end-of-file.</summary>
    internal static void Handshake(LaunchResult result) => Write(1, [.. PlanWriter.LaunchResult(result), (byte)'\n']);

    /// <summary>
    /// Closes fds above 2 that the caller leaked to us (they lack FD_CLOEXEC; the runtime's own fds all have it),
    /// so a monitor that outlives its caller holds none of the caller's pipes open (and none can reach a container:
    /// the child closes every fd above 2 again before exec).
    /// </summary>
    internal static void CloseInheritedFds()
    {
        // getdents64 on /proc/self/fd, not Directory.EnumerateFileSystemEntries: that one stats every entry twice and
        // builds a string for each, on the path of every start.
        int dir;
        fixed (byte* path = "/proc/self/fd\0"u8) dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (dir < 0) return;
        var fds = new List<int>();
        byte* buf = stackalloc byte[4096];
        nint n;
        while ((n = Getdents64(dir, buf, 4096)) > 0)
        {
            for (nint at = 0; at < n;)
            {
                ushort reclen = *(ushort*)(buf + at + 16);
                var name = new ReadOnlySpan<byte>(buf + at + 19, reclen - 19);
                name = name[..Math.Max(0, name.IndexOf((byte)0))];
                if (System.Buffers.Text.Utf8Parser.TryParse(name, out int fd, out int used) && used == name.Length && fd > 2 && fd != dir)
                    fds.Add(fd);
                at += reclen;
            }
        }
        close(dir);
        foreach (int fd in fds)
        {
            int flags = fcntl(fd, 1 /* F_GETFD */, 0);
            if (flags >= 0 && (flags & 1 /* FD_CLOEXEC */) == 0) close(fd);
        }
    }

    internal static void WriteLine(int fd, string text) => Write(fd, System.Text.Encoding.UTF8.GetBytes(text + "\n"));

    private static void Write(int fd, byte[] bytes)
    {
        fixed (byte* b = bytes)
        {
            nint done = 0;
            while (done < bytes.Length)
            {
                nint n = write(fd, b + done, bytes.Length - done);
                if (n < 0 && Errno == EINTR) continue;
                if (n <= 0) break;
                done += n;
            }
        }
    }

    internal sealed class Monitor(LaunchPlan plan, RuntimeSpec spec, Supervisor supervisor)
    {
        private readonly bool _inherit = plan.Stdio == StdioMode.Inherit;
        /// <summary>process.terminal: the container gets a pseudo-terminal of its own devpts whose master the monitor holds:
        /// logged in log mode; in inherit mode relayed to the caller's terminal (only when fd 0 is one: else it inherits as is).</summary>
        private readonly bool _tty = spec.Process?.Terminal == true && (plan.Stdio == StdioMode.Log || isatty(0) == 1);
        /// <summary>Inherit mode: the signal handlers that forward to the container (held: a collected registration ends).</summary>
        private readonly List<PosixSignalRegistration> _signals = [];
        private readonly ContainerRuntimeState _state = new()
        {
            ContainerId = plan.ContainerId, MonitorPid = Environment.ProcessId, Status = ContainerStatus.Created,
            BundleDir = plan.BundleDir, CgroupProcsFiles = plan.CgroupProcsFiles, RestartCount = supervisor.Restarts,
        };

        /// <summary><see cref="InitRun.AwaitGo"/>: the caller makes the cgroups while this prepares; one byte, 1, on stdin
        /// says they are there.</summary>
        public bool AwaitGo { get; init; }

        /// <summary>The go byte when a spare read it with the command.</summary>
        public byte? GoRead { get; init; }

        /// <summary>A network namespace a spare made ahead, or -1: the child joins it instead of making one.</summary>
        public int PreparedNetNs { get; init; } = -1;

        /// <summary>Waits for the caller's go byte; false on anything else (end-of-file: it gave the start up or died).</summary>
        private bool Go()
        {
            if (GoRead is { } early) return early == 1;
            byte go = 0;
            nint n;
            while ((n = read(0, &go, 1)) < 0 && Errno == EINTR) { }
            return n == 1 && go == 1;
        }

        public int Start()
        {
            ChildSpec child;
            ulong flags;
            bool userNs;
            // The child joins the namespace a spare made (its loopback up already) instead of cloning one.
            bool joinsPrepared = false;
            FileStream? log = null;
            CgroupJoin join;
            try
            {
                flags = Preparer.CloneFlags(spec, out userNs);
                child = Preparer.Prepare(plan, spec, userNs);
                MountPoints.MakeTopLevel(plan, spec, userNs);
                if (AwaitGo && !Go()) throw new Preparer.PlanException("StartAbandoned", "the caller gave the start up before its cgroups were made");
                join = CgroupJoin.Open(plan.CgroupProcsFiles);
                child.CgroupTaskFds = join.TaskFds;
                child.CgroupTaskIndexes = join.TaskIndexes;
                if (Preparer.NetworkNamespacePath(spec) is { } netns)
                {
                    child.NetNsFd = open(NativeString.Of(netns), O_RDONLY | O_CLOEXEC, 0);
                    if (child.NetNsFd < 0) throw new Preparer.PlanException("NetworkNamespaceMissing", $"opening the network namespace {netns}: {StrError(Errno)}");
                }
                if (PreparedNetNs >= 0)
                {
                    if ((flags & CLONE_NEWNET) != 0 && !userNs && child.NetNsFd < 0)
                    {
                        flags &= ~CLONE_NEWNET;
                        child.NetNsFd = PreparedNetNs;
                        joinsPrepared = true;
                    }
                    else close(PreparedNetNs);
                }
                child.IpcNsFd = OpenJoined(spec, "ipc");
                child.UtsNsFd = OpenJoined(spec, "uts");
                if (!_inherit)
                {
                    if (plan.LogPath is not { Length: > 0 } logPath) throw new Preparer.PlanException("BadPlan", "stdio mode log needs logPath");
                    Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
                    // 0600: the log holds what the container prints, secrets included; only its owner reads it.
                    log = new FileStream(logPath, new FileStreamOptions
                    {
                        Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 1,
                        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                    });
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Preparer.PlanException)
            {
                return Failed(e.Message, (e as Preparer.PlanException)?.ErrorId ?? "BadPlan", StartFailed);
            }

            // Closing the caller's terminal or session must not reach the container.
            if (!_inherit) setsid();

            int* sync = stackalloc int[2];
            int* errp = stackalloc int[2];
            int* outp = stackalloc int[2];
            int* errout = stackalloc int[2];
            int* console = stackalloc int[2];
            outp[0] = outp[1] = errout[0] = errout[1] = console[0] = console[1] = -1;
            if (pipe2(sync, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0
                || (!_inherit && !_tty && (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errout, O_CLOEXEC) != 0))
                || (_tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) != 0))
                return Failed("pipe: " + StrError(Errno), "PipeFailed", StartFailed);
            child.SyncFd = sync[0];
            child.ErrorFd = errp[1];
            if (!_inherit)
            {
                // With a terminal, /dev/null holds fds 0-2 until the child puts the pty's slave there.
                child.StdinFd = open(NativeString.Of("/dev/null"), (_tty ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
                child.StdoutFd = _tty ? child.StdinFd : outp[1];
                child.StderrFd = _tty ? child.StdinFd : errout[1];
            }
            if (_tty)
            {
                child.ConsoleSocket = console[1];
                child.Ptmx = NativeString.Of("/dev/ptmx");
                child.PtsPtmx = NativeString.Of("/dev/pts/ptmx");
            }
            child.LoopbackUp = ((flags & CLONE_NEWNET) != 0 || child.NetNsFd >= 0) && !joinsPrepared;
            // The cgroup namespace is made by the child once it is in its cgroups (as runc does), not at clone.
            child.UnshareCgroup = (flags & CLONE_NEWCGROUP) != 0;
            flags &= ~CLONE_NEWCGROUP;
            if (userNs) child.SetgroupsAllowed = plan.NewGidMap is not null || geteuid() == 0;
            var oom = new OomCount(plan.CgroupProcsFiles);
            long oomBefore = oom.Read();

            var noGc = NoGc.Enter();
            // Born in its cgroup2 directory when there is one; the parent joins it after a plain clone when clone3 refuses.
            int pid = join.IntoFd >= 0 ? CloneIntoCgroup(flags, SIGCHLD, join.IntoFd) : -1;
            string? parentJoins = pid < 0 ? join.IntoProcs : null;
            if (pid < 0) pid = Clone(flags | (ulong)SIGCHLD);
            if (pid == 0)
            {
                ContainerChild.Run(child);
                _exit(1);
            }
            int cloneErr = Errno;
            noGc.Dispose();
            join.CloseAll();
            // The made-ahead network namespace is the container's now: held by it, not by its monitor.
            if (joinsPrepared) close(PreparedNetNs);
            if (_inherit && pid > 0)
            {
                // The container has a session of its own, so the caller's terminal signals us, not it: pass them on (the
                // container decides). Registered only after clone: the runtime's signal thread must not exist (or hold
                // locks) when the child is made.
                foreach (var (posix, number) in new[] { (PosixSignal.SIGINT, SIGINT), (PosixSignal.SIGQUIT, 3), (PosixSignal.SIGHUP, SIGHUP) })
                    _signals.Add(PosixSignalRegistration.Create(posix, c => { kill(pid, number); c.Cancel = true; }));
            }
            close(sync[0]);
            close(errp[1]);
            if (!_inherit) { close(child.StdinFd); close(outp[1]); close(errout[1]); }
            if (console[1] >= 0) close(console[1]);
            if (pid < 0) return Failed($"clone: {StrError(cloneErr)}", "CloneFailed", StartFailed);
            // The container's mount namespace, held until its exit is recorded: else the container's last act is its
            // teardown (every mount, an RCU grace period, and the overlay's unmount, which syncs the whole upper file
            // system) before it may be reaped: 1-10 ms between its exit_group and our wait4 here, under load. Closed last.
            int mountNs = open(NativeString.Of("/proc/" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/ns/mnt"), O_RDONLY | O_CLOEXEC, 0);

            string? setupError = null, setupId = null;
            if (userNs)
            {
                var uids = spec.Linux?.UidMappings is { Count: > 0 } u ? u : [new LinuxIdMapping { ContainerId = 0, HostId = getuid(), Size = 1 }];
                var gids = spec.Linux?.GidMappings is { Count: > 0 } g ? g : [new LinuxIdMapping { ContainerId = 0, HostId = getgid(), Size = 1 }];
                setupError = IdMaps.Write(pid, uids, gids, plan.NewUidMap, plan.NewGidMap);
                setupId = "IdMapFailed";
            }
            if (setupError is null && parentJoins is not null
                && !IdMaps.TryWriteFile(parentJoins, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), out string? joinError))
            {
                setupError = "joining cgroup: " + joinError;
                setupId = "CgroupJoinFailed";
            }

            // Rootless networking: the helper joins the namespaces by pid, so the id maps must be written; the container
            // waits on the sync pipe until its network is configured.
            int helper = 0;
            if (setupError is null && plan.NetworkHelper is { } net)
            {
                setupError = NetworkHelper.Start(net, pid, out helper);
                setupId = "NetworkSetupFailed";
                _state.NetworkHelperPid = helper;
                _state.NetworkHelperStartTime = helper > 0 ? StateFile.StartTime(helper) : 0;
            }

            // From here the monitor spawns nothing of its own but health checks (their thread resets this) and a restart
            // (reset before its exec), so what runs on the container's path from now on is not held up behind other work.
            SchedSlice.Short();
            byte go = setupError is null ? (byte)1 : (byte)0;
            write(sync[1], &go, 1);
            close(sync[1]);
            if (setupError is null) PrepareRunningState(pid);

            int* report = stackalloc int[3];
            nint got = Probe.ReadFull(errp[0], (byte*)report, 12);
            close(errp[0]);
            // With a terminal, the child sent the pty's master before it exec'd (end-of-file when it failed earlier).
            int master = -1;
            if (_tty)
            {
                if (setupError is null && got != 12)
                {
                    master = ReceiveFd(console[0]);
                    if (master < 0) setupError = "the container's pseudo-terminal did not reach the monitor";
                    setupId = "TerminalFailed";
                }
                close(console[0]);
            }
            if (setupError is not null || got == 12)
            {
                _state.PidStartTime = 0; // no run to recognise
                int status;
                kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && Errno == EINTR) { }
                StopNetworkHelper(helper);
                // A child that mounts while we join its cgroups may have failed first: its report is the cause (the
                // join then failed because it was gone).
                if (setupError is not null && got != 12) return Failed(setupError, setupId!, StartFailed, log);
                var (message, id, code) = StartFailure.Describe(spec, (ChildStep)report[0], report[1], report[2], plan.CgroupProcsFiles);
                return Failed(message, id, code, log);
            }

            // The command is running. Nothing reads the bundle from here on: let its objects (the seccomp profile's few
            // hundred names, the mounts) go with the collection that precedes the idle trim.
            spec = null!;
            _state.Status = ContainerStatus.Running;
            _state.Pid = pid;
            _state.StartedAt = DateTimeOffset.UtcNow;
            StateFile.Write(plan.StateDir, _state);
            supervisor.AfterLaunch(pid);
            if (plan.Health is { } health) new HealthMonitor(plan, health, supervisor, pid, _state.PidStartTime, _state.StartedAt.Value).Start();
            int pidfd = PidfdOpen(pid);
            if (!_inherit)
            {
                Handshake(new LaunchResult { Pid = pid, MonitorPid = Environment.ProcessId });
                Detach();
                StateFile.ReleaseReplaced(); // a restart's previous stopped state
                var pump = new LogPump(log!) { Terminal = _tty };
                // From here the monitor only copies output and waits. Once the container has been quiet for a second,
                // give back what starting it cost: an aggressive collection decommits the free GC memory left by parsing
                // the plan and the bundle, and the clean program and libc pages are dropped from the resident set.
                // Not done at once: a short container (/bin/true) would wait for it before its exit is recorded.
                bool collected = false;
                void Idle()
                {
                    if (!collected) GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    collected = true;
                    Trim.DropCleanFilePages();
                }
                // A terminal has one stream: everything the container writes to it is logged as stdout (as conmon does).
                if (_tty) pump.Run(master, -1, pidfd, Idle);
                else pump.Run(outp[0], errout[0], pidfd, Idle);
                log!.Dispose();
            }
            // Attached with a terminal: this terminal in raw mode, relayed to the container's own until it hangs up.
            else if (_tty) TerminalRelay.Run(master);
            int ws;
            while (waitpid(pid, &ws, 0) < 0 && Errno == EINTR) { }
            var (exit, signal) = DecodeWaitStatus(ws);
            StopNetworkHelper(helper);
            _state.Status = ContainerStatus.Stopped;
            _state.ExitCode = exit;
            _state.Signal = signal;
            _state.FinishedAt = DateTimeOffset.UtcNow;
            _state.OomKilled = oom.Read() > oomBefore;
            _state.RestartPending = supervisor.ShouldRestart(_state);
            supervisor.Exited(_state); // before the state: whoever sees the exit finds its die in the journal
            StateFile.Write(plan.StateDir, _state);
            StateFile.ReleaseReplaced();
            if (_state.RestartPending)
            {
                supervisor.Restart(_state); // returns only when a stop came during the delay
                _state.RestartPending = false;
                StateFile.Write(plan.StateDir, _state);
                StateFile.ReleaseReplaced();
            }
            CgroupRelease.Run(plan.CgroupProcsFiles);
            if (mountNs >= 0) close(mountNs); // the unmounts (and the overlay's sync) happen here, after the exit is known
            return _inherit ? exit : 0;
        }

        /// <summary>
        /// While the child sets itself up (mounts, pivot_root, credentials: 2-3 ms, on the other core when there is one),
        /// what the running state and the handshake need that does not wait for the exec: the start time (fixed at clone;
        /// the pid is our unreaped child, so it cannot be reused), the boot id, the temp files of the running and the stopped
        /// state (<see cref="StateFile.MakeAhead"/>), and a first pass through the state's JSON
        /// writer and the handshake's (their static constructors, the encoder's tables, their code paged in). A /bin/true has
        /// run its course 0.3 ms after its exec, so everything the monitor does between the exec and its wait delays the
        /// caller's Start -Wait.
        /// </summary>
        private void PrepareRunningState(int pid)
        {
            _state.PidStartTime = StateFile.StartTime(pid);
            _state.BootId ??= StateFile.BootId();
            StateFile.MakeAhead(plan.StateDir, 2); // the running and the stopped state's temp files
            PlanWriter.WriteState(Stream.Null, _state);
            PlanWriter.LaunchResult(new LaunchResult { Pid = pid, MonitorPid = _state.MonitorPid });
        }

        /// <summary>The container has exited (or never started): its network helper goes with it.</summary>
        private void StopNetworkHelper(int helper)
        {
            if (helper <= 0) return;
            NetworkHelper.Stop(helper, child: plan.NetworkHelper?.Kind == "slirp4netns");
            if (plan.NetworkHelper?.ApiSocket is { } socket) try { File.Delete(socket); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            _state.NetworkHelperPid = 0;
            _state.NetworkHelperStartTime = 0;
        }

        private int Failed(string message, string errorId, int exitCode, FileStream? log = null)
        {
            int code = exitCode is 126 or 127 ? exitCode : StartFailed;
            _state.Status = ContainerStatus.Stopped;
            _state.Error = message;
            _state.ExitCode = code;
            _state.FinishedAt = DateTimeOffset.UtcNow;
            try { StateFile.Write(plan.StateDir, _state); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            StateFile.ReleaseReplaced();
            StateFile.DiscardAhead();
            if (supervisor.Restarts > 0) supervisor.Event("die", code, new() { ["error"] = message });
            if (log is not null)
            {
                // The reason also lands in the container's log, as its runtime's stderr would.
                byte[] line = System.Text.Encoding.UTF8.GetBytes(new ContainerLogLine(DateTimeOffset.UtcNow, LogStream.Stderr, false, "pscontainers-init: " + message) + "\n");
                try { log.Write(line); log.Flush(); } catch (IOException) { }
            }
            WriteLine(2, $"pscontainers-init: {message}");
            if (!_inherit) Handshake(new LaunchResult { MonitorPid = Environment.ProcessId, Error = message, ErrorId = errorId, ExitCode = code });
            return code;
        }

        /// <summary>The pod namespace of that type the bundle joins, opened close-on-exec for the child; -1 when it joins none.</summary>
        private static int OpenJoined(RuntimeSpec spec, string type)
        {
            if (Preparer.JoinedNamespacePath(spec, type) is not { } path) return -1;
            int fd = open(NativeString.Of(path), O_RDONLY | O_CLOEXEC, 0);
            if (fd < 0) throw new Preparer.PlanException("PodNamespaceMissing", $"opening the {type} namespace {path}: {StrError(Errno)}");
            return fd;
        }

        /// <summary>Point fds 0-2 at /dev/null: the caller reading the handshake sees end-of-file.</summary>
        private static void Detach()
        {
            int fd = open(NativeString.Of("/dev/null"), O_RDWR, 0);
            if (fd < 0) return;
            dup2(fd, 0); dup2(fd, 1); dup2(fd, 2);
            if (fd > 2) close(fd);
        }
    }
}
