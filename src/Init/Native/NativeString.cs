using System.Runtime.InteropServices;
using System.Text;

namespace Containers.Init.Native;

/// <summary>
/// Null-terminated UTF-8 strings and string arrays in native memory, built by the parent before
/// clone so that the child reads them without allocating. Never freed: Init is short-lived or
/// holds them for the container's lifetime (a few kilobytes).
/// </summary>
internal static unsafe class NativeString
{
    public static byte* Of(string? s)
    {
        if (s is null) return null;
        int n = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        fixed (char* c = s) Encoding.UTF8.GetBytes(c, s.Length, p, n);
        p[n] = 0;
        return p;
    }

    /// <summary>A NULL-terminated array of strings (argv, envp).</summary>
    public static byte** Array(IReadOnlyList<string> items)
    {
        byte** a = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < items.Count; i++) a[i] = Of(items[i]);
        a[items.Count] = null;
        return a;
    }

    public static byte* Bytes(byte[] data)
    {
        byte* p = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, data.Length));
        data.AsSpan().CopyTo(new Span<byte>(p, data.Length));
        return p;
    }

    /// <summary>A NUL-terminated UTF-8 copy on the managed heap, for <c>fixed</c> (collected, unlike <see cref="Of"/>).</summary>
    public static byte[] Z(string s)
    {
        byte[] z = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, z);
        return z;
    }

    public static string? ToManaged(byte* p) => p is null ? null : Marshal.PtrToStringUTF8((nint)p);
}
