/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/goldfish-rtc.h"
#include "engine/snap.h"

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
    bool paused; /* the alarm is left for resume() */
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

/* Drives the line when its level changes, or always (`force`: after a
 * load, when the line may hold another machine state's level). */
static void drive_irq_locked(VireoGoldfishRtc *r, bool force)
{
    bool level = r->irq_pending && r->irq_enabled;

    if (level != r->irq_level || force) {
        r->irq_level = level;
        vireo_irq_set(&r->irq, level);
    }
}

static void update_irq_locked(VireoGoldfishRtc *r)
{
    drive_irq_locked(r, false);
}

/* Nanoseconds of guest time until the alarm; 0 or less when it is due. */
static gint64 alarm_wait_locked(VireoGoldfishRtc *r)
{
    uint64_t alarm = ((uint64_t)r->alarm_high << 32) | r->alarm_low;

    return (gint64)(alarm - guest_ns_locked(r));
}

/* Arms the timer for a wait of `wait_ns` (at once for none), converted
 * into clock ticks. */
static void arm_timer_locked(VireoGoldfishRtc *r, gint64 wait_ns)
{
    uint64_t freq = vireo_clock_frequency(r->clock);
    uint64_t ticks;

    wait_ns = CLAMP(wait_ns, 0, MAX_ALARM_AHEAD_NS);
    ticks = (uint64_t)(((unsigned __int128)wait_ns * freq + 999999999u) / 1000000000u);
    vireo_timer_arm(r->timer, vireo_clock_now(r->clock) + ticks);
}

/* Fires the alarm when its time has come; otherwise arms the timer for it. */
static void check_alarm_locked(VireoGoldfishRtc *r)
{
    gint64 wait_ns;

    if (!r->alarm_armed) {
        vireo_timer_cancel(r->timer);
        return;
    }
    wait_ns = alarm_wait_locked(r);
    if (wait_ns <= 0) {
        r->alarm_armed = false;
        r->irq_pending = true;
        vireo_timer_cancel(r->timer);
        update_irq_locked(r);
        return;
    }
    arm_timer_locked(r, wait_ns);
}

/* A timer that fell due just before a pause and fires after it changes
 * nothing: resume() looks at the alarm again. */
static void alarm_timer_fired(void *opaque)
{
    VireoGoldfishRtc *r = opaque;

    g_mutex_lock(&r->lock);
    if (!r->paused) {
        check_alarm_locked(r);
    }
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

/*
 * Machine state (docs/SNAPSHOTS.md, "goldfish-rtc"): the layout version,
 * the guest's offset from the host's wall clock, the latched and staged
 * halves, the alarm and the interrupt's state.
 *
 * The time keeps following the host's wall clock across a pause, a save
 * and a restore, as QEMU's does by default: a guest restored a day later
 * reads a time a day later, plus whatever offset it had set. Only the
 * offset is saved. An armed alarm whose time has passed by the restore
 * goes off once the machine runs again.
 */

#define RTC_STATE_VERSION 1

static bool rtc_save(void *opaque, VireoSnapWriter *w, GError **error)
{
    VireoGoldfishRtc *r = opaque;

    g_mutex_lock(&r->lock);
    vireo_snap_put_u32(w, RTC_STATE_VERSION);
    vireo_snap_put_u64(w, (uint64_t)r->offset_ns);
    vireo_snap_put_u32(w, r->time_high);
    vireo_snap_put_u32(w, r->set_high);
    vireo_snap_put_u32(w, r->alarm_low);
    vireo_snap_put_u32(w, r->alarm_high);
    vireo_snap_put_bool(w, r->alarm_armed);
    vireo_snap_put_bool(w, r->irq_enabled);
    vireo_snap_put_bool(w, r->irq_pending);
    g_mutex_unlock(&r->lock);
    return true;
}

static bool rtc_load(void *opaque, VireoSnapReader *sr, GError **error)
{
    VireoGoldfishRtc *r = opaque;
    uint32_t version = vireo_snap_get_u32(sr);
    uint64_t offset_ns = vireo_snap_get_u64(sr);
    uint32_t time_high = vireo_snap_get_u32(sr);
    uint32_t set_high = vireo_snap_get_u32(sr);
    uint32_t alarm_low = vireo_snap_get_u32(sr);
    uint32_t alarm_high = vireo_snap_get_u32(sr);
    bool alarm_armed = vireo_snap_get_bool(sr);
    bool irq_enabled = vireo_snap_get_bool(sr);
    bool irq_pending = vireo_snap_get_bool(sr);

    if (vireo_snap_reader_version(sr) != 1 || version != RTC_STATE_VERSION) {
        vireo_snap_fail(sr, "layout version %u/%u is not 1/%u", vireo_snap_reader_version(sr),
                        version, RTC_STATE_VERSION);
    }
    /* Every offset is a time the guest could have set, and every alarm one
     * it could have asked for. */
    if (!vireo_snap_reader_finish(sr, error)) {
        return false;
    }

    g_mutex_lock(&r->lock);
    r->offset_ns = (gint64)offset_ns;
    r->time_high = time_high;
    r->set_high = set_high;
    r->alarm_low = alarm_low;
    r->alarm_high = alarm_high;
    r->alarm_armed = alarm_armed;
    r->irq_enabled = irq_enabled;
    r->irq_pending = irq_pending;
    drive_irq_locked(r, true);
    /* The alarm goes off when the machine runs: the timer waits for the
     * clock, and resume() looks at the alarm again. */
    if (alarm_armed) {
        arm_timer_locked(r, alarm_wait_locked(r));
    } else {
        vireo_timer_cancel(r->timer);
    }
    g_mutex_unlock(&r->lock);
    return true;
}

static void rtc_pause(void *opaque)
{
    VireoGoldfishRtc *r = opaque;

    g_mutex_lock(&r->lock);
    r->paused = true;
    g_mutex_unlock(&r->lock);
}

/* The host's time went on while the machine stood still: an alarm that
 * came due meanwhile goes off now, and one still ahead is timed afresh. */
static void rtc_resume(void *opaque)
{
    VireoGoldfishRtc *r = opaque;

    g_mutex_lock(&r->lock);
    r->paused = false;
    check_alarm_locked(r);
    g_mutex_unlock(&r->lock);
}

static const VireoDeviceOps goldfish_rtc_ops = {
    .name = "goldfish-rtc",
    .read = rtc_read,
    .write = rtc_write,
    .reset = rtc_reset,
    .save = rtc_save,
    .load = rtc_load,
    .pause = rtc_pause,
    .resume = rtc_resume,
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
