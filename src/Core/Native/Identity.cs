using Tmds.Linux;

namespace Containers.Core.Native;

/// <summary>Who the current process is, as the kernel sees it.</summary>
internal static class Identity
{
    public static uint EffectiveUserId => LibC.geteuid();
    public static uint EffectiveGroupId => LibC.getegid();
    public static bool IsRoot => EffectiveUserId == 0;
}
