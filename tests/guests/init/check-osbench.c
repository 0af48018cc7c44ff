/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The `osbench` check: how long the operations a distribution's boot is made
 * of take in this machine, each timed over a fixed count with the guest's
 * clock: a system call, a context switch between two processes (on one
 * hart and across harts), fork, fork and exec, an anonymous page fault,
 * munmap while a second thread of the process runs on another hart (a TLB
 * shootdown through the firmware), and a signal delivered to a handler.
 * One line each, "osbench NAME: N ns", that tests/bench/bench-os.py reads
 * on Vireo and on QEMU. The check fails only when an operation fails. */
#include "init.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OSBENCH_EXEC_ARG "osbench-exec"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void report(struct check *c, const char *name, double total_ns, long count)
{
    check_info(c, "osbench %s: %.0f ns (%ld in %.2f s)", name, total_ns / (double)count, count,
               total_ns * 1e-9);
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

/* Back to every hart, for the checks that follow. */
static void unpin(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < online_harts(); i++)
        CPU_SET(i, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static bool bench_syscall(struct check *c)
{
    long n = 20000;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    report(c, "syscall", now_ns() - t0, n);
    return true;
}

/* Round trips of one byte through two pipes between two processes. */
static bool bench_pingpong(struct check *c, const char *name, int parent_cpu, int child_cpu)
{
    long n = 2000;
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0) {
        check_fail(c, "pipe: %s", strerror(errno));
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        check_fail(c, "fork: %s", strerror(errno));
        return false;
    }
    char b = 0;
    if (pid == 0) {
        pin(child_cpu);
        for (long i = 0; i < n; i++) {
            if (read(down[0], &b, 1) != 1 || write(up[1], &b, 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    pin(parent_cpu);
    double t0 = now_ns();
    bool ok = true;
    for (long i = 0; i < n && ok; i++)
        ok = write(down[1], &b, 1) == 1 && read(up[0], &b, 1) == 1;
    double t = now_ns() - t0;
    int status;
    waitpid(pid, &status, 0);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        check_fail(c, "%s: the pipe round trips failed", name);
        return false;
    }
    report(c, name, t, n);
    return true;
}

static bool bench_fork(struct check *c, bool do_exec)
{
    long n = do_exec ? 100 : 200;
    /* Some memory to copy-on-write, as a real parent has. */
    size_t size = 8u << 20;
    char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        check_fail(c, "mmap: %s", strerror(errno));
        return false;
    }
    memset(mem, 1, size);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            check_fail(c, "fork: %s", strerror(errno));
            return false;
        }
        if (pid == 0) {
            if (do_exec) {
                char *argv[] = { "/init", OSBENCH_EXEC_ARG, NULL };
                execv("/init", argv);
                _exit(2);
            }
            mem[(size_t)i * 4096 % size] = 2; /* one copy-on-write fault */
            _exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            check_fail(c, "a %s child failed", do_exec ? "fork+exec" : "fork");
            return false;
        }
    }
    report(c, do_exec ? "fork+exec" : "fork", now_ns() - t0, n);
    munmap(mem, size);
    return true;
}

int osbench_exec_main(void)
{
    return 0;
}

static bool bench_fault(struct check *c)
{
    size_t size = 32u << 20;
    long pages = (long)(size / 4096);
    char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        check_fail(c, "mmap: %s", strerror(errno));
        return false;
    }
    double t0 = now_ns();
    for (long i = 0; i < pages; i++)
        mem[i * 4096] = 1;
    double t = now_ns() - t0;
    munmap(mem, size);
    report(c, "page-fault", t, pages);
    return true;
}

static atomic_int spin_stop;

static void *spinner(void *arg)
{
    pin((int)(intptr_t)arg);
    while (!atomic_load(&spin_stop))
        ;
    return NULL;
}

/* munmap of a touched page while another thread of the same process runs
 * on another hart: Linux must flush that hart's TLB too. */
static bool bench_shootdown(struct check *c, int harts)
{
    if (harts < 2) {
        check_info(c, "osbench shootdown: needs 2 harts");
        return true;
    }
    long n = 1000;
    pthread_t th;
    atomic_store(&spin_stop, 0);
    pthread_create(&th, NULL, spinner, (void *)(intptr_t)1);
    pin(0);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            atomic_store(&spin_stop, 1);
            pthread_join(th, NULL);
            check_fail(c, "mmap: %s", strerror(errno));
            return false;
        }
        p[0] = 1;
        munmap(p, 4096);
    }
    double t = now_ns() - t0;
    atomic_store(&spin_stop, 1);
    pthread_join(th, NULL);
    report(c, "shootdown", t, n);
    return true;
}

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
    (void)sig;
    signals_seen++;
}

static bool bench_signal(struct check *c)
{
    long n = 5000;
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    signals_seen = 0;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        kill(getpid(), SIGUSR2);
    double t = now_ns() - t0;
    signal(SIGUSR2, SIG_DFL);
    if (signals_seen != n) {
        check_fail(c, "%ld of %ld signals reached the handler", (long)signals_seen, n);
        return false;
    }
    report(c, "signal", t, n);
    return true;
}

enum result check_osbench(struct check *c)
{
    int harts = online_harts();
    bool ok = bench_syscall(c) && bench_pingpong(c, "switch-same-hart", 0, 0) &&
              (harts < 2 || bench_pingpong(c, "switch-cross-hart", 0, 1)) && bench_fork(c, false) &&
              bench_fork(c, true) && bench_fault(c) && bench_shootdown(c, harts) && bench_signal(c);
    unpin();
    return ok ? RESULT_PASS : RESULT_FAIL;
}
