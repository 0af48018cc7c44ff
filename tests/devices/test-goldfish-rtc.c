/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/goldfish-rtc.h"
#include "device-state.h"
#include "irq-probe.h"

#include <time.h>

typedef struct {
    VireoClock *clock;
    VireoGoldfishRtc *rtc;
    IrqProbe irq;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    VireoIrq line;

    irq_probe_init(&f->irq);
    line = irq_probe_line(&f->irq, 11);
    f->clock = vireo_clock_new(10000000);
    vireo_clock_resume(f->clock);
    f->rtc = vireo_goldfish_rtc_new(f->clock, &line);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    vireo_goldfish_rtc_free(f->rtc);
    vireo_clock_free(f->clock);
    irq_probe_clear(&f->irq);
}

static uint32_t rd(Fixture *f, uint64_t off)
{
    uint64_t v = 0xdead;
    g_assert_true(vireo_goldfish_rtc_ops()->read(f->rtc, off, 4, &v));
    return (uint32_t)v;
}

static void wr(Fixture *f, uint64_t off, uint32_t v)
{
    g_assert_true(vireo_goldfish_rtc_ops()->write(f->rtc, off, 4, v));
}

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t read_time(Fixture *f)
{
    uint64_t low = rd(f, VIREO_GOLDFISH_RTC_TIME_LOW);
    return ((uint64_t)rd(f, VIREO_GOLDFISH_RTC_TIME_HIGH) << 32) | low;
}

static void set_alarm(Fixture *f, uint64_t t)
{
    wr(f, VIREO_GOLDFISH_RTC_ALARM_HIGH, (uint32_t)(t >> 32));
    wr(f, VIREO_GOLDFISH_RTC_ALARM_LOW, (uint32_t)t);
}

static void test_rtc_time(Fixture *f, gconstpointer data)
{
    uint64_t before = host_ns();
    uint64_t t = read_time(f);
    uint64_t after = host_ns();

    g_assert_cmpuint(t, >=, before);
    g_assert_cmpuint(t, <=, after);
    /* TIME_HIGH is the value latched by the TIME_LOW read. */
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_TIME_HIGH), ==, t >> 32);

    /* The guest sets the time: high half first, the low half commits. */
    wr(f, VIREO_GOLDFISH_RTC_TIME_HIGH, 0);
    wr(f, VIREO_GOLDFISH_RTC_TIME_LOW, 1000000000u);
    t = read_time(f);
    g_assert_cmpuint(t, >=, 1000000000u);
    g_assert_cmpuint(t, <, 1000000000u + 5000000000u);
    /* A reset keeps the time. */
    vireo_goldfish_rtc_ops()->reset(f->rtc);
    g_assert_cmpuint(read_time(f), <, 1000000000u + 5000000000u);
}

static void test_rtc_alarm_past(Fixture *f, gconstpointer data)
{
    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED), ==, 1);
    set_alarm(f, read_time(f) - 1000000000u);
    g_assert_true(irq_probe_level(&f->irq));
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    wr(f, VIREO_GOLDFISH_RTC_CLEAR_INTERRUPT, 1);
    g_assert_false(irq_probe_level(&f->irq));
}

static void test_rtc_alarm_future(Fixture *f, gconstpointer data)
{
    uint64_t t;

    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    t = read_time(f) + 20000000u; /* 20 ms */
    set_alarm(f, t);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 1);
    g_assert_cmphex(rd(f, VIREO_GOLDFISH_RTC_ALARM_LOW), ==, (uint32_t)t);
    g_assert_cmphex(rd(f, VIREO_GOLDFISH_RTC_ALARM_HIGH), ==, (uint32_t)(t >> 32));
    g_assert_true(irq_probe_wait(&f->irq, true, 5000));
    g_assert_cmpuint(read_time(f), >=, t);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    wr(f, VIREO_GOLDFISH_RTC_CLEAR_INTERRUPT, 1);
    g_assert_false(irq_probe_level(&f->irq));
}

static void test_rtc_irq_disabled(Fixture *f, gconstpointer data)
{
    /* The alarm goes off with the interrupt disabled; enabling it later
     * raises the line until the guest clears it. */
    set_alarm(f, read_time(f) - 1);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    g_assert_false(irq_probe_level(&f->irq));
    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    g_assert_true(irq_probe_level(&f->irq));
    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 0);
    g_assert_false(irq_probe_level(&f->irq));
    wr(f, VIREO_GOLDFISH_RTC_CLEAR_INTERRUPT, 1);
    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    g_assert_false(irq_probe_level(&f->irq));
}

static void test_rtc_clear_alarm(Fixture *f, gconstpointer data)
{
    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    set_alarm(f, read_time(f) + 30000000u);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 1);
    wr(f, VIREO_GOLDFISH_RTC_CLEAR_ALARM, 1);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    g_assert_false(irq_probe_wait(&f->irq, true, 100));
    /* A reset disarms a pending alarm too. */
    set_alarm(f, read_time(f) + 30000000u);
    vireo_goldfish_rtc_ops()->reset(f->rtc);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED), ==, 0);
    g_assert_false(irq_probe_wait(&f->irq, true, 100));
}

static void test_rtc_bad_access(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_goldfish_rtc_ops();
    uint64_t v;

    g_assert_false(ops->read(f->rtc, 0, 1, &v));
    g_assert_false(ops->read(f->rtc, 0, 8, &v));
    g_assert_false(ops->write(f->rtc, 2, 4, 0));
    g_assert_false(ops->write(f->rtc, VIREO_GOLDFISH_RTC_MMIO_SIZE, 4, 0));
    g_assert_false(ops->read(f->rtc, G_MAXUINT64 - 3, 4, &v));
    /* Registers past the last one read as zero and ignore writes. */
    g_assert_true(ops->write(f->rtc, 0x20, 4, 1));
    g_assert_true(ops->read(f->rtc, 0x20, 4, &v));
    g_assert_cmphex(v, ==, 0);
}

/* Another RTC with a line of its own, on a running clock of its own. */
typedef struct {
    VireoClock *clock;
    VireoGoldfishRtc *rtc;
    IrqProbe irq;
} Other;

static void other_init(Other *o)
{
    VireoIrq line;

    irq_probe_init(&o->irq);
    line = irq_probe_line(&o->irq, 11);
    o->clock = vireo_clock_new(10000000);
    vireo_clock_resume(o->clock);
    o->rtc = vireo_goldfish_rtc_new(o->clock, &line);
}

static void other_clear(Other *o)
{
    vireo_goldfish_rtc_free(o->rtc);
    vireo_clock_free(o->clock);
    irq_probe_clear(&o->irq);
}

static uint64_t other_time(Other *o)
{
    uint64_t low = 0, high = 0;

    g_assert_true(vireo_goldfish_rtc_ops()->read(o->rtc, VIREO_GOLDFISH_RTC_TIME_LOW, 4, &low));
    g_assert_true(vireo_goldfish_rtc_ops()->read(o->rtc, VIREO_GOLDFISH_RTC_TIME_HIGH, 4, &high));
    return (high << 32) | low;
}

static void test_rtc_state_round_trip(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_goldfish_rtc_ops();
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) again = NULL;
    uint64_t alarm, t;

    /* The guest set its time to 1 s after the epoch, staged a high half
     * and armed an alarm an hour ahead. */
    wr(f, VIREO_GOLDFISH_RTC_TIME_HIGH, 0);
    wr(f, VIREO_GOLDFISH_RTC_TIME_LOW, 1000000000u);
    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    alarm = read_time(f) + 3600ull * 1000000000u;
    set_alarm(f, alarm);
    wr(f, VIREO_GOLDFISH_RTC_TIME_HIGH, 5);
    saved = device_state_save(ops, f->rtc);
    g_assert_cmpuint(saved->len, ==, 31);

    ops->reset(f->rtc);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    g_assert_true(device_state_load(ops, f->rtc, saved, &error));
    g_assert_no_error(error);
    again = device_state_save(ops, f->rtc);
    device_state_assert_same(saved, again);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 1);
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED), ==, 1);
    g_assert_cmphex(rd(f, VIREO_GOLDFISH_RTC_ALARM_LOW), ==, (uint32_t)alarm);
    g_assert_cmphex(rd(f, VIREO_GOLDFISH_RTC_ALARM_HIGH), ==, (uint32_t)(alarm >> 32));
    g_assert_false(irq_probe_level(&f->irq));
    t = read_time(f);
    g_assert_cmpuint(t, >=, 1000000000u);
    g_assert_cmpuint(t, <, 1000000000u + 5000000000u);
    /* The staged high half came back too. */
    wr(f, VIREO_GOLDFISH_RTC_TIME_LOW, 0);
    g_assert_cmpuint(read_time(f), >=, 5ull << 32);
    g_assert_cmpuint(read_time(f), <, (5ull << 32) + 5000000000u);
}

/* The guest's time follows the host's wall clock across a restore, with
 * the offset the guest had set. */
static void test_rtc_state_wall_clock(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_goldfish_rtc_ops();
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) saved = NULL;
    uint64_t at_save, t;
    Other o;

    wr(f, VIREO_GOLDFISH_RTC_TIME_HIGH, 0);
    wr(f, VIREO_GOLDFISH_RTC_TIME_LOW, 2000000000u);
    at_save = read_time(f);
    saved = device_state_save(ops, f->rtc);
    g_usleep(50000);
    other_init(&o);
    g_assert_true(device_state_load(ops, o.rtc, saved, &error));
    g_assert_no_error(error);
    t = other_time(&o);
    g_assert_cmpuint(t, >=, at_save + 50000000u);
    g_assert_cmpuint(t, <, at_save + 5000000000u);
    other_clear(&o);
}

/* A raised interrupt is driven again in a fresh RTC, and an alarm whose
 * time passed while the state was stored goes off once the clock runs. */
static void test_rtc_state_alarm(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_goldfish_rtc_ops();
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) raised = NULL;
    g_autoptr(GByteArray) armed = NULL;
    Other o;

    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    set_alarm(f, read_time(f) - 1);
    g_assert_true(irq_probe_level(&f->irq));
    raised = device_state_save(ops, f->rtc);
    wr(f, VIREO_GOLDFISH_RTC_CLEAR_INTERRUPT, 1);
    set_alarm(f, read_time(f) + 30000000u); /* 30 ms */
    armed = device_state_save(ops, f->rtc);
    wr(f, VIREO_GOLDFISH_RTC_CLEAR_ALARM, 1);

    other_init(&o);
    g_assert_true(device_state_load(ops, o.rtc, raised, &error));
    g_assert_no_error(error);
    g_assert_true(irq_probe_level(&o.irq));
    /* Driven also where the RTC's level did not change (a controller
     * loaded with another level). */
    irq_probe_set(&o.irq, 11, false);
    g_assert_true(device_state_load(ops, o.rtc, raised, &error));
    g_assert_true(irq_probe_level(&o.irq));
    other_clear(&o);

    g_usleep(60000);
    other_init(&o);
    vireo_clock_pause(o.clock);
    g_assert_true(device_state_load(ops, o.rtc, armed, &error));
    g_assert_no_error(error);
    /* Not while the clock stands still (the machine is not running). */
    g_assert_false(irq_probe_wait(&o.irq, true, 50));
    vireo_clock_resume(o.clock);
    g_assert_true(irq_probe_wait(&o.irq, true, 5000));
    other_clear(&o);
}

static void test_rtc_state_refused(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_goldfish_rtc_ops();
    g_autoptr(GByteArray) good = NULL;
    g_autoptr(GByteArray) bad = g_byte_array_new();

    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    set_alarm(f, read_time(f) - 1);
    good = device_state_save(ops, f->rtc);
    ops->reset(f->rtc);
    set_alarm(f, read_time(f) + 3600ull * 1000000000u);

    for (gsize at = 28; at <= 30; at++) {
        g_byte_array_set_size(bad, 0);
        g_byte_array_append(bad, good->data, good->len);
        bad->data[at] = 2;
        device_state_assert_refused(ops, f->rtc, bad->data, bad->len, "flag");
    }
    g_byte_array_set_size(bad, 0);
    g_byte_array_append(bad, good->data, good->len);
    device_state_put_u32(bad, 0, 0);
    device_state_assert_refused(ops, f->rtc, bad->data, bad->len, "layout version");
    device_state_assert_cuts_refused(ops, f->rtc, good);
    g_assert_false(irq_probe_level(&f->irq));
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 1);
}

/* While paused the alarm changes nothing, even when its time comes or a
 * load brings one that is due; resume lets it go off. */
static void test_rtc_pause(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_goldfish_rtc_ops();
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) due = NULL;

    wr(f, VIREO_GOLDFISH_RTC_IRQ_ENABLED, 1);
    set_alarm(f, read_time(f) + 20000000u); /* 20 ms */
    ops->pause(f->rtc);
    g_assert_false(irq_probe_wait(&f->irq, true, 80));
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 1);
    ops->resume(f->rtc);
    g_assert_true(irq_probe_level(&f->irq));
    g_assert_cmpuint(rd(f, VIREO_GOLDFISH_RTC_ALARM_STATUS), ==, 0);
    wr(f, VIREO_GOLDFISH_RTC_CLEAR_INTERRUPT, 1);

    set_alarm(f, read_time(f) + 1000000u); /* 1 ms */
    due = device_state_save(ops, f->rtc);
    wr(f, VIREO_GOLDFISH_RTC_CLEAR_ALARM, 1);
    g_usleep(5000);
    ops->pause(f->rtc);
    g_assert_true(device_state_load(ops, f->rtc, due, &error));
    g_assert_no_error(error);
    g_assert_false(irq_probe_wait(&f->irq, true, 50));
    ops->resume(f->rtc);
    g_assert_true(irq_probe_level(&f->irq));
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/goldfish-rtc/time", test_rtc_time);
    ADD("/goldfish-rtc/alarm-past", test_rtc_alarm_past);
    ADD("/goldfish-rtc/alarm-future", test_rtc_alarm_future);
    ADD("/goldfish-rtc/irq-disabled", test_rtc_irq_disabled);
    ADD("/goldfish-rtc/clear-alarm", test_rtc_clear_alarm);
    ADD("/goldfish-rtc/bad-access", test_rtc_bad_access);
    ADD("/goldfish-rtc/state/round-trip", test_rtc_state_round_trip);
    ADD("/goldfish-rtc/state/wall-clock", test_rtc_state_wall_clock);
    ADD("/goldfish-rtc/state/alarm", test_rtc_state_alarm);
    ADD("/goldfish-rtc/state/refused", test_rtc_state_refused);
    ADD("/goldfish-rtc/pause", test_rtc_pause);
#undef ADD
    return g_test_run();
}
