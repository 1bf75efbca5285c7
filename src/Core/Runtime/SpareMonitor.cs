using System.Diagnostics;
using System.Text;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// One <c>pscontainers-init spare</c> kept ready per session: a monitor process started when a start hands over its
/// command (in the background, off the next start's path) that has finished the runtime's start-up and blocks reading its
/// stdin. The next
/// <see cref="InitLauncher.Begin"/> writes its <c>run</c> command line there instead of starting a process, and the spare
/// becomes that container's monitor exactly as a fresh one would (Init's <c>Launch/Spare.cs</c>).
/// <para>Never a daemon: only this session holds its stdin, so it ends when the session ends (killed too: the kernel closes
/// the pipe) or after <see cref="IdleSeconds"/> unused; no container knows it. A spare that is gone (killed, timed out)
/// fails the write with EPIPE and the start falls back to a fresh monitor. What a process inherits when it is started
/// (environment, working directory, umask, credentials, rlimits, cgroups, the binary itself) is compared with what it was
/// at the spare's start (<see cref="Fingerprint"/>): a spare that differs is given up, never used.</para>
/// <para>Where the session may raise a priority again (CAP_SYS_NICE) a spare starts and waits in SCHED_IDLE, and is given
/// SCHED_OTHER, every thread, before it reads its command: its start-up came right when a short container ended and took a
/// CPU from the session that was waiting for that exit (tracepoints: container exit to Remove-Container 1.29 -> 0.88 ms).
/// It rehearses the plan of the start that spawned it and, as root, makes the next container's network namespace while it
/// waits (Init's <c>Launch/Spare.cs</c>).</para>
/// </summary>
internal sealed class SpareMonitor : IDisposable
{
    /// <summary>Five minutes: long enough to serve the next start of someone working at a prompt, short enough that an
    /// idle session does not keep an unused process (about 2 MiB resident) for long.</summary>
    public const int IdleSeconds = 300;

    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<SpareMonitor>();
    private static readonly string[] StatusFields =
        ["Umask:", "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:", "Cpus_allowed_list:", "Mems_allowed_list:"];
    private static readonly string[] ProcFiles = ["/proc/self/limits", "/proc/self/cgroup", "/proc/self/oom_score_adj"];

    private static SpareMonitor? s_ready;
    private static int s_starting;

    private readonly Process _process;
    private readonly string _fingerprint;

    private SpareMonitor(Process process, string fingerprint) => (_process, _fingerprint) = (process, fingerprint);

    /// <summary>
    /// Hands <paramref name="command"/> to the session's spare for <paramref name="initPath"/> and returns its process (the
    /// caller owns it now: read its handshake as a fresh monitor's), or null when there is none to use: none yet, started
    /// under a different state of this session (given up), or gone.
    /// </summary>
    public static Process? TryTake(string initPath, InitRun command)
    {
        var spare = Interlocked.Exchange(ref s_ready, null) ?? AwaitStarting();
        if (spare is null) return null;
        if (spare._fingerprint != Fingerprint(initPath))
        {
            Log.Debug("The spare monitor {Pid} was started under another environment or binary: given up", spare._process.Id);
            spare.Dispose();
            return null;
        }
        if (s_idle && !Native.Scheduling.RestoreProcess(spare._process.Id))
        {
            Log.Debug("The spare monitor {Pid} could not be given its normal priority back: given up", spare._process.Id);
            spare.Dispose();
            return null;
        }
        try
        {
            // Each argument ended by a NUL, then an empty one: the end of the command. Stdin stays open for a go byte.
            var stdin = spare._process.StandardInput.BaseStream;
            stdin.Write(Encoding.UTF8.GetBytes(string.Concat(command.ToArgs().Select(a => a + "\0")) + "\0"));
            stdin.Flush();
            if (!command.AwaitGo) spare._process.StandardInput.Close();
            return spare._process;
        }
        catch (IOException e)
        {
            // EPIPE: it ended (its idle time, or someone killed it). Its exit is reaped by the runtime.
            Log.Debug("The spare monitor {Pid} is gone ({Reason}): starting a fresh one", spare._process.Id, e.Message);
            spare.Dispose();
            return null;
        }
    }

    /// <summary>
    /// The spare being started in SCHED_IDLE, if any: its thread gets the normal policy for the rest of that start and is
    /// waited for (a fork and exec, well under a millisecond on a free CPU), which is cheaper than a fresh monitor. On a
    /// machine too busy for even that, after <see cref="StartingWaitMs"/> the start goes on with a fresh monitor.
    /// </summary>
    private static SpareMonitor? AwaitStarting()
    {
        if (!s_idle || Volatile.Read(ref s_starting) == 0) return null;
        Native.Scheduling.Restore(s_threadId);
        Started.Wait(StartingWaitMs);
        return Interlocked.Exchange(ref s_ready, null);
    }

    private const int StartingWaitMs = 20;

    /// <summary>Starts the next spare in the background unless one is ready or starting; it rehearses with
    /// <paramref name="warmPlan"/> (the plan of the start that just succeeded) while it waits.</summary>
    public static void Replenish(string initPath, string? warmPlan = null)
    {
        if (Volatile.Read(ref s_ready) is not null || Interlocked.Exchange(ref s_starting, 1) == 1) return;
        Started.Reset();
        lock (Wake)
        {
            s_initPath = initPath;
            s_warmPlan = warmPlan;
            // One thread of its own, asleep between spares: a thread-pool hop per start left a worker spinning for work
            // (strace: 74 more sched_yield per start than this thread).
            if (s_thread is null)
            {
                s_thread = new Thread(SpawnLoop) { IsBackground = true, Name = "pscontainers spare monitor" };
                s_thread.Start();
            }
        }
        Wake.Set();
    }

    private static readonly AutoResetEvent Wake = new(false);
    private static readonly ManualResetEventSlim Started = new(true);
    private static string s_initPath = "";
    private static string? s_warmPlan;
    private static Thread? s_thread;
    private static volatile bool s_idle;
    private static int s_threadId;

    private static void SpawnLoop()
    {
        // Spares start in SCHED_IDLE (this thread's fork and the child's exec and start-up, ~1.5 ms of CPU): on a busy
        // machine they wait for a free CPU instead of taking one from the container that just started or the session
        // waiting for it. TryTake gives the spare the normal policy back before it becomes a monitor, so only where that
        // is allowed (CAP_SYS_NICE).
        s_idle = Native.Scheduling.LowerThisThread(out s_threadId);
        while (true)
        {
            Wake.WaitOne();
            // Back to SCHED_IDLE if a start waiting for the last spare raised this thread.
            if (s_idle) Native.Scheduling.IdleThisThread();
            string initPath;
            string? warmPlan;
            lock (Wake) (initPath, warmPlan) = (s_initPath, s_warmPlan);
            try
            {
                string fingerprint = Fingerprint(initPath);
                var psi = new ProcessStartInfo(initPath, new InitSpare(IdleSeconds, warmPlan).ToArgs())
                {
                    UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
                };
                // A lock wait that finds a lock taken meanwhile tries again once this fork is done (the child holds a copy until it execs).
                if (FileSystem.ForkGate.Fork(() => Process.Start(psi)) is { } process) Interlocked.Exchange(ref s_ready, new SpareMonitor(process, fingerprint))?.Dispose();
            }
            catch (Exception e)
            {
                // Whatever went wrong, the next start spawns its monitor itself; an exception must not end this thread
                // (nor, unhandled, the session).
                Log.Debug("No spare monitor: {Reason}", e.Message);
            }
            finally
            {
                Volatile.Write(ref s_starting, 0);
                Started.Set();
            }
        }
    }

    /// <summary>What a started process inherits from this session and the binary it runs, as one string.</summary>
    internal static string Fingerprint(string initPath)
    {
        var text = new StringBuilder(4096);
        Native.FileStat.TryGet(initPath, out long inode, out long mtime, out long ctime, out long size);
        text.Append(initPath).Append('\0').Append(inode).Append(' ').Append(mtime).Append(' ').Append(ctime).Append(' ').Append(size).Append('\0');
        // The environment Process.Start passes (this runtime's copy, which $env: changes).
        var env = Environment.GetEnvironmentVariables();
        var keys = new List<string>(env.Count);
        foreach (object key in env.Keys) keys.Add((string)key);
        keys.Sort(StringComparer.Ordinal);
        foreach (string key in keys) text.Append(key).Append('=').Append(env[key]).Append('\0');
        try
        {
            // Throws when the working directory was deleted (a fresh monitor would inherit that same one): only a change counts.
            text.Append(Environment.CurrentDirectory).Append('\0');
            foreach (string line in ProcText("/proc/self/status").Split('\n'))
                foreach (string field in StatusFields)
                    if (line.StartsWith(field, StringComparison.Ordinal)) { text.Append(line).Append('\n'); break; }
            foreach (string file in ProcFiles) text.Append(ProcText(file)).Append('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { text.Append(e.GetType().Name); }
        return text.ToString();
    }

    /// <summary>A /proc file's text (taken twice per start: SmallFile skips the fstat and flocks of File.ReadAllText).</summary>
    private static string ProcText(string path) => Encoding.UTF8.GetString(FileSystem.SmallFile.Read(path));

    /// <summary>Gives the spare up: end-of-file on its stdin ends it (the runtime reaps it).</summary>
    public void Dispose()
    {
        try { _process.StandardInput.Close(); } catch (IOException) { }
        _process.Dispose();
    }
}
