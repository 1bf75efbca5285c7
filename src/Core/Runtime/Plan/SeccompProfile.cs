namespace Containers.Core.Runtime.Plan;

/// <summary>
/// A seccomp profile in the shape of Docker's and podman's JSON: like <see cref="LinuxSeccomp"/>, but a rule may
/// depend on the container's capabilities (<c>includes</c>/<c>excludes</c> <c>caps</c>). <see cref="Resolve(IEnumerable{string})"/> keeps
/// the rules that apply to one container and gives the runtime-spec section its bundle carries.
/// </summary>
internal sealed class SeccompProfile
{
    public string DefaultAction { get; set; } = "SCMP_ACT_ALLOW";
    public uint? DefaultErrnoRet { get; set; }
    public List<string>? Architectures { get; set; }
    /// <summary>In order: with our compiler the first rule that matches a call decides. libseccomp (crun, runc running the
    /// same bundle) keeps no order and drops rules whose action is the default one: write such profiles order-free.</summary>
    public List<SeccompProfileRule> Syscalls { get; set; } = [];

    /// <summary>The filter for a container with these capabilities (names with the <c>CAP_</c> prefix).</summary>
    public LinuxSeccomp Resolve(IEnumerable<string> capabilities)
    {
        var caps = new HashSet<string>(capabilities, StringComparer.OrdinalIgnoreCase);
        return Resolve(r => r.AppliesTo(caps));
    }

    /// <summary>Every rule, whatever its conditions (to check that all of them compile).</summary>
    public LinuxSeccomp Unconditional() => Resolve(_ => true);

    private LinuxSeccomp Resolve(Func<SeccompProfileRule, bool> keep)
    {
        return new LinuxSeccomp
        {
            DefaultAction = DefaultAction,
            DefaultErrnoRet = DefaultErrnoRet,
            Architectures = Architectures is null ? null : [.. Architectures],
            Syscalls = Syscalls.Where(keep).Select(r => new LinuxSyscall
            {
                Names = [.. r.Names],
                Action = r.Action,
                ErrnoRet = r.ErrnoRet,
                Args = r.Args is null ? null : [.. r.Args],
            }).ToList(),
        };
    }
}

/// <summary>A rule of a <see cref="SeccompProfile"/>: a <see cref="LinuxSyscall"/> with conditions on the container.</summary>
internal sealed class SeccompProfileRule
{
    public List<string> Names { get; set; } = [];
    /// <summary>Older profiles name one call per rule; the loader adds it to <see cref="Names"/>.</summary>
    public string? Name { get; set; }
    public string Action { get; set; } = "SCMP_ACT_ERRNO";
    public uint? ErrnoRet { get; set; }
    /// <summary>All must match (AND) for the rule to apply to a call.</summary>
    public List<LinuxSeccompArg>? Args { get; set; }
    /// <summary>The rule is kept only for a container that has every one of these capabilities.</summary>
    public SeccompRuleCondition? Includes { get; set; }
    /// <summary>The rule is dropped for a container that has any of these capabilities.</summary>
    public SeccompRuleCondition? Excludes { get; set; }

    public bool AppliesTo(IReadOnlySet<string> capabilities) =>
        (Includes?.Caps ?? []).All(capabilities.Contains) && !(Excludes?.Caps ?? []).Any(capabilities.Contains)
        && (Includes?.Arches is not { Count: > 0 } only || only.Any(SeccompRuleCondition.IsThisArch))
        && !(Excludes?.Arches ?? []).Any(SeccompRuleCondition.IsThisArch);
}

/// <summary>What a profile rule depends on: capabilities and architectures (Docker's minKernel is not used here).</summary>
internal sealed class SeccompRuleCondition
{
    public List<string>? Caps { get; set; }
    /// <summary>Docker's names (<c>amd64</c>, <c>x32</c>, <c>arm64</c> ...); the filter only carries x86_64 numbers.</summary>
    public List<string>? Arches { get; set; }

    public static bool IsThisArch(string arch) => arch is "amd64" or "x86_64" or "SCMP_ARCH_X86_64";
}
