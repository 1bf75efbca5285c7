using System.Diagnostics;
using System.Text.Json;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// The one owner of starting <c>pscontainers-init</c>: every command line comes from <see cref="InitCommand"/> (which
/// Init parses), and this class alone reads the run handshake, kills a monitor that failed it, and describes where a
/// stuck monitor is blocked.
/// </summary>
internal sealed class InitLauncher(string initPath)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<InitLauncher>();

    public string InitPath { get; } = initPath;

    /// <summary>How long <see cref="Handshake"/> waits for Init's handshake.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Throws InitNotFound when the binary is missing.</summary>
    public void EnsureExists()
    {
        if (!File.Exists(InitPath))
            throw new ContainersException("InitNotFound", ErrorKind.ResourceUnavailable,
                $"The container monitor '{InitPath}' is missing.", InitPath, "Reinstall the module.");
    }

    /// <summary>The path of newuidmap or newgidmap, needed to map subordinate id ranges.</summary>
    public static string FindIdMapTool(string name)
    {
        foreach (string dir in (string[])["/usr/bin", "/usr/sbin", "/bin", "/usr/local/bin"])
            if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        throw new ContainersException("IdMapHelperNotFound", ErrorKind.ResourceUnavailable,
            $"{name} is not installed; it is needed to map subordinate id ranges.", name, "Install the uidmap package.");
    }

    private Process Start(InitCommand command, bool redirect, string target, string what)
    {
        var psi = new ProcessStartInfo(InitPath, command.ToArgs())
        {
            UseShellExecute = false,
            RedirectStandardInput = redirect,
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
        };
        return Process.Start(psi) ?? throw new ContainersException("InitFailed", ErrorKind.ResourceUnavailable, $"Could not start {what}.", target);
    }

    /// <summary>Inherit mode: Init runs in the foreground on our stdio; returns when it has exited.</summary>
    public async Task RunAttachedAsync(string planPath, string name)
    {
        using var process = Start(new InitRun(planPath), redirect: false, name, "the container monitor");
        Log.Information("Started container {Name} attached", name);
        // Ctrl+C reaches the container through the terminal; we keep waiting for it to end.
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The monitor binaries that gave a handshake in this session (those get spares).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Served = new(StringComparer.Ordinal);

    /// <summary>
    /// Hands <c>pscontainers-init run --plan</c> to the session's spare monitor (<see cref="SpareMonitor"/>) when there is a
    /// usable one, else starts a new monitor process; <see cref="Handshake"/> then reads its answer. Done on the caller's
    /// thread: the monitor sets the container up while the caller goes on to wait for it. With
    /// <paramref name="awaitGo"/> the monitor prepares the start but makes the container only after <see cref="Go"/>.
    /// </summary>
    public Process Begin(string planPath, string name, bool awaitGo = false)
    {
        var command = new InitRun(planPath) { AwaitGo = awaitGo };
        var monitor = SpareMonitor.TryTake(InitPath, command) ?? StartFresh(command, name);
        // Once this binary has served a start, the next spare starts now, in SCHED_IDLE: it uses the CPU left idle while
        // this container is set up (only its child runs then) and is ready for a start that follows at once; it rehearses
        // this start's plan meanwhile. (Not before: a binary that never gave a handshake gets no spare.)
        if (Served.ContainsKey(InitPath)) SpareMonitor.Replenish(InitPath, planPath);
        return monitor;
    }

    /// <summary>
    /// Reads the one-line handshake of a monitor <see cref="Begin"/> started, and disposes it. Read on this thread, with
    /// poll: the handshake comes within milliseconds, and asynchronous pipe reads (an epoll registration and a thread-pool
    /// hop per line, plus a reader kept on stderr) cost more than the wait. stderr is read only when the start failed.
    /// </summary>
    public LaunchResult Handshake(Process monitor, string name, CancellationToken ct)
    {
        using var process = monitor;
        var stdout = (System.IO.Pipes.PipeStream)process.StandardOutput.BaseStream;
        var deadline = Stopwatch.StartNew();
        // Slices keep Ctrl+C and the timeout responsive while the monitor sets the container up.
        while (!Native.Processes.WaitReadable(stdout.SafePipeHandle, 50))
        {
            if (ct.IsCancellationRequested)
            {
                // Ctrl+C before the handshake: the start is abandoned, so is the monitor (and its child, by pid).
                KillMonitor(process);
                ct.ThrowIfCancellationRequested();
            }
            if (deadline.Elapsed < HandshakeTimeout) continue;
            // Say where the monitor and its child are blocked before they are killed: state, wchan and current
            // system call of every thread of both.
            Log.Warning("The monitor of {Name} gave no handshake within {Seconds} s: {Where}", name, HandshakeTimeout.TotalSeconds, DescribeTree(process.Id));
            KillMonitor(process);
            throw new ContainersException("InitTimeout", ErrorKind.Timeout, $"The monitor of {name} did not report within {HandshakeTimeout.TotalSeconds} s.", name);
        }
        // The monitor writes the line at once; ready means the line (or end-of-file) is there.
        string? line = process.StandardOutput.ReadLine();
        LaunchResult? result = null;
        if (!string.IsNullOrWhiteSpace(line))
            try { result = JsonSerializer.Deserialize(line, PlanJsonContext.Default.LaunchResult); }
            catch (JsonException) { }
        if (result is not null && Served.TryAdd(InitPath, true)) SpareMonitor.Replenish(InitPath);
        if (result is null)
        {
            // No handshake: the monitor is failing. It must not stay behind (a monitor that closed its stdout but lives on).
            if (!process.WaitForExit(2000)) KillMonitor(process);
            string err = ReadFailure(process);
            throw new ContainersException("InitFailed", ErrorKind.ResourceUnavailable,
                $"The monitor of {name} failed before it could start the container: {(err.Length > 0 ? err : line ?? "no output")}", name);
        }
        return result;
    }

    private Process StartFresh(InitRun command, string name)
    {
        var process = Start(command, redirect: true, name, "the container monitor");
        if (!command.AwaitGo) process.StandardInput.Close();
        return process;
    }

    /// <summary>Lets a monitor begun with awaitGo make the container (its cgroups exist now).</summary>
    public static void Go(Process monitor)
    {
        // A monitor that died meanwhile fails the write (EPIPE): its handshake (end-of-file) says so.
        try
        {
            monitor.StandardInput.BaseStream.WriteByte(1);
            monitor.StandardInput.Close();
        }
        catch (IOException) { }
    }

    /// <summary>Ends a monitor begun with awaitGo whose start failed before <see cref="Go"/>: nothing was started.</summary>
    public static void Abandon(Process monitor)
    {
        using (monitor) KillMonitor(monitor);
    }

    /// <summary>What a failed monitor wrote on stderr (at most 8 KiB), read until end-of-file or for at most a second: a
    /// process it started could still hold the pipe.</summary>
    private static string ReadFailure(Process process)
    {
        var stderr = (System.IO.Pipes.PipeStream)process.StandardError.BaseStream;
        var text = new MemoryStream();
        var buffer = new byte[4096];
        var waited = Stopwatch.StartNew();
        while (text.Length < 8192 && waited.ElapsedMilliseconds < 1000
            && Native.Processes.WaitReadable(stderr.SafePipeHandle, (int)Math.Max(1, 1000 - waited.ElapsedMilliseconds)))
        {
            int n = stderr.Read(buffer);
            if (n <= 0) break;
            text.Write(buffer, 0, n);
        }
        return System.Text.Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length).Trim();
    }

    /// <summary>
    /// Runs <c>pscontainers-init exec</c> for a process file. Captured output lines go to the callbacks (a terminal's CR
    /// is dropped); with <paramref name="inherit"/> the process shares this session's stdio. Returns the exit code.
    /// </summary>
    public async Task<int> ExecAsync(string stateDir, string processFile, bool inherit, bool tty, string name,
        Action<string>? stdout, Action<string>? stderr, System.Threading.Channels.ChannelReader<byte[]>? stdin, CancellationToken ct)
    {
        using var process = Start(new InitExec(stateDir, processFile), redirect: !inherit, name, "the exec helper");
        Log.Debug("Exec in {Name} (helper pid {Pid})", name, process.Id);
        Task feeding = Task.CompletedTask;
        if (!inherit)
        {
            if (stdin is null) process.StandardInput.Close();
            else feeding = FeedAsync(process, stdin, ct);
            // A terminal ends its lines with CR LF and has one stream (stderr arrives with stdout).
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout?.Invoke(tty ? e.Data.TrimEnd('\r') : e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr?.Invoke(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
        try
        {
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: Init forwards SIGTERM to the process.
            Native.Processes.Kill(process.Id, Native.Processes.SIGTERM);
            if (!process.WaitForExit(5000)) process.Kill();
            throw;
        }
        process.WaitForExit(); // drains the redirected streams
        await feeding.ConfigureAwait(false);
        return process.ExitCode;
    }

    /// <summary>Writes the caller's input to the exec helper's stdin (the process's) as it arrives, pieces already waiting
    /// gathered into one write, then closes it; a process that exits without reading all of it (head -1) is no error, as
    /// with a native command in a pipeline: the rest is read and dropped.</summary>
    private static async Task FeedAsync(Process process, System.Threading.Channels.ChannelReader<byte[]> stdin, CancellationToken ct)
    {
        const int batch = 1 << 16;
        var stream = process.StandardInput.BaseStream;
        var buffer = new MemoryStream();
        try
        {
            while (await stdin.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (buffer.Length < batch && stdin.TryRead(out byte[]? piece)) buffer.Write(piece);
                await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
                buffer.SetLength(0);
            }
        }
        catch (IOException e)
        {
            Log.Debug("The process stopped reading its input: {Reason}", e.Message);
            while (await stdin.WaitToReadAsync(ct).ConfigureAwait(false)) while (stdin.TryRead(out _)) { }
        }
        finally
        {
            try { process.StandardInput.Close(); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Deletes a tree in a new user namespace with the given maps (<c>pscontainers-init remove-tree</c>: newuidmap and
    /// newgidmap write them; its root then owns every file the container could have written), as <c>podman unshare rm</c>.
    /// Throws IOException with the monitor's reason when it fails.
    /// </summary>
    public void RemoveTreeInUserNamespace(string dir, IReadOnlyList<LinuxIdMapping> uids, IReadOnlyList<LinuxIdMapping> gids)
    {
        string? newUidMap = null, newGidMap = null;
        if (uids.Count > 1 || gids.Count > 1)
        {
            try { (newUidMap, newGidMap) = (FindIdMapTool("newuidmap"), FindIdMapTool("newgidmap")); }
            catch (ContainersException e) { throw new IOException(e.Message, e); }
        }
        var command = new InitRemoveTree([.. uids], [.. gids], newUidMap, newGidMap, dir);
        Process process;
        try { process = Start(command, redirect: true, dir, "pscontainers-init remove-tree"); }
        catch (ContainersException e) { throw new IOException(e.Message, e); }
        using (process)
        {
            process.StandardInput.Close();
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(120_000))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new IOException($"pscontainers-init remove-tree did not finish deleting {dir} within 120 s.");
            }
            if (process.ExitCode != 0 || Directory.Exists(dir))
                throw new IOException($"deleting it in a user namespace failed (exit code {process.ExitCode}): {stderr.Result.Trim()}");
        }
    }

    /// <summary>Kills a monitor we started and its descendants (the container's init, when cloned), and reaps it.</summary>
    private static void KillMonitor(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>"pid 12 (S, wchan pipe_read, syscall 0 ...); pid 13 ..." for a process, its threads and its children.</summary>
    private static string DescribeTree(int pid)
    {
        var parts = new List<string>();
        void Add(int p, int depth)
        {
            if (depth > 3) return;
            try
            {
                foreach (string task in Directory.EnumerateDirectories($"/proc/{p}/task"))
                {
                    string Read(string f) { try { return File.ReadAllText(Path.Combine(task, f)).Trim(); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?"; } }
                    string stat = Read("stat");
                    int close = stat.LastIndexOf(')');
                    char state = close > 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
                    string sys = Read("syscall");
                    parts.Add($"{(depth == 0 ? "monitor" : "child")} {p}/{Path.GetFileName(task)} ({state}, wchan {Read("wchan")}, syscall {sys.Split(' ')[0]})");
                    foreach (string c in Read("children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        if (int.TryParse(c, out int child)) Add(child, depth + 1);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        Add(pid, 0);
        return parts.Count == 0 ? "the monitor is gone" : string.Join("; ", parts);
    }
}
