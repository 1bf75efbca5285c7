using Tmds.Linux;

namespace Containers.Core.Native;

/// <summary>File mode changes without .NET's platform guards.</summary>
internal static class Files
{
    /// <summary>chmod(2); false when refused (not ours) or gone.</summary>
    public static unsafe bool Chmod(string path, uint mode)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes) return LibC.chmod(p, (mode_t)mode) == 0;
    }
}
