using System.Text.Json;

namespace Containers.Core.Runtime.Plan;

// config.json (RuntimeSpec) for PlanReader: the runtime-spec's own names, as RuntimeSpec.cs declares them.
internal static partial class PlanReader
{
    private static RuntimeSpec Spec(ref Utf8JsonReader r)
    {
        var s = Expect<RuntimeSpec>(ref r, "config.json");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "ociVersion": s.OciVersion = Str(ref r, name)!; break;
                case "process": s.Process = Obj(ref r, Process); break;
                case "root": s.Root = Obj(ref r, Root); break;
                case "hostname": s.Hostname = Str(ref r, name); break;
                case "mounts": s.Mounts = List(ref r, name, Mount); break;
                case "linux": s.Linux = Obj(ref r, Linux); break;
                case "annotations": s.Annotations = Map(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return s;
    }

    private static RuntimeProcess Process(ref Utf8JsonReader r)
    {
        var p = new RuntimeProcess();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "terminal": p.Terminal = Bool(ref r, name); break;
                case "user": p.User = Obj(ref r, User)!; break;
                case "args": p.Args = Strings(ref r, name)!; break;
                case "env": p.Env = Strings(ref r, name); break;
                case "cwd": p.Cwd = Str(ref r, name)!; break;
                case "capabilities": p.Capabilities = Obj(ref r, Capabilities); break;
                case "rlimits": p.Rlimits = List(ref r, name, Rlimit); break;
                case "noNewPrivileges": p.NoNewPrivileges = Bool(ref r, name); break;
                case "oomScoreAdj": p.OomScoreAdj = OrNull(ref r, name, Int); break;
                default: r.Skip(); break;
            }
        }
        return p;
    }

    private static RuntimeUser User(ref Utf8JsonReader r)
    {
        var u = new RuntimeUser();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "uid": u.Uid = UInt(ref r, name); break;
                case "gid": u.Gid = UInt(ref r, name); break;
                case "additionalGids": u.AdditionalGids = UInts(ref r, name); break;
                case "umask": u.Umask = OrNull(ref r, name, UInt); break;
                default: r.Skip(); break;
            }
        }
        return u;
    }

    private static LinuxCapabilities Capabilities(ref Utf8JsonReader r)
    {
        var c = new LinuxCapabilities();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "bounding": c.Bounding = Strings(ref r, name); break;
                case "effective": c.Effective = Strings(ref r, name); break;
                case "inheritable": c.Inheritable = Strings(ref r, name); break;
                case "permitted": c.Permitted = Strings(ref r, name); break;
                case "ambient": c.Ambient = Strings(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return c;
    }

    private static PosixRlimit Rlimit(ref Utf8JsonReader r)
    {
        var l = Expect<PosixRlimit>(ref r, "rlimits");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "type": l.Type = Str(ref r, name)!; break;
                case "hard": l.Hard = ULong(ref r, name); break;
                case "soft": l.Soft = ULong(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return l;
    }

    private static RuntimeRoot Root(ref Utf8JsonReader r)
    {
        var root = new RuntimeRoot();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "path": root.Path = Str(ref r, name)!; break;
                case "readonly": root.Readonly = Bool(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return root;
    }

    private static RuntimeMount Mount(ref Utf8JsonReader r)
    {
        var m = Expect<RuntimeMount>(ref r, "mounts");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "destination": m.Destination = Str(ref r, name)!; break;
                case "type": m.Type = Str(ref r, name); break;
                case "source": m.Source = Str(ref r, name); break;
                case "options": m.Options = Strings(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return m;
    }

    private static RuntimeLinux Linux(ref Utf8JsonReader r)
    {
        var l = new RuntimeLinux();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "namespaces": l.Namespaces = List(ref r, name, Namespace); break;
                case "uidMappings": l.UidMappings = List(ref r, name, IdMapping); break;
                case "gidMappings": l.GidMappings = List(ref r, name, IdMapping); break;
                case "resources": l.Resources = Obj(ref r, Resources); break;
                case "cgroupsPath": l.CgroupsPath = Str(ref r, name); break;
                case "maskedPaths": l.MaskedPaths = Strings(ref r, name); break;
                case "readonlyPaths": l.ReadonlyPaths = Strings(ref r, name); break;
                case "seccomp": l.Seccomp = Obj(ref r, Seccomp); break;
                case "devices": l.Devices = List(ref r, name, Device); break;
                case "sysctl": l.Sysctl = Map(ref r, name); break;
                case "rootfsPropagation": l.RootfsPropagation = Str(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return l;
    }

    private static LinuxNamespace Namespace(ref Utf8JsonReader r)
    {
        var n = Expect<LinuxNamespace>(ref r, "namespaces");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "type": n.Type = Str(ref r, name)!; break;
                case "path": n.Path = Str(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return n;
    }

    private static LinuxIdMapping IdMapping(ref Utf8JsonReader r)
    {
        var m = Expect<LinuxIdMapping>(ref r, "an id mapping");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "containerID": m.ContainerId = UInt(ref r, name); break;
                case "hostID": m.HostId = UInt(ref r, name); break;
                case "size": m.Size = UInt(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return m;
    }

    private static LinuxResources Resources(ref Utf8JsonReader r)
    {
        var res = new LinuxResources();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "memory": res.Memory = Obj(ref r, Memory); break;
                case "cpu": res.Cpu = Obj(ref r, Cpu); break;
                case "pids": res.Pids = Obj(ref r, Pids); break;
                case "devices": res.Devices = List(ref r, name, DeviceRule); break;
                default: r.Skip(); break;
            }
        }
        return res;
    }

    private static LinuxMemory Memory(ref Utf8JsonReader r)
    {
        var m = new LinuxMemory();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "limit": m.Limit = OrNull(ref r, name, Long); break;
                case "reservation": m.Reservation = OrNull(ref r, name, Long); break;
                case "swap": m.Swap = OrNull(ref r, name, Long); break;
                case "swappiness": m.Swappiness = OrNull(ref r, name, ULong); break;
                case "disableOOMKiller": m.DisableOOMKiller = OrNull(ref r, name, Bool); break;
                default: r.Skip(); break;
            }
        }
        return m;
    }

    private static LinuxCpu Cpu(ref Utf8JsonReader r)
    {
        var c = new LinuxCpu();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "shares": c.Shares = OrNull(ref r, name, ULong); break;
                case "quota": c.Quota = OrNull(ref r, name, Long); break;
                case "period": c.Period = OrNull(ref r, name, ULong); break;
                case "cpus": c.Cpus = Str(ref r, name); break;
                case "mems": c.Mems = Str(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return c;
    }

    private static LinuxPids Pids(ref Utf8JsonReader r)
    {
        var p = new LinuxPids();
        while (Property(ref r, out string name))
        {
            if (name == "limit") p.Limit = Long(ref r, name);
            else r.Skip();
        }
        return p;
    }

    private static LinuxDeviceCgroup DeviceRule(ref Utf8JsonReader r)
    {
        var d = Expect<LinuxDeviceCgroup>(ref r, "resources.devices");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "allow": d.Allow = Bool(ref r, name); break;
                case "type": d.Type = Str(ref r, name); break;
                case "major": d.Major = OrNull(ref r, name, Long); break;
                case "minor": d.Minor = OrNull(ref r, name, Long); break;
                case "access": d.Access = Str(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return d;
    }

    private static LinuxDevice Device(ref Utf8JsonReader r)
    {
        var d = Expect<LinuxDevice>(ref r, "devices");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "path": d.Path = Str(ref r, name)!; break;
                case "type": d.Type = Str(ref r, name)!; break;
                case "major": d.Major = Long(ref r, name); break;
                case "minor": d.Minor = Long(ref r, name); break;
                case "fileMode": d.FileMode = OrNull(ref r, name, UInt); break;
                case "uid": d.Uid = OrNull(ref r, name, UInt); break;
                case "gid": d.Gid = OrNull(ref r, name, UInt); break;
                default: r.Skip(); break;
            }
        }
        return d;
    }

    private static LinuxSeccomp Seccomp(ref Utf8JsonReader r)
    {
        var s = new LinuxSeccomp();
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "defaultAction": s.DefaultAction = Str(ref r, name)!; break;
                case "defaultErrnoRet": s.DefaultErrnoRet = OrNull(ref r, name, UInt); break;
                case "architectures": s.Architectures = Strings(ref r, name); break;
                case "syscalls": s.Syscalls = List(ref r, name, Syscall); break;
                default: r.Skip(); break;
            }
        }
        return s;
    }

    private static LinuxSyscall Syscall(ref Utf8JsonReader r)
    {
        var s = Expect<LinuxSyscall>(ref r, "syscalls");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "names": s.Names = Strings(ref r, name)!; break;
                case "action": s.Action = Str(ref r, name)!; break;
                case "errnoRet": s.ErrnoRet = OrNull(ref r, name, UInt); break;
                case "args": s.Args = List(ref r, name, SeccompArg); break;
                default: r.Skip(); break;
            }
        }
        return s;
    }

    private static LinuxSeccompArg SeccompArg(ref Utf8JsonReader r)
    {
        var a = Expect<LinuxSeccompArg>(ref r, "syscalls.args");
        while (Property(ref r, out string name))
        {
            switch (name)
            {
                case "index": a.Index = UInt(ref r, name); break;
                case "value": a.Value = ULong(ref r, name); break;
                case "valueTwo": a.ValueTwo = ULong(ref r, name); break;
                case "op": a.Op = Str(ref r, name)!; break;
                default: r.Skip(); break;
            }
        }
        return a;
    }
}
