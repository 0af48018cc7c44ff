/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The `stress` check: what a distribution's boot does to the memory system
 * of a multi-hart machine, all at once and for a while (vireo.stress=SECONDS,
 * 10 by default; vireo.stress_parts=fork,signals,faults,churn,exec picks
 * parts): processes forked from a parent whose threads keep writing
 * (copy-on-write racing with TLB shootdowns), children that check every byte
 * they inherited and write their own, signals between processes with live
 * floating-point state, faults caught by handlers on every hart, mmap and
 * munmap churn in threads, and exec. Each part checks its results exactly;
 * a child that dies by a signal fails the check, as systemd fails when a
 * forked child crashes. */
#include "init.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE    (2u << 20)
#define MAX_THREADS 8
#define EXEC_ARG    "stress-exec"
#define EXEC_SEED   0x5eed

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void fill(uint64_t *p, size_t words, uint64_t seed)
{
    for (size_t i = 0; i < words; i++)
        p[i] = mix(seed + i);
}

/* The index of the first word that differs from the pattern, or -1. */
static long first_bad(const uint64_t *p, size_t words, uint64_t seed)
{
    for (size_t i = 0; i < words; i++) {
        if (p[i] != mix(seed + i))
            return (long)i;
    }
    return -1;
}

static const char *describe(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(buf, size, "status 0x%x", status);
    return buf;
}

/* ---- fork while threads write: copy-on-write against shootdowns --------- */

struct writers {
    _Atomic uint64_t *counter; /* in the parent's private memory: copied on write */
    uint64_t *slots;           /* one word per thread, plain stores */
    long iters;
    atomic_int stop;
};

struct writer_arg {
    struct writers *w;
    int index;
    uint64_t done;
};

static void *writer(void *arg)
{
    struct writer_arg *a = arg;
    struct writers *w = a->w;
    for (long i = 0; i < w->iters && !atomic_load(&w->stop); i++) {
        atomic_fetch_add(w->counter, 1);
        w->slots[a->index * 8] = (uint64_t)i + 1; /* a cache line apart */
        a->done++;
    }
    return NULL;
}

/* A child: its inherited buffer must be the parent's at fork time, then
 * it writes its own pattern and reads it back. */
static int cow_child(uint64_t *buf, uint64_t seed, int child)
{
    size_t words = BUF_SIZE / 8;
    if (first_bad(buf, words, seed) >= 0)
        return 10;
    uint64_t mine = seed ^ (0x1000u + (unsigned)child);
    /* Every other page, so that the parent's pages stay shared. */
    for (size_t page = (size_t)child & 1; page < BUF_SIZE / 4096; page += 2)
        fill(buf + page * 512, 512, mine + page * 512);
    for (size_t page = (size_t)child & 1; page < BUF_SIZE / 4096; page += 2) {
        if (first_bad(buf + page * 512, 512, mine + page * 512) >= 0)
            return 11;
    }
    for (size_t page = 1 - ((size_t)child & 1); page < BUF_SIZE / 4096; page += 2) {
        if (first_bad(buf + page * 512, 512, seed + page * 512) >= 0)
            return 12;
    }
    return 0;
}

static bool stress_fork(struct check *c, int harts, unsigned round)
{
    size_t words = BUF_SIZE / 8;
    uint64_t *buf =
        mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t *shared =
        mmap(NULL, 4096 * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED || shared == MAP_FAILED) {
        check_fail(c, "mmap: %s", strerror(errno));
        return false;
    }
    uint64_t seed = mix(round + 1);
    fill(buf, words, seed);

    struct writers w = { (_Atomic uint64_t *)shared, shared + 64, 20000, 0 };
    int n_threads = harts < MAX_THREADS ? harts : MAX_THREADS;
    pthread_t th[MAX_THREADS];
    struct writer_arg args[MAX_THREADS];
    for (int i = 0; i < n_threads; i++) {
        args[i] = (struct writer_arg){ &w, i, 0 };
        pthread_create(&th[i], NULL, writer, &args[i]);
    }

    bool ok = true;
    int children = 2 * harts;
    for (int i = 0; i < children && ok; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            check_fail(c, "fork: %s", strerror(errno));
            ok = false;
            break;
        }
        if (pid == 0)
            _exit(cow_child(buf, seed, i));
        /* The parent writes too, after the fork: its own copies. */
        size_t page = ((size_t)i * 7) % (BUF_SIZE / 4096);
        fill(buf + page * 512, 512, seed + page * 512);
        int status;
        if (waitpid(pid, &status, 0) != pid) {
            check_fail(c, "waitpid: %s", strerror(errno));
            ok = false;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char why[96];
            check_fail(c,
                       "round %u: forked child %d %s (10: inherited memory differs, 11: its "
                       "own writes, 12: pages it did not write)",
                       round, i, describe(status, why, sizeof why));
            ok = false;
        }
    }
    atomic_store(&w.stop, 1);
    uint64_t total = 0;
    for (int i = 0; i < n_threads; i++) {
        pthread_join(th[i], NULL);
        total += args[i].done;
        if (shared[64 + i * 8] != args[i].done && ok) {
            check_fail(c, "round %u: thread %d's last store %llu, it made %llu", round, i,
                       (unsigned long long)shared[64 + i * 8], (unsigned long long)args[i].done);
            ok = false;
        }
    }
    if (ok && shared[0] != total) {
        check_fail(c, "round %u: %llu atomic increments across forks, %llu counted", round,
                   (unsigned long long)total, (unsigned long long)shared[0]);
        ok = false;
    }
    if (ok && first_bad(buf, words, seed) >= 0) {
        check_fail(c, "round %u: the parent's buffer changed at word %ld", round,
                   first_bad(buf, words, seed));
        ok = false;
    }
    munmap(buf, BUF_SIZE);
    munmap(shared, 4096 * 2);
    return ok;
}

/* ---- signals between processes, with floating-point state ----------------- */

static volatile sig_atomic_t got_signal;

static void on_usr1(int sig)
{
    /* The handler uses floating point too: the interrupted code's
     * registers must come back unchanged. */
    volatile double x = 1.0;
    for (int i = 0; i < 20; i++)
        x = x * 1.0000001 + 3.25;
    got_signal = sig + (x > 0 ? 0 : 1);
}

/* Sends `count` signals back and forth with `peer`; between them the FP
 * registers hold values that are checked after every signal. */
static int ping_pong(pid_t peer, int count, bool first, double base)
{
    /* SIGUSR1 is blocked (since before the fork): it arrives only inside
     * sigsuspend, which lets it through. */
    sigset_t wait_mask;
    sigprocmask(SIG_BLOCK, NULL, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    /* Callee-saved FP registers: they hold these values across the calls
     * and must across the signals too. */
    register double f0 __asm__("fs0") = base + 1.5;
    register double f1 __asm__("fs1") = base * 3.0;
    register double f2 __asm__("fs2") = base - 7.25;
    for (int i = 0; i < count; i++) {
        __asm__ volatile("" : "+f"(f0), "+f"(f1), "+f"(f2));
        if (!first || i > 0) {
            got_signal = 0;
            while (!got_signal)
                sigsuspend(&wait_mask);
        }
        __asm__ volatile("" : "+f"(f0), "+f"(f1), "+f"(f2));
        if (f0 != base + 1.5 || f1 != base * 3.0 || f2 != base - 7.25)
            return 20;
        if (kill(peer, SIGUSR1) != 0)
            return 21;
    }
    return 0;
}

static bool stress_signals(struct check *c, unsigned round)
{
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);

    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        check_fail(c, "fork: %s", strerror(errno));
        return false;
    }
    if (child == 0)
        _exit(ping_pong(parent, 200, false, 11.0 + round));
    int r = ping_pong(child, 200, true, 5.0 + round);
    int status;
    waitpid(child, &status, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
    if (r != 0) {
        check_fail(c, "round %u: signal ping-pong: %s", round,
                   r == 20 ? "floating-point registers changed across a signal" : "kill failed");
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char why[96];
        check_fail(c,
                   "round %u: signal ping-pong child %s (20: its floating-point registers "
                   "changed)",
                   round, describe(status, why, sizeof why));
        return false;
    }
    return true;
}

/* ---- faults caught by handlers, on every hart at once --------------------- */

static __thread sigjmp_buf fault_jump;
static __thread void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *info, void *ctx)
{
    (void)sig;
    (void)ctx;
    fault_addr = info->si_addr;
    siglongjmp(fault_jump, 1);
}

/* Stores to `p`; true when that faulted (and the handler jumped back). */
static __attribute__((noinline)) bool store_faults(uint8_t *p)
{
    if (sigsetjmp(fault_jump, 1) != 0)
        return true;
    *(volatile uint8_t *)p = 1;
    return false;
}

struct fault_arg {
    long iters;
    long caught;
    long wrong;
};

static void *faulter(void *arg)
{
    struct fault_arg *a = arg;
    uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return NULL;
    for (long i = 0; i < a->iters; i++) {
        page[i & 4095] = (uint8_t)i;
        mprotect(page, 4096, PROT_READ);
        uint8_t *target = page + ((i * 13) & 4095);
        if (!store_faults(target))
            a->wrong++; /* the store went through a read-only mapping */
        else if (fault_addr == target)
            a->caught++;
        else
            a->wrong++;
        mprotect(page, 4096, PROT_READ | PROT_WRITE);
        if (page[i & 4095] != (uint8_t)i)
            a->wrong++;
    }
    munmap(page, 4096);
    return NULL;
}

static bool stress_faults(struct check *c, int harts, unsigned round)
{
    struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    int n = harts < MAX_THREADS ? harts : MAX_THREADS;
    pthread_t th[MAX_THREADS];
    struct fault_arg args[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        args[i] = (struct fault_arg){ 300, 0, 0 };
        pthread_create(&th[i], NULL, faulter, &args[i]);
    }
    bool ok = true;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        if (ok && (args[i].caught != args[i].iters || args[i].wrong != 0)) {
            check_fail(c, "round %u: thread %d caught %ld of %ld write faults, %ld wrong", round, i,
                       args[i].caught, args[i].iters, args[i].wrong);
            ok = false;
        }
    }
    signal(SIGSEGV, SIG_DFL);
    return ok;
}

/* ---- mmap and munmap churn in threads (TLB shootdowns) ------------------ */

struct churn_arg {
    int index;
    long iters;
    long bad;
};

static void *churner(void *arg)
{
    struct churn_arg *a = arg;
    for (long i = 0; i < a->iters; i++) {
        size_t size = 4096u * (1 + (size_t)((i + a->index) & 15));
        uint64_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            a->bad++;
            continue;
        }
        uint64_t seed = mix((uint64_t)a->index << 32 | (uint64_t)i);
        fill(p, size / 8, seed);
        if (first_bad(p, size / 8, seed) >= 0)
            a->bad++;
        munmap(p, size);
    }
    return NULL;
}

static bool stress_churn(struct check *c, int harts, unsigned round)
{
    int n = harts < MAX_THREADS ? harts : MAX_THREADS;
    pthread_t th[MAX_THREADS];
    struct churn_arg args[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        args[i] = (struct churn_arg){ i, 200, 0 };
        pthread_create(&th[i], NULL, churner, &args[i]);
    }
    long bad = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        bad += args[i].bad;
    }
    if (bad != 0) {
        check_fail(c, "round %u: %ld mappings read back wrong or failed", round, bad);
        return false;
    }
    return true;
}

/* ---- exec ---------------------------------------------------------------- */

int stress_exec_main(void)
{
    /* A fresh address space: compute and report through the exit status. */
    static uint64_t data[4096];
    fill(data, 4096, EXEC_SEED);
    return first_bad(data, 4096, EXEC_SEED) < 0 ? 42 : 1;
}

static bool stress_exec(struct check *c, int harts, unsigned round)
{
    int n = 2 * harts;
    pid_t pids[2 * MAX_THREADS * 2];
    if (n > (int)(sizeof pids / sizeof pids[0]))
        n = (int)(sizeof pids / sizeof pids[0]);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char *argv[] = { "/init", EXEC_ARG, NULL };
            execv("/init", argv);
            _exit(2);
        }
    }
    bool ok = true;
    for (int i = 0; i < n; i++) {
        int status;
        if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i])
            continue;
        if (ok && (!WIFEXITED(status) || WEXITSTATUS(status) != 42)) {
            char why[96];
            check_fail(c, "round %u: exec'd child %s (42 expected)", round,
                       describe(status, why, sizeof why));
            ok = false;
        }
    }
    return ok;
}

enum result check_stress(struct check *c)
{
    int harts = online_harts();
    if (harts < 1)
        harts = 1;
    double seconds = (double)param_long("stress", 10);
    double start = now();
    unsigned rounds = 0;
    /* vireo.stress_parts=fork,signals,... picks parts (all by default). */
    const char *parts = param("stress_parts");
#define PART(name) (parts == NULL || strstr(parts, name) != NULL)
    do {
        if ((PART("fork") && !stress_fork(c, harts, rounds)) ||
            (PART("signals") && !stress_signals(c, rounds)) ||
            (PART("faults") && !stress_faults(c, harts, rounds)) ||
            (PART("churn") && !stress_churn(c, harts, rounds)) ||
            (PART("exec") && !stress_exec(c, harts, rounds)))
            return RESULT_FAIL;
        rounds++;
    } while (now() - start < seconds);
#undef PART
    check_info(c, "%u rounds on %d harts in %.1f s", rounds, harts, now() - start);
    return RESULT_PASS;
}
