/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"
#include "engine/irq.h"

G_BEGIN_DECLS

/*
 * The SiFive PLIC (platform-level interrupt controller) of the virt board:
 * 96 source numbers, of which 1 to 95 exist, each with a priority of 0 to 7,
 * and two contexts per hart (2 * hart for M-mode, 2 * hart + 1 for S-mode),
 * each with its enable bits, a priority threshold and a claim/complete
 * register.
 *
 *   0x000000 + 4 * source               priority
 *   0x001000 + 4 * word                 pending bits (read-only)
 *   0x002000 + 0x80 * context + 4 * w   enable bits
 *   0x200000 + 0x1000 * context         priority threshold
 *   0x200004 + 0x1000 * context         claim (read) and complete (write)
 *
 * Sources are level-triggered: a source is pending while its line is high,
 * except between its claim and its completion. A context's output is high
 * while an enabled pending source has a priority above its threshold.
 * Registers take aligned 32-bit accesses only.
 */
typedef struct VireoPlic VireoPlic;

#define VIREO_PLIC_NUM_SOURCES    96 /* source numbers 0..95; 0 means "none" */
#define VIREO_PLIC_NDEV           (VIREO_PLIC_NUM_SOURCES - 1)
#define VIREO_PLIC_MAX_PRIORITY   7
#define VIREO_PLIC_PRIORITY       0x000000
#define VIREO_PLIC_PENDING        0x001000
#define VIREO_PLIC_ENABLE         0x002000
#define VIREO_PLIC_ENABLE_STRIDE  0x80
#define VIREO_PLIC_CONTEXT        0x200000
#define VIREO_PLIC_CONTEXT_STRIDE 0x1000
#define VIREO_PLIC_MAX_HARTS      1024

/* The size of the register region for `n_harts` harts: the context block
 * ends after the last context's page. */
uint64_t vireo_plic_mmio_size(unsigned n_harts);

/* `context_irqs` holds 2 * n_harts lines (copied): context 2h drives hart
 * h's MEIP, context 2h + 1 its SEIP. Returns NULL for a hart count of 0 or
 * above VIREO_PLIC_MAX_HARTS. */
VireoPlic *vireo_plic_new(unsigned n_harts, const VireoIrq *context_irqs);
void vireo_plic_free(VireoPlic *plic);
const VireoDeviceOps *vireo_plic_ops(void);

/* The input line of `source` for a device to drive. False, leaving `irq`
 * untouched, for source 0 or a source that does not exist. */
bool vireo_plic_source_irq(VireoPlic *plic, unsigned source, VireoIrq *irq);
/* Drives a source directly; out-of-range sources are ignored. */
void vireo_plic_set_level(VireoPlic *plic, unsigned source, bool level);

G_END_DECLS
