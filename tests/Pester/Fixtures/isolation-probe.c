/*
 * isolation-probe: what a hostile process inside a container tries, one "name=result" line per attempt
 * (result "ok" or the errno's name). Built static by Isolation.Process.Tests.ps1 (gcc -static) and bind-mounted
 * into busybox containers, which have no compiler, python or TIOCSTI of their own.
 *
 *   isolation-probe session               own session leader? controlling terminal?
 *   isolation-probe tiocsti TEXT          push TEXT into the input of the terminal on fd 0
 *   isolation-probe namespaces            clone() with each CLONE_NEW* flag, clone3(), unshare()
 *   isolation-probe fork-threads          fork, and threads (glibc tries clone3, then clone)
 *   isolation-probe families              io_uring, keyctl, add_key, request_key, bpf, perf_event_open, userfaultfd
 *   isolation-probe sleep SECONDS         stays alive (the test reads /proc/<pid>/fd from the host)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long rc)
{
    printf("%s=%s\n", name, rc < 0 ? strerrorname_np(errno) : "ok");
    fflush(stdout);
}

/* clone(2) like fork with extra flags; the child exits at once. */
static long clone_with(unsigned long flags)
{
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, NULL, 0);
    return pid;
}

static void *thread_main(void *arg) { return arg; }

static int session(void)
{
    printf("own-session=%s\n", getsid(0) == getpid() ? "yes" : "no");
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    printf("controlling-terminal=%s\n", fd >= 0 ? "yes" : strerrorname_np(errno));
    return 0;
}

static int tiocsti(const char *text)
{
    long rc = 0;
    for (const char *c = text; *c && rc == 0; c++) rc = ioctl(0, TIOCSTI, c);
    report("tiocsti", rc);
    /* The kernel reads the request as an unsigned int: high bits must not get past a filter either. */
    char nl = '\n';
    report("tiocsti-high-bits", syscall(SYS_ioctl, 0, 0x100000000UL | TIOCSTI, &nl));
    return 0;
}

static int namespaces(void)
{
    static const struct { const char *name; unsigned long flag; } ns[] = {
        { "clone-newuser", CLONE_NEWUSER }, { "clone-newns", CLONE_NEWNS }, { "clone-newpid", CLONE_NEWPID },
        { "clone-newnet", CLONE_NEWNET }, { "clone-newipc", CLONE_NEWIPC }, { "clone-newuts", CLONE_NEWUTS },
        { "clone-newcgroup", CLONE_NEWCGROUP },
    };
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) report(ns[i].name, clone_with(ns[i].flag));
    struct clone_args args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, NULL, 0);
    report("clone3", pid);
    report("unshare-newuser", unshare(CLONE_NEWUSER));
    return 0;
}

static int fork_threads(void)
{
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, NULL, 0);
    report("fork", pid);
    pthread_t t[4];
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) rc = pthread_create(&t[i], NULL, thread_main, NULL);
    for (int i = 0; i < 4 && rc == 0; i++) pthread_join(t[i], NULL);
    errno = rc;
    report("threads", rc == 0 ? 0 : -1);
    return 0;
}

static int families(void)
{
    char params[120] = { 0 };
    report("io_uring_setup", syscall(SYS_io_uring_setup, 1, params));
    report("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
    report("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
    report("keyctl", syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, "probe"));
    report("add_key", syscall(SYS_add_key, "user", "probe", "x", 1, -3 /* KEY_SPEC_SESSION_KEYRING */));
    report("request_key", syscall(SYS_request_key, "user", "probe", NULL, 0));
    char attr[128] = { 0 };
    report("bpf", syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof attr));
    report("perf_event_open", syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
    report("userfaultfd", syscall(SYS_userfaultfd, 0));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "session")) return session();
    if (argc >= 3 && !strcmp(argv[1], "tiocsti")) return tiocsti(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "namespaces")) return namespaces();
    if (argc >= 2 && !strcmp(argv[1], "fork-threads")) return fork_threads();
    if (argc >= 2 && !strcmp(argv[1], "families")) return families();
    if (argc >= 3 && !strcmp(argv[1], "sleep")) return sleep((unsigned)atoi(argv[2])), 0;
    fprintf(stderr, "usage: isolation-probe session|tiocsti TEXT|namespaces|fork-threads|families|sleep SECONDS\n");
    return 2;
}
