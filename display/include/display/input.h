/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * Input from a presenter (the SDL window, the GTK display view) to the
 * guest's input devices (virtio-input), in the guest's terms:
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
 * Callbacks run on the presenter's thread; any of them may be NULL.
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

/* ---- Key code translation (0 where a key has no evdev code) ---- */

/* From a USB HID keyboard usage (page 7), which is also SDL's scancode
 * numbering for SDL_SCANCODE_A (4) .. SDL_SCANCODE_RGUI (231); the media
 * keys SDL numbers from 258 are mapped too. */
unsigned vireo_keymap_from_usb_hid(unsigned usage);
/* From an X11 / Wayland (xkb) keycode, as GDK reports it: on Linux these
 * are evdev codes plus 8. */
unsigned vireo_keymap_from_xkb(unsigned keycode);

/* ---- Hot keys ---- */

typedef enum {
    VIREO_MOD_CTRL = 1 << 0,
    VIREO_MOD_ALT = 1 << 1,
    VIREO_MOD_SHIFT = 1 << 2,
    VIREO_MOD_SUPER = 1 << 3,
} VireoModifiers;

/* Modifiers plus one key, such as the combination that releases a grabbed
 * keyboard. */
typedef struct {
    VireoModifiers mods;
    unsigned key; /* evdev code */
} VireoKeyCombo;

#define VIREO_RELEASE_COMBO_DEFAULT "Ctrl+Alt+G"

/* Parses "Ctrl+Alt+G" (case-insensitive; modifiers Ctrl, Alt, Shift and
 * Super; keys A-Z, 0-9, F1-F12, Space, Escape, Tab, Return, Backspace, Home,
 * End, Insert, Delete, Pause). At least one modifier is needed. */
gboolean vireo_key_combo_parse(const char *text, VireoKeyCombo *combo, GError **error);
/* "Ctrl+Alt+G" */
char *vireo_key_combo_to_string(const VireoKeyCombo *combo);
/* Whether pressing `key` with exactly `mods` held triggers the combination. */
gboolean vireo_key_combo_matches(const VireoKeyCombo *combo, VireoModifiers mods, unsigned key);

/* ---- Keys held in the guest ---- */

/* Which keys a presenter has pressed in the guest, so it can release them
 * all when it loses focus or keeps a hot key for itself, and leave no key
 * stuck down in the guest. */
typedef struct {
    uint64_t down[VIREO_KEY_COUNT / 64];
} VireoKeyState;

/* Records a press or release; FALSE when it changes nothing (a repeated
 * press, the release of a key that is not down, a code out of range). */
gboolean vireo_key_state_set(VireoKeyState *state, unsigned code, bool pressed);
gboolean vireo_key_state_is_down(const VireoKeyState *state, unsigned code);
/* The modifiers held, from the modifier keys that are down. */
VireoModifiers vireo_key_state_modifiers(const VireoKeyState *state);
/* Releases every key that is down, through `ops`. */
void vireo_key_state_release_all(VireoKeyState *state, const VireoInputOps *ops, void *opaque);

G_END_DECLS
