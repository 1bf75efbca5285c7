namespace Containers.Core.Runtime.Plan;

/// <summary>
/// Compiles a runtime-spec seccomp section into a classic BPF program for x86_64
/// (<c>struct sock_filter</c> instructions, as <c>prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)</c> takes them).
/// Rules apply in order, first match wins, then the default action. Calls from another ABI
/// (i386 via int 0x80, x32) get ENOSYS: we only carry x86_64 numbers. Names this architecture does
/// not have are skipped, as libseccomp does. Argument comparisons: EQ, NE, LT, LE, GT, GE, MASKED_EQ (64-bit, unsigned).
/// The rules are grouped by system call number (in their order: a rule only matches its own number, so the first match
/// still wins) and found by a binary search on the number, a few numbers per leaf: installing the filter, the kernel runs
/// it once per system call number to build its cache of always-allowed calls, and a chain of about 100 tests made that
/// about 110 us per container start against 45 for the tree (and every call inside walked the chain).
/// </summary>
internal static class SeccompFilter
{
    /// <summary>One <c>struct sock_filter</c>.</summary>
    public readonly record struct Instruction(ushort Code, byte JumpTrue, byte JumpFalse, uint K);

    public const uint RetKillProcess = 0x80000000;
    public const uint RetKillThread = 0x00000000;
    public const uint RetTrap = 0x00030000;
    public const uint RetErrno = 0x00050000;
    public const uint RetTrace = 0x7ff00000;
    public const uint RetLog = 0x7ffc0000;
    public const uint RetAllow = 0x7fff0000;

    private const ushort LdAbsW = 0x20, Ja = 0x05, JeqK = 0x15, JsetK = 0x45, JgeK = 0x35, JgtK = 0x25, RetK = 0x06, AndK = 0x54;
    private const uint OffsetNr = 0, OffsetArch = 4, OffsetArgs = 16;
    private const uint ENOSYS = 38, EPERM = 1;

    /// <summary>The seccomp return value for an action name; throws <see cref="ArgumentException"/> for unknown or unsupported actions.</summary>
    public static uint ActionValue(string action, uint? errno)
    {
        return action switch
        {
            "SCMP_ACT_ALLOW" => RetAllow,
            "SCMP_ACT_ERRNO" => RetErrno | ((errno ?? EPERM) & 0xffff),
            "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => RetKillThread,
            "SCMP_ACT_KILL_PROCESS" => RetKillProcess,
            "SCMP_ACT_TRAP" => RetTrap,
            "SCMP_ACT_LOG" => RetLog,
            "SCMP_ACT_TRACE" => RetTrace | ((errno ?? EPERM) & 0xffff),
            _ => throw new ArgumentException($"unsupported seccomp action '{action}'"),
        };
    }

    /// <summary>Builds the program; throws <see cref="ArgumentException"/> for unknown actions or argument operators.</summary>
    public static List<Instruction> Compile(LinuxSeccomp seccomp)
    {
        var p = new List<Instruction>();
        uint defaultAction = ActionValue(seccomp.DefaultAction, seccomp.DefaultErrnoRet);

        // Architecture check: only x86_64 numbers are known.
        p.Add(new(LdAbsW, 0, 0, OffsetArch));
        p.Add(new(JeqK, 1, 0, SyscallTable.AuditArchX86_64));
        p.Add(new(RetK, 0, 0, RetErrno | ENOSYS));
        p.Add(new(LdAbsW, 0, 0, OffsetNr));
        p.Add(new(JgeK, 0, 1, SyscallTable.X32SyscallBit));
        p.Add(new(RetK, 0, 0, RetErrno | ENOSYS));

        var byNr = new SortedDictionary<uint, List<(List<LinuxSeccompArg>? Args, uint Action)>>();
        foreach (var rule in seccomp.Syscalls ?? [])
        {
            uint action = ActionValue(rule.Action, rule.ErrnoRet);
            foreach (string name in rule.Names)
            {
                int nr = SyscallTable.X86_64(name);
                if (nr < 0) continue;
                if (!byNr.TryGetValue((uint)nr, out var entries)) byNr[(uint)nr] = entries = [];
                entries.Add((rule.Args is { Count: > 0 } ? rule.Args : null, action));
            }
        }
        var sorted = new KeyValuePair<uint, List<(List<LinuxSeccompArg>? Args, uint Action)>>[byNr.Count];
        byNr.CopyTo(sorted, 0);
        p.AddRange(Tree(sorted, defaultAction));
        if (p.Count > 4096) throw new ArgumentException($"seccomp filter too long ({p.Count} instructions, the kernel takes 4096)");
        return p;
    }

    /// <summary>Numbers per leaf of the search: fewer made more instructions to compile, more a longer walk (measured).</summary>
    private const int LeafSize = 8;

    /// <summary>
    /// The rules of <paramref name="nrs"/> (sorted by number, A holding the number): a leaf tests each number in turn and
    /// ends with the default action; a node sends numbers from the middle one up to its right half.
    /// </summary>
    private static List<Instruction> Tree(ArraySegment<KeyValuePair<uint, List<(List<LinuxSeccompArg>? Args, uint Action)>>> nrs, uint defaultAction)
    {
        var p = new List<Instruction>();
        if (nrs.Count <= LeafSize)
        {
            foreach (var (nr, entries) in nrs)
                foreach (var (args, action) in entries)
                {
                    if (args is null)
                    {
                        p.Add(new(JeqK, 0, 1, nr));
                        p.Add(new(RetK, 0, 0, action));
                    }
                    else EmitWithArgs(p, nr, args, action);
                }
            p.Add(new(RetK, 0, 0, defaultAction));
            return p;
        }
        int mid = nrs.Count / 2;
        var left = Tree(nrs[..mid], defaultAction);
        // A conditional jump reaches 255 instructions ahead at most; past that, an unconditional one (32-bit offset) does.
        if (left.Count <= byte.MaxValue) p.Add(new(JgeK, (byte)left.Count, 0, nrs[mid].Key));
        else
        {
            p.Add(new(JgeK, 0, 1, nrs[mid].Key));
            p.Add(new(Ja, 0, 0, (uint)left.Count));
        }
        p.AddRange(left);
        p.AddRange(Tree(nrs[mid..], defaultAction));
        return p;
    }

    private enum To : byte { Next, Fail, ArgEnd }

    // Layout: jeq nr ?: next : end;  <arg tests, each jumping to 'fail' on mismatch>;  ret action;  fail: ld nr;  end:
    // Each 64-bit comparison is made on the high half, then (when the high halves are equal) on the low half.
    private static void EmitWithArgs(List<Instruction> p, uint nr, List<LinuxSeccompArg> args, uint action)
    {
        var block = new List<(ushort Code, uint K, To True, To False, int ArgEnd)>();
        foreach (var a in args)
        {
            if (a.Index > 5) throw new ArgumentException($"seccomp argument index {a.Index} out of range");
            uint hi = OffsetArgs + a.Index * 8 + 4, lo = OffsetArgs + a.Index * 8;
            uint vHi = (uint)(a.Value >> 32), vLo = (uint)a.Value;
            (ushort Code, uint K, To True, To False)[] group = a.Op switch
            {
                "SCMP_CMP_EQ" => [(LdAbsW, hi, To.Next, To.Next), (JeqK, vHi, To.Next, To.Fail), (LdAbsW, lo, To.Next, To.Next), (JeqK, vLo, To.Next, To.Fail)],
                "SCMP_CMP_NE" => [(LdAbsW, hi, To.Next, To.Next), (JeqK, vHi, To.Next, To.ArgEnd), (LdAbsW, lo, To.Next, To.Next), (JeqK, vLo, To.Fail, To.Next)],
                "SCMP_CMP_MASKED_EQ" =>
                [
                    (LdAbsW, hi, To.Next, To.Next), (AndK, vHi, To.Next, To.Next), (JeqK, (uint)(a.ValueTwo >> 32), To.Next, To.Fail),
                    (LdAbsW, lo, To.Next, To.Next), (AndK, vLo, To.Next, To.Next), (JeqK, (uint)a.ValueTwo, To.Next, To.Fail),
                ],
                "SCMP_CMP_GT" or "SCMP_CMP_GE" =>
                [
                    (LdAbsW, hi, To.Next, To.Next), (JgtK, vHi, To.ArgEnd, To.Next), (JeqK, vHi, To.Next, To.Fail),
                    (LdAbsW, lo, To.Next, To.Next), (a.Op == "SCMP_CMP_GT" ? JgtK : JgeK, vLo, To.Next, To.Fail),
                ],
                "SCMP_CMP_LT" or "SCMP_CMP_LE" =>
                [
                    (LdAbsW, hi, To.Next, To.Next), (JgeK, vHi, To.Next, To.ArgEnd), (JeqK, vHi, To.Next, To.Fail),
                    (LdAbsW, lo, To.Next, To.Next), (a.Op == "SCMP_CMP_LT" ? JgeK : JgtK, vLo, To.Fail, To.Next),
                ],
                _ => throw new ArgumentException($"unsupported seccomp argument operator '{a.Op}'"),
            };
            int argEnd = block.Count + group.Length;
            foreach (var (code, k, t, f) in group) block.Add((code, k, t, f, argEnd));
        }
        int count = block.Count, failIndex = count + 1;
        p.Add(new(JeqK, 0, checked((byte)(count + 2)), nr));
        for (int i = 0; i < block.Count; i++)
        {
            var (code, k, t, f, argEnd) = block[i];
            byte Offset(To to) => to switch
            {
                To.Fail => checked((byte)(failIndex - i - 1)),
                To.ArgEnd => checked((byte)(argEnd - i - 1)),
                _ => 0,
            };
            p.Add(new(code, Offset(t), Offset(f), k));
        }
        p.Add(new(RetK, 0, 0, action));
        p.Add(new(LdAbsW, 0, 0, OffsetNr));
    }

    /// <summary>The program as the bytes of a <c>struct sock_filter</c> array.</summary>
    public static byte[] ToBytes(List<Instruction> program)
    {
        var bytes = new byte[program.Count * 8];
        for (int i = 0; i < program.Count; i++)
        {
            var ins = program[i];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 8), ins.Code);
            bytes[i * 8 + 2] = ins.JumpTrue;
            bytes[i * 8 + 3] = ins.JumpFalse;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 8 + 4), ins.K);
        }
        return bytes;
    }

    /// <summary>Runs the program on a syscall (a classic-BPF interpreter for the instructions we emit); for tests and diagnostics.</summary>
    public static uint Evaluate(List<Instruction> program, uint arch, int nr, params ulong[] args) => Run(program, arch, nr, args, out _);

    /// <summary>How many instructions the program runs for a syscall (what the kernel's emulation and each call pay).</summary>
    public static int Steps(List<Instruction> program, uint arch, int nr, params ulong[] args)
    {
        Run(program, arch, nr, args, out int steps);
        return steps;
    }

    private static uint Run(List<Instruction> program, uint arch, int nr, ulong[] args, out int steps)
    {
        uint a = 0;
        int pc = 0;
        steps = 0;
        while (pc < program.Count)
        {
            var ins = program[pc];
            steps++;
            switch (ins.Code)
            {
                case LdAbsW:
                    a = ins.K switch
                    {
                        OffsetNr => (uint)nr,
                        OffsetArch => arch,
                        >= OffsetArgs => (ins.K - OffsetArgs) % 8 == 0
                            ? (uint)Arg(args, (ins.K - OffsetArgs) / 8)
                            : (uint)(Arg(args, (ins.K - OffsetArgs) / 8) >> 32),
                        _ => throw new InvalidOperationException($"load at {ins.K}"),
                    };
                    pc++;
                    break;
                case AndK: a &= ins.K; pc++; break;
                case Ja: pc += 1 + (int)ins.K; break;
                case JeqK: pc += 1 + (a == ins.K ? ins.JumpTrue : ins.JumpFalse); break;
                case JgtK: pc += 1 + (a > ins.K ? ins.JumpTrue : ins.JumpFalse); break;
                case JgeK: pc += 1 + (a >= ins.K ? ins.JumpTrue : ins.JumpFalse); break;
                case JsetK: pc += 1 + ((a & ins.K) != 0 ? ins.JumpTrue : ins.JumpFalse); break;
                case RetK: return ins.K;
                default: throw new InvalidOperationException($"opcode {ins.Code:x}");
            }
        }
        throw new InvalidOperationException("program fell off the end");

        static ulong Arg(ulong[] args, uint i) => i < args.Length ? args[i] : 0;
    }
}
