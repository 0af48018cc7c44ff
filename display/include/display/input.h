/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/input.h"

G_BEGIN_DECLS

/*
 * The input interface itself (VireoInputOps, the button and wheel units)
 * lives in engine/input.h, where the input devices reach it too; this
 * header adds what presenters need on their side: key code translation,
 * hot keys and the keys held in the guest.
 */

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
