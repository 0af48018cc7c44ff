/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/*
 * Input from a presenter (the SDL window, the GTK display view) to the
 * guest's input devices (virtio-input), in the guest's terms. Both sides
 * include this header; neither includes the other.
 *
 * - Keys are Linux evdev key codes, the KEY_* values of
 *   <linux/input-event-codes.h> (KEY_ESC = 1, KEY_A = 30, KEY_LEFTCTRL = 29,
 *   ...). They name physical keys, not characters: the guest applies its
 *   own keyboard layout. virtio-input sends them unchanged as EV_KEY events.
 *   Presenters send a press once; the guest repeats held keys itself.
 * - The pointer is absolute, in guest pixels of the current scanout (0 ..
 *   width - 1, 0 .. height - 1); the scanout's size comes with each motion,
 *   so a tablet device can scale the position to its own axis range.
 * - Buttons are evdev codes too (VIREO_BTN_LEFT = BTN_LEFT, ...).
 * - The wheel moves in 1/120 of a notch (VIREO_WHEEL_NOTCH per detent, as
 *   REL_WHEEL_HI_RES counts): dy > 0 away from the user (scroll up), dx > 0
 *   to the right, as REL_WHEEL and REL_HWHEEL count.
 *
 * Callbacks run on the presenter's thread; any of them may be NULL. An
 * implementation that is called from more than one thread locks itself.
 */

#define VIREO_BTN_LEFT    0x110
#define VIREO_BTN_RIGHT   0x111
#define VIREO_BTN_MIDDLE  0x112
#define VIREO_BTN_SIDE    0x113
#define VIREO_BTN_EXTRA   0x114
#define VIREO_WHEEL_NOTCH 120
/* Key codes are below this (evdev's KEY_CNT). */
#define VIREO_KEY_COUNT 0x300

typedef struct {
    void (*key)(void *opaque, unsigned code, bool pressed);
    void (*pointer_motion)(void *opaque, int x, int y, int width, int height);
    void (*pointer_button)(void *opaque, unsigned button, bool pressed);
    void (*wheel)(void *opaque, int dx, int dy);
} VireoInputOps;

G_END_DECLS
