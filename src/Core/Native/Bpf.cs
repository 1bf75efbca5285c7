using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace Containers.Core.Native;

/// <summary>bpf(2) for cgroup device programs: load one and attach it to a cgroup2 directory.</summary>
internal static unsafe partial class Bpf
{
    private const int BPF_PROG_LOAD = 5, BPF_PROG_ATTACH = 8;
    private const uint BPF_PROG_TYPE_CGROUP_DEVICE = 15, BPF_CGROUP_DEVICE = 6, BPF_F_ALLOW_MULTI = 2;
    // Larger than every union member we fill; the kernel requires the bytes it does not know to be zero.
    private const int AttrSize = 128;

    [LibraryImport("libc", SetLastError = true)] private static partial long syscall(long nr, long cmd, byte* attr, uint size);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);

    private static long SysBpf => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 280 : 321;

    /// <summary>Programs loaded by this process, by instructions and license, kept loaded for the next start with the
    /// same rules: the verifier's pass over a program (a third of a millisecond) ran on every start. Each attachment
    /// holds the program too, so closing these descriptors (at the latest when the session ends) detaches nothing.</summary>
    private static readonly ConcurrentDictionary<string, int> Loaded = new(StringComparer.Ordinal);
    private const int MaxLoaded = 16;

    /// <summary>
    /// Loads the program (or reuses this process's copy of it) and attaches it (BPF_F_ALLOW_MULTI, so programs of
    /// parent cgroups keep running too) to <paramref name="cgroupDir"/>.
    /// </summary>
    public static void AttachDeviceProgram(string cgroupDir, ReadOnlySpan<ulong> program, string license)
    {
        string key = license + ":" + Convert.ToHexString(MemoryMarshal.AsBytes(program));
        bool cached = Loaded.TryGetValue(key, out int prog);
        if (!cached)
        {
            prog = Load(program, license, log: false);
            if (prog < 0)
            {
                int loadErrno = Marshal.GetLastPInvokeError();
                string verifier = VerifierLog(program, license);
                throw new NativeCallException("bpf BPF_PROG_LOAD" + (verifier.Length > 0 ? " [verifier: " + verifier + "]" : ""), cgroupDir, loadErrno);
            }
            cached = Loaded.Count < MaxLoaded && Loaded.TryAdd(key, prog);
        }
        try
        {
            int dir = FileSystemCalls.OpenAt(FileSystemCalls.AT_FDCWD, cgroupDir, FileSystemCalls.O_RDONLY | FileSystemCalls.O_DIRECTORY | FileSystemCalls.O_CLOEXEC);
            try
            {
                byte* attr = stackalloc byte[AttrSize];
                new Span<byte>(attr, AttrSize).Clear();
                *(uint*)attr = (uint)dir;              // target_fd
                *(uint*)(attr + 4) = (uint)prog;       // attach_bpf_fd
                *(uint*)(attr + 8) = BPF_CGROUP_DEVICE; // attach_type
                *(uint*)(attr + 12) = BPF_F_ALLOW_MULTI; // attach_flags
                if (syscall(SysBpf, BPF_PROG_ATTACH, attr, AttrSize) < 0)
                    throw new NativeCallException("bpf(BPF_PROG_ATTACH)", cgroupDir, Marshal.GetLastPInvokeError());
            }
            finally { close(dir); }
        }
        finally
        {
            if (!cached) close(prog);
        }
    }

    private static int Load(ReadOnlySpan<ulong> program, string license, bool log, byte* logBuf = null, uint logSize = 0)
    {
        byte[] lic = Encoding.ASCII.GetBytes(license + "\0");
        byte* attr = stackalloc byte[AttrSize];
        new Span<byte>(attr, AttrSize).Clear();
        fixed (ulong* insns = program)
        fixed (byte* l = lic)
        {
            *(uint*)attr = BPF_PROG_TYPE_CGROUP_DEVICE;   // prog_type
            *(uint*)(attr + 4) = (uint)program.Length;    // insn_cnt
            *(ulong*)(attr + 8) = (ulong)insns;           // insns
            *(ulong*)(attr + 16) = (ulong)l;              // license
            if (log)
            {
                *(uint*)(attr + 24) = 1;                  // log_level
                *(uint*)(attr + 28) = logSize;            // log_size
                *(ulong*)(attr + 32) = (ulong)logBuf;     // log_buf
            }
            Encoding.ASCII.GetBytes("pscontainer_dev", new Span<byte>(attr + 48, 15)); // prog_name (at most 15 chars + NUL)
            return (int)syscall(SysBpf, BPF_PROG_LOAD, attr, AttrSize);
        }
    }

    /// <summary>The verifier's explanation of a refused program (a second load with logging on).</summary>
    private static string VerifierLog(ReadOnlySpan<ulong> program, string license)
    {
        const uint size = 16384;
        byte[] buf = new byte[size];
        fixed (byte* b = buf)
        {
            int fd = Load(program, license, log: true, b, size);
            if (fd >= 0) close(fd);
        }
        int n = Array.IndexOf(buf, (byte)0);
        return Encoding.ASCII.GetString(buf, 0, n < 0 ? buf.Length : n).Trim().Replace('\n', ' ');
    }
}
