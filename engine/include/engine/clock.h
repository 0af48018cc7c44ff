/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * A machine's virtual clock and its timers. The clock counts ticks at a fixed
 * frequency (10 MHz on the RISC-V virt board) while the machine runs and
 * stands still while it is paused, so a guest never sees time jump across a
 * pause, a snapshot or a migration. Timers fire callbacks on the clock's own
 * thread when the clock reaches their deadline.
 */
typedef struct VireoClock VireoClock;
typedef struct VireoTimer VireoTimer;
typedef void (*VireoTimerFunc)(void *opaque);

VireoClock *vireo_clock_new(uint64_t frequency_hz);
void vireo_clock_free(VireoClock *clock);

uint64_t vireo_clock_frequency(const VireoClock *clock);
/* Current ticks. Lock-free; callable from any thread. */
uint64_t vireo_clock_now(VireoClock *clock);
/* Stop and restart the clock (pause/resume of the machine). Idempotent. */
void vireo_clock_pause(VireoClock *clock);
void vireo_clock_resume(VireoClock *clock);
bool vireo_clock_is_running(VireoClock *clock);
/* Set the current tick count (snapshot restore). */
void vireo_clock_set(VireoClock *clock, uint64_t ticks);
/* Host nanoseconds until the clock reaches `ticks` (0 when reached,
 * G_MAXINT64 while paused). */
gint64 vireo_clock_ns_until(VireoClock *clock, uint64_t ticks);

VireoTimer *vireo_timer_new(VireoClock *clock, VireoTimerFunc func, void *opaque);
void vireo_timer_free(VireoTimer *timer);
/* Fire once when the clock reaches `deadline` (ticks). Re-arming replaces the
 * previous deadline. A deadline already passed fires promptly. */
void vireo_timer_arm(VireoTimer *timer, uint64_t deadline);
void vireo_timer_cancel(VireoTimer *timer);

G_END_DECLS
