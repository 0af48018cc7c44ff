/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The `harts` and `smp` checks: how many harts Linux brought online, and
 * whether work spread over them in processes and threads loses nothing. */
#include "init.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- harts --------------------------------------------------------------- */

/* Counts the CPUs in a list such as "0-3,5". Returns -1 when malformed. */
static int count_cpu_list(const char *s)
{
    int count = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10);
        if (end == s)
            return -1;
        long b = a;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a)
                return -1;
            s = end;
        }
        count += (int)(b - a + 1);
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return count;
}

static void first_isa(char *out, size_t size)
{
    static char text[16384];
    snprintf(out, size, "?");
    if (read_text("/proc/cpuinfo", text, sizeof text) < 0)
        return;
    const char *p = strstr(text, "\nisa");
    if (!p)
        return;
    p = strchr(p, ':');
    if (!p)
        return;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t len = strcspn(p, "\n");
    if (len >= size)
        len = size - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

enum result check_harts(struct check *c)
{
    char online[256], possible[256], isa[128];
    if (read_text("/sys/devices/system/cpu/online", online, sizeof online) <= 0)
        return check_fail(c, "cannot read /sys/devices/system/cpu/online");
    if (read_text("/sys/devices/system/cpu/possible", possible, sizeof possible) <= 0)
        snprintf(possible, sizeof possible, "?");
    first_isa(isa, sizeof isa);
    int n = count_cpu_list(online);
    long conf = sysconf(_SC_NPROCESSORS_ONLN);
    long want = param_long("harts", 0);
    check_info(c, "online %s (%d), possible %s, sysconf %ld, expected %ld, isa %s", online, n,
               possible, conf, want, isa);
    if (n < 1)
        return check_fail(c, "cannot parse the online list '%s'", online);
    if (conf != n)
        return check_fail(c, "sysconf says %ld harts, sysfs %d", conf, n);
    if (want > 0 && n != want)
        return check_fail(c, "%d harts online, expected %ld", n, want);
    return RESULT_PASS;
}

/* ---- smp: processes ------------------------------------------------------ */

struct work_result {
    uint64_t x;
    uint64_t f; /* bits of the double */
    int cpu_first;
    int cpu_last;
};

/* Deterministic integer and floating-point work; yields now and then so
 * that processes sharing a hart are switched while their FP state is live. */
static struct work_result do_work(unsigned seed, long iters)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    double f = seed + 0.5;
    for (long i = 0; i < iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f = f * 0.999 + (double)(x & 0xff) / 256.0;
        if ((i & 0x3fff) == 0x3fff)
            sched_yield();
    }
    struct work_result r = { .x = x };
    memcpy(&r.f, &f, sizeof f);
    return r;
}

static void pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static bool smp_processes(struct check *c, int harts, long iters)
{
    int nproc = harts * 2 < 2 ? 2 : harts * 2;
    if (nproc > 64)
        nproc = 64;
    int fds[64][2];
    pid_t pids[64];
    for (int i = 0; i < nproc; i++) {
        if (pipe(fds[i]) != 0) {
            check_fail(c, "pipe: %s", strerror(errno));
            return false;
        }
        pids[i] = fork();
        if (pids[i] < 0) {
            check_fail(c, "fork: %s", strerror(errno));
            return false;
        }
        if (pids[i] == 0) {
            close(fds[i][0]);
            pin_to(i % harts);
            int first = sched_getcpu();
            struct work_result r = do_work((unsigned)i + 1, iters);
            r.cpu_first = first;
            r.cpu_last = sched_getcpu();
            _exit(write(fds[i][1], &r, sizeof r) == sizeof r ? 0 : 1);
        }
        close(fds[i][1]);
    }

    bool ok = true;
    uint64_t cpus = 0;
    for (int i = 0; i < nproc; i++) {
        struct work_result got;
        ssize_t n = read(fds[i][0], &got, sizeof got);
        close(fds[i][0]);
        int status = 0;
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0 || n != sizeof got) {
            check_fail(c, "worker process %d failed (status 0x%x)", i, status);
            ok = false;
            continue;
        }
        struct work_result want = do_work((unsigned)i + 1, iters);
        if (got.x != want.x || got.f != want.f) {
            check_fail(c, "worker process %d computed %016llx/%016llx, expected %016llx/%016llx", i,
                       (unsigned long long)got.x, (unsigned long long)got.f,
                       (unsigned long long)want.x, (unsigned long long)want.f);
            ok = false;
        }
        if (got.cpu_first >= 0 && got.cpu_first < 64)
            cpus |= 1ull << got.cpu_first;
        if (got.cpu_last >= 0 && got.cpu_last < 64)
            cpus |= 1ull << got.cpu_last;
    }
    check_info(c, "%d processes x %ld iterations: %s, ran on harts 0x%llx", nproc, iters,
               ok ? "results agree" : "MISMATCH", (unsigned long long)cpus);
    if (ok && harts > 1 && __builtin_popcountll(cpus) < (harts < 64 ? harts : 64)) {
        check_fail(c, "processes pinned to %d harts ran on 0x%llx only", harts,
                   (unsigned long long)cpus);
        ok = false;
    }
    return ok;
}

/* ---- smp: threads and shared counters ------------------------------------ */

/* Adds v to *p with an lr.w/sc.w loop; returns how many times sc.w failed. */
static inline unsigned long lrsc_add_w(uint32_t *p, uint32_t v)
{
    unsigned long tries = 0;
    uint32_t tmp;
    unsigned long fail;
    __asm__ volatile("1: addi %[n], %[n], 1\n"
                     "   lr.w %[t], (%[p])\n"
                     "   addw %[t], %[t], %[v]\n"
                     "   sc.w %[f], %[t], (%[p])\n"
                     "   bnez %[f], 1b\n"
                     : [t] "=&r"(tmp), [f] "=&r"(fail), [n] "+r"(tries)
                     : [p] "r"(p), [v] "r"(v)
                     : "memory");
    return tries - 1;
}

/* The same with lr.d/sc.d on a doubleword. */
static inline unsigned long lrsc_add_d(uint64_t *p, uint64_t v)
{
    unsigned long tries = 0;
    uint64_t tmp;
    unsigned long fail;
    __asm__ volatile("1: addi %[n], %[n], 1\n"
                     "   lr.d %[t], (%[p])\n"
                     "   add %[t], %[t], %[v]\n"
                     "   sc.d %[f], %[t], (%[p])\n"
                     "   bnez %[f], 1b\n"
                     : [t] "=&r"(tmp), [f] "=&r"(fail), [n] "+r"(tries)
                     : [p] "r"(p), [v] "r"(v)
                     : "memory");
    return tries - 1;
}

struct shared {
    _Alignas(64) uint64_t amo64;
    /* Two words in one doubleword: an sc.w on one must not disturb the
     * amoadd.w on the other. */
    _Alignas(64) struct {
        uint32_t lrsc;
        uint32_t amo;
    } pair;
    _Alignas(64) uint64_t lrsc64;
    _Alignas(64) uint64_t locked;
    pthread_mutex_t lock;
    pthread_barrier_t start;
    long iters;
    int harts;
};

struct worker {
    pthread_t thread;
    struct shared *s;
    int index;
    unsigned long sc_failures;
    uint64_t cpus;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct shared *s = w->s;
    pin_to(w->index % s->harts);
    pthread_barrier_wait(&s->start);
    int cpu = sched_getcpu();
    if (cpu >= 0 && cpu < 64)
        w->cpus |= 1ull << cpu;
    for (long i = 0; i < s->iters; i++) {
        __atomic_fetch_add(&s->amo64, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&s->pair.amo, 1, __ATOMIC_RELAXED);
        w->sc_failures += lrsc_add_w(&s->pair.lrsc, 1);
        w->sc_failures += lrsc_add_d(&s->lrsc64, 1);
        if ((i & 15) == 0) {
            pthread_mutex_lock(&s->lock);
            s->locked++;
            pthread_mutex_unlock(&s->lock);
        }
    }
    cpu = sched_getcpu();
    if (cpu >= 0 && cpu < 64)
        w->cpus |= 1ull << cpu;
    return NULL;
}

static bool smp_threads(struct check *c, int harts, long iters)
{
    static struct shared s;
    int nthreads = harts * 2 < 2 ? 2 : harts * 2;
    if (nthreads > 64)
        nthreads = 64;
    static struct worker workers[64];
    memset(&s, 0, sizeof s);
    s.iters = iters;
    s.harts = harts;
    pthread_mutex_init(&s.lock, NULL);
    pthread_barrier_init(&s.start, NULL, (unsigned)nthreads);

    int started = 0;
    for (int i = 0; i < nthreads; i++) {
        workers[i] = (struct worker){ .s = &s, .index = i };
        int err = pthread_create(&workers[i].thread, NULL, hammer, &workers[i]);
        if (err != 0) {
            check_fail(c, "pthread_create: %s", strerror(err));
            /* The barrier cannot be passed; the machine is powered off. */
            return false;
        }
        started++;
    }
    unsigned long failures = 0;
    uint64_t cpus = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        failures += workers[i].sc_failures;
        cpus |= workers[i].cpus;
    }

    uint64_t want = (uint64_t)nthreads * (uint64_t)iters;
    uint64_t want_locked = (uint64_t)nthreads * (uint64_t)((iters + 15) / 16);
    check_info(c,
               "%d threads x %ld iterations: amoadd.d %llu, amoadd.w %u, lr.w/sc.w %u, "
               "lr.d/sc.d %llu, mutex %llu (expected %llu and %llu), sc failures %lu, "
               "harts 0x%llx",
               nthreads, iters, (unsigned long long)s.amo64, s.pair.amo, s.pair.lrsc,
               (unsigned long long)s.lrsc64, (unsigned long long)s.locked, (unsigned long long)want,
               (unsigned long long)want_locked, failures, (unsigned long long)cpus);
    if (s.amo64 != want || s.pair.amo != (uint32_t)want || s.pair.lrsc != (uint32_t)want ||
        s.lrsc64 != want || s.locked != want_locked) {
        check_fail(c,
                   "lost updates: amoadd.d %llu, amoadd.w %u, lr.w/sc.w %u, lr.d/sc.d %llu, "
                   "mutex %llu; expected %llu and %llu",
                   (unsigned long long)s.amo64, s.pair.amo, s.pair.lrsc,
                   (unsigned long long)s.lrsc64, (unsigned long long)s.locked,
                   (unsigned long long)want, (unsigned long long)want_locked);
        return false;
    }
    if (harts > 1 && __builtin_popcountll(cpus) < (harts < 64 ? harts : 64)) {
        check_fail(c, "threads pinned to %d harts ran on 0x%llx only", harts,
                   (unsigned long long)cpus);
        return false;
    }
    return true;
}

enum result check_smp(struct check *c)
{
    int harts = online_harts();
    if (harts > 64)
        harts = 64;
    long work = param_long("smp_work", 200000);
    long iters = param_long("smp_iters", 100000);
    if (!smp_processes(c, harts, work))
        return RESULT_FAIL;
    if (!smp_threads(c, harts, iters))
        return RESULT_FAIL;
    return RESULT_PASS;
}
