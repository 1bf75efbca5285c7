using System.Text.Json;
using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init;

/// <summary>
/// <c>pscontainers-init probe</c>: measures, rather than guesses, what the kernel allows this user.
/// A child is cloned into new user and mount namespaces (the parent writes the single-id map),
/// mounts an overlay of two lower dirs with upper/work in a temp dir the classic way, then with the
/// new mount API and <c>lowerdir+</c>. The temp dir is removed; the child's mounts die with its namespace.
/// </summary>
internal static unsafe class Probe
{
    public static int Run()
    {
        var result = new FeatureProbe();
        string root = Directory.CreateTempSubdirectory("pscontainers-probe-").FullName;
        try
        {
            Measure(root, result);
        }
        catch (Exception e)
        {
            result.Error ??= e.Message;
        }
        finally
        {
            TempDirs.Remove(root);
        }
        Console.Out.WriteLine(JsonSerializer.Serialize(result, OneLine.FeatureProbe));
        return 0;
    }

    private static void Measure(string root, FeatureProbe result)
    {
        foreach (string d in new[] { "l1", "l2", "upper", "work", "merged" }) Directory.CreateDirectory(Path.Combine(root, d));
        File.WriteAllText(Path.Combine(root, "l1", "a"), "1");
        File.WriteAllText(Path.Combine(root, "l2", "b"), "2");

        var a = new Args
        {
            Root = NativeString.Of("/"),
            Target = NativeString.Of(Path.Combine(root, "merged")),
            Overlay = NativeString.Of("overlay"),
            Data = NativeString.Of($"lowerdir={root}/l2:{root}/l1,upperdir={root}/upper,workdir={root}/work"),
            DataUserXattr = NativeString.Of($"lowerdir={root}/l2:{root}/l1,upperdir={root}/upper,workdir={root}/work,userxattr"),
            LowerPlus = NativeString.Of("lowerdir+"),
            Lower2 = NativeString.Of(Path.Combine(root, "l2")),
            Lower1 = NativeString.Of(Path.Combine(root, "l1")),
            UpperKey = NativeString.Of("upperdir"),
            Upper = NativeString.Of(Path.Combine(root, "upper")),
            WorkKey = NativeString.Of("workdir"),
            Work = NativeString.Of(Path.Combine(root, "work")),
            UserXattr = NativeString.Of("userxattr"),
            Empty = NativeString.Of(""),
            Probe = NativeString.Of(Path.Combine(root, "merged", "b")),
        };

        int* sync = stackalloc int[2];
        int* report = stackalloc int[2];
        if (pipe2(sync, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0)
        {
            result.Error = "pipe: " + StrError(Errno);
            return;
        }
        a.SyncFd = sync[0];
        a.ReportFd = report[1];
        var noGc = NoGc.Enter();
        int pid = Clone(CLONE_NEWUSER | CLONE_NEWNS | (ulong)SIGCHLD);
        if (pid == 0) Child(&a); // never returns
        int cloneErr = Errno;
        noGc.Dispose();
        close(sync[0]);
        close(report[1]);
        if (pid < 0)
        {
            result.Error = "clone(CLONE_NEWUSER|CLONE_NEWNS): " + StrError(cloneErr);
            close(sync[1]); close(report[0]);
            return;
        }
        string? mapError = IdMaps.WriteSingle(pid, getuid(), getgid());
        byte go = mapError is null ? (byte)1 : (byte)0;
        write(sync[1], &go, 1);
        close(sync[1]);
        int* codes = stackalloc int[3];
        nint n = ReadFull(report[0], (byte*)codes, 12);
        close(report[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0 && Errno == EINTR) { }
        if (mapError is not null) { result.Error = mapError; return; }
        if (n != 12) { result.Error = "probe child died"; return; }
        result.UserNamespaces = codes[0] == 0;
        if (codes[0] != 0) { result.Error = "setting up the user namespace: " + StrError(codes[0]); return; }
        result.Overlay = codes[1] == 0;
        result.OverlayLowerDirPlus = codes[2] == 0;
        if (codes[1] != 0) result.Error = "overlay mount in a user namespace: " + StrError(codes[1]);
        else if (codes[2] != 0) result.Error = "overlay with lowerdir+ (new mount API): " + StrError(codes[2]);
    }

    private struct Args
    {
        public int SyncFd, ReportFd;
        public byte* Root, Target, Overlay, Data, DataUserXattr, LowerPlus, Lower1, Lower2, UpperKey, Upper, WorkKey, Work, UserXattr, Empty, Probe;
    }

    // Runs in the cloned child: no allocation, no managed locks, only syscalls.
    private static void Child(Args* a)
    {
        int* codes = stackalloc int[3];
        codes[0] = codes[1] = codes[2] = 0;
        byte go = 0;
        if (ReadNoGc(a->SyncFd, &go, 1) != 1 || go != 1) _exit(1);
        if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0 || mount(null, a->Root, null, MountOptionsFlags.PrivateRec, null) != 0)
        {
            codes[0] = Errno;
            WriteNoGc(a->ReportFd, (byte*)codes, 12);
            _exit(1);
        }
        // Classic: one option string (without, then with userxattr as unprivileged overlay may need).
        if (mount(a->Overlay, a->Target, a->Overlay, 0, a->Data) != 0 && mount(a->Overlay, a->Target, a->Overlay, 0, a->DataUserXattr) != 0)
            codes[1] = Errno;
        else
        {
            byte* st = stackalloc byte[144];
            if (stat(a->Probe, st) != 0) codes[1] = Errno;
            umount2(a->Target, MNT_DETACH);
        }
        codes[2] = NewApi(a, false);
        if (codes[2] != 0 && NewApi(a, true) == 0) codes[2] = 0;
        WriteNoGc(a->ReportFd, (byte*)codes, 12);
        _exit(0);
    }

    private static int NewApi(Args* a, bool userXattr)
    {
        int fs = Fsopen(a->Overlay, FSOPEN_CLOEXEC);
        if (fs < 0) return Errno;
        int err = 0;
        if (Fsconfig(fs, FSCONFIG_SET_STRING, a->LowerPlus, a->Lower2, 0) != 0
            || Fsconfig(fs, FSCONFIG_SET_STRING, a->LowerPlus, a->Lower1, 0) != 0
            || Fsconfig(fs, FSCONFIG_SET_STRING, a->UpperKey, a->Upper, 0) != 0
            || Fsconfig(fs, FSCONFIG_SET_STRING, a->WorkKey, a->Work, 0) != 0
            || (userXattr && Fsconfig(fs, FSCONFIG_SET_FLAG, a->UserXattr, null, 0) != 0)
            || Fsconfig(fs, FSCONFIG_CMD_CREATE, null, null, 0) != 0)
        {
            err = Errno;
            close(fs);
            return err;
        }
        int mnt = Fsmount(fs, FSMOUNT_CLOEXEC, 0);
        if (mnt < 0) err = Errno;
        else if (MoveMount(mnt, a->Empty, AT_FDCWD, a->Target, MOVE_MOUNT_F_EMPTY_PATH) != 0) err = Errno;
        else
        {
            byte* st = stackalloc byte[144];
            if (stat(a->Probe, st) != 0) err = Errno;
            umount2(a->Target, MNT_DETACH);
        }
        if (mnt >= 0) close(mnt);
        close(fs);
        return err;
    }

    public static nint ReadFull(int fd, byte* buf, nint count)
    {
        nint done = 0;
        while (done < count)
        {
            nint r = read(fd, buf + done, count - done);
            if (r < 0 && Errno == EINTR) continue;
            if (r <= 0) break;
            done += r;
        }
        return done;
    }
}

internal static class MountOptionsFlags
{
    public const ulong PrivateRec = MountOptions.MS_PRIVATE | MountOptions.MS_REC;
}
