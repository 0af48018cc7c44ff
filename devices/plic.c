/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/plic.h"
#include "engine/snap.h"

#include <string.h>

#define N_WORDS ((VIREO_PLIC_NUM_SOURCES + 31) / 32)

typedef struct {
    guint32 enable[N_WORDS];
    guint32 threshold;
    VireoIrq irq;
    bool output;
} PlicContext;

struct VireoPlic {
    GMutex lock;
    unsigned n_contexts;
    PlicContext *contexts;
    guint32 priority[VIREO_PLIC_NUM_SOURCES];
    guint32 level[N_WORDS];   /* input lines as the devices drive them */
    guint32 pending[N_WORDS]; /* sources waiting to be claimed */
    guint32 claimed[N_WORDS]; /* claimed and not yet completed */
};

static bool bit_get(const guint32 *words, unsigned n)
{
    return (words[n / 32] >> (n % 32)) & 1;
}

static void bit_set(guint32 *words, unsigned n, bool value)
{
    if (value) {
        words[n / 32] |= 1u << (n % 32);
    } else {
        words[n / 32] &= ~(1u << (n % 32));
    }
}

uint64_t vireo_plic_mmio_size(unsigned n_harts)
{
    return VIREO_PLIC_CONTEXT + (uint64_t)n_harts * 2 * VIREO_PLIC_CONTEXT_STRIDE;
}

/* The best source for a context: pending, enabled, with a priority above
 * the threshold; the highest priority wins, then the lowest number. 0 when
 * there is none. */
static unsigned best_source_locked(VireoPlic *p, const PlicContext *ctx)
{
    unsigned best = 0;
    guint32 best_priority = ctx->threshold;

    for (unsigned w = 0; w < N_WORDS; w++) {
        guint32 candidates = p->pending[w] & ctx->enable[w];
        while (candidates != 0) {
            unsigned bit = (unsigned)__builtin_ctz(candidates);
            unsigned source = w * 32 + bit;
            candidates &= candidates - 1;
            if (p->priority[source] > best_priority) {
                best_priority = p->priority[source];
                best = source;
            }
        }
    }
    return best;
}

/* Drives every context's output whose level changed, or every one
 * (`force`: after a load, when the harts' lines may hold another machine
 * state's levels). */
static void drive_outputs_locked(VireoPlic *p, bool force)
{
    for (unsigned i = 0; i < p->n_contexts; i++) {
        PlicContext *ctx = &p->contexts[i];
        bool level = best_source_locked(p, ctx) != 0;
        if (level != ctx->output || force) {
            ctx->output = level;
            vireo_irq_set(&ctx->irq, level);
        }
    }
}

static void update_outputs_locked(VireoPlic *p)
{
    drive_outputs_locked(p, false);
}

static bool valid_source(unsigned source)
{
    return source > 0 && source < VIREO_PLIC_NUM_SOURCES;
}

void vireo_plic_set_level(VireoPlic *plic, unsigned source, bool level)
{
    if (!valid_source(source)) {
        return;
    }
    g_mutex_lock(&plic->lock);
    bit_set(plic->level, source, level);
    /* A claimed source becomes pending again only at its completion. */
    if (!bit_get(plic->claimed, source)) {
        bit_set(plic->pending, source, level);
    }
    update_outputs_locked(plic);
    g_mutex_unlock(&plic->lock);
}

static void source_set_level(void *opaque, unsigned line, bool level)
{
    vireo_plic_set_level(opaque, line, level);
}

bool vireo_plic_source_irq(VireoPlic *plic, unsigned source, VireoIrq *irq)
{
    if (!valid_source(source)) {
        return false;
    }
    irq->set_level = source_set_level;
    irq->opaque = plic;
    irq->line = source;
    return true;
}

static guint32 claim_locked(VireoPlic *p, PlicContext *ctx)
{
    unsigned source = best_source_locked(p, ctx);

    if (source != 0) {
        bit_set(p->pending, source, false);
        bit_set(p->claimed, source, true);
        update_outputs_locked(p);
    }
    return source;
}

static void complete_locked(VireoPlic *p, PlicContext *ctx, guint32 source)
{
    /* Completions of a source that does not exist, is not enabled for this
     * context or was not claimed are ignored. */
    if (!valid_source(source) || !bit_get(ctx->enable, source) || !bit_get(p->claimed, source)) {
        return;
    }
    bit_set(p->claimed, source, false);
    if (bit_get(p->level, source)) {
        bit_set(p->pending, source, true);
    }
    update_outputs_locked(p);
}

static bool plic_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    VireoPlic *p = opaque;
    guint32 v = 0;

    *value = 0;
    if (size != 4 || (offset & 3) != 0 || offset >= vireo_plic_mmio_size(p->n_contexts / 2)) {
        return false;
    }
    g_mutex_lock(&p->lock);
    if (offset < VIREO_PLIC_PENDING) {
        uint64_t source = offset / 4;
        if (source < VIREO_PLIC_NUM_SOURCES) {
            v = p->priority[source];
        }
    } else if (offset < VIREO_PLIC_ENABLE) {
        uint64_t word = (offset - VIREO_PLIC_PENDING) / 4;
        if (word < N_WORDS) {
            v = p->pending[word];
        }
    } else if (offset < VIREO_PLIC_CONTEXT) {
        uint64_t ctx = (offset - VIREO_PLIC_ENABLE) / VIREO_PLIC_ENABLE_STRIDE;
        uint64_t word = (offset - VIREO_PLIC_ENABLE) % VIREO_PLIC_ENABLE_STRIDE / 4;
        if (ctx < p->n_contexts && word < N_WORDS) {
            v = p->contexts[ctx].enable[word];
        }
    } else {
        uint64_t ctx = (offset - VIREO_PLIC_CONTEXT) / VIREO_PLIC_CONTEXT_STRIDE;
        uint64_t reg = (offset - VIREO_PLIC_CONTEXT) % VIREO_PLIC_CONTEXT_STRIDE;
        if (ctx < p->n_contexts) {
            if (reg == 0) {
                v = p->contexts[ctx].threshold;
            } else if (reg == 4) {
                v = claim_locked(p, &p->contexts[ctx]);
            }
        }
    }
    g_mutex_unlock(&p->lock);
    *value = v;
    return true;
}

static bool plic_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    VireoPlic *p = opaque;
    guint32 v = (guint32)value;

    if (size != 4 || (offset & 3) != 0 || offset >= vireo_plic_mmio_size(p->n_contexts / 2)) {
        return false;
    }
    g_mutex_lock(&p->lock);
    if (offset < VIREO_PLIC_PENDING) {
        uint64_t source = offset / 4;
        if (valid_source((unsigned)source)) {
            p->priority[source] = v & VIREO_PLIC_MAX_PRIORITY;
        }
    } else if (offset < VIREO_PLIC_ENABLE) {
        /* Pending bits are read-only. */
    } else if (offset < VIREO_PLIC_CONTEXT) {
        uint64_t ctx = (offset - VIREO_PLIC_ENABLE) / VIREO_PLIC_ENABLE_STRIDE;
        uint64_t word = (offset - VIREO_PLIC_ENABLE) % VIREO_PLIC_ENABLE_STRIDE / 4;
        if (ctx < p->n_contexts && word < N_WORDS) {
            if (word == 0) {
                v &= ~1u; /* source 0 does not exist */
            }
            if (word == N_WORDS - 1 && VIREO_PLIC_NUM_SOURCES % 32 != 0) {
                v &= (1u << (VIREO_PLIC_NUM_SOURCES % 32)) - 1;
            }
            p->contexts[ctx].enable[word] = v;
        }
    } else {
        uint64_t ctx = (offset - VIREO_PLIC_CONTEXT) / VIREO_PLIC_CONTEXT_STRIDE;
        uint64_t reg = (offset - VIREO_PLIC_CONTEXT) % VIREO_PLIC_CONTEXT_STRIDE;
        if (ctx < p->n_contexts) {
            if (reg == 0) {
                p->contexts[ctx].threshold = v & VIREO_PLIC_MAX_PRIORITY;
            } else if (reg == 4) {
                complete_locked(p, &p->contexts[ctx], v);
            }
        }
    }
    update_outputs_locked(p);
    g_mutex_unlock(&p->lock);
    return true;
}

/* Power-on state: priorities, enables and thresholds at zero, nothing
 * claimed. The input levels stay as the devices drive them. */
static void plic_reset(void *opaque)
{
    VireoPlic *p = opaque;

    g_mutex_lock(&p->lock);
    memset(p->priority, 0, sizeof p->priority);
    memset(p->claimed, 0, sizeof p->claimed);
    memcpy(p->pending, p->level, sizeof p->pending);
    for (unsigned i = 0; i < p->n_contexts; i++) {
        memset(p->contexts[i].enable, 0, sizeof p->contexts[i].enable);
        p->contexts[i].threshold = 0;
    }
    update_outputs_locked(p);
    g_mutex_unlock(&p->lock);
}

/*
 * Machine state (docs/SNAPSHOTS.md, "plic"): the layout version, the hart
 * count, the source count, every source's priority, the input levels, the
 * pending and the claimed bits, then each context's enable bits and
 * threshold. The outputs follow from these and are driven again on a load.
 * The PLIC has no timer and no host input of its own, so it needs nothing
 * to pause: its inputs come from devices that hold still while paused.
 */

#define PLIC_STATE_VERSION 1

static void put_words(VireoSnapWriter *w, const guint32 *words)
{
    for (unsigned i = 0; i < N_WORDS; i++) {
        vireo_snap_put_u32(w, words[i]);
    }
}

static void get_words(VireoSnapReader *r, guint32 *words)
{
    for (unsigned i = 0; i < N_WORDS; i++) {
        words[i] = vireo_snap_get_u32(r);
    }
}

static bool plic_save(void *opaque, VireoSnapWriter *w, GError **error)
{
    VireoPlic *p = opaque;

    g_mutex_lock(&p->lock);
    vireo_snap_put_u32(w, PLIC_STATE_VERSION);
    vireo_snap_put_u32(w, p->n_contexts / 2);
    vireo_snap_put_u32(w, VIREO_PLIC_NUM_SOURCES);
    for (unsigned i = 0; i < VIREO_PLIC_NUM_SOURCES; i++) {
        vireo_snap_put_u32(w, p->priority[i]);
    }
    put_words(w, p->level);
    put_words(w, p->pending);
    put_words(w, p->claimed);
    for (unsigned i = 0; i < p->n_contexts; i++) {
        put_words(w, p->contexts[i].enable);
        vireo_snap_put_u32(w, p->contexts[i].threshold);
    }
    g_mutex_unlock(&p->lock);
    return true;
}

/* Bits of source numbers that do not exist: 0, and any past the last. */
static bool has_bad_sources(const guint32 *words)
{
    if (words[0] & 1) {
        return true;
    }
    return VIREO_PLIC_NUM_SOURCES % 32 != 0 &&
           (words[N_WORDS - 1] >> (VIREO_PLIC_NUM_SOURCES % 32)) != 0;
}

static bool plic_load(void *opaque, VireoSnapReader *r, GError **error)
{
    VireoPlic *p = opaque;
    uint32_t version = vireo_snap_get_u32(r);
    uint32_t n_harts = vireo_snap_get_u32(r);
    uint32_t n_sources = vireo_snap_get_u32(r);
    guint32 priority[VIREO_PLIC_NUM_SOURCES];
    guint32 level[N_WORDS], pending[N_WORDS], claimed[N_WORDS];
    g_autofree guint32 *enable = NULL;
    g_autofree guint32 *threshold = NULL;

    if (vireo_snap_reader_version(r) != 1 || version != PLIC_STATE_VERSION) {
        vireo_snap_fail(r, "layout version %u/%u is not 1/%u", vireo_snap_reader_version(r),
                        version, PLIC_STATE_VERSION);
    } else if (n_harts != p->n_contexts / 2) {
        vireo_snap_fail(r, "it holds %u harts; this PLIC serves %u", n_harts, p->n_contexts / 2);
    } else if (n_sources != VIREO_PLIC_NUM_SOURCES) {
        vireo_snap_fail(r, "it holds %u sources; this PLIC has %u", n_sources,
                        VIREO_PLIC_NUM_SOURCES);
    }
    if (vireo_snap_failed(r)) {
        return vireo_snap_reader_finish(r, error);
    }
    for (unsigned i = 0; i < VIREO_PLIC_NUM_SOURCES; i++) {
        priority[i] = vireo_snap_get_u32(r);
        if (priority[i] > VIREO_PLIC_MAX_PRIORITY || (i == 0 && priority[i] != 0)) {
            vireo_snap_fail(r, "source %u has the priority %u", i, priority[i]);
        }
    }
    get_words(r, level);
    get_words(r, pending);
    get_words(r, claimed);
    if (has_bad_sources(level) || has_bad_sources(pending) || has_bad_sources(claimed)) {
        vireo_snap_fail(r, "it names sources that do not exist");
    }
    /* Sources are level-triggered: a source not claimed is pending exactly
     * while its line is high, and a claimed one is not pending. */
    for (unsigned i = 0; i < N_WORDS; i++) {
        if (pending[i] != (level[i] & ~claimed[i])) {
            vireo_snap_fail(r, "its pending bits do not follow its input levels");
        }
    }
    enable = g_new(guint32, (gsize)p->n_contexts * N_WORDS);
    threshold = g_new(guint32, p->n_contexts);
    for (unsigned i = 0; i < p->n_contexts; i++) {
        get_words(r, enable + (gsize)i * N_WORDS);
        threshold[i] = vireo_snap_get_u32(r);
        if (has_bad_sources(enable + (gsize)i * N_WORDS)) {
            vireo_snap_fail(r, "context %u enables sources that do not exist", i);
        }
        if (threshold[i] > VIREO_PLIC_MAX_PRIORITY) {
            vireo_snap_fail(r, "context %u has the threshold %u", i, threshold[i]);
        }
    }
    if (!vireo_snap_reader_finish(r, error)) {
        return false;
    }

    g_mutex_lock(&p->lock);
    memcpy(p->priority, priority, sizeof p->priority);
    memcpy(p->level, level, sizeof p->level);
    memcpy(p->pending, pending, sizeof p->pending);
    memcpy(p->claimed, claimed, sizeof p->claimed);
    for (unsigned i = 0; i < p->n_contexts; i++) {
        memcpy(p->contexts[i].enable, enable + (gsize)i * N_WORDS, sizeof p->contexts[i].enable);
        p->contexts[i].threshold = threshold[i];
    }
    drive_outputs_locked(p, true);
    g_mutex_unlock(&p->lock);
    return true;
}

static const VireoDeviceOps plic_ops = {
    .name = "plic",
    .read = plic_read,
    .write = plic_write,
    .reset = plic_reset,
    .save = plic_save,
    .load = plic_load,
};

const VireoDeviceOps *vireo_plic_ops(void)
{
    return &plic_ops;
}

VireoPlic *vireo_plic_new(unsigned n_harts, const VireoIrq *context_irqs)
{
    VireoPlic *p;

    if (n_harts == 0 || n_harts > VIREO_PLIC_MAX_HARTS) {
        return NULL;
    }
    p = g_new0(VireoPlic, 1);
    g_mutex_init(&p->lock);
    p->n_contexts = 2 * n_harts;
    p->contexts = g_new0(PlicContext, p->n_contexts);
    for (unsigned i = 0; i < p->n_contexts && context_irqs != NULL; i++) {
        p->contexts[i].irq = context_irqs[i];
    }
    return p;
}

void vireo_plic_free(VireoPlic *plic)
{
    if (plic == NULL) {
        return;
    }
    g_free(plic->contexts);
    g_mutex_clear(&plic->lock);
    g_free(plic);
}
