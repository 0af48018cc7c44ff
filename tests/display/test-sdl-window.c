/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SDL presenter under a display (a private Xvfb from with-display.sh):
 * it opens its window on a scanout fed by the test pattern, and reads its
 * own frames back through the frame hook, on the window's thread.
 */
#include <SDL.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "display-test-util.h"
#include "display/placeholder.h"
#include "display/sdl-window.h"

#define TIMEOUT_US (30 * G_USEC_PER_SEC)

typedef struct {
    VireoSdlWindow *window;
    gint64 started;
    int step;
    gint64 step_time;
    Readback shots[2];
    guint pattern_frames[2];
    VireoTestPattern *pattern;
    gboolean timed_out;
    /* size requests the pattern received */
    int requests, req_w, req_h;
    /* input seen */
    GArray *keys;
    int motions, mx, my, mw, mh;
    int buttons_down, buttons_up;
    unsigned last_button;
    int wheel_dy;
} Fixture;

/* Stops the window after TIMEOUT_US even when it draws nothing more. */
typedef struct {
    GMutex lock;
    GCond cond;
    gboolean done;
    VireoSdlWindow *window;
    GThread *thread;
} Watchdog;

static gpointer watchdog_thread(gpointer data)
{
    Watchdog *w = data;
    gint64 deadline = g_get_monotonic_time() + TIMEOUT_US;

    g_mutex_lock(&w->lock);
    while (!w->done && g_cond_wait_until(&w->cond, &w->lock, deadline)) {}
    if (!w->done) {
        g_printerr("# the window made no progress: stopping it\n");
        vireo_sdl_window_stop(w->window);
    }
    g_mutex_unlock(&w->lock);
    return NULL;
}

/* Runs the window's loop under a watchdog. */
static void run_window(Fixture *fx)
{
    Watchdog w = { .window = fx->window };

    g_mutex_init(&w.lock);
    g_cond_init(&w.cond);
    w.thread = g_thread_new("watchdog", watchdog_thread, &w);
    fx->started = g_get_monotonic_time();
    vireo_sdl_window_run(fx->window);
    g_mutex_lock(&w.lock);
    w.done = TRUE;
    g_cond_signal(&w.cond);
    g_mutex_unlock(&w.lock);
    g_thread_join(w.thread);
    g_mutex_clear(&w.lock);
    g_cond_clear(&w.cond);
    if (g_get_monotonic_time() - fx->started >= TIMEOUT_US) {
        fx->timed_out = TRUE;
    }
}

static gboolean timed_out(Fixture *fx)
{
    if (g_get_monotonic_time() - fx->started > TIMEOUT_US) {
        fx->timed_out = TRUE;
        vireo_sdl_window_stop(fx->window);
        return TRUE;
    }
    return FALSE;
}

static void take_shot(Fixture *fx, int i)
{
    fx->shots[i].pixels =
        vireo_sdl_window_read_pixels(fx->window, &fx->shots[i].width, &fx->shots[i].height);
    fx->pattern_frames[i] = vireo_test_pattern_get_frame(fx->pattern);
}

/* ---- The pattern, animated ---------------------------------------------------- */

static void pattern_frame(VireoSdlWindow *window, void *opaque)
{
    Fixture *fx = opaque;
    gint64 now = g_get_monotonic_time();

    if (timed_out(fx)) {
        return;
    }
    switch (fx->step) {
    case 0:
        /* A few frames in, with the pattern running. */
        if (vireo_sdl_window_get_frame_count(window) >= 3 &&
            vireo_test_pattern_get_frame(fx->pattern) >= 3) {
            take_shot(fx, 0);
            fx->step_time = now;
            fx->step++;
        }
        break;
    case 1:
        /* Later, and some pattern frames later even on a busy machine. */
        if (now - fx->step_time > 300 * 1000 &&
            vireo_test_pattern_get_frame(fx->pattern) >= fx->pattern_frames[0] + 5) {
            take_shot(fx, 1);
            vireo_sdl_window_stop(window);
            fx->step++;
        }
        break;
    default: break;
    }
}

static void test_pattern(void)
{
    Fixture fx = { 0 };
    VireoScanout *s = vireo_scanout_new();
    VireoSdlWindowConfig config;
    g_autoptr(GError) error = NULL;
    int box0, box1, row, fw, fh;

    fx.pattern = vireo_test_pattern_new(s, VIREO_PIXEL_B8G8R8X8);
    vireo_test_pattern_resize(fx.pattern, 320, 240);
    vireo_sdl_window_config_init(&config);
    config.name = "pattern";
    config.width = 640;
    config.height = 480;
    fx.window = vireo_sdl_window_new(s, &config, &error);
    g_assert_no_error(error);
    vireo_sdl_window_set_frame_func(fx.window, pattern_frame, &fx);
    vireo_test_pattern_start(fx.pattern, 60, FALSE);
    run_window(&fx);
    vireo_test_pattern_stop(fx.pattern);

    g_assert_false(fx.timed_out);
    g_test_message("%" G_GUINT64_FORMAT " frames drawn; pattern frames %u and %u",
                   vireo_sdl_window_get_frame_count(fx.window), fx.pattern_frames[0],
                   fx.pattern_frames[1]);
    vireo_sdl_window_get_drawable_size(fx.window, &fw, &fh);
    g_assert_cmpint(fx.shots[0].width, ==, fw);
    g_assert_cmpint(fx.shots[0].height, ==, fh);
    g_assert_cmpint(fw, ==, 640);
    g_assert_cmpint(fh, ==, 480);
    readback_save(&fx.shots[0], "sdl-pattern-0");
    readback_save(&fx.shots[1], "sdl-pattern-1");

    /* 320 x 240 in 640 x 480: exactly twice, nearest, exact colours. */
    g_assert_cmpint(readback_check_pattern(&fx.shots[0], 320, 240, 0, 0, 2), ==, 0);
    g_assert_cmpint(readback_check_pattern(&fx.shots[1], 320, 240, 0, 0, 2), ==, 0);
    /* It moves: the box is elsewhere, and the frames differ. */
    row = (vireo_test_pattern_box(320, 240, 0).y + vireo_test_pattern_box(320, 240, 0).height / 2) *
          2;
    box0 = readback_find_box(&fx.shots[0], row);
    box1 = readback_find_box(&fx.shots[1], row);
    g_test_message("box at x = %d, then %d", box0, box1);
    g_assert_cmpint(box0, >=, 0);
    g_assert_cmpint(box1, >=, 0);
    g_assert_cmpint(box0, !=, box1);
    g_assert_true(readback_differs(&fx.shots[0], &fx.shots[1]));
    g_assert_nonnull(strstr(vireo_sdl_window_get_title(fx.window), "Ctrl+Alt+G"));

    vireo_sdl_window_free(fx.window);
    vireo_test_pattern_free(fx.pattern);
    vireo_scanout_free(s);
    g_free(fx.shots[0].pixels);
    g_free(fx.shots[1].pixels);
}

/* ---- Resizing --------------------------------------------------------------------- */

static void resize_frame(VireoSdlWindow *window, void *opaque)
{
    Fixture *fx = opaque;
    int fw, fh;

    if (timed_out(fx)) {
        return;
    }
    fx->requests = (int)vireo_test_pattern_get_size_requests(fx->pattern, &fx->req_w, &fx->req_h);
    vireo_sdl_window_get_drawable_size(window, &fw, &fh);
    switch (fx->step) {
    case 0:
        /* The window asked for its first size: resize it. */
        if (fx->requests >= 1 && fx->req_w == 400 && fx->req_h == 300) {
            vireo_sdl_window_set_size(window, 800, 500);
            fx->step++;
        }
        break;
    case 1:
        /* It asks for the new size; the pattern follows, and the frame
         * shows the new mode 1:1. */
        if (fx->req_w == 800 && fx->req_h == 500 && fw == 800 && fh == 500) {
            take_shot(fx, 0);
            if (readback_check_pattern(&fx->shots[0], 800, 500, 0, 0, 1) == 0) {
                vireo_sdl_window_stop(window);
                fx->step++;
            } else {
                g_clear_pointer(&fx->shots[0].pixels, g_free);
            }
        }
        break;
    default: break;
    }
}

static void test_resize(void)
{
    Fixture fx = { 0 };
    VireoScanout *s = vireo_scanout_new();
    VireoSdlWindowConfig config;
    g_autoptr(GError) error = NULL;

    fx.pattern = vireo_test_pattern_new(s, VIREO_PIXEL_R8G8B8X8);
    vireo_test_pattern_resize(fx.pattern, 320, 240);
    vireo_sdl_window_config_init(&config);
    config.width = 400;
    config.height = 300;
    config.scale_mode = VIREO_SCALE_NATIVE;
    fx.window = vireo_sdl_window_new(s, &config, &error);
    g_assert_no_error(error);
    vireo_sdl_window_set_frame_func(fx.window, resize_frame, &fx);
    /* The pattern runs as a device would and follows size requests. */
    vireo_test_pattern_start(fx.pattern, 60, TRUE);
    run_window(&fx);
    vireo_test_pattern_stop(fx.pattern);

    g_assert_false(fx.timed_out);
    g_assert_cmpint(fx.step, ==, 2);
    g_assert_cmpint(fx.req_w, ==, 800);
    g_assert_cmpint(fx.req_h, ==, 500);
    /* The first size, then the new one (debounced: one request, or a few
     * if the window system resizes in steps). */
    g_assert_cmpint(fx.requests, >=, 2);
    g_test_message("%d size requests", fx.requests);
    readback_save(&fx.shots[0], "sdl-resized");

    vireo_sdl_window_free(fx.window);
    vireo_test_pattern_free(fx.pattern);
    vireo_scanout_free(s);
    g_free(fx.shots[0].pixels);
}

/* ---- Input ------------------------------------------------------------------------- */

static void on_key(void *opaque, unsigned code, bool pressed)
{
    Fixture *fx = opaque;
    unsigned e[2] = { code, pressed };

    g_array_append_vals(fx->keys, e, 2);
}

static void on_motion(void *opaque, int x, int y, int w, int h)
{
    Fixture *fx = opaque;

    fx->motions++;
    fx->mx = x;
    fx->my = y;
    fx->mw = w;
    fx->mh = h;
}

static void on_button(void *opaque, unsigned button, bool pressed)
{
    Fixture *fx = opaque;

    fx->last_button = button;
    if (pressed) {
        fx->buttons_down++;
    } else {
        fx->buttons_up++;
    }
}

static void on_wheel(void *opaque, int dx, int dy)
{
    Fixture *fx = opaque;

    fx->wheel_dy += dy;
}

static void push_key(SDL_Scancode sc, gboolean down)
{
    SDL_Event ev;

    memset(&ev, 0, sizeof ev);
    ev.type = down ? SDL_KEYDOWN : SDL_KEYUP;
    ev.key.state = down ? SDL_PRESSED : SDL_RELEASED;
    ev.key.keysym.scancode = sc;
    SDL_PushEvent(&ev);
}

static void input_frame(VireoSdlWindow *window, void *opaque)
{
    Fixture *fx = opaque;
    SDL_Event ev;

    if (timed_out(fx)) {
        return;
    }
    /* Each step's events are handled before the next frame. */
    switch (fx->step++) {
    case 0:
        push_key(SDL_SCANCODE_A, TRUE);
        push_key(SDL_SCANCODE_A, TRUE); /* a repeat */
        push_key(SDL_SCANCODE_A, FALSE);
        /* The middle of the 640 x 480 window is guest pixel (160, 120). */
        memset(&ev, 0, sizeof ev);
        ev.type = SDL_MOUSEMOTION;
        ev.motion.x = 320;
        ev.motion.y = 240;
        SDL_PushEvent(&ev);
        memset(&ev, 0, sizeof ev);
        ev.type = SDL_MOUSEBUTTONDOWN;
        ev.button.button = SDL_BUTTON_RIGHT;
        ev.button.state = SDL_PRESSED;
        ev.button.x = 320;
        ev.button.y = 240;
        SDL_PushEvent(&ev);
        ev.type = SDL_MOUSEBUTTONUP;
        ev.button.state = SDL_RELEASED;
        SDL_PushEvent(&ev);
        memset(&ev, 0, sizeof ev);
        ev.type = SDL_MOUSEWHEEL;
        ev.wheel.y = 1;
        ev.wheel.preciseY = 1.0f;
        ev.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
        SDL_PushEvent(&ev);
        break;
    case 1:
        /* The click captured the keyboard. Ctrl+Alt+G releases it: the
         * modifiers reach the guest, G does not. */
        g_assert_true(vireo_sdl_window_get_grabbed(window));
        SDL_SetModState(KMOD_LCTRL | KMOD_LALT);
        push_key(SDL_SCANCODE_LCTRL, TRUE);
        push_key(SDL_SCANCODE_LALT, TRUE);
        push_key(SDL_SCANCODE_G, TRUE);
        break;
    case 2:
        push_key(SDL_SCANCODE_G, FALSE);
        push_key(SDL_SCANCODE_B, TRUE); /* held when the window stops */
        SDL_SetModState(KMOD_NONE);
        break;
    case 3: vireo_sdl_window_stop(window); break;
    default: break;
    }
}

static void test_input(void)
{
    Fixture fx = { 0 };
    VireoScanout *s = vireo_scanout_new();
    VireoSdlWindowConfig config;
    g_autoptr(GError) error = NULL;
    const VireoInputOps ops = {
        .key = on_key,
        .pointer_motion = on_motion,
        .pointer_button = on_button,
        .wheel = on_wheel,
    };
    /* press A, release A, press Ctrl, press Alt, press B, then released on
     * stop: Ctrl, Alt, B (in code order: Ctrl 29, B 48, Alt 56) */
    static const unsigned expected[][2] = {
        { KEY_A, 1 }, { KEY_A, 0 },        { KEY_LEFTCTRL, 1 }, { KEY_LEFTALT, 1 },
        { KEY_B, 1 }, { KEY_LEFTCTRL, 0 }, { KEY_B, 0 },        { KEY_LEFTALT, 0 },
    };

    fx.keys = g_array_new(FALSE, FALSE, sizeof(unsigned));
    fx.pattern = vireo_test_pattern_new(s, VIREO_PIXEL_B8G8R8X8);
    vireo_test_pattern_resize(fx.pattern, 320, 240);
    vireo_sdl_window_config_init(&config);
    config.width = 640;
    config.height = 480;
    config.input = &ops;
    config.input_opaque = &fx;
    fx.window = vireo_sdl_window_new(s, &config, &error);
    g_assert_no_error(error);
    vireo_sdl_window_set_frame_func(fx.window, input_frame, &fx);
    /* A frame per step: the pattern keeps publishing. */
    vireo_test_pattern_start(fx.pattern, 60, FALSE);
    run_window(&fx);
    vireo_test_pattern_stop(fx.pattern);

    g_assert_false(fx.timed_out);
    g_assert_cmpuint(fx.keys->len / 2, ==, G_N_ELEMENTS(expected));
    for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
        g_assert_cmpuint(g_array_index(fx.keys, unsigned, 2 * i), ==, expected[i][0]);
        g_assert_cmpuint(g_array_index(fx.keys, unsigned, 2 * i + 1), ==, expected[i][1]);
    }
    g_assert_false(vireo_sdl_window_get_grabbed(fx.window));
    g_assert_cmpint(fx.motions, >=, 1);
    g_assert_cmpint(fx.mx, ==, 160);
    g_assert_cmpint(fx.my, ==, 120);
    g_assert_cmpint(fx.mw, ==, 320);
    g_assert_cmpint(fx.mh, ==, 240);
    g_assert_cmpint(fx.buttons_down, ==, 1);
    g_assert_cmpint(fx.buttons_up, ==, 1);
    g_assert_cmpuint(fx.last_button, ==, VIREO_BTN_RIGHT);
    g_assert_cmpint(fx.wheel_dy, ==, VIREO_WHEEL_NOTCH);

    vireo_sdl_window_free(fx.window);
    vireo_test_pattern_free(fx.pattern);
    vireo_scanout_free(s);
    g_array_unref(fx.keys);
}

/* ---- No display device ----------------------------------------------------------- */

static void shot_and_stop(VireoSdlWindow *window, void *opaque)
{
    Fixture *fx = opaque;

    if (timed_out(fx)) {
        return;
    }
    /* The first frame: the window asked for its size just before it. */
    if (fx->step == 0) {
        take_shot(fx, 0);
        vireo_sdl_window_stop(window);
        fx->step++;
    }
}

static void test_no_display(void)
{
    Fixture fx = { 0 };
    VireoScanout *s = vireo_scanout_new();
    VireoNoDisplay *nd = vireo_no_display_new(s, 640, 480);
    VireoSdlWindowConfig config;
    g_autoptr(GError) error = NULL;
    int title = 0;

    vireo_sdl_window_config_init(&config);
    config.width = 720;
    config.height = 400;
    fx.window = vireo_sdl_window_new(s, &config, &error);
    g_assert_no_error(error);
    vireo_sdl_window_set_frame_func(fx.window, shot_and_stop, &fx);
    fx.started = g_get_monotonic_time();
    fx.pattern = vireo_test_pattern_new(s, VIREO_PIXEL_B8G8R8X8); /* for take_shot only */
    vireo_sdl_window_run(fx.window);
    g_assert_false(fx.timed_out);

    /* The window asked for its size and the stand-in redrew the picture at
     * that size: it fills the window 1:1, corners included (a 640 x 480
     * picture fitted into 720 x 400 would leave the renderer's background
     * at the sides). */
    g_assert_cmpint(fx.shots[0].width, ==, 720);
    g_assert_cmpint(fx.shots[0].height, ==, 400);
    g_assert_true(readback_is(&fx.shots[0], 0, 0, (const guint8[]){ 0x24, 0x27, 0x2e }, 0));
    g_assert_true(readback_is(&fx.shots[0], 719, 399, (const guint8[]){ 0x24, 0x27, 0x2e }, 0));
    g_assert_true(readback_is(&fx.shots[0], 0, 200, (const guint8[]){ 0x24, 0x27, 0x2e }, 0));
    for (int i = 0; i < fx.shots[0].width * fx.shots[0].height; i++) {
        const guint8 *p = fx.shots[0].pixels + (size_t)i * 4;
        title += p[0] == 0xf2 && p[1] == 0xf3 && p[2] == 0xf5;
    }
    g_assert_cmpint(title, >, 500);
    readback_save(&fx.shots[0], "sdl-no-display");

    vireo_sdl_window_free(fx.window);
    vireo_no_display_free(nd);
    vireo_test_pattern_free(fx.pattern);
    vireo_scanout_free(s);
    g_free(fx.shots[0].pixels);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdl-window/pattern", test_pattern);
    g_test_add_func("/sdl-window/resize", test_resize);
    g_test_add_func("/sdl-window/input", test_input);
    g_test_add_func("/sdl-window/no-display", test_no_display);
    return g_test_run();
}
