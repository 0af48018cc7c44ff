/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/irq.h"

#include <glib.h>

/* An interrupt line for tests: records the level and the number of changes,
 * and lets a test wait for a level set from another thread (timers). */
typedef struct {
    GMutex lock;
    GCond cond;
    bool level;
    int changes;
} IrqProbe;

static inline void irq_probe_set(void *opaque, unsigned line, bool level)
{
    IrqProbe *p = opaque;

    g_mutex_lock(&p->lock);
    if (p->level != level) {
        p->changes++;
    }
    p->level = level;
    g_cond_broadcast(&p->cond);
    g_mutex_unlock(&p->lock);
}

static inline void irq_probe_init(IrqProbe *p)
{
    g_mutex_init(&p->lock);
    g_cond_init(&p->cond);
    p->level = false;
    p->changes = 0;
}

static inline void irq_probe_clear(IrqProbe *p)
{
    g_mutex_clear(&p->lock);
    g_cond_clear(&p->cond);
}

static inline VireoIrq irq_probe_line(IrqProbe *p, unsigned line)
{
    VireoIrq irq = { irq_probe_set, p, line };
    return irq;
}

static inline bool irq_probe_level(IrqProbe *p)
{
    bool level;

    g_mutex_lock(&p->lock);
    level = p->level;
    g_mutex_unlock(&p->lock);
    return level;
}

/* Waits up to `timeout_ms` for the line to reach `level`. */
static inline bool irq_probe_wait(IrqProbe *p, bool level, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool ok;

    g_mutex_lock(&p->lock);
    while (p->level != level) {
        if (!g_cond_wait_until(&p->cond, &p->lock, end)) {
            break;
        }
    }
    ok = p->level == level;
    g_mutex_unlock(&p->lock);
    return ok;
}
