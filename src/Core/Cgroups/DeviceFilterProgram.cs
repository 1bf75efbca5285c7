using Containers.Core.Runtime.Plan;

namespace Containers.Core.Cgroups;

/// <summary>
/// Writes a BPF_PROG_TYPE_CGROUP_DEVICE program (raw eBPF instructions) that answers as the v1 devices
/// cgroup would for the same rule list. The kernel calls it with <c>struct bpf_cgroup_dev_ctx
/// { u32 access_type /* access &lt;&lt; 16 | type */; u32 major; u32 minor; }</c>; it returns 1 to allow,
/// 0 to deny (EPERM). Layout: load the four fields into r2..r5, one block per exception that jumps to
/// the next block on any mismatch and otherwise returns the exception's verdict, then the default.
/// </summary>
internal static class DeviceFilterProgram
{
    /// <summary>BPF_DEVCG_DEV_BLOCK and BPF_DEVCG_DEV_CHAR.</summary>
    public const int TypeBlock = 1, TypeChar = 2;

    // Opcodes (class | op | source).
    private const byte LdxMemW = 0x61, Alu32AndK = 0x54, Alu32RshK = 0x74, Alu32MovX = 0xbc, Alu32MovK = 0xb4,
        JmpJneK = 0x55, JmpJeqK = 0x15, Exit = 0x95;

    public static ulong[] Build(IEnumerable<LinuxDeviceCgroup> rules) => Build(DeviceRuleSet.From(rules));

    public static ulong[] Build(DeviceRuleSet set)
    {
        var p = new List<ulong>
        {
            Insn(LdxMemW, 2, 1, 0, 0), Insn(Alu32AndK, 2, 0, 0, 0xFFFF), // r2 = type
            Insn(LdxMemW, 3, 1, 0, 0), Insn(Alu32RshK, 3, 0, 0, 16),     // r3 = access
            Insn(LdxMemW, 4, 1, 4, 0),                                   // r4 = major
            Insn(LdxMemW, 5, 1, 8, 0),                                   // r5 = minor
        };
        foreach (var e in set.Exceptions)
        {
            // Each test jumps to the next block; its offset is known once the block is complete.
            var block = new List<(byte Op, byte Dst, byte Src, int Imm)> { (JmpJneK, 2, 0, e.Type == 'b' ? TypeBlock : TypeChar) };
            if (e.Access != DeviceRules.All)
            {
                block.Add((Alu32MovX, 1, 3, 0));
                // Deny default: every asked bit must be granted (asked & ~granted == 0). Allow default: any overlap denies.
                block.Add((Alu32AndK, 1, 0, set.DefaultAllow ? e.Access : ~e.Access & DeviceRules.All));
                block.Add((set.DefaultAllow ? JmpJeqK : JmpJneK, 1, 0, 0));
            }
            if (e.Major is { } major) block.Add((JmpJneK, 4, 0, (int)major));
            if (e.Minor is { } minor) block.Add((JmpJneK, 5, 0, (int)minor));
            int end = block.Count + 2; // the verdict: mov r0, exit
            for (int i = 0; i < block.Count; i++)
            {
                var (op, dst, src, imm) = block[i];
                bool jump = op is JmpJneK or JmpJeqK;
                p.Add(Insn(op, dst, src, jump ? (short)(end - i - 1) : (short)0, imm));
            }
            p.Add(Insn(Alu32MovK, 0, 0, 0, set.DefaultAllow ? 0 : 1));
            p.Add(Insn(Exit, 0, 0, 0, 0));
        }
        p.Add(Insn(Alu32MovK, 0, 0, 0, set.DefaultAllow ? 1 : 0));
        p.Add(Insn(Exit, 0, 0, 0, 0));
        return [.. p];
    }

    /// <summary>struct bpf_insn: code, dst_reg:4 | src_reg:4, s16 off, s32 imm (little-endian).</summary>
    private static ulong Insn(byte op, byte dst, byte src, short off, int imm) =>
        op | (ulong)(byte)(dst | (src << 4)) << 8 | (ulong)(ushort)off << 16 | (ulong)(uint)imm << 32;
}
