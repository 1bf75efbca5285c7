namespace Containers.Core.Runtime.Plan;

/// <summary>
/// Compiles a runtime-spec seccomp section into a classic BPF program for x86_64
/// (<c>struct sock_filter</c> instructions, as <c>prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)</c> takes them).
/// Rules apply in order, first match wins, then the default action. Calls from another ABI
/// (i386 via int 0x80, x32) get ENOSYS: we only carry x86_64 numbers. Names this architecture does
/// not have are skipped, as libseccomp does. Argument comparisons: EQ, NE, MASKED_EQ.
/// </summary>
public static class SeccompFilter
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

    private const ushort LdAbsW = 0x20, JeqK = 0x15, JsetK = 0x45, JgeK = 0x35, RetK = 0x06, AndK = 0x54;
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

        foreach (var rule in seccomp.Syscalls ?? [])
        {
            uint action = ActionValue(rule.Action, rule.ErrnoRet);
            foreach (string name in rule.Names)
            {
                int nr = SyscallTable.X86_64(name);
                if (nr < 0) continue;
                if (rule.Args is not { Count: > 0 } args)
                {
                    p.Add(new(JeqK, 0, 1, (uint)nr));
                    p.Add(new(RetK, 0, 0, action));
                    continue;
                }
                EmitWithArgs(p, (uint)nr, args, action);
            }
        }
        p.Add(new(RetK, 0, 0, defaultAction));
        if (p.Count > 4096) throw new ArgumentException($"seccomp filter too long ({p.Count} instructions, the kernel takes 4096)");
        return p;
    }

    // Layout: jeq nr ?: next : end;  <arg tests, each jumping to 'fail' on mismatch>;  ret action;  fail: ld nr;  end:
    private static void EmitWithArgs(List<Instruction> p, uint nr, List<LinuxSeccompArg> args, uint action)
    {
        var block = new List<(ushort Code, uint K, bool FailOnFalse, bool FailOnTrue)>();
        foreach (var a in args)
        {
            if (a.Index > 5) throw new ArgumentException($"seccomp argument index {a.Index} out of range");
            uint hi = OffsetArgs + a.Index * 8 + 4, lo = OffsetArgs + a.Index * 8;
            switch (a.Op)
            {
                case "SCMP_CMP_EQ":
                    block.Add((LdAbsW, hi, false, false)); block.Add((JeqK, (uint)(a.Value >> 32), true, false));
                    block.Add((LdAbsW, lo, false, false)); block.Add((JeqK, (uint)a.Value, true, false));
                    break;
                case "SCMP_CMP_MASKED_EQ":
                    block.Add((LdAbsW, hi, false, false)); block.Add((AndK, (uint)(a.Value >> 32), false, false)); block.Add((JeqK, (uint)(a.ValueTwo >> 32), true, false));
                    block.Add((LdAbsW, lo, false, false)); block.Add((AndK, (uint)a.Value, false, false)); block.Add((JeqK, (uint)a.ValueTwo, true, false));
                    break;
                case "SCMP_CMP_NE":
                    // Matches unless both halves are equal.
                    block.Add((LdAbsW, hi, false, false)); block.Add((JeqK | 0x8000, (uint)(a.Value >> 32), false, false));
                    block.Add((LdAbsW, lo, false, false)); block.Add((JeqK, (uint)a.Value, false, true));
                    break;
                default:
                    throw new ArgumentException($"unsupported seccomp argument operator '{a.Op}'");
            }
        }
        int count = block.Count;
        // Positions relative to the first block instruction (index 0 = after 'jeq nr').
        int retIndex = count, failIndex = count + 1;
        p.Add(new(JeqK, 0, checked((byte)(count + 2)), nr));
        for (int i = 0; i < count; i++)
        {
            var (code, k, failOnFalse, failOnTrue) = block[i];
            byte toFail = checked((byte)(failIndex - i - 1));
            if ((code & 0x8000) != 0)
            {
                // NE high half: different → the whole comparison matches, skip the low half test.
                p.Add(new(JeqK, 0, 2, k));
                continue;
            }
            if (code == JeqK) p.Add(new(JeqK, failOnTrue ? toFail : (byte)0, failOnFalse ? toFail : (byte)0, k));
            else p.Add(new(code, 0, 0, k));
        }
        _ = retIndex;
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
    public static uint Evaluate(List<Instruction> program, uint arch, int nr, params ulong[] args)
    {
        uint a = 0;
        int pc = 0;
        while (pc < program.Count)
        {
            var ins = program[pc];
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
                case JeqK: pc += 1 + (a == ins.K ? ins.JumpTrue : ins.JumpFalse); break;
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
