/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * Debugger hooks of the software engine. A vCPU has a VireoCpuDebug only
 * while a debugger may be attached (VireoCpu.debug is NULL otherwise), and
 * the hooks look at it only where the engine already is off its fast paths:
 * the decoder, TLB fills, the slow paths of loads and stores, and the run
 * loop's exit-request branch. The debugger changes the state below only
 * while the machine is paused, then drops decoded code and TLB entries
 * (vireo_cpu_debug_changed()).
 */

#define VIREO_DEBUG_MAX_BREAKPOINTS 64
#define VIREO_DEBUG_MAX_WATCHPOINTS 16

typedef enum {
    VIREO_WATCH_WRITE = 1,
    VIREO_WATCH_READ = 2,
    VIREO_WATCH_ACCESS = 3, /* reads and writes */
} VireoWatchKind;

typedef struct {
    uint64_t addr, len;
    VireoWatchKind kind;
} VireoWatchpoint;

/* Breakpoints and watchpoints, shared by every vCPU of a machine. Addresses
 * are guest virtual addresses in whatever context the vCPU runs. */
typedef struct VireoDebugPoints {
    unsigned n_breakpoints, n_watchpoints;
    uint64_t breakpoints[VIREO_DEBUG_MAX_BREAKPOINTS];
    VireoWatchpoint watchpoints[VIREO_DEBUG_MAX_WATCHPOINTS];
} VireoDebugPoints;

typedef enum {
    VIREO_DEBUG_NONE = 0,
    VIREO_DEBUG_BREAKPOINT, /* about to run the instruction at a breakpoint */
    VIREO_DEBUG_STEP,       /* one instruction ran (or the hart waits in wfi) */
    VIREO_DEBUG_WATCH,      /* an access hit a watchpoint; the instruction completed */
} VireoDebugEvent;

typedef struct VireoCpuDebug {
    const VireoDebugPoints *points;
    /* One instruction a call to the run loop, with interrupts masked. */
    bool step;
    /* Written by the vCPU's thread; read by the debugger while paused. */
    VireoDebugEvent event;
    uint64_t event_addr;      /* the data address of a watchpoint hit */
    VireoWatchKind event_how; /* which kind of access hit it */
} VireoCpuDebug;

static inline bool vireo_debug_breakpoint_at(const VireoCpuDebug *d, uint64_t pc)
{
    for (unsigned i = 0; i < d->points->n_breakpoints; i++) {
        if (d->points->breakpoints[i] == pc) {
            return true;
        }
    }
    return false;
}

G_END_DECLS
