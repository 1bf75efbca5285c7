using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Containers.Core.Native;

/// <summary>
/// Persistent network namespaces: an nsfs bind mount on a file, as <c>ip netns add</c> and podman make them, so CNI can
/// configure the namespace before the container exists and clean it up after its processes are gone.
/// </summary>
internal static partial class NetworkNamespaces
{
    private const int MNT_DETACH = 2, EINVAL = 22, ENOENT = 2;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int umount2(string target, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mount(string source, string target, string? type, nint flags, nint data);

    private const int CLONE_NEWNET = 0x40000000;
    private const nint MS_BIND = 4096;

    /// <summary>
    /// Creates a new network namespace bound at <paramref name="path"/>, as <c>ip netns add</c> does: a thread of its own
    /// unshares its network namespace (a per-thread attribute, unlike the user namespace) and bind-mounts it, then ends;
    /// the mount keeps the namespace. This saves a process run on every start on a CNI network. Where that is refused,
    /// util-linux's <c>unshare --net=FILE</c> makes it.
    /// </summary>
    public static void Create(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        string? error = null;
        var thread = new Thread(() =>
        {
            if (unshare(CLONE_NEWNET) != 0) error = "unshare: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            else if (mount("/proc/thread-self/ns/net", path, null, MS_BIND, 0) != 0) error = "mount: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
        }, 256 * 1024)
        { IsBackground = true, Name = "netns" };
        thread.Start();
        thread.Join();
        if (error is null) return;
        var psi = new ProcessStartInfo("unshare", ["--net=" + path, "true"]) { RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            File.Delete(path);
            throw new IOException($"unshare --net={path} failed: {err.Trim()} (and in this process, {error})");
        }
    }

    /// <summary>True when <paramref name="path"/> is a bound namespace (an nsfs mount), not a plain file.</summary>
    public static bool IsBound(string path) =>
        File.Exists(path) && File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 8 } f && f[4] == path && l.Contains(" - nsfs ", StringComparison.Ordinal));

    /// <summary>Unbinds and deletes the file; the namespace goes when its last process and mount are gone.</summary>
    public static void Remove(string path)
    {
        if (umount2(path, MNT_DETACH) != 0 && Marshal.GetLastPInvokeError() is int e && e != EINVAL && e != ENOENT)
            throw new IOException($"umount {path} failed: {Marshal.GetPInvokeErrorMessage(e)}");
        try { File.Delete(path); } catch (DirectoryNotFoundException) { }
    }
}
