/*
 * security-probe: what a debugger does, one "name=result" line per attempt (result "ok" or the errno's name).
 * Built static by Security.Tests.ps1 (gcc -static) and bind-mounted into busybox, which has no strace or gdb.
 *
 *   security-probe ptrace     PTRACE_TRACEME in a child, PTRACE_ATTACH to a child, process_vm_readv of a child
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long rc)
{
    printf("%s=%s\n", name, rc < 0 ? strerrorname_np(errno) : "ok");
    fflush(stdout);
}

static int ptrace_family(void)
{
    int status;
    pid_t child = fork();
    if (child == 0) _exit(ptrace(PTRACE_TRACEME, 0, 0, 0) < 0 ? errno : 0);
    waitpid(child, &status, 0);
    errno = WEXITSTATUS(status);
    report("ptrace-traceme", errno ? -1 : 0);

    static char secret[] = "secret";
    child = fork();
    if (child == 0) { pause(); _exit(0); }
    long rc = ptrace(PTRACE_ATTACH, child, 0, 0);
    report("ptrace-attach", rc);
    if (rc == 0) { waitpid(child, &status, 0); ptrace(PTRACE_DETACH, child, 0, 0); }
    char buf[sizeof secret];
    struct iovec local = { buf, sizeof buf }, remote = { secret, sizeof secret };
    report("process_vm_readv", process_vm_readv(child, &local, 1, &remote, 1, 0));
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "ptrace")) return ptrace_family();
    fprintf(stderr, "usage: security-probe ptrace\n");
    return 2;
}
