using Containers.Core.Cgroups;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Cgroups;

/// <summary>The device allow-list, its v1 lines, the v1 semantics of a rule list and the BPF program (interpreted here; loaded for real in DeviceFilterRealTests).</summary>
public sealed class DeviceRulesTests
{
    private const int M = DeviceRules.Mknod, R = DeviceRules.Read, W = DeviceRules.Write;

    [Fact]
    public void DefaultListRendersAsTheV1LinesRuncWrites()
    {
        Assert.Equal(
        [
            "a *:* rwm", "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
            "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
        ], DeviceRules.Default.Select(DeviceRules.V1Line));
        Assert.False(DeviceRules.Default[0].Allow);
        Assert.All(DeviceRules.Default.Skip(1), r => Assert.True(r.Allow));
    }

    [Fact]
    public void EffectiveRulesAreTheDefaultUnlessAListIsGiven()
    {
        Assert.Same(DeviceRules.Default, DeviceRules.Effective(null));
        Assert.Same(DeviceRules.Default, DeviceRules.Effective(new LinuxResources()));
        var given = new List<LinuxDeviceCgroup> { new() { Allow = true, Access = "rwm" } };
        Assert.Same(given, DeviceRules.Effective(new LinuxResources { Devices = given }));
    }

    // (type, major, minor, access) → allowed, for the default list plus a grant of 10:229 (fuse) read-only.
    public static TheoryData<char, int, int, int, bool> Table => new()
    {
        { 'c', 1, 3, R | W, true },      // null
        { 'c', 1, 5, R, true },          // zero
        { 'c', 1, 7, W, true },          // full
        { 'c', 1, 8, R, true },          // random
        { 'c', 1, 9, R, true },          // urandom
        { 'c', 5, 0, R | W, true },      // tty
        { 'c', 5, 1, R | W, true },      // console
        { 'c', 5, 2, R | W, true },      // ptmx
        { 'c', 136, 0, R | W, true },    // pts/0
        { 'c', 136, 4095, R, true },     // any pts
        { 'c', 1, 11, W, false },        // kmsg
        { 'c', 1, 11, R, false },
        { 'c', 1, 1, R, false },         // mem
        { 'c', 1, 2, R, false },         // kmem
        { 'c', 4, 0, R | W, false },     // tty0
        { 'c', 5, 3, R, false },
        { 'c', 137, 0, R, false },
        { 'b', 8, 0, R, false },         // sda
        { 'b', 7, 0, R | W, false },     // loop0
        { 'b', 1, 3, R, false },         // a block device with null's numbers
        { 'c', 1, 11, M, true },         // mknod of anything is allowed, opening is not
        { 'b', 8, 0, M, true },
        { 'c', 10, 229, R, true },       // the grant
        { 'c', 10, 229, W, false },      // beyond the grant
        { 'c', 10, 229, R | W, false },
        { 'c', 10, 228, R, false },
    };

    private static readonly List<LinuxDeviceCgroup> WithFuse =
        DeviceRules.WithGrants([new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "r" }]);

    [Theory]
    [MemberData(nameof(Table))]
    public void ProgramAndV1SemanticsAgreeWithTheTable(char type, int major, int minor, int access, bool allowed)
    {
        Assert.Equal(allowed, DeviceRuleSet.From(WithFuse).Allows(type, major, minor, access));
        ulong[] program = DeviceFilterProgram.Build(WithFuse);
        int bpfType = type == 'b' ? DeviceFilterProgram.TypeBlock : DeviceFilterProgram.TypeChar;
        Assert.Equal(allowed ? 1 : 0, BpfInterpreter.Run(program, bpfType, access, (uint)major, (uint)minor));
    }

    [Fact]
    public void ProgramMatchesTheV1SemanticsForDenyListsAndRevokedGrantsToo()
    {
        // An allow-by-default list with holes, and a deny-by-default list where a later deny takes back part of a grant.
        List<LinuxDeviceCgroup>[] lists =
        [
            [new() { Allow = true, Access = "rwm" }, new() { Allow = false, Type = "c", Major = 1, Minor = 11, Access = "w" }, new() { Allow = false, Type = "b", Access = "rw" }],
            [.. DeviceRules.Default, new() { Allow = true, Type = "c", Major = 10, Minor = null, Access = "rw" }, new() { Allow = false, Type = "c", Major = 10, Minor = null, Access = "w" }],
            [.. DeviceRules.Default, new() { Allow = false, Type = "c", Major = 1, Minor = 3, Access = "rwm" }],
            [],
        ];
        foreach (var rules in lists)
        {
            var set = DeviceRuleSet.From(rules);
            ulong[] program = DeviceFilterProgram.Build(set);
            foreach (char type in "cb")
                foreach (int major in (int[])[1, 5, 8, 10, 136])
                    foreach (int minor in (int[])[0, 1, 3, 11, 229])
                        for (int access = 1; access <= 7; access++)
                        {
                            bool expected = set.Allows(type, major, minor, access);
                            int got = BpfInterpreter.Run(program, type == 'b' ? 1 : 2, access, (uint)major, (uint)minor);
                            Assert.True(got == (expected ? 1 : 0), $"{type} {major}:{minor} access {access}: expected {expected}");
                        }
        }
        // Spot checks of the semantics themselves.
        Assert.False(DeviceRuleSet.From(lists[0]).Allows('c', 1, 11, R | W));
        Assert.True(DeviceRuleSet.From(lists[0]).Allows('c', 1, 11, R));
        Assert.True(DeviceRuleSet.From(lists[1]).Allows('c', 10, 200, R));
        Assert.False(DeviceRuleSet.From(lists[1]).Allows('c', 10, 200, W));
        Assert.False(DeviceRuleSet.From(lists[2]).Allows('c', 1, 3, R));
        Assert.True(DeviceRuleSet.From(lists[3]).Allows('b', 8, 0, R | W));
    }

    [Theory]
    [InlineData("x", null, null, "rwm", "InvalidDeviceRule")]
    [InlineData("c", -2L, null, "rwm", "InvalidDeviceRule")]
    [InlineData("c", 1L, 3L, "rwx", "InvalidDeviceAccess")]
    public void BadRulesAreRefusedWithATypedError(string type, long? major, long? minor, string access, string errorId)
    {
        var e = Assert.Throws<ContainersException>(() => DeviceFilterProgram.Build([new LinuxDeviceCgroup { Allow = true, Type = type, Major = major, Minor = minor, Access = access }]));
        Assert.Equal(errorId, e.ErrorId);
    }
}
