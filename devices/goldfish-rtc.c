/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/goldfish-rtc.h"

#include <time.h>

/* The farthest ahead the alarm timer is armed, in nanoseconds (about 36
 * years); a later alarm is re-checked when that timer fires. */
#define MAX_ALARM_AHEAD_NS (1ll << 60)

struct VireoGoldfishRtc {
    GMutex lock;
    VireoClock *clock;
    VireoTimer *timer;
    VireoIrq irq;
    gint64 offset_ns;  /* guest time minus host time */
    guint32 time_high; /* latched by the last TIME_LOW read */
    guint32 set_high;  /* high half of the next time written */
    guint32 alarm_low, alarm_high;
    bool alarm_armed;
    bool irq_enabled;
    bool irq_pending; /* the alarm went off and was not cleared */
    bool irq_level;
};

static gint64 host_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t guest_ns_locked(VireoGoldfishRtc *r)
{
    return (uint64_t)host_ns() + (uint64_t)r->offset_ns;
}

static void update_irq_locked(VireoGoldfishRtc *r)
{
    bool level = r->irq_pending && r->irq_enabled;

    if (level != r->irq_level) {
        r->irq_level = level;
        vireo_irq_set(&r->irq, level);
    }
}

/* Fires the alarm when its time has come; otherwise arms the timer for it,
 * converting the wait from nanoseconds into clock ticks. */
static void check_alarm_locked(VireoGoldfishRtc *r)
{
    uint64_t alarm = ((uint64_t)r->alarm_high << 32) | r->alarm_low;
    uint64_t now = guest_ns_locked(r);
    uint64_t freq = vireo_clock_frequency(r->clock);
    gint64 wait_ns;

    if (!r->alarm_armed) {
        vireo_timer_cancel(r->timer);
        return;
    }
    if ((gint64)(alarm - now) <= 0) {
        r->alarm_armed = false;
        r->irq_pending = true;
        vireo_timer_cancel(r->timer);
        update_irq_locked(r);
        return;
    }
    wait_ns = MIN((gint64)(alarm - now), MAX_ALARM_AHEAD_NS);
    uint64_t ticks = (uint64_t)(((unsigned __int128)wait_ns * freq + 999999999u) / 1000000000u);
    vireo_timer_arm(r->timer, vireo_clock_now(r->clock) + ticks);
}

static void alarm_timer_fired(void *opaque)
{
    VireoGoldfishRtc *r = opaque;

    g_mutex_lock(&r->lock);
    check_alarm_locked(r);
    g_mutex_unlock(&r->lock);
}

static bool rtc_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    VireoGoldfishRtc *r = opaque;
    guint32 v = 0;

    *value = 0;
    if (size != 4 || (offset & 3) != 0 || offset >= VIREO_GOLDFISH_RTC_MMIO_SIZE) {
        return false;
    }
    g_mutex_lock(&r->lock);
    switch (offset) {
    case VIREO_GOLDFISH_RTC_TIME_LOW: {
        uint64_t now = guest_ns_locked(r);
        r->time_high = (guint32)(now >> 32);
        v = (guint32)now;
        break;
    }
    case VIREO_GOLDFISH_RTC_TIME_HIGH: v = r->time_high; break;
    case VIREO_GOLDFISH_RTC_ALARM_LOW: v = r->alarm_low; break;
    case VIREO_GOLDFISH_RTC_ALARM_HIGH: v = r->alarm_high; break;
    case VIREO_GOLDFISH_RTC_IRQ_ENABLED: v = r->irq_enabled ? 1 : 0; break;
    case VIREO_GOLDFISH_RTC_ALARM_STATUS: v = r->alarm_armed ? 1 : 0; break;
    default: break;
    }
    g_mutex_unlock(&r->lock);
    *value = v;
    return true;
}

static bool rtc_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    VireoGoldfishRtc *r = opaque;
    guint32 v = (guint32)value;

    if (size != 4 || (offset & 3) != 0 || offset >= VIREO_GOLDFISH_RTC_MMIO_SIZE) {
        return false;
    }
    g_mutex_lock(&r->lock);
    switch (offset) {
    case VIREO_GOLDFISH_RTC_TIME_LOW: {
        uint64_t t = ((uint64_t)r->set_high << 32) | v;
        r->offset_ns = (gint64)(t - (uint64_t)host_ns());
        check_alarm_locked(r);
        break;
    }
    case VIREO_GOLDFISH_RTC_TIME_HIGH: r->set_high = v; break;
    case VIREO_GOLDFISH_RTC_ALARM_LOW:
        r->alarm_low = v;
        r->alarm_armed = true;
        check_alarm_locked(r);
        break;
    case VIREO_GOLDFISH_RTC_ALARM_HIGH: r->alarm_high = v; break;
    case VIREO_GOLDFISH_RTC_IRQ_ENABLED:
        r->irq_enabled = (v & 1) != 0;
        update_irq_locked(r);
        break;
    case VIREO_GOLDFISH_RTC_CLEAR_ALARM:
        r->alarm_armed = false;
        vireo_timer_cancel(r->timer);
        break;
    case VIREO_GOLDFISH_RTC_CLEAR_INTERRUPT:
        r->irq_pending = false;
        update_irq_locked(r);
        break;
    default: break;
    }
    g_mutex_unlock(&r->lock);
    return true;
}

/* Disarms the alarm and lowers the interrupt. The time itself, like a
 * battery-backed clock's, survives the reset. */
static void rtc_reset(void *opaque)
{
    VireoGoldfishRtc *r = opaque;

    g_mutex_lock(&r->lock);
    r->time_high = r->set_high = 0;
    r->alarm_low = r->alarm_high = 0;
    r->alarm_armed = false;
    r->irq_enabled = false;
    r->irq_pending = false;
    vireo_timer_cancel(r->timer);
    update_irq_locked(r);
    g_mutex_unlock(&r->lock);
}

static const VireoDeviceOps goldfish_rtc_ops = {
    .name = "goldfish-rtc",
    .read = rtc_read,
    .write = rtc_write,
    .reset = rtc_reset,
};

const VireoDeviceOps *vireo_goldfish_rtc_ops(void)
{
    return &goldfish_rtc_ops;
}

VireoGoldfishRtc *vireo_goldfish_rtc_new(VireoClock *clock, const VireoIrq *irq)
{
    VireoGoldfishRtc *r = g_new0(VireoGoldfishRtc, 1);

    g_mutex_init(&r->lock);
    r->clock = clock;
    if (irq != NULL) {
        r->irq = *irq;
    }
    r->timer = vireo_timer_new(clock, alarm_timer_fired, r);
    return r;
}

void vireo_goldfish_rtc_free(VireoGoldfishRtc *rtc)
{
    if (rtc == NULL) {
        return;
    }
    vireo_timer_free(rtc->timer);
    g_mutex_clear(&rtc->lock);
    g_free(rtc);
}
