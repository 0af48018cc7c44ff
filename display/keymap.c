/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <linux/input-event-codes.h>
#include <string.h>

#include "display/input.h"
#include "engine/error.h"

G_STATIC_ASSERT(VIREO_KEY_COUNT == KEY_CNT);
G_STATIC_ASSERT(VIREO_BTN_LEFT == BTN_LEFT && VIREO_BTN_RIGHT == BTN_RIGHT &&
                VIREO_BTN_MIDDLE == BTN_MIDDLE && VIREO_BTN_SIDE == BTN_SIDE &&
                VIREO_BTN_EXTRA == BTN_EXTRA);

/* USB HID usage page 7 (keyboard) to evdev, usages 0x04 .. 0xe7. The
 * kernel's hid-input driver maps the same way, so a guest sees the codes a
 * USB keyboard on real hardware would give it. */
static const guint16 hid_keyboard[0xe8] = {
    [0x04] = KEY_A,
    [0x05] = KEY_B,
    [0x06] = KEY_C,
    [0x07] = KEY_D,
    [0x08] = KEY_E,
    [0x09] = KEY_F,
    [0x0a] = KEY_G,
    [0x0b] = KEY_H,
    [0x0c] = KEY_I,
    [0x0d] = KEY_J,
    [0x0e] = KEY_K,
    [0x0f] = KEY_L,
    [0x10] = KEY_M,
    [0x11] = KEY_N,
    [0x12] = KEY_O,
    [0x13] = KEY_P,
    [0x14] = KEY_Q,
    [0x15] = KEY_R,
    [0x16] = KEY_S,
    [0x17] = KEY_T,
    [0x18] = KEY_U,
    [0x19] = KEY_V,
    [0x1a] = KEY_W,
    [0x1b] = KEY_X,
    [0x1c] = KEY_Y,
    [0x1d] = KEY_Z,
    [0x1e] = KEY_1,
    [0x1f] = KEY_2,
    [0x20] = KEY_3,
    [0x21] = KEY_4,
    [0x22] = KEY_5,
    [0x23] = KEY_6,
    [0x24] = KEY_7,
    [0x25] = KEY_8,
    [0x26] = KEY_9,
    [0x27] = KEY_0,
    [0x28] = KEY_ENTER,
    [0x29] = KEY_ESC,
    [0x2a] = KEY_BACKSPACE,
    [0x2b] = KEY_TAB,
    [0x2c] = KEY_SPACE,
    [0x2d] = KEY_MINUS,
    [0x2e] = KEY_EQUAL,
    [0x2f] = KEY_LEFTBRACE,
    [0x30] = KEY_RIGHTBRACE,
    [0x31] = KEY_BACKSLASH,
    [0x32] = KEY_BACKSLASH, /* non-US # and ~, where ISO keyboards have it */
    [0x33] = KEY_SEMICOLON,
    [0x34] = KEY_APOSTROPHE,
    [0x35] = KEY_GRAVE,
    [0x36] = KEY_COMMA,
    [0x37] = KEY_DOT,
    [0x38] = KEY_SLASH,
    [0x39] = KEY_CAPSLOCK,
    [0x3a] = KEY_F1,
    [0x3b] = KEY_F2,
    [0x3c] = KEY_F3,
    [0x3d] = KEY_F4,
    [0x3e] = KEY_F5,
    [0x3f] = KEY_F6,
    [0x40] = KEY_F7,
    [0x41] = KEY_F8,
    [0x42] = KEY_F9,
    [0x43] = KEY_F10,
    [0x44] = KEY_F11,
    [0x45] = KEY_F12,
    [0x46] = KEY_SYSRQ, /* Print Screen */
    [0x47] = KEY_SCROLLLOCK,
    [0x48] = KEY_PAUSE,
    [0x49] = KEY_INSERT,
    [0x4a] = KEY_HOME,
    [0x4b] = KEY_PAGEUP,
    [0x4c] = KEY_DELETE,
    [0x4d] = KEY_END,
    [0x4e] = KEY_PAGEDOWN,
    [0x4f] = KEY_RIGHT,
    [0x50] = KEY_LEFT,
    [0x51] = KEY_DOWN,
    [0x52] = KEY_UP,
    [0x53] = KEY_NUMLOCK,
    [0x54] = KEY_KPSLASH,
    [0x55] = KEY_KPASTERISK,
    [0x56] = KEY_KPMINUS,
    [0x57] = KEY_KPPLUS,
    [0x58] = KEY_KPENTER,
    [0x59] = KEY_KP1,
    [0x5a] = KEY_KP2,
    [0x5b] = KEY_KP3,
    [0x5c] = KEY_KP4,
    [0x5d] = KEY_KP5,
    [0x5e] = KEY_KP6,
    [0x5f] = KEY_KP7,
    [0x60] = KEY_KP8,
    [0x61] = KEY_KP9,
    [0x62] = KEY_KP0,
    [0x63] = KEY_KPDOT,
    [0x64] = KEY_102ND,   /* the extra key left of Z on ISO keyboards */
    [0x65] = KEY_COMPOSE, /* Application (the menu key) */
    [0x66] = KEY_POWER,
    [0x67] = KEY_KPEQUAL,
    [0x68] = KEY_F13,
    [0x69] = KEY_F14,
    [0x6a] = KEY_F15,
    [0x6b] = KEY_F16,
    [0x6c] = KEY_F17,
    [0x6d] = KEY_F18,
    [0x6e] = KEY_F19,
    [0x6f] = KEY_F20,
    [0x70] = KEY_F21,
    [0x71] = KEY_F22,
    [0x72] = KEY_F23,
    [0x73] = KEY_F24,
    [0x74] = KEY_OPEN, /* Execute */
    [0x75] = KEY_HELP,
    [0x76] = KEY_PROPS, /* Menu */
    [0x77] = KEY_FRONT, /* Select */
    [0x78] = KEY_STOP,
    [0x79] = KEY_AGAIN,
    [0x7a] = KEY_UNDO,
    [0x7b] = KEY_CUT,
    [0x7c] = KEY_COPY,
    [0x7d] = KEY_PASTE,
    [0x7e] = KEY_FIND,
    [0x7f] = KEY_MUTE,
    [0x80] = KEY_VOLUMEUP,
    [0x81] = KEY_VOLUMEDOWN,
    [0x85] = KEY_KPCOMMA,
    [0x87] = KEY_RO,               /* International1 */
    [0x88] = KEY_KATAKANAHIRAGANA, /* International2 */
    [0x89] = KEY_YEN,              /* International3 */
    [0x8a] = KEY_HENKAN,           /* International4 */
    [0x8b] = KEY_MUHENKAN,         /* International5 */
    [0x8c] = KEY_KPJPCOMMA,        /* International6 */
    [0x90] = KEY_HANGEUL,          /* Lang1 */
    [0x91] = KEY_HANJA,            /* Lang2 */
    [0x92] = KEY_KATAKANA,         /* Lang3 */
    [0x93] = KEY_HIRAGANA,         /* Lang4 */
    [0x94] = KEY_ZENKAKUHANKAKU,   /* Lang5 */
    [0x9a] = KEY_SYSRQ,            /* SysReq */
    [0xe0] = KEY_LEFTCTRL,
    [0xe1] = KEY_LEFTSHIFT,
    [0xe2] = KEY_LEFTALT,
    [0xe3] = KEY_LEFTMETA,
    [0xe4] = KEY_RIGHTCTRL,
    [0xe5] = KEY_RIGHTSHIFT,
    [0xe6] = KEY_RIGHTALT,
    [0xe7] = KEY_RIGHTMETA,
};

/* SDL's own numbers past the keyboard page: consumer-page keys it reports
 * from 257 on (SDL_SCANCODE_MODE onwards). */
static const guint16 sdl_extra[] = {
    [257 - 257] = KEY_RIGHTALT, /* Mode switch (AltGr on some layouts) */
    [258 - 257] = KEY_NEXTSONG,
    [259 - 257] = KEY_PREVIOUSSONG,
    [260 - 257] = KEY_STOPCD,
    [261 - 257] = KEY_PLAYPAUSE,
    [262 - 257] = KEY_MUTE,
    [263 - 257] = KEY_MEDIA,
    [264 - 257] = KEY_WWW,
    [265 - 257] = KEY_MAIL,
    [266 - 257] = KEY_CALC,
    [267 - 257] = KEY_COMPUTER,
    [268 - 257] = KEY_SEARCH,
    [269 - 257] = KEY_HOMEPAGE,
    [270 - 257] = KEY_BACK,
    [271 - 257] = KEY_FORWARD,
    [272 - 257] = KEY_STOP,
    [273 - 257] = KEY_REFRESH,
    [274 - 257] = KEY_BOOKMARKS,
    [275 - 257] = KEY_BRIGHTNESSDOWN,
    [276 - 257] = KEY_BRIGHTNESSUP,
    [277 - 257] = KEY_SWITCHVIDEOMODE,
    [278 - 257] = KEY_KBDILLUMTOGGLE,
    [279 - 257] = KEY_KBDILLUMDOWN,
    [280 - 257] = KEY_KBDILLUMUP,
    [281 - 257] = KEY_EJECTCD,
    [282 - 257] = KEY_SLEEP,
};

unsigned vireo_keymap_from_usb_hid(unsigned usage)
{
    if (usage < G_N_ELEMENTS(hid_keyboard)) {
        return hid_keyboard[usage];
    }
    if (usage >= 257 && usage - 257 < G_N_ELEMENTS(sdl_extra)) {
        return sdl_extra[usage - 257];
    }
    return 0;
}

unsigned vireo_keymap_from_xkb(unsigned keycode)
{
    /* xkb's keycodes on Linux (the evdev rules X servers and Wayland
     * compositors use) are the kernel's codes offset by 8. */
    if (keycode < 8 || keycode - 8 >= KEY_CNT || keycode - 8 == KEY_RESERVED) {
        return 0;
    }
    return keycode - 8;
}

/* ---- Hot keys ------------------------------------------------------------ */

typedef struct {
    const char *name;
    unsigned code;
} KeyName;

static const KeyName key_names[] = {
    { "Space", KEY_SPACE },
    { "Escape", KEY_ESC },
    { "Esc", KEY_ESC },
    { "Tab", KEY_TAB },
    { "Return", KEY_ENTER },
    { "Enter", KEY_ENTER },
    { "Backspace", KEY_BACKSPACE },
    { "Home", KEY_HOME },
    { "End", KEY_END },
    { "Insert", KEY_INSERT },
    { "Delete", KEY_DELETE },
    { "Pause", KEY_PAUSE },
};

static const unsigned letters[26] = {
    KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I, KEY_J, KEY_K, KEY_L, KEY_M,
    KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R, KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z,
};
static const unsigned digits[10] = {
    KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9,
};
static const unsigned fkeys[12] = {
    KEY_F1, KEY_F2, KEY_F3, KEY_F4,  KEY_F5,  KEY_F6,
    KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12,
};

static unsigned key_from_name(const char *name)
{
    if (name[0] != '\0' && name[1] == '\0') {
        char c = g_ascii_toupper(name[0]);
        if (c >= 'A' && c <= 'Z') {
            return letters[c - 'A'];
        }
        if (c >= '0' && c <= '9') {
            return digits[c - '0'];
        }
    }
    if (g_ascii_toupper(name[0]) == 'F' && g_ascii_isdigit(name[1])) {
        char *end;
        guint64 n = g_ascii_strtoull(name + 1, &end, 10);
        if (*end == '\0' && n >= 1 && n <= 12) {
            return fkeys[n - 1];
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(key_names); i++) {
        if (g_ascii_strcasecmp(name, key_names[i].name) == 0) {
            return key_names[i].code;
        }
    }
    return 0;
}

static char *name_of_key(unsigned code)
{
    for (int i = 0; i < 26; i++) {
        if (letters[i] == code) {
            return g_strdup_printf("%c", 'A' + i);
        }
    }
    for (int i = 0; i < 10; i++) {
        if (digits[i] == code) {
            return g_strdup_printf("%c", '0' + i);
        }
    }
    for (int i = 0; i < 12; i++) {
        if (fkeys[i] == code) {
            return g_strdup_printf("F%d", i + 1);
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(key_names); i++) {
        if (key_names[i].code == code) {
            return g_strdup(key_names[i].name);
        }
    }
    return g_strdup_printf("key %u", code);
}

gboolean vireo_key_combo_parse(const char *text, VireoKeyCombo *combo, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, "+", -1);
    VireoKeyCombo c = { 0, 0 };
    guint n = g_strv_length(parts);

    for (guint i = 0; i < n; i++) {
        g_strstrip(parts[i]);
        if (i + 1 < n) {
            const char *m = parts[i];
            if (g_ascii_strcasecmp(m, "Ctrl") == 0 || g_ascii_strcasecmp(m, "Control") == 0) {
                c.mods |= VIREO_MOD_CTRL;
            } else if (g_ascii_strcasecmp(m, "Alt") == 0) {
                c.mods |= VIREO_MOD_ALT;
            } else if (g_ascii_strcasecmp(m, "Shift") == 0) {
                c.mods |= VIREO_MOD_SHIFT;
            } else if (g_ascii_strcasecmp(m, "Super") == 0 || g_ascii_strcasecmp(m, "Meta") == 0 ||
                       g_ascii_strcasecmp(m, "Win") == 0) {
                c.mods |= VIREO_MOD_SUPER;
            } else {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                            "“%s”: “%s” is not a modifier (Ctrl, Alt, Shift or Super)", text, m);
                return FALSE;
            }
        } else {
            c.key = key_from_name(parts[i]);
            if (c.key == 0) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                            "“%s”: “%s” is not a key name (A-Z, 0-9, F1-F12, Space, ...)", text,
                            parts[i]);
                return FALSE;
            }
        }
    }
    if (c.mods == 0 || c.key == 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "“%s”: a key combination needs a modifier and a key, such as Ctrl+Alt+G", text);
        return FALSE;
    }
    *combo = c;
    return TRUE;
}

char *vireo_key_combo_to_string(const VireoKeyCombo *combo)
{
    GString *s = g_string_new(NULL);
    g_autofree char *key = name_of_key(combo->key);

    if (combo->mods & VIREO_MOD_CTRL) {
        g_string_append(s, "Ctrl+");
    }
    if (combo->mods & VIREO_MOD_ALT) {
        g_string_append(s, "Alt+");
    }
    if (combo->mods & VIREO_MOD_SHIFT) {
        g_string_append(s, "Shift+");
    }
    if (combo->mods & VIREO_MOD_SUPER) {
        g_string_append(s, "Super+");
    }
    g_string_append(s, key);
    return g_string_free(s, FALSE);
}

gboolean vireo_key_combo_matches(const VireoKeyCombo *combo, VireoModifiers mods, unsigned key)
{
    return combo->key == key && combo->mods == mods;
}

/* ---- Keys held in the guest ------------------------------------------------ */

gboolean vireo_key_state_set(VireoKeyState *state, unsigned code, bool pressed)
{
    uint64_t bit;
    uint64_t *word;

    if (code == 0 || code >= VIREO_KEY_COUNT) {
        return FALSE;
    }
    word = &state->down[code / 64];
    bit = UINT64_C(1) << (code % 64);
    if (((*word & bit) != 0) == pressed) {
        return FALSE;
    }
    *word ^= bit;
    return TRUE;
}

gboolean vireo_key_state_is_down(const VireoKeyState *state, unsigned code)
{
    return code < VIREO_KEY_COUNT && (state->down[code / 64] >> (code % 64)) & 1;
}

VireoModifiers vireo_key_state_modifiers(const VireoKeyState *state)
{
    VireoModifiers mods = 0;

    if (vireo_key_state_is_down(state, KEY_LEFTCTRL) ||
        vireo_key_state_is_down(state, KEY_RIGHTCTRL)) {
        mods |= VIREO_MOD_CTRL;
    }
    if (vireo_key_state_is_down(state, KEY_LEFTALT) ||
        vireo_key_state_is_down(state, KEY_RIGHTALT)) {
        mods |= VIREO_MOD_ALT;
    }
    if (vireo_key_state_is_down(state, KEY_LEFTSHIFT) ||
        vireo_key_state_is_down(state, KEY_RIGHTSHIFT)) {
        mods |= VIREO_MOD_SHIFT;
    }
    if (vireo_key_state_is_down(state, KEY_LEFTMETA) ||
        vireo_key_state_is_down(state, KEY_RIGHTMETA)) {
        mods |= VIREO_MOD_SUPER;
    }
    return mods;
}

void vireo_key_state_release_all(VireoKeyState *state, const VireoInputOps *ops, void *opaque)
{
    for (unsigned code = 1; code < VIREO_KEY_COUNT; code++) {
        if (vireo_key_state_is_down(state, code)) {
            vireo_key_state_set(state, code, false);
            if (ops != NULL && ops->key != NULL) {
                ops->key(opaque, code, false);
            }
        }
    }
}
