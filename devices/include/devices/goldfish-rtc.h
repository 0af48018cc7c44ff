/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"
#include "engine/clock.h"
#include "engine/irq.h"

G_BEGIN_DECLS

/*
 * The Goldfish real-time clock: the host's wall-clock time in nanoseconds
 * since the epoch (plus an offset the guest may set) and one alarm.
 *
 *   0x00 TIME_LOW         R: low 32 bits of the time; latches TIME_HIGH
 *                         W: low 32 bits of a new time (sets the time)
 *   0x04 TIME_HIGH        R: high 32 bits latched by the last TIME_LOW read
 *                         W: high 32 bits of the next time set
 *   0x08 ALARM_LOW        W: low 32 bits of the alarm; arms it
 *   0x0c ALARM_HIGH       W: high 32 bits of the next alarm
 *   0x10 IRQ_ENABLED      RW: bit 0 lets the alarm raise the interrupt
 *   0x14 CLEAR_ALARM      W: disarms the alarm
 *   0x18 ALARM_STATUS     R: 1 while the alarm is armed
 *   0x1c CLEAR_INTERRUPT  W: lowers the interrupt
 *
 * Registers take 32-bit accesses. The time follows the host's wall clock,
 * also across a pause or a restored machine state; the alarm is timed on the
 * machine's clock, and one whose time passed while the machine was paused
 * goes off when it resumes.
 */
typedef struct VireoGoldfishRtc VireoGoldfishRtc;

#define VIREO_GOLDFISH_RTC_MMIO_SIZE       0x1000
#define VIREO_GOLDFISH_RTC_TIME_LOW        0x00
#define VIREO_GOLDFISH_RTC_TIME_HIGH       0x04
#define VIREO_GOLDFISH_RTC_ALARM_LOW       0x08
#define VIREO_GOLDFISH_RTC_ALARM_HIGH      0x0c
#define VIREO_GOLDFISH_RTC_IRQ_ENABLED     0x10
#define VIREO_GOLDFISH_RTC_CLEAR_ALARM     0x14
#define VIREO_GOLDFISH_RTC_ALARM_STATUS    0x18
#define VIREO_GOLDFISH_RTC_CLEAR_INTERRUPT 0x1c

VireoGoldfishRtc *vireo_goldfish_rtc_new(VireoClock *clock, const VireoIrq *irq);
void vireo_goldfish_rtc_free(VireoGoldfishRtc *rtc);
const VireoDeviceOps *vireo_goldfish_rtc_ops(void);

G_END_DECLS
