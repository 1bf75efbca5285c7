using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>Brings up <c>lo</c> in the calling thread's network namespace. No allocation: the cloned child uses it too.</summary>
internal static unsafe class Loopback
{
    /// <summary>True when <c>lo</c> is up; else false with <paramref name="step"/> 0 (socket or reading its flags) or 1 (setting them).</summary>
    public static bool Up(out int step)
    {
        // struct ifreq: char ifr_name[16]; short ifr_flags at 16.
        byte* ifr = stackalloc byte[40];
        for (int i = 0; i < 40; i++) ifr[i] = 0;
        ifr[0] = (byte)'l'; ifr[1] = (byte)'o';
        step = 0;
        int sock = socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | 0x80000 /* SOCK_CLOEXEC */, 0);
        if (sock < 0) return false;
        bool up = ioctl(sock, 0x8913 /* SIOCGIFFLAGS */, (ulong)ifr) == 0;
        if (up)
        {
            step = 1;
            *(short*)(ifr + 16) |= 1; // IFF_UP
            up = ioctl(sock, 0x8914 /* SIOCSIFFLAGS */, (ulong)ifr) == 0;
        }
        close(sock); // leaves errno as the failed call set it
        return up;
    }
}
