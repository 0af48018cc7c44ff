/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/clock.h"

#include <stdatomic.h>

struct VireoTimer {
    VireoClock *clock;
    VireoTimerFunc func;
    void *opaque;
    uint64_t deadline;
    bool armed;
};

struct VireoClock {
    uint64_t freq;
    /* ticks = base_ticks + (now_ns - base_ns) * freq / 1e9 while running.
     * Readers take a consistent copy through the sequence counter. */
    _Atomic uint64_t seq;
    _Atomic uint64_t base_ticks;
    _Atomic gint64 base_ns;
    atomic_bool running;

    GMutex lock; /* timers and the thread */
    GCond cond;
    GPtrArray *timers;
    GThread *thread;
    bool quit;
    guint64 generation;    /* bumped when timers or the clock change */
    VireoTimer *firing;    /* timer whose callback runs now */
    unsigned free_waiters; /* vireo_timer_free() calls waiting for `firing` */
    /* While the thread sleeps: the deadline it wakes for (G_MAXUINT64 for
     * none); 0 while it is awake. A timer armed for later needs no wake-up. */
    uint64_t sleep_deadline;
};

static gint64 host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t ticks_at(const VireoClock *c, uint64_t base_ticks, gint64 base_ns, gint64 ns)
{
    gint64 d = ns - base_ns;
    if (d < 0) {
        d = 0;
    }
    if (c->freq <= G_MAXUINT64 / 1000000000u) {
        /* Whole seconds and the rest apart: the same floor, with 64-bit
         * divisions by a constant (multiplications) instead of a call to
         * the 128-bit one, on a path the guest takes at every `time` read. */
        uint64_t s = (uint64_t)d / 1000000000u, rest = (uint64_t)d % 1000000000u;
        return base_ticks + s * c->freq + rest * c->freq / 1000000000u;
    }
    return base_ticks + (uint64_t)(((unsigned __int128)d * c->freq) / 1000000000u);
}

uint64_t vireo_clock_now(VireoClock *clock)
{
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&clock->seq, memory_order_acquire);
        uint64_t bt = atomic_load_explicit(&clock->base_ticks, memory_order_relaxed);
        gint64 bn = atomic_load_explicit(&clock->base_ns, memory_order_relaxed);
        bool running = atomic_load_explicit(&clock->running, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if ((s1 & 1) == 0 && atomic_load_explicit(&clock->seq, memory_order_relaxed) == s1) {
            return running ? ticks_at(clock, bt, bn, host_ns()) : bt;
        }
    }
}

/* Called with clock->lock held: writers are serialized by it. */
static void rebase_locked(VireoClock *clock, uint64_t ticks, bool running)
{
    atomic_fetch_add_explicit(&clock->seq, 1, memory_order_acq_rel);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&clock->base_ticks, ticks, memory_order_relaxed);
    atomic_store_explicit(&clock->base_ns, host_ns(), memory_order_relaxed);
    atomic_store_explicit(&clock->running, running, memory_order_relaxed);
    atomic_fetch_add_explicit(&clock->seq, 1, memory_order_release);
    clock->generation++;
    g_cond_broadcast(&clock->cond);
}

gint64 vireo_clock_ns_until(VireoClock *clock, uint64_t ticks)
{
    uint64_t now;

    if (!atomic_load(&clock->running)) {
        return G_MAXINT64;
    }
    now = vireo_clock_now(clock);
    if (ticks <= now) {
        return 0;
    }
    unsigned __int128 ns =
        ((unsigned __int128)(ticks - now) * 1000000000u + clock->freq - 1) / clock->freq;
    return ns > G_MAXINT64 ? G_MAXINT64 : (gint64)ns;
}

static gpointer clock_thread(gpointer data)
{
    VireoClock *clock = data;

    g_mutex_lock(&clock->lock);
    while (!clock->quit) {
        VireoTimer *due = NULL;
        uint64_t earliest = G_MAXUINT64;
        uint64_t now = vireo_clock_now(clock);
        bool running = atomic_load(&clock->running);

        for (guint i = 0; i < clock->timers->len; i++) {
            VireoTimer *t = g_ptr_array_index(clock->timers, i);
            if (!t->armed) {
                continue;
            }
            if (running && t->deadline <= now) {
                due = t;
                break;
            }
            earliest = MIN(earliest, t->deadline);
        }
        if (due != NULL) {
            due->armed = false;
            clock->firing = due;
            g_mutex_unlock(&clock->lock);
            due->func(due->opaque);
            g_mutex_lock(&clock->lock);
            clock->firing = NULL;
            if (clock->free_waiters > 0) {
                g_cond_broadcast(&clock->cond);
            }
            continue;
        }
        guint64 gen = clock->generation;
        if (!running || earliest == G_MAXUINT64) {
            clock->sleep_deadline = G_MAXUINT64;
            while (clock->generation == gen && !clock->quit) {
                g_cond_wait(&clock->cond, &clock->lock);
            }
        } else {
            clock->sleep_deadline = earliest;
            /* Sleep at most an hour at a time: far deadlines (a guest may
             * program one centuries ahead) are re-evaluated on waking. */
            gint64 wait_us = MIN(vireo_clock_ns_until(clock, earliest) / 1000 + 1,
                                 (gint64)3600 * G_USEC_PER_SEC);
            gint64 end = g_get_monotonic_time() + wait_us;
            while (clock->generation == gen && !clock->quit) {
                if (!g_cond_wait_until(&clock->cond, &clock->lock, end)) {
                    break;
                }
            }
        }
        clock->sleep_deadline = 0;
    }
    g_mutex_unlock(&clock->lock);
    return NULL;
}

VireoClock *vireo_clock_new(uint64_t frequency_hz)
{
    VireoClock *clock = g_new0(VireoClock, 1);

    clock->freq = frequency_hz;
    atomic_init(&clock->seq, 0);
    atomic_init(&clock->base_ticks, 0);
    atomic_init(&clock->base_ns, host_ns());
    atomic_init(&clock->running, false);
    g_mutex_init(&clock->lock);
    g_cond_init(&clock->cond);
    clock->timers = g_ptr_array_new();
    clock->thread = g_thread_new("vireo-clock", clock_thread, clock);
    return clock;
}

void vireo_clock_free(VireoClock *clock)
{
    if (clock == NULL) {
        return;
    }
    g_mutex_lock(&clock->lock);
    clock->quit = true;
    g_cond_broadcast(&clock->cond);
    g_mutex_unlock(&clock->lock);
    g_thread_join(clock->thread);
    g_ptr_array_free(clock->timers, TRUE);
    g_mutex_clear(&clock->lock);
    g_cond_clear(&clock->cond);
    g_free(clock);
}

uint64_t vireo_clock_frequency(const VireoClock *clock)
{
    return clock->freq;
}

void vireo_clock_pause(VireoClock *clock)
{
    g_mutex_lock(&clock->lock);
    if (atomic_load(&clock->running)) {
        rebase_locked(clock, vireo_clock_now(clock), false);
    }
    g_mutex_unlock(&clock->lock);
}

void vireo_clock_resume(VireoClock *clock)
{
    g_mutex_lock(&clock->lock);
    if (!atomic_load(&clock->running)) {
        rebase_locked(clock, vireo_clock_now(clock), true);
    }
    g_mutex_unlock(&clock->lock);
}

bool vireo_clock_is_running(VireoClock *clock)
{
    return atomic_load(&clock->running);
}

void vireo_clock_set(VireoClock *clock, uint64_t ticks)
{
    g_mutex_lock(&clock->lock);
    rebase_locked(clock, ticks, atomic_load(&clock->running));
    g_mutex_unlock(&clock->lock);
}

VireoTimer *vireo_timer_new(VireoClock *clock, VireoTimerFunc func, void *opaque)
{
    VireoTimer *t = g_new0(VireoTimer, 1);

    t->clock = clock;
    t->func = func;
    t->opaque = opaque;
    g_mutex_lock(&clock->lock);
    g_ptr_array_add(clock->timers, t);
    g_mutex_unlock(&clock->lock);
    return t;
}

void vireo_timer_free(VireoTimer *timer)
{
    VireoClock *clock;

    if (timer == NULL) {
        return;
    }
    clock = timer->clock;
    g_mutex_lock(&clock->lock);
    /* Wait for a callback of this timer that may be running now. */
    while (clock->firing == timer && g_thread_self() != clock->thread) {
        clock->free_waiters++;
        g_cond_wait(&clock->cond, &clock->lock);
        clock->free_waiters--;
    }
    g_ptr_array_remove(clock->timers, timer);
    g_mutex_unlock(&clock->lock);
    g_free(timer);
}

void vireo_timer_arm(VireoTimer *timer, uint64_t deadline)
{
    VireoClock *clock = timer->clock;

    g_mutex_lock(&clock->lock);
    timer->deadline = deadline;
    timer->armed = true;
    clock->generation++;
    /* The thread rescans the timers whenever it wakes: wake it only when
     * it sleeps past this deadline. */
    if (deadline < clock->sleep_deadline) {
        g_cond_broadcast(&clock->cond);
    }
    g_mutex_unlock(&clock->lock);
}

void vireo_timer_cancel(VireoTimer *timer)
{
    VireoClock *clock = timer->clock;

    g_mutex_lock(&clock->lock);
    /* No wake-up: at worst the thread wakes once for nothing. */
    timer->armed = false;
    g_mutex_unlock(&clock->lock);
}
