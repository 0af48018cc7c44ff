/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/goldfish-rtc.h"
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
#undef ADD
    return g_test_run();
}
