/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"
#include "engine/clock.h"
#include "engine/irq.h"

G_BEGIN_DECLS

/*
 * The SiFive CLINT (core-local interruptor): one software-interrupt register
 * (msip) and one timer compare register (mtimecmp) per hart, and the shared
 * timer (mtime), which is the machine's VireoClock.
 *
 *   0x0000 + 4 * hart   msip      32 bits, bit 0 drives the hart's MSIP line
 *   0x4000 + 8 * hart   mtimecmp  64 bits; MTIP is high while mtime >= mtimecmp
 *   0xbff8              mtime     64 bits
 *
 * msip takes 32-bit accesses; mtimecmp and mtime take aligned 64-bit accesses
 * and 32-bit accesses to either half. Anything else is rejected.
 */
typedef struct VireoClint VireoClint;

#define VIREO_CLINT_MMIO_SIZE 0x10000
#define VIREO_CLINT_MSIP      0x0000
#define VIREO_CLINT_MTIMECMP  0x4000
#define VIREO_CLINT_MTIME     0xbff8
#define VIREO_CLINT_MAX_HARTS 4095

/* `msip` and `mtip` are arrays of `n_harts` interrupt lines (copied), one
 * per hart: the board points them at the hart's MSIP and MTIP bits. Timers run
 * on `clock`'s thread. Returns NULL for a hart count of 0 or above
 * VIREO_CLINT_MAX_HARTS. */
VireoClint *vireo_clint_new(VireoClock *clock, unsigned n_harts, const VireoIrq *msip,
                            const VireoIrq *mtip);
void vireo_clint_free(VireoClint *clint);
const VireoDeviceOps *vireo_clint_ops(void);

G_END_DECLS
