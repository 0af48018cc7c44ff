/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/plic.h"
#include "device-state.h"
#include "irq-probe.h"

#include <string.h>

#define N_HARTS    2
#define N_CONTEXTS (2 * N_HARTS)

typedef struct {
    VireoPlic *plic;
    IrqProbe out[N_CONTEXTS];
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    VireoIrq lines[N_CONTEXTS];

    for (unsigned i = 0; i < N_CONTEXTS; i++) {
        irq_probe_init(&f->out[i]);
        lines[i] = irq_probe_line(&f->out[i], i);
    }
    f->plic = vireo_plic_new(N_HARTS, lines);
    g_assert_nonnull(f->plic);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    vireo_plic_free(f->plic);
    for (unsigned i = 0; i < N_CONTEXTS; i++) {
        irq_probe_clear(&f->out[i]);
    }
}

static uint32_t rd(Fixture *f, uint64_t off)
{
    uint64_t v = 0xdead;
    g_assert_true(vireo_plic_ops()->read(f->plic, off, 4, &v));
    return (uint32_t)v;
}

static void wr(Fixture *f, uint64_t off, uint32_t v)
{
    g_assert_true(vireo_plic_ops()->write(f->plic, off, 4, v));
}

static void set_priority(Fixture *f, unsigned source, uint32_t priority)
{
    wr(f, VIREO_PLIC_PRIORITY + 4 * source, priority);
}

static void enable(Fixture *f, unsigned ctx, unsigned source, bool on)
{
    uint64_t off = VIREO_PLIC_ENABLE + VIREO_PLIC_ENABLE_STRIDE * ctx + 4 * (source / 32);
    uint32_t v = rd(f, off);

    v = on ? v | (1u << (source % 32)) : v & ~(1u << (source % 32));
    wr(f, off, v);
}

static void set_threshold(Fixture *f, unsigned ctx, uint32_t threshold)
{
    wr(f, VIREO_PLIC_CONTEXT + VIREO_PLIC_CONTEXT_STRIDE * ctx, threshold);
}

static uint32_t claim(Fixture *f, unsigned ctx)
{
    return rd(f, VIREO_PLIC_CONTEXT + VIREO_PLIC_CONTEXT_STRIDE * ctx + 4);
}

static void complete(Fixture *f, unsigned ctx, uint32_t source)
{
    wr(f, VIREO_PLIC_CONTEXT + VIREO_PLIC_CONTEXT_STRIDE * ctx + 4, source);
}

static bool pending(Fixture *f, unsigned source)
{
    return (rd(f, VIREO_PLIC_PENDING + 4 * (source / 32)) >> (source % 32)) & 1;
}

static void drive(Fixture *f, unsigned source, bool level)
{
    VireoIrq irq;

    g_assert_true(vireo_plic_source_irq(f->plic, source, &irq));
    vireo_irq_set(&irq, level);
}

static void test_plic_priority_regs(Fixture *f, gconstpointer data)
{
    set_priority(f, 1, 5);
    g_assert_cmpuint(rd(f, 4), ==, 5);
    /* Priorities have three bits. */
    set_priority(f, 95, 0xff);
    g_assert_cmpuint(rd(f, 4 * 95), ==, 7);
    /* Source 0 and sources past 95 have no priority register. */
    set_priority(f, 0, 3);
    g_assert_cmpuint(rd(f, 0), ==, 0);
    set_priority(f, 96, 3);
    g_assert_cmpuint(rd(f, 4 * 96), ==, 0);
    /* Threshold: three bits too. */
    set_threshold(f, 1, 0x13);
    g_assert_cmpuint(rd(f, VIREO_PLIC_CONTEXT + VIREO_PLIC_CONTEXT_STRIDE), ==, 3);
    /* Enable bit 0 (source 0) is hardwired to zero, as are bits past 95. */
    wr(f, VIREO_PLIC_ENABLE, 0xffffffff);
    g_assert_cmphex(rd(f, VIREO_PLIC_ENABLE), ==, 0xfffffffe);
    wr(f, VIREO_PLIC_ENABLE + 8, 0xffffffff);
    g_assert_cmphex(rd(f, VIREO_PLIC_ENABLE + 8), ==, 0xffffffff);
    wr(f, VIREO_PLIC_ENABLE + 12, 0xffffffff);
    g_assert_cmphex(rd(f, VIREO_PLIC_ENABLE + 12), ==, 0);
    /* Contexts past the last hart's read as zero. */
    wr(f, VIREO_PLIC_ENABLE + VIREO_PLIC_ENABLE_STRIDE * N_CONTEXTS, 0xffffffff);
    g_assert_cmphex(rd(f, VIREO_PLIC_ENABLE + VIREO_PLIC_ENABLE_STRIDE * N_CONTEXTS), ==, 0);
    /* Pending bits are read-only. */
    wr(f, VIREO_PLIC_PENDING, 0xffffffff);
    g_assert_cmphex(rd(f, VIREO_PLIC_PENDING), ==, 0);
}

static void test_plic_bad_access(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_plic_ops();
    uint64_t v;

    g_assert_cmphex(vireo_plic_mmio_size(N_HARTS), ==, 0x204000);
    g_assert_false(ops->read(f->plic, 4, 1, &v));
    g_assert_false(ops->read(f->plic, 4, 8, &v));
    g_assert_false(ops->write(f->plic, 6, 4, 1));
    g_assert_false(ops->read(f->plic, vireo_plic_mmio_size(N_HARTS), 4, &v));
    g_assert_false(ops->write(f->plic, G_MAXUINT64 - 3, 4, 0));
    g_assert_true(ops->read(f->plic, vireo_plic_mmio_size(N_HARTS) - 4, 4, &v));
    g_assert_cmphex(v, ==, 0);
}

static void test_plic_bad_sources(Fixture *f, gconstpointer data)
{
    VireoIrq irq = { NULL, NULL, 0 };
    VireoIrq raw;

    g_assert_false(vireo_plic_source_irq(f->plic, 0, &irq));
    g_assert_false(vireo_plic_source_irq(f->plic, VIREO_PLIC_NUM_SOURCES, &irq));
    g_assert_false(vireo_plic_source_irq(f->plic, G_MAXUINT, &irq));
    g_assert_null(irq.set_level);
    /* A line forged with an out-of-range number changes nothing. */
    g_assert_true(vireo_plic_source_irq(f->plic, 1, &raw));
    for (unsigned ctx = 0; ctx < N_CONTEXTS; ctx++) {
        wr(f, VIREO_PLIC_ENABLE + VIREO_PLIC_ENABLE_STRIDE * ctx, 0xffffffff);
        wr(f, VIREO_PLIC_ENABLE + VIREO_PLIC_ENABLE_STRIDE * ctx + 4, 0xffffffff);
        wr(f, VIREO_PLIC_ENABLE + VIREO_PLIC_ENABLE_STRIDE * ctx + 8, 0xffffffff);
    }
    for (unsigned s = 1; s < VIREO_PLIC_NUM_SOURCES; s++) {
        set_priority(f, s, 1);
    }
    raw.line = 0;
    vireo_irq_set(&raw, true);
    raw.line = VIREO_PLIC_NUM_SOURCES;
    vireo_irq_set(&raw, true);
    raw.line = G_MAXUINT;
    vireo_irq_set(&raw, true);
    vireo_plic_set_level(f->plic, 1000, true);
    for (unsigned w = 0; w < 3; w++) {
        g_assert_cmphex(rd(f, VIREO_PLIC_PENDING + 4 * w), ==, 0);
    }
    for (unsigned ctx = 0; ctx < N_CONTEXTS; ctx++) {
        g_assert_false(irq_probe_level(&f->out[ctx]));
        g_assert_cmpuint(claim(f, ctx), ==, 0);
    }
    /* Completing a source that does not exist is ignored. */
    complete(f, 0, 0);
    complete(f, 0, 96);
    complete(f, 0, 0xffffffff);
    /* The highest source works. */
    vireo_plic_set_level(f->plic, 95, true);
    g_assert_true(pending(f, 95));
    g_assert_true(irq_probe_level(&f->out[0]));
    g_assert_cmpuint(claim(f, 0), ==, 95);
}

static void test_plic_threshold(Fixture *f, gconstpointer data)
{
    set_priority(f, 10, 3);
    enable(f, 1, 10, true);
    drive(f, 10, true);
    g_assert_true(pending(f, 10));
    g_assert_true(irq_probe_level(&f->out[1]));
    g_assert_false(irq_probe_level(&f->out[0])); /* not enabled there */
    /* Only priorities strictly above the threshold interrupt. */
    set_threshold(f, 1, 3);
    g_assert_false(irq_probe_level(&f->out[1]));
    g_assert_cmpuint(claim(f, 1), ==, 0);
    g_assert_true(pending(f, 10));
    set_threshold(f, 1, 2);
    g_assert_true(irq_probe_level(&f->out[1]));
    /* Priority 0 never interrupts. */
    set_threshold(f, 1, 0);
    set_priority(f, 10, 0);
    g_assert_false(irq_probe_level(&f->out[1]));
    g_assert_cmpuint(claim(f, 1), ==, 0);
    set_priority(f, 10, 1);
    g_assert_true(irq_probe_level(&f->out[1]));
    /* Disabling the source lowers the output. */
    enable(f, 1, 10, false);
    g_assert_false(irq_probe_level(&f->out[1]));
    /* A level that drops before the claim withdraws the request. */
    enable(f, 1, 10, true);
    g_assert_true(irq_probe_level(&f->out[1]));
    drive(f, 10, false);
    g_assert_false(pending(f, 10));
    g_assert_false(irq_probe_level(&f->out[1]));
}

static void test_plic_claim_order(Fixture *f, gconstpointer data)
{
    const unsigned sources[] = { 3, 7, 40, 41, 64 };

    for (unsigned i = 0; i < G_N_ELEMENTS(sources); i++) {
        enable(f, 0, sources[i], true);
        drive(f, sources[i], true);
    }
    set_priority(f, 3, 2);
    set_priority(f, 7, 5);
    set_priority(f, 40, 5);
    set_priority(f, 41, 1);
    set_priority(f, 64, 7);
    g_assert_true(irq_probe_level(&f->out[0]));
    /* Highest priority first; ties go to the lowest number. */
    g_assert_cmpuint(claim(f, 0), ==, 64);
    g_assert_false(pending(f, 64));
    g_assert_cmpuint(claim(f, 0), ==, 7);
    g_assert_cmpuint(claim(f, 0), ==, 40);
    g_assert_cmpuint(claim(f, 0), ==, 3);
    g_assert_true(irq_probe_level(&f->out[0]));
    g_assert_cmpuint(claim(f, 0), ==, 41);
    /* Everything is claimed: the output drops and claims return 0. */
    g_assert_false(irq_probe_level(&f->out[0]));
    g_assert_cmpuint(claim(f, 0), ==, 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(sources); i++) {
        g_assert_false(pending(f, sources[i]));
    }
}

static void test_plic_complete(Fixture *f, gconstpointer data)
{
    set_priority(f, 10, 1);
    enable(f, 0, 10, true);
    drive(f, 10, true);
    g_assert_cmpuint(claim(f, 0), ==, 10);
    g_assert_false(pending(f, 10));
    g_assert_false(irq_probe_level(&f->out[0]));
    /* While claimed, the line staying high does not re-pend the source. */
    drive(f, 10, true);
    g_assert_false(pending(f, 10));
    /* Completion with the line still high makes it pending again. */
    complete(f, 0, 10);
    g_assert_true(pending(f, 10));
    g_assert_true(irq_probe_level(&f->out[0]));
    g_assert_cmpuint(claim(f, 0), ==, 10);
    /* The device lowers its line, then the handler completes: quiet. */
    drive(f, 10, false);
    complete(f, 0, 10);
    g_assert_false(pending(f, 10));
    g_assert_false(irq_probe_level(&f->out[0]));
    /* A completion for a source not enabled in the context is ignored. */
    drive(f, 10, true);
    g_assert_cmpuint(claim(f, 0), ==, 10);
    complete(f, 1, 10);
    g_assert_false(pending(f, 10));
    complete(f, 0, 10);
    g_assert_true(pending(f, 10));
    /* Completing a source that was not claimed changes nothing. */
    complete(f, 0, 10);
    g_assert_true(pending(f, 10));
}

static void test_plic_two_contexts(Fixture *f, gconstpointer data)
{
    set_priority(f, 10, 1);
    set_priority(f, 11, 2);
    /* Hart 0 S-mode takes 10 and 11, hart 1 M-mode only 11. */
    enable(f, 1, 10, true);
    enable(f, 1, 11, true);
    enable(f, 2, 11, true);
    drive(f, 10, true);
    g_assert_true(irq_probe_level(&f->out[1]));
    g_assert_false(irq_probe_level(&f->out[2]));
    drive(f, 11, true);
    g_assert_true(irq_probe_level(&f->out[1]));
    g_assert_true(irq_probe_level(&f->out[2]));
    g_assert_false(irq_probe_level(&f->out[0]));
    g_assert_false(irq_probe_level(&f->out[3]));
    /* Hart 1 claims 11 first: hart 0 can then only get 10. */
    g_assert_cmpuint(claim(f, 2), ==, 11);
    g_assert_false(irq_probe_level(&f->out[2]));
    g_assert_true(irq_probe_level(&f->out[1]));
    g_assert_cmpuint(claim(f, 1), ==, 10);
    g_assert_false(irq_probe_level(&f->out[1]));
    g_assert_cmpuint(claim(f, 1), ==, 0);
    complete(f, 2, 11);
    g_assert_true(irq_probe_level(&f->out[1]));
    g_assert_true(irq_probe_level(&f->out[2]));
    /* A threshold in one context does not affect the other. */
    set_threshold(f, 2, 7);
    g_assert_false(irq_probe_level(&f->out[2]));
    g_assert_true(irq_probe_level(&f->out[1]));
}

static void test_plic_reset(Fixture *f, gconstpointer data)
{
    set_priority(f, 10, 1);
    enable(f, 0, 10, true);
    set_threshold(f, 0, 0);
    drive(f, 10, true);
    g_assert_true(irq_probe_level(&f->out[0]));
    vireo_plic_ops()->reset(f->plic);
    g_assert_false(irq_probe_level(&f->out[0]));
    g_assert_cmpuint(rd(f, 4 * 10), ==, 0);
    g_assert_cmphex(rd(f, VIREO_PLIC_ENABLE), ==, 0);
    /* The line is still high, so the source is still pending. */
    g_assert_true(pending(f, 10));
}

/* Where the fields lie in the section's payload. */
#define AT_PRIORITY(source) (12 + 4 * (source))
#define AT_LEVEL            (12 + 4 * VIREO_PLIC_NUM_SOURCES)
#define AT_PENDING          (AT_LEVEL + 12)
#define AT_CLAIMED          (AT_PENDING + 12)
#define AT_ENABLE(ctx)      (AT_CLAIMED + 12 + 16 * (ctx))
#define AT_THRESHOLD(ctx)   (AT_ENABLE(ctx) + 12)

/* Three sources up, one claimed, one context above its threshold. */
static void make_busy(Fixture *f)
{
    set_priority(f, 10, 3);
    set_priority(f, 20, 5);
    set_priority(f, 40, 1);
    enable(f, 0, 10, true);
    enable(f, 0, 20, true);
    enable(f, 1, 40, true);
    enable(f, 3, 20, true);
    set_threshold(f, 0, 1);
    set_threshold(f, 3, 6);
    drive(f, 10, true);
    drive(f, 20, true);
    drive(f, 40, true);
    g_assert_cmpuint(claim(f, 0), ==, 20);
    g_assert_true(irq_probe_level(&f->out[0]));
    g_assert_true(irq_probe_level(&f->out[1]));
    g_assert_false(irq_probe_level(&f->out[2]));
    g_assert_false(irq_probe_level(&f->out[3]));
}

static void test_plic_state_round_trip(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_plic_ops();
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) again = NULL;
    IrqProbe out[N_CONTEXTS];
    VireoIrq lines[N_CONTEXTS];
    VireoPlic *other;

    make_busy(f);
    saved = device_state_save(ops, f->plic);
    g_assert_cmpuint(saved->len, ==, AT_ENABLE(N_CONTEXTS));

    ops->reset(f->plic);
    g_assert_false(irq_probe_level(&f->out[0]));
    g_assert_false(irq_probe_level(&f->out[1]));
    g_assert_true(pending(f, 20));
    g_assert_true(device_state_load(ops, f->plic, saved, &error));
    g_assert_no_error(error);
    again = device_state_save(ops, f->plic);
    device_state_assert_same(saved, again);
    g_assert_true(irq_probe_level(&f->out[0]));
    g_assert_true(irq_probe_level(&f->out[1]));
    g_assert_false(irq_probe_level(&f->out[3]));
    g_assert_cmpuint(rd(f, 4 * 20), ==, 5);
    g_assert_cmpuint(rd(f, VIREO_PLIC_CONTEXT + 3 * VIREO_PLIC_CONTEXT_STRIDE), ==, 6);
    /* Source 20 is still in service: not pending until its completion. */
    g_assert_false(pending(f, 20));
    g_assert_true(pending(f, 10));
    complete(f, 0, 20);
    g_assert_true(pending(f, 20));
    g_assert_false(irq_probe_level(&f->out[3])); /* priority 5, threshold 6 */
    g_assert_cmpuint(claim(f, 0), ==, 20);
    g_assert_cmpuint(claim(f, 0), ==, 10);
    g_assert_false(irq_probe_level(&f->out[0]));

    /* A fresh PLIC drives its outputs to the loaded levels. */
    for (unsigned i = 0; i < N_CONTEXTS; i++) {
        irq_probe_init(&out[i]);
        lines[i] = irq_probe_line(&out[i], i);
    }
    other = vireo_plic_new(N_HARTS, lines);
    g_assert_true(device_state_load(ops, other, saved, &error));
    g_assert_no_error(error);
    g_assert_true(irq_probe_level(&out[0]));
    g_assert_true(irq_probe_level(&out[1]));
    g_assert_false(irq_probe_level(&out[2]));
    g_assert_false(irq_probe_level(&out[3]));
    /* Every output is driven, also where the PLIC's level did not change
     * (a hart loaded with another level). */
    irq_probe_set(&out[0], 0, false);
    irq_probe_set(&out[3], 0, true);
    g_assert_true(device_state_load(ops, other, saved, &error));
    g_assert_true(irq_probe_level(&out[0]));
    g_assert_false(irq_probe_level(&out[3]));
    vireo_plic_free(other);
    for (unsigned i = 0; i < N_CONTEXTS; i++) {
        irq_probe_clear(&out[i]);
    }
}

static void refuse_with(Fixture *f, const GByteArray *good, gsize at, uint32_t value,
                        const char *expect)
{
    g_autoptr(GByteArray) bad = g_byte_array_new();

    g_byte_array_append(bad, good->data, good->len);
    device_state_put_u32(bad, at, value);
    device_state_assert_refused(vireo_plic_ops(), f->plic, bad->data, bad->len, expect);
}

static uint32_t word_at(const GByteArray *payload, gsize at)
{
    uint32_t v;

    memcpy(&v, payload->data + at, 4);
    return GUINT32_FROM_LE(v);
}

static void test_plic_state_refused(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_plic_ops();
    g_autoptr(GByteArray) good = NULL;
    VireoPlic *small;

    make_busy(f);
    good = device_state_save(ops, f->plic);
    ops->reset(f->plic);
    set_priority(f, 3, 2);

    refuse_with(f, good, 0, 9, "layout version");
    refuse_with(f, good, 4, 1, "1 harts");
    refuse_with(f, good, 8, 64, "64 sources");
    refuse_with(f, good, AT_PRIORITY(10), 8, "priority 8");
    refuse_with(f, good, AT_PRIORITY(0), 1, "source 0");
    refuse_with(f, good, AT_LEVEL, word_at(good, AT_LEVEL) | 1, "do not exist");
    /* Pending bits that do not follow the levels and claims. */
    refuse_with(f, good, AT_PENDING, word_at(good, AT_PENDING) & ~(1u << 10), "pending");
    refuse_with(f, good, AT_PENDING, word_at(good, AT_PENDING) | (1u << 20), "pending");
    refuse_with(f, good, AT_PENDING, word_at(good, AT_PENDING) | (1u << 11), "pending");
    refuse_with(f, good, AT_CLAIMED, word_at(good, AT_CLAIMED) | 1, "do not exist");
    refuse_with(f, good, AT_ENABLE(2), 1, "context 2 enables");
    refuse_with(f, good, AT_THRESHOLD(3), 8, "threshold 8");
    device_state_assert_cuts_refused(ops, f->plic, good);
    g_assert_cmpuint(rd(f, 4 * 3), ==, 2);
    g_assert_false(irq_probe_level(&f->out[0]));

    small = vireo_plic_new(1, NULL);
    device_state_assert_refused(ops, small, good->data, good->len, "this PLIC serves 1");
    vireo_plic_free(small);
}

static void test_plic_bad_config(void)
{
    g_assert_null(vireo_plic_new(0, NULL));
    g_assert_null(vireo_plic_new(VIREO_PLIC_MAX_HARTS + 1, NULL));
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/plic/registers", test_plic_priority_regs);
    ADD("/plic/bad-access", test_plic_bad_access);
    ADD("/plic/bad-sources", test_plic_bad_sources);
    ADD("/plic/threshold", test_plic_threshold);
    ADD("/plic/claim-order", test_plic_claim_order);
    ADD("/plic/complete", test_plic_complete);
    ADD("/plic/two-contexts", test_plic_two_contexts);
    ADD("/plic/reset", test_plic_reset);
    ADD("/plic/state/round-trip", test_plic_state_round_trip);
    ADD("/plic/state/refused", test_plic_state_refused);
#undef ADD
    g_test_add_func("/plic/bad-config", test_plic_bad_config);
    return g_test_run();
}
