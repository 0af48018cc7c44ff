/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/clint.h"
#include "engine/snap.h"

/* The farthest a timer is armed ahead of mtime, in ticks (about 228 years at
 * 10 MHz). A compare value beyond it is re-checked when that timer fires. */
#define MAX_TIMER_AHEAD (1ull << 56)

typedef struct {
    struct VireoClint *clint;
    unsigned hart;
    VireoTimer *timer;
    VireoIrq msip_irq, mtip_irq;
    uint64_t mtimecmp;
    bool msip;
    bool mtip;
} ClintHart;

struct VireoClint {
    GMutex lock;
    VireoClock *clock;
    unsigned n_harts;
    ClintHart *harts;
    bool paused; /* timers that fire are left for resume() */
};

/* Drives MTIP when its level changes, or always (`force`: after a load,
 * when the hart's line may hold another machine state's level). */
static void set_mtip_locked(ClintHart *h, bool level, bool force)
{
    if (h->mtip != level || force) {
        h->mtip = level;
        vireo_irq_set(&h->mtip_irq, level);
    }
}

/* Compares the hart's mtimecmp with mtime: MTIP goes high at once when the
 * deadline has passed; otherwise MTIP goes low and a timer is armed. */
static void update_timer_locked(ClintHart *h, bool force)
{
    VireoClock *clock = h->clint->clock;
    uint64_t now = vireo_clock_now(clock);

    if (h->mtimecmp <= now) {
        vireo_timer_cancel(h->timer);
        set_mtip_locked(h, true, force);
        return;
    }
    set_mtip_locked(h, false, force);
    if (h->mtimecmp - now > MAX_TIMER_AHEAD) {
        vireo_timer_arm(h->timer, now + MAX_TIMER_AHEAD);
    } else {
        vireo_timer_arm(h->timer, h->mtimecmp);
    }
}

/* On the clock's thread; mtimecmp may have changed since the timer was
 * armed, so the comparison is made again. While the machine is paused the
 * clock stands still and no timer falls due, but one may have fallen due
 * just before the pause and fire after it: it changes nothing then, and
 * resume() compares every hart again. */
static void timer_fired(void *opaque)
{
    ClintHart *h = opaque;
    VireoClint *c = h->clint;

    g_mutex_lock(&c->lock);
    if (!c->paused) {
        update_timer_locked(h, false);
    }
    g_mutex_unlock(&c->lock);
}

static bool aligned(uint64_t offset, unsigned size)
{
    return (offset & (size - 1)) == 0;
}

/* A 64-bit register seen through an access of `size` at `offset` inside it
 * (0 for the whole register or its low half, 4 for its high half). */
static uint64_t read_part(uint64_t reg, uint64_t offset, unsigned size)
{
    if (size == 8) {
        return reg;
    }
    return offset == 0 ? (uint32_t)reg : reg >> 32;
}

static uint64_t write_part(uint64_t reg, uint64_t offset, unsigned size, uint64_t value)
{
    if (size == 8) {
        return value;
    }
    if (offset == 0) {
        return (reg & 0xffffffff00000000ull) | (uint32_t)value;
    }
    return (reg & 0xffffffffull) | ((uint64_t)(uint32_t)value << 32);
}

static bool clint_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    VireoClint *c = opaque;

    *value = 0;
    if ((size != 4 && size != 8) || !aligned(offset, size) || offset >= VIREO_CLINT_MMIO_SIZE) {
        return false;
    }
    if (offset < VIREO_CLINT_MTIMECMP) {
        uint64_t hart = offset / 4;
        if (size != 4) {
            return false;
        }
        if (hart < c->n_harts) {
            g_mutex_lock(&c->lock);
            *value = c->harts[hart].msip ? 1 : 0;
            g_mutex_unlock(&c->lock);
        }
        return true;
    }
    if (offset >= VIREO_CLINT_MTIME) {
        *value = read_part(vireo_clock_now(c->clock), offset - VIREO_CLINT_MTIME, size);
        return true;
    }
    uint64_t hart = (offset - VIREO_CLINT_MTIMECMP) / 8;
    if (hart < c->n_harts) {
        g_mutex_lock(&c->lock);
        *value = read_part(c->harts[hart].mtimecmp, (offset - VIREO_CLINT_MTIMECMP) % 8, size);
        g_mutex_unlock(&c->lock);
    }
    return true;
}

static bool clint_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    VireoClint *c = opaque;

    if ((size != 4 && size != 8) || !aligned(offset, size) || offset >= VIREO_CLINT_MMIO_SIZE) {
        return false;
    }
    if (offset < VIREO_CLINT_MTIMECMP) {
        uint64_t hart = offset / 4;
        if (size != 4) {
            return false;
        }
        if (hart < c->n_harts) {
            ClintHart *h = &c->harts[hart];
            bool level = (value & 1) != 0;
            g_mutex_lock(&c->lock);
            if (h->msip != level) {
                h->msip = level;
                vireo_irq_set(&h->msip_irq, level);
            } else if (level) {
                /* An IPI while one is pending: the line stays high, and
                 * the hart is told again (a WFI loop waiting for an IPI
                 * wakes, engine/cpu.c wfi_spin()). */
                vireo_irq_set(&h->msip_irq, true);
            }
            g_mutex_unlock(&c->lock);
        }
        return true;
    }
    if (offset >= VIREO_CLINT_MTIME) {
        /* Writing mtime moves every hart's deadline relative to it. */
        g_mutex_lock(&c->lock);
        uint64_t now = vireo_clock_now(c->clock);
        vireo_clock_set(c->clock, write_part(now, offset - VIREO_CLINT_MTIME, size, value));
        for (unsigned i = 0; i < c->n_harts; i++) {
            update_timer_locked(&c->harts[i], false);
        }
        g_mutex_unlock(&c->lock);
        return true;
    }
    uint64_t hart = (offset - VIREO_CLINT_MTIMECMP) / 8;
    if (hart < c->n_harts) {
        ClintHart *h = &c->harts[hart];
        g_mutex_lock(&c->lock);
        h->mtimecmp = write_part(h->mtimecmp, (offset - VIREO_CLINT_MTIMECMP) % 8, size, value);
        update_timer_locked(h, false);
        g_mutex_unlock(&c->lock);
    }
    return true;
}

/* Power-on state: no software interrupt, mtimecmp at its maximum (so MTIP is
 * low until the guest programs a deadline). mtime keeps counting. */
static void clint_reset(void *opaque)
{
    VireoClint *c = opaque;

    g_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->n_harts; i++) {
        ClintHart *h = &c->harts[i];
        if (h->msip) {
            h->msip = false;
            vireo_irq_set(&h->msip_irq, false);
        }
        h->mtimecmp = G_MAXUINT64;
        vireo_timer_cancel(h->timer);
        set_mtip_locked(h, false, false);
    }
    g_mutex_unlock(&c->lock);
}

/*
 * Machine state (docs/SNAPSHOTS.md, "clint"): the layout version, the hart
 * count, then each hart's mtimecmp and msip. mtime is the machine's clock,
 * saved with it; MTIP follows from mtime and mtimecmp.
 */

#define CLINT_STATE_VERSION 1

static bool clint_save(void *opaque, VireoSnapWriter *w, GError **error)
{
    VireoClint *c = opaque;

    g_mutex_lock(&c->lock);
    vireo_snap_put_u32(w, CLINT_STATE_VERSION);
    vireo_snap_put_u32(w, c->n_harts);
    for (unsigned i = 0; i < c->n_harts; i++) {
        vireo_snap_put_u64(w, c->harts[i].mtimecmp);
        vireo_snap_put_bool(w, c->harts[i].msip);
    }
    g_mutex_unlock(&c->lock);
    return true;
}

static bool clint_load(void *opaque, VireoSnapReader *r, GError **error)
{
    VireoClint *c = opaque;
    uint32_t version = vireo_snap_get_u32(r);
    uint32_t n_harts = vireo_snap_get_u32(r);
    g_autofree uint64_t *mtimecmp = NULL;
    g_autofree bool *msip = NULL;

    if (vireo_snap_reader_version(r) != 1 || version != CLINT_STATE_VERSION) {
        vireo_snap_fail(r, "layout version %u/%u is not 1/%u", vireo_snap_reader_version(r),
                        version, CLINT_STATE_VERSION);
    } else if (n_harts != c->n_harts) {
        vireo_snap_fail(r, "it holds %u harts; this CLINT serves %u", n_harts, c->n_harts);
    }
    if (vireo_snap_failed(r)) {
        return vireo_snap_reader_finish(r, error);
    }
    mtimecmp = g_new(uint64_t, c->n_harts);
    msip = g_new(bool, c->n_harts);
    for (unsigned i = 0; i < c->n_harts; i++) {
        mtimecmp[i] = vireo_snap_get_u64(r);
        msip[i] = vireo_snap_get_bool(r);
    }
    if (!vireo_snap_reader_finish(r, error)) {
        return false;
    }

    /* The clock holds its loaded time: MTIP is what mtimecmp makes of it,
     * and a deadline still ahead is armed for the tick it names. */
    g_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->n_harts; i++) {
        ClintHart *h = &c->harts[i];
        h->mtimecmp = mtimecmp[i];
        h->msip = msip[i];
        vireo_irq_set(&h->msip_irq, h->msip);
        update_timer_locked(h, true);
    }
    g_mutex_unlock(&c->lock);
    return true;
}

static void clint_pause(void *opaque)
{
    VireoClint *c = opaque;

    g_mutex_lock(&c->lock);
    c->paused = true;
    g_mutex_unlock(&c->lock);
}

/* A timer that fell due across the pause (or a load) takes effect now. */
static void clint_resume(void *opaque)
{
    VireoClint *c = opaque;

    g_mutex_lock(&c->lock);
    c->paused = false;
    for (unsigned i = 0; i < c->n_harts; i++) {
        update_timer_locked(&c->harts[i], false);
    }
    g_mutex_unlock(&c->lock);
}

static const VireoDeviceOps clint_ops = {
    .name = "clint",
    .read = clint_read,
    .write = clint_write,
    .reset = clint_reset,
    .save = clint_save,
    .load = clint_load,
    .pause = clint_pause,
    .resume = clint_resume,
};

const VireoDeviceOps *vireo_clint_ops(void)
{
    return &clint_ops;
}

VireoClint *vireo_clint_new(VireoClock *clock, unsigned n_harts, const VireoIrq *msip,
                            const VireoIrq *mtip)
{
    VireoClint *c;

    if (n_harts == 0 || n_harts > VIREO_CLINT_MAX_HARTS) {
        return NULL;
    }
    c = g_new0(VireoClint, 1);
    g_mutex_init(&c->lock);
    c->clock = clock;
    c->n_harts = n_harts;
    c->harts = g_new0(ClintHart, n_harts);
    for (unsigned i = 0; i < n_harts; i++) {
        ClintHart *h = &c->harts[i];
        h->clint = c;
        h->hart = i;
        if (msip != NULL) {
            h->msip_irq = msip[i];
        }
        if (mtip != NULL) {
            h->mtip_irq = mtip[i];
        }
        h->mtimecmp = G_MAXUINT64;
        h->timer = vireo_timer_new(clock, timer_fired, h);
    }
    return c;
}

void vireo_clint_free(VireoClint *clint)
{
    if (clint == NULL) {
        return;
    }
    for (unsigned i = 0; i < clint->n_harts; i++) {
        vireo_timer_free(clint->harts[i].timer);
    }
    g_free(clint->harts);
    g_mutex_clear(&clint->lock);
    g_free(clint);
}
