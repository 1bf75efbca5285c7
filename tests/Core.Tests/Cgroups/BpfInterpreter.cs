namespace Containers.Core.Tests.Cgroups;

/// <summary>
/// Runs a cgroup device program on a context without the kernel, for wide rule tables (DeviceFilterRealTests
/// load the same programs into the kernel). Knows only the instructions DeviceFilterProgram emits; any
/// other instruction, a jump out of the program or a read past the 12-byte context fails the test.
/// </summary>
internal static class BpfInterpreter
{
    public static int Run(ulong[] program, int type, int access, uint major, uint minor)
    {
        uint[] ctx = [(uint)((access << 16) | type), major, minor];
        var r = new ulong[11];
        for (int pc = 0, steps = 0; steps < 10_000; steps++)
        {
            Assert.InRange(pc, 0, program.Length - 1);
            ulong insn = program[pc];
            byte op = (byte)insn;
            int dst = (int)(insn >> 8) & 0xf, src = (int)(insn >> 12) & 0xf;
            short off = (short)(insn >> 16);
            int imm = (int)(insn >> 32);
            pc++;
            switch (op)
            {
                case 0x61:
                    Assert.Equal(1, src);
                    Assert.True(off is 0 or 4 or 8, $"context read at {off}");
                    r[dst] = ctx[off / 4];
                    break;
                case 0x54: r[dst] = (uint)r[dst] & (uint)imm; break;
                case 0x74: r[dst] = (uint)r[dst] >> imm; break;
                case 0xbc: r[dst] = (uint)r[src]; break;
                case 0xb4: r[dst] = (uint)imm; break;
                case 0x55: if (r[dst] != (ulong)(long)imm) pc += off; break;
                case 0x15: if (r[dst] == (ulong)(long)imm) pc += off; break;
                case 0x95: return (int)r[0];
                default: Assert.Fail($"unexpected opcode 0x{op:x2} at {pc - 1}"); break;
            }
        }
        Assert.Fail("the program did not end");
        return -1;
    }
}
