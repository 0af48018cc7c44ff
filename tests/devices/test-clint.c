/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/clint.h"
#include "device-state.h"
#include "irq-probe.h"

#define N_HARTS 2

typedef struct {
    VireoClock *clock;
    VireoClint *clint;
    IrqProbe msip[N_HARTS], mtip[N_HARTS];
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    VireoIrq msip[N_HARTS], mtip[N_HARTS];

    f->clock = vireo_clock_new(10000000);
    for (unsigned i = 0; i < N_HARTS; i++) {
        irq_probe_init(&f->msip[i]);
        irq_probe_init(&f->mtip[i]);
        msip[i] = irq_probe_line(&f->msip[i], 3);
        mtip[i] = irq_probe_line(&f->mtip[i], 7);
    }
    f->clint = vireo_clint_new(f->clock, N_HARTS, msip, mtip);
    g_assert_nonnull(f->clint);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    vireo_clint_free(f->clint);
    vireo_clock_free(f->clock);
    for (unsigned i = 0; i < N_HARTS; i++) {
        irq_probe_clear(&f->msip[i]);
        irq_probe_clear(&f->mtip[i]);
    }
}

static uint64_t rd(Fixture *f, uint64_t off, unsigned size)
{
    uint64_t v = 0xdead;
    g_assert_true(vireo_clint_ops()->read(f->clint, off, size, &v));
    return v;
}

static void wr(Fixture *f, uint64_t off, unsigned size, uint64_t v)
{
    g_assert_true(vireo_clint_ops()->write(f->clint, off, size, v));
}

static void test_clint_msip(Fixture *f, gconstpointer data)
{
    g_assert_false(irq_probe_level(&f->msip[0]));
    wr(f, 0x0, 4, 1);
    g_assert_true(irq_probe_level(&f->msip[0]));
    g_assert_false(irq_probe_level(&f->msip[1]));
    g_assert_cmphex(rd(f, 0x0, 4), ==, 1);
    wr(f, 0x4, 4, 1);
    g_assert_true(irq_probe_level(&f->msip[1]));
    /* Only bit 0 counts. */
    wr(f, 0x0, 4, 0xfffffffe);
    g_assert_false(irq_probe_level(&f->msip[0]));
    g_assert_cmphex(rd(f, 0x0, 4), ==, 0);
    g_assert_true(irq_probe_level(&f->msip[1]));
    wr(f, 0x4, 4, 0);
    g_assert_false(irq_probe_level(&f->msip[1]));
    g_assert_cmpint(f->msip[0].changes, ==, 2);
    /* Harts that do not exist read as zero and ignore writes. */
    wr(f, 0x8, 4, 1);
    g_assert_cmphex(rd(f, 0x8, 4), ==, 0);
}

static void test_clint_bad_access(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_clint_ops();
    uint64_t v;

    g_assert_false(ops->read(f->clint, 0x0, 1, &v));
    g_assert_false(ops->read(f->clint, 0x0, 2, &v));
    g_assert_false(ops->read(f->clint, 0x0, 8, &v)); /* msip is 32 bits */
    g_assert_false(ops->write(f->clint, 0x2, 4, 1)); /* misaligned */
    g_assert_false(ops->read(f->clint, 0x4004, 8, &v));
    g_assert_false(ops->write(f->clint, 0xbffc, 8, 0));
    g_assert_false(ops->read(f->clint, VIREO_CLINT_MMIO_SIZE, 4, &v));
    g_assert_false(ops->write(f->clint, G_MAXUINT64 - 3, 4, 0));
    g_assert_false(irq_probe_level(&f->msip[0]));
}

static void test_clint_mtimecmp_past(Fixture *f, gconstpointer data)
{
    /* The clock is stopped at 1000 ticks. */
    vireo_clock_set(f->clock, 1000);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIME, 8), ==, 1000);
    g_assert_false(irq_probe_level(&f->mtip[0]));
    wr(f, VIREO_CLINT_MTIMECMP, 8, 1000);
    g_assert_true(irq_probe_level(&f->mtip[0]));
    g_assert_false(irq_probe_level(&f->mtip[1]));
    /* Rewriting it to the future lowers MTIP. */
    wr(f, VIREO_CLINT_MTIMECMP, 8, 1001);
    g_assert_false(irq_probe_level(&f->mtip[0]));
    wr(f, VIREO_CLINT_MTIMECMP + 8, 8, 0);
    g_assert_true(irq_probe_level(&f->mtip[1]));
    g_assert_false(irq_probe_level(&f->mtip[0]));
    /* Moving mtime re-evaluates every hart. */
    wr(f, VIREO_CLINT_MTIME, 8, 5000);
    g_assert_true(irq_probe_level(&f->mtip[0]));
    wr(f, VIREO_CLINT_MTIME, 8, 10);
    g_assert_false(irq_probe_level(&f->mtip[0]));
    g_assert_true(irq_probe_level(&f->mtip[1]));
}

static void test_clint_mtimecmp_future(Fixture *f, gconstpointer data)
{
    uint64_t now;

    vireo_clock_resume(f->clock);
    now = rd(f, VIREO_CLINT_MTIME, 8);
    /* 2 ms ahead at 10 MHz. */
    wr(f, VIREO_CLINT_MTIMECMP, 8, now + 20000);
    g_assert_false(irq_probe_level(&f->mtip[0]));
    g_assert_true(irq_probe_wait(&f->mtip[0], true, 5000));
    g_assert_cmpuint(rd(f, VIREO_CLINT_MTIME, 8), >=, now + 20000);
    g_assert_false(irq_probe_level(&f->mtip[1]));
    /* Rewriting mtimecmp lowers MTIP. */
    wr(f, VIREO_CLINT_MTIMECMP, 8, G_MAXUINT64);
    g_assert_false(irq_probe_level(&f->mtip[0]));
    /* A deadline moved away before it fires does not raise MTIP. */
    now = rd(f, VIREO_CLINT_MTIME, 8);
    wr(f, VIREO_CLINT_MTIMECMP, 8, now + 10000);
    wr(f, VIREO_CLINT_MTIMECMP, 8, now + 100000000);
    g_assert_false(irq_probe_wait(&f->mtip[0], true, 50));
    /* A deadline on a paused clock fires once the clock reaches it. */
    vireo_clock_pause(f->clock);
    now = rd(f, VIREO_CLINT_MTIME, 8);
    wr(f, VIREO_CLINT_MTIMECMP, 8, now + 1000);
    g_assert_false(irq_probe_wait(&f->mtip[0], true, 20));
    vireo_clock_resume(f->clock);
    g_assert_true(irq_probe_wait(&f->mtip[0], true, 5000));
}

static void test_clint_halves(Fixture *f, gconstpointer data)
{
    wr(f, VIREO_CLINT_MTIMECMP + 8, 4, 0x89abcdef);
    wr(f, VIREO_CLINT_MTIMECMP + 12, 4, 0x01234567);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIMECMP + 8, 8), ==, 0x0123456789abcdefull);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIMECMP + 8, 4), ==, 0x89abcdef);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIMECMP + 12, 4), ==, 0x01234567);
    /* Writing one half keeps the other. */
    wr(f, VIREO_CLINT_MTIMECMP + 8, 4, 0);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIMECMP + 8, 8), ==, 0x0123456700000000ull);
    g_assert_false(irq_probe_level(&f->mtip[1]));

    /* mtime, with the clock stopped. */
    wr(f, VIREO_CLINT_MTIME, 8, 0x00000002fffffff0ull);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIME, 4), ==, 0xfffffff0);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIME + 4, 4), ==, 2);
    wr(f, VIREO_CLINT_MTIME + 4, 4, 7);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIME, 8), ==, 0x00000007fffffff0ull);
    wr(f, VIREO_CLINT_MTIME, 4, 0x10);
    g_assert_cmphex(vireo_clock_now(f->clock), ==, 0x0000000700000010ull);
    /* Hart 0 compares with the high half written first. */
    wr(f, VIREO_CLINT_MTIMECMP + 4, 4, 7);
    wr(f, VIREO_CLINT_MTIMECMP, 4, 0x10);
    g_assert_true(irq_probe_level(&f->mtip[0]));
    wr(f, VIREO_CLINT_MTIMECMP, 4, 0x11);
    g_assert_false(irq_probe_level(&f->mtip[0]));
}

static void test_clint_reset(Fixture *f, gconstpointer data)
{
    wr(f, 0x0, 4, 1);
    wr(f, VIREO_CLINT_MTIMECMP, 8, 0);
    g_assert_true(irq_probe_level(&f->msip[0]));
    g_assert_true(irq_probe_level(&f->mtip[0]));
    vireo_clint_ops()->reset(f->clint);
    g_assert_false(irq_probe_level(&f->msip[0]));
    g_assert_false(irq_probe_level(&f->mtip[0]));
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIMECMP, 8), ==, G_MAXUINT64);
    g_assert_cmphex(rd(f, 0x0, 4), ==, 0);
}

/* Another CLINT of the same shape on a clock of its own, with lines of
 * its own, as in a machine built afresh to be restored into. */
typedef struct {
    VireoClock *clock;
    VireoClint *clint;
    IrqProbe msip[N_HARTS], mtip[N_HARTS];
} Other;

static void other_init(Other *o, unsigned n_harts)
{
    VireoIrq msip[N_HARTS], mtip[N_HARTS];

    o->clock = vireo_clock_new(10000000);
    for (unsigned i = 0; i < N_HARTS; i++) {
        irq_probe_init(&o->msip[i]);
        irq_probe_init(&o->mtip[i]);
        msip[i] = irq_probe_line(&o->msip[i], 3);
        mtip[i] = irq_probe_line(&o->mtip[i], 7);
    }
    o->clint = vireo_clint_new(o->clock, n_harts, msip, mtip);
    g_assert_nonnull(o->clint);
}

static void other_clear(Other *o)
{
    vireo_clint_free(o->clint);
    vireo_clock_free(o->clock);
    for (unsigned i = 0; i < N_HARTS; i++) {
        irq_probe_clear(&o->msip[i]);
        irq_probe_clear(&o->mtip[i]);
    }
}

static uint64_t other_rd(Other *o, uint64_t off, unsigned size)
{
    uint64_t v = 0xdead;
    g_assert_true(vireo_clint_ops()->read(o->clint, off, size, &v));
    return v;
}

/* msip and mtimecmp come back, and the lines are driven to what they make
 * of the loaded clock, in the CLINT they were saved from and in another. */
static void test_clint_state_round_trip(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_clint_ops();
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) again = NULL;
    Other o;

    vireo_clock_set(f->clock, 5000);
    wr(f, 0x4, 4, 1);
    wr(f, VIREO_CLINT_MTIMECMP, 8, 6000);
    wr(f, VIREO_CLINT_MTIMECMP + 8, 8, 4000);
    g_assert_false(irq_probe_level(&f->mtip[0]));
    g_assert_true(irq_probe_level(&f->mtip[1]));
    saved = device_state_save(ops, f->clint);
    /* 4 + 4 + 2 * (8 + 1) bytes. */
    g_assert_cmpuint(saved->len, ==, 26);

    ops->reset(f->clint);
    g_assert_false(irq_probe_level(&f->msip[1]));
    g_assert_false(irq_probe_level(&f->mtip[1]));
    g_assert_true(device_state_load(ops, f->clint, saved, &error));
    g_assert_no_error(error);
    g_assert_cmphex(rd(f, 0x0, 4), ==, 0);
    g_assert_cmphex(rd(f, 0x4, 4), ==, 1);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIMECMP, 8), ==, 6000);
    g_assert_cmphex(rd(f, VIREO_CLINT_MTIMECMP + 8, 8), ==, 4000);
    g_assert_false(irq_probe_level(&f->msip[0]));
    g_assert_true(irq_probe_level(&f->msip[1]));
    g_assert_false(irq_probe_level(&f->mtip[0]));
    g_assert_true(irq_probe_level(&f->mtip[1]));
    again = device_state_save(ops, f->clint);
    device_state_assert_same(saved, again);

    /* A fresh CLINT whose clock was loaded first: its lines start low and
     * are driven. */
    other_init(&o, N_HARTS);
    vireo_clock_set(o.clock, 5000);
    g_assert_true(device_state_load(ops, o.clint, saved, &error));
    g_assert_no_error(error);
    g_assert_true(irq_probe_level(&o.msip[1]));
    g_assert_true(irq_probe_level(&o.mtip[1]));
    g_assert_false(irq_probe_level(&o.mtip[0]));
    /* Every line is driven, also where the CLINT's level did not change
     * (a hart loaded with another level). */
    irq_probe_set(&o.msip[1], 3, false);
    irq_probe_set(&o.mtip[0], 7, true);
    g_assert_true(device_state_load(ops, o.clint, saved, &error));
    g_assert_true(irq_probe_level(&o.msip[1]));
    g_assert_false(irq_probe_level(&o.mtip[0]));
    g_assert_cmphex(other_rd(&o, VIREO_CLINT_MTIMECMP, 8), ==, 6000);
    /* Hart 0's deadline is armed for tick 6000 of the loaded clock. */
    vireo_clock_resume(o.clock);
    g_assert_true(irq_probe_wait(&o.mtip[0], true, 5000));
    g_assert_cmpuint(vireo_clock_now(o.clock), >=, 6000);
    other_clear(&o);
}

/* A deadline still ahead fires at the tick it names in the restored clock,
 * not earlier and not at once. */
static void test_clint_state_timer(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_clint_ops();
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) saved = NULL;
    const uint64_t deadline = 1000000 + 2000000; /* 0.2 s after tick 1000000 */
    Other o;

    vireo_clock_set(f->clock, 1000000);
    wr(f, VIREO_CLINT_MTIMECMP, 8, deadline);
    saved = device_state_save(ops, f->clint);

    other_init(&o, N_HARTS);
    vireo_clock_set(o.clock, 1000000);
    g_assert_true(device_state_load(ops, o.clint, saved, &error));
    g_assert_no_error(error);
    vireo_clock_resume(o.clock);
    g_assert_false(irq_probe_level(&o.mtip[0]));
    g_assert_true(irq_probe_wait(&o.mtip[0], true, 5000));
    g_assert_cmpuint(vireo_clock_now(o.clock), >=, deadline);
    g_assert_cmpint(o.mtip[0].changes, ==, 1);
    g_assert_false(irq_probe_level(&o.mtip[1]));
    other_clear(&o);
}

/* Sections the CLINT refuses leave it as it was. */
static void test_clint_state_refused(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_clint_ops();
    g_autoptr(GByteArray) good = NULL;
    g_autoptr(GByteArray) bad = NULL;
    Other o;

    vireo_clock_set(f->clock, 100);
    wr(f, 0x0, 4, 1);
    wr(f, VIREO_CLINT_MTIMECMP + 8, 8, 50);
    good = device_state_save(ops, f->clint);
    ops->reset(f->clint);
    wr(f, VIREO_CLINT_MTIMECMP, 8, 7);

    /* Another hart count, whether or not the sizes add up. */
    bad = g_byte_array_new();
    g_byte_array_append(bad, good->data, good->len);
    device_state_put_u32(bad, 4, 3);
    device_state_assert_refused(ops, f->clint, bad->data, bad->len, "3 harts");
    device_state_put_u32(bad, 4, 1);
    device_state_assert_refused(ops, f->clint, bad->data, bad->len - 9, "1 harts");
    /* Another layout version. */
    g_byte_array_set_size(bad, 0);
    g_byte_array_append(bad, good->data, good->len);
    device_state_put_u32(bad, 0, 2);
    device_state_assert_refused(ops, f->clint, bad->data, bad->len, "layout version");
    /* msip is a flag. */
    g_byte_array_set_size(bad, 0);
    g_byte_array_append(bad, good->data, good->len);
    bad->data[16] = 2;
    device_state_assert_refused(ops, f->clint, bad->data, bad->len, "flag");
    device_state_assert_cuts_refused(ops, f->clint, good);
    g_assert_true(irq_probe_level(&f->mtip[0]));
    g_assert_false(irq_probe_level(&f->msip[0]));

    /* A CLINT of one hart refuses the two-hart section. */
    other_init(&o, 1);
    device_state_assert_refused(ops, o.clint, good->data, good->len, "this CLINT serves 1");
    other_clear(&o);
}

/* A timer that falls due while the device is paused changes nothing until
 * resume, which catches up with it. */
static void test_clint_pause(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_clint_ops();
    uint64_t now;

    vireo_clock_resume(f->clock);
    now = rd(f, VIREO_CLINT_MTIME, 8);
    wr(f, VIREO_CLINT_MTIMECMP, 8, now + 10000); /* 1 ms */
    ops->pause(f->clint);
    g_assert_false(irq_probe_wait(&f->mtip[0], true, 50));
    vireo_clock_pause(f->clock);
    g_assert_cmpuint(vireo_clock_now(f->clock), >=, now + 10000);
    g_assert_false(irq_probe_level(&f->mtip[0]));
    ops->resume(f->clint);
    g_assert_true(irq_probe_level(&f->mtip[0]));
    g_assert_cmpint(f->mtip[0].changes, ==, 1);
}

static void test_clint_bad_config(void)
{
    VireoClock *clock = vireo_clock_new(10000000);

    g_assert_null(vireo_clint_new(clock, 0, NULL, NULL));
    g_assert_null(vireo_clint_new(clock, VIREO_CLINT_MAX_HARTS + 1, NULL, NULL));
    vireo_clock_free(clock);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/clint/msip", test_clint_msip);
    ADD("/clint/bad-access", test_clint_bad_access);
    ADD("/clint/mtimecmp-past", test_clint_mtimecmp_past);
    ADD("/clint/mtimecmp-future", test_clint_mtimecmp_future);
    ADD("/clint/halves", test_clint_halves);
    ADD("/clint/reset", test_clint_reset);
    ADD("/clint/state/round-trip", test_clint_state_round_trip);
    ADD("/clint/state/timer", test_clint_state_timer);
    ADD("/clint/state/refused", test_clint_state_refused);
    ADD("/clint/pause", test_clint_pause);
#undef ADD
    g_test_add_func("/clint/bad-config", test_clint_bad_config);
    return g_test_run();
}
