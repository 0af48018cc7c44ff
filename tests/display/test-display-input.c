/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The display's CPU-side pieces: key code tables, hot keys, held keys, the
 * bitmap font, the pictures and the test pattern. */
#include <linux/input-event-codes.h>
#include <string.h>

#include "display/font.h"
#include "display/input.h"
#include "display/pixel.h"
#include "display/placeholder.h"
#include "display/test-pattern.h"
#include "engine/error.h"

static void test_usb_hid(void)
{
    /* SDL scancodes are HID usages. */
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x04), ==, KEY_A);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x1d), ==, KEY_Z);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x1e), ==, KEY_1);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x27), ==, KEY_0);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x28), ==, KEY_ENTER);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x29), ==, KEY_ESC);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x2c), ==, KEY_SPACE);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x3a), ==, KEY_F1);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x45), ==, KEY_F12);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x4f), ==, KEY_RIGHT);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x52), ==, KEY_UP);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x58), ==, KEY_KPENTER);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x62), ==, KEY_KP0);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x64), ==, KEY_102ND);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0x87), ==, KEY_RO);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0xe0), ==, KEY_LEFTCTRL);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0xe6), ==, KEY_RIGHTALT);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0xe7), ==, KEY_RIGHTMETA);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(262), ==, KEY_MUTE);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0), ==, 0);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(0xe8), ==, 0);
    g_assert_cmpuint(vireo_keymap_from_usb_hid(100000), ==, 0);

    /* Every letter and digit maps, to distinct codes. */
    for (unsigned u = 0x04; u <= 0x27; u++) {
        g_assert_cmpuint(vireo_keymap_from_usb_hid(u), !=, 0);
        for (unsigned v = 0x04; v < u; v++) {
            g_assert_cmpuint(vireo_keymap_from_usb_hid(u), !=, vireo_keymap_from_usb_hid(v));
        }
    }
}

static void test_xkb(void)
{
    /* X11 keycode 38 is the A key, 9 Escape, 37 left Control. */
    g_assert_cmpuint(vireo_keymap_from_xkb(38), ==, KEY_A);
    g_assert_cmpuint(vireo_keymap_from_xkb(9), ==, KEY_ESC);
    g_assert_cmpuint(vireo_keymap_from_xkb(37), ==, KEY_LEFTCTRL);
    g_assert_cmpuint(vireo_keymap_from_xkb(0), ==, 0);
    g_assert_cmpuint(vireo_keymap_from_xkb(8), ==, 0);
    g_assert_cmpuint(vireo_keymap_from_xkb(8 + KEY_CNT), ==, 0);
}

static void test_combo(void)
{
    g_autoptr(GError) error = NULL;
    VireoKeyCombo c;
    g_autofree char *text = NULL;

    g_assert_true(vireo_key_combo_parse(VIREO_RELEASE_COMBO_DEFAULT, &c, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(c.mods, ==, VIREO_MOD_CTRL | VIREO_MOD_ALT);
    g_assert_cmpuint(c.key, ==, KEY_G);
    text = vireo_key_combo_to_string(&c);
    g_assert_cmpstr(text, ==, "Ctrl+Alt+G");
    g_assert_true(vireo_key_combo_matches(&c, VIREO_MOD_CTRL | VIREO_MOD_ALT, KEY_G));
    g_assert_false(vireo_key_combo_matches(&c, VIREO_MOD_CTRL, KEY_G));
    g_assert_false(
        vireo_key_combo_matches(&c, VIREO_MOD_CTRL | VIREO_MOD_ALT | VIREO_MOD_SHIFT, KEY_G));
    g_assert_false(vireo_key_combo_matches(&c, VIREO_MOD_CTRL | VIREO_MOD_ALT, KEY_H));

    g_assert_true(vireo_key_combo_parse(" shift + super + f12 ", &c, &error));
    g_assert_cmpuint(c.mods, ==, VIREO_MOD_SHIFT | VIREO_MOD_SUPER);
    g_assert_cmpuint(c.key, ==, KEY_F12);
    g_free(text);
    text = vireo_key_combo_to_string(&c);
    g_assert_cmpstr(text, ==, "Shift+Super+F12");

    g_assert_true(vireo_key_combo_parse("Control+Space", &c, &error));
    g_assert_cmpuint(c.key, ==, KEY_SPACE);

    g_assert_false(vireo_key_combo_parse("G", &c, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_false(vireo_key_combo_parse("Ctrl+Hyper+G", &c, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_false(vireo_key_combo_parse("Ctrl+Alt+NoSuchKey", &c, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_false(vireo_key_combo_parse("Ctrl+", &c, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
}

typedef struct {
    GArray *events; /* code, pressed pairs */
} Recorder;

static void record_key(void *opaque, unsigned code, bool pressed)
{
    Recorder *r = opaque;
    unsigned e[2] = { code, pressed };

    g_array_append_vals(r->events, e, 2);
}

static void test_key_state(void)
{
    VireoKeyState s;
    Recorder rec = { g_array_new(FALSE, FALSE, sizeof(unsigned)) };
    const VireoInputOps ops = { .key = record_key };

    memset(&s, 0, sizeof s);
    g_assert_true(vireo_key_state_set(&s, KEY_LEFTCTRL, true));
    g_assert_false(vireo_key_state_set(&s, KEY_LEFTCTRL, true)); /* a repeat */
    g_assert_true(vireo_key_state_set(&s, KEY_RIGHTALT, true));
    g_assert_true(vireo_key_state_set(&s, KEY_A, true));
    g_assert_false(vireo_key_state_set(&s, KEY_B, false));
    g_assert_false(vireo_key_state_set(&s, 0, true));
    g_assert_false(vireo_key_state_set(&s, VIREO_KEY_COUNT, true));
    g_assert_cmpuint(vireo_key_state_modifiers(&s), ==, VIREO_MOD_CTRL | VIREO_MOD_ALT);

    vireo_key_state_release_all(&s, &ops, &rec);
    g_assert_cmpuint(rec.events->len, ==, 6);
    for (guint i = 0; i < rec.events->len; i += 2) {
        g_assert_cmpuint(g_array_index(rec.events, unsigned, i + 1), ==, 0);
    }
    g_assert_cmpuint(vireo_key_state_modifiers(&s), ==, 0);
    g_assert_false(vireo_key_state_is_down(&s, KEY_A));
    g_array_unref(rec.events);
}

static void test_pixel_pack(void)
{
    guint8 p[4], r, g, b, a;

    vireo_pixel_pack(VIREO_PIXEL_B8G8R8X8, 1, 2, 3, 4, p);
    g_assert_cmpmem(p, 4, ((guint8[]){ 3, 2, 1, 0xff }), 4);
    vireo_pixel_pack(VIREO_PIXEL_A8B8G8R8, 1, 2, 3, 4, p);
    g_assert_cmpmem(p, 4, ((guint8[]){ 4, 3, 2, 1 }), 4);
    vireo_pixel_pack(VIREO_PIXEL_X8R8G8B8, 1, 2, 3, 4, p);
    g_assert_cmpmem(p, 4, ((guint8[]){ 0xff, 1, 2, 3 }), 4);
    for (int f = VIREO_PIXEL_B8G8R8X8; f <= VIREO_PIXEL_A8B8G8R8; f++) {
        vireo_pixel_pack(f, 10, 20, 30, 40, p);
        vireo_pixel_unpack(f, p, &r, &g, &b, &a);
        g_assert_cmpuint(r, ==, 10);
        g_assert_cmpuint(g, ==, 20);
        g_assert_cmpuint(b, ==, 30);
        g_assert_cmpuint(a, ==, vireo_pixel_format_has_alpha(f) ? 40 : 0xff);
        g_assert_nonnull(vireo_pixel_format_name(f));
    }
}

static void test_font(void)
{
    guint8 img[40 * 20 * 4];
    guint8 on[4] = { 1, 2, 3, 4 };
    int lit = 0;

    g_assert_true(vireo_font_can_draw("No display device"));
    g_assert_true(vireo_font_can_draw("~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./ 0123456789"));
    g_assert_false(vireo_font_can_draw("无显示设备"));
    g_assert_false(vireo_font_can_draw("tab\there"));
    g_assert_cmpint(vireo_font_text_width("", 3), ==, 0);
    g_assert_cmpint(vireo_font_text_width("ab", 1), ==, 2 * VIREO_FONT_CELL_W - 1);
    g_assert_cmpint(vireo_font_text_width("ab", 2), ==, 2 * (2 * VIREO_FONT_CELL_W - 1));
    g_assert_cmpint(vireo_font_text_width("设备", 1), ==, 2 * VIREO_FONT_CELL_W - 1);

    /* "I" at scale 1: a top bar of 3, a stem of 5, a bottom bar of 3. */
    memset(img, 0, sizeof img);
    vireo_font_draw(img, 40 * 4, 40, 20, 0, 0, 1, "I", on);
    for (int i = 0; i < 40 * 20; i++) {
        lit += memcmp(img + i * 4, on, 4) == 0;
    }
    g_assert_cmpint(lit, ==, 3 + 5 + 3);
    g_assert_cmpmem(img + (0 * 40 + 1) * 4, 4, on, 4);
    g_assert_cmpmem(img + (3 * 40 + 2) * 4, 4, on, 4);

    /* Clipped at the image's edges without writing outside. */
    vireo_font_draw(img, 40 * 4, 40, 20, 36, 15, 2, "WW", on);
    vireo_font_draw(img, 40 * 4, 40, 20, -5, -5, 3, "M", on);
}

static void test_placeholder(void)
{
    const int w = 320, h = 200;
    g_autofree guint8 *img = g_malloc((size_t)w * h * 4);
    int title = 0, detail = 0;
    VireoScanout *s = vireo_scanout_new();
    VireoNoDisplay *nd;
    VireoScanoutFrame f;
    int id;

    vireo_placeholder_draw(img, (size_t)w * 4, w, h, "No display device", "Nothing here");
    for (int i = 0; i < w * h; i++) {
        const guint8 *p = img + i * 4; /* B G R X */
        title += p[2] == 0xf2 && p[1] == 0xf3 && p[0] == 0xf5;
        detail += p[2] == 0xb4 && p[1] == 0xb9 && p[0] == 0xc2;
    }
    g_assert_cmpint(title, >, 200);
    g_assert_cmpint(detail, >, 50);

    /* The stand-in producer redraws at the requested size. */
    id = vireo_scanout_attach(s, NULL, NULL);
    nd = vireo_no_display_new(s, 640, 480);
    g_assert_true(vireo_font_can_draw(vireo_no_display_get_title(nd)));
    g_assert_true(vireo_scanout_acquire(s, id, &f));
    g_assert_cmpint(f.width, ==, 640);
    g_assert_cmpint(f.height, ==, 480);
    vireo_scanout_release(s, id);
    vireo_scanout_request_size(s, 1000, 700);
    g_assert_true(vireo_scanout_acquire(s, id, &f));
    g_assert_true(f.resized);
    g_assert_cmpint(f.width, ==, 1000);
    g_assert_cmpint(f.height, ==, 700);
    vireo_scanout_release(s, id);
    vireo_no_display_free(nd);
    vireo_scanout_detach(s, id);
    vireo_scanout_free(s);
}

/* The pattern's pixels, as published through a scanout, are what
 * vireo_test_pattern_expected() says, frame after frame, and each frame's
 * damage covers the box's old and new places and the counter. */
static void test_pattern(void)
{
    const int w = 256, h = 144;
    VireoScanout *s = vireo_scanout_new();
    VireoTestPattern *tp = vireo_test_pattern_new(s, VIREO_PIXEL_X8B8G8R8);
    VireoScanoutFrame f;
    int id = vireo_scanout_attach(s, NULL, NULL);

    vireo_test_pattern_resize(tp, w, h);
    for (guint frame = 0; frame < 40; frame += 13) {
        if (frame > 0) {
            VireoScanoutRect box = vireo_test_pattern_box(w, h, frame);
            vireo_test_pattern_draw_frame(tp, frame);
            g_assert_true(vireo_scanout_acquire(s, id, &f));
            g_assert_false(f.resized);
            g_assert_cmpint(f.damage.x, <=, box.x);
            g_assert_cmpint(f.damage.x + f.damage.width, >=, box.x + box.width);
            g_assert_cmpint(f.damage.y, ==, 0); /* the counter */
        } else {
            g_assert_true(vireo_scanout_acquire(s, id, &f));
            g_assert_true(f.resized);
        }
        g_assert_cmpint(f.format, ==, VIREO_PIXEL_X8B8G8R8);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                guint8 rgb[3], r, g, b, a;
                if (!vireo_test_pattern_expected(w, h, frame, x, y, rgb)) {
                    continue;
                }
                vireo_pixel_unpack(f.format, f.pixels + (size_t)y * f.stride + (size_t)x * 4, &r,
                                   &g, &b, &a);
                if (r != rgb[0] || g != rgb[1] || b != rgb[2]) {
                    g_error("frame %u (%d, %d): (%d, %d, %d), expected (%d, %d, %d)", frame, x, y,
                            r, g, b, rgb[0], rgb[1], rgb[2]);
                }
            }
        }
        vireo_scanout_release(s, id);
    }
    /* The box moves. */
    g_assert_cmpint(vireo_test_pattern_box(w, h, 0).x, !=, vireo_test_pattern_box(w, h, 5).x);
    vireo_test_pattern_free(tp);
    vireo_scanout_detach(s, id);
    vireo_scanout_free(s);
}

typedef struct {
    GMutex lock;
    GCond cond;
    int notified;
} Waiter;

static void on_notify(void *opaque)
{
    Waiter *w = opaque;

    g_mutex_lock(&w->lock);
    w->notified++;
    g_cond_signal(&w->cond);
    g_mutex_unlock(&w->lock);
}

/* On its thread, the pattern animates and follows size requests. */
static void test_pattern_thread(void)
{
    VireoScanout *s = vireo_scanout_new();
    VireoTestPattern *tp = vireo_test_pattern_new(s, VIREO_PIXEL_B8G8R8X8);
    Waiter w = { 0 };
    VireoScanoutFrame f;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    int id;

    g_mutex_init(&w.lock);
    g_cond_init(&w.cond);
    id = vireo_scanout_attach(s, on_notify, &w);
    vireo_test_pattern_resize(tp, 64, 48);
    vireo_test_pattern_start(tp, 200, TRUE);
    vireo_scanout_request_size(s, 100, 50);
    for (;;) {
        gboolean done = FALSE;
        if (vireo_scanout_acquire(s, id, &f)) {
            done = f.width == 100 && f.height == 50 && vireo_test_pattern_get_frame(tp) > 5;
            vireo_scanout_release(s, id);
        }
        if (done) {
            break;
        }
        g_mutex_lock(&w.lock);
        g_cond_wait_until(&w.cond, &w.lock, g_get_monotonic_time() + 50000);
        g_mutex_unlock(&w.lock);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    vireo_test_pattern_free(tp);
    vireo_scanout_detach(s, id);
    vireo_scanout_free(s);
    g_mutex_clear(&w.lock);
    g_cond_clear(&w.cond);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/display/keymap/usb-hid", test_usb_hid);
    g_test_add_func("/display/keymap/xkb", test_xkb);
    g_test_add_func("/display/key-combo", test_combo);
    g_test_add_func("/display/key-state", test_key_state);
    g_test_add_func("/display/pixel-pack", test_pixel_pack);
    g_test_add_func("/display/font", test_font);
    g_test_add_func("/display/placeholder", test_placeholder);
    g_test_add_func("/display/test-pattern/frames", test_pattern);
    g_test_add_func("/display/test-pattern/thread", test_pattern_thread);
    return g_test_run();
}
