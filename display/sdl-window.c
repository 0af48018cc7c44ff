/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "display/sdl-window.h"

#include <SDL.h>
#include <epoxy/gl.h>
#include <glib/gi18n-lib.h>
#include <linux/input-event-codes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "display/renderer.h"
#include "engine/error.h"

/* How long the window's size must stay put before the device is asked for
 * it, so that dragging a corner does not switch modes on every step. */
#define SIZE_SETTLE_US (150 * 1000)

enum {
    EVENT_REDRAW, /* the scanout published something */
    EVENT_STOP,
};

struct VireoSdlWindow {
    VireoScanout *scanout;
    int presenter;
    SDL_Window *window;
    SDL_GLContext context;
    VireoRenderer *renderer;
    Uint32 event_type;
    char *name;
    char *title;

    VireoSdlWindowConfig config;
    VireoKeyCombo fullscreen_combo;
    VireoKeyState keys;                    /* what the guest has been told is down */
    gboolean hotkey_held[VIREO_KEY_COUNT]; /* hot keys whose release is not for the guest */
    gboolean grabbed;
    gboolean fullscreen;

    gint notify_pending; /* a redraw event is queued; set from the device's thread */
    gint stop;
    gboolean dirty;
    gint64 frame_interval_us;
    gint64 next_frame_us;
    gint64 size_due_us; /* when to ask the device for the size; 0: nothing to ask */
    int asked_w, asked_h;
    int last_gx, last_gy;
    gboolean guest_cursor;
    guint64 frames;
    gboolean upload_failed;

    VireoSdlFrameFunc frame_func;
    void *frame_opaque;
};

void vireo_sdl_window_config_init(VireoSdlWindowConfig *config)
{
    memset(config, 0, sizeof *config);
    config->scale_mode = VIREO_SCALE_FIT;
    vireo_key_combo_parse(VIREO_RELEASE_COMBO_DEFAULT, &config->release, NULL);
}

gboolean vireo_sdl_window_config_parse(VireoSdlWindowConfig *config, const char *options,
                                       GError **error)
{
    g_auto(GStrv) items = g_strsplit(options != NULL ? options : "", ",", -1);

    for (int i = 0; items[i] != NULL; i++) {
        const char *item = g_strstrip(items[i]);
        const char *value = strchr(item, '=');
        g_autofree char *key =
            value != NULL ? g_strndup(item, (gsize)(value - item)) : g_strdup(item);

        value = value != NULL ? value + 1 : NULL;
        if (*item == '\0') {
            continue;
        }
        if (strcmp(key, "scale") == 0 && value != NULL) {
            if (strcmp(value, "fit") == 0) {
                config->scale_mode = VIREO_SCALE_FIT;
            } else if (strcmp(value, "integer") == 0) {
                config->scale_mode = VIREO_SCALE_INTEGER;
            } else if (strcmp(value, "native") == 0) {
                config->scale_mode = VIREO_SCALE_NATIVE;
            } else {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                            "scale=%s: the scale is fit, integer or native", value);
                return FALSE;
            }
        } else if (strcmp(key, "fullscreen") == 0 && value == NULL) {
            config->fullscreen = TRUE;
        } else if (strcmp(key, "release") == 0 && value != NULL) {
            if (!vireo_key_combo_parse(value, &config->release, error)) {
                return FALSE;
            }
        } else if (strcmp(key, "size") == 0 && value != NULL) {
            int w = 0, h = 0;
            char tail;
            if (sscanf(value, "%dx%d%c", &w, &h, &tail) != 2 || w < 64 || h < 64 ||
                w > VIREO_SCANOUT_MAX_SIZE || h > VIREO_SCANOUT_MAX_SIZE) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                            "size=%s: give the window's size as WIDTHxHEIGHT, such as 1280x800",
                            value);
                return FALSE;
            }
            config->width = w;
            config->height = h;
        } else {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "“%s” is not a display option (scale=fit|integer|native, fullscreen, "
                        "release=COMBO, size=WxH)",
                        item);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- Title ------------------------------------------------------------------- */

static void update_title(VireoSdlWindow *self)
{
    g_autofree char *combo = vireo_key_combo_to_string(&self->config.release);

    g_free(self->title);
    if (self->grabbed) {
        /* TRANSLATORS: %s is the machine's name, then a key combination
         * such as Ctrl+Alt+G. */
        self->title =
            g_strdup_printf(_("%s — Press %s to release the keyboard"), self->name, combo);
    } else {
        /* TRANSLATORS: %s is the machine's name, then a key combination
         * such as Ctrl+Alt+G. */
        self->title =
            g_strdup_printf(_("%s — Click or press %s to capture the keyboard"), self->name, combo);
    }
    SDL_SetWindowTitle(self->window, self->title);
}

/* ---- Scanout notifications ---------------------------------------------------- */

/* On the device's thread: queue one redraw event, however many updates
 * arrive before the window takes it. */
static void on_notify(void *opaque)
{
    VireoSdlWindow *self = opaque;
    SDL_Event ev;

    if (!g_atomic_int_compare_and_exchange(&self->notify_pending, 0, 1)) {
        return;
    }
    memset(&ev, 0, sizeof ev);
    ev.type = self->event_type;
    ev.user.code = EVENT_REDRAW;
    if (SDL_PushEvent(&ev) < 1) {
        g_atomic_int_set(&self->notify_pending, 0);
    }
}

/* ---- Creation -------------------------------------------------------------------- */

static gboolean create_gl(VireoSdlWindow *self, const VireoSdlWindowConfig *config, int w, int h,
                          GError **error)
{
    static const struct {
        int profile, major, minor;
        const char *name;
    } attempts[] = {
        { SDL_GL_CONTEXT_PROFILE_CORE, 3, 2, "OpenGL 3.2 core" },
        { SDL_GL_CONTEXT_PROFILE_ES, 3, 0, "OpenGL ES 3.0" },
    };
    Uint32 flags = SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
    g_autoptr(GString) reasons = g_string_new(NULL);

    if (config->fullscreen) {
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    }
    for (guint i = 0; i < G_N_ELEMENTS(attempts); i++) {
        SDL_GL_ResetAttributes();
        SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
        SDL_GL_SetAttribute(SDL_GL_RED_SIZE, 8);
        SDL_GL_SetAttribute(SDL_GL_GREEN_SIZE, 8);
        SDL_GL_SetAttribute(SDL_GL_BLUE_SIZE, 8);
        SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, attempts[i].profile);
        SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, attempts[i].major);
        SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, attempts[i].minor);
        /* A window per attempt: on X11 the visual depends on GLX or EGL. */
        self->window = SDL_CreateWindow(self->name, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                        w, h, flags);
        if (self->window == NULL) {
            g_string_append_printf(reasons, "%s%s: %s", reasons->len ? "; " : "", attempts[i].name,
                                   SDL_GetError());
            continue;
        }
        self->context = SDL_GL_CreateContext(self->window);
        if (self->context != NULL && SDL_GL_MakeCurrent(self->window, self->context) == 0) {
            return TRUE;
        }
        g_string_append_printf(reasons, "%s%s: %s", reasons->len ? "; " : "", attempts[i].name,
                               SDL_GetError());
        if (self->context != NULL) {
            SDL_GL_DeleteContext(self->context);
            self->context = NULL;
        }
        SDL_DestroyWindow(self->window);
        self->window = NULL;
    }
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                "Cannot open an OpenGL window for the display (%s)", reasons->str);
    return FALSE;
}

static void set_frame_interval(VireoSdlWindow *self)
{
    SDL_DisplayMode mode;
    int hz = 60;
    int index = SDL_GetWindowDisplayIndex(self->window);

    if (index >= 0 && SDL_GetCurrentDisplayMode(index, &mode) == 0 && mode.refresh_rate > 0) {
        hz = mode.refresh_rate;
    }
    /* A little under the refresh period: with vsync, frames start one
     * period apart give or take scheduling, and must not wait for the next
     * one; without it, this is what keeps the rate at the refresh rate. */
    self->frame_interval_us = G_USEC_PER_SEC * 9 / 10 / hz;
}

/* Without X11, Wayland or a KMS device, SDL falls back to a video driver
 * that shows nothing (offscreen, dummy): a window nobody can see. That is
 * an error unless it was asked for by name in SDL_VIDEODRIVER. */
static bool check_screen(GError **error)
{
    static const char *const invisible[] = { "offscreen", "dummy" };
    const char *driver = SDL_GetCurrentVideoDriver();
    const char *wanted = SDL_GetHint(SDL_HINT_VIDEODRIVER);

    for (unsigned i = 0; driver != NULL && i < G_N_ELEMENTS(invisible); i++) {
        g_auto(GStrv) names = NULL;

        if (g_ascii_strcasecmp(driver, invisible[i]) != 0) {
            continue;
        }
        names = g_strsplit(wanted != NULL ? wanted : "", ",", -1);
        for (unsigned k = 0; names[k] != NULL; k++) {
            if (g_ascii_strcasecmp(g_strstrip(names[k]), driver) == 0) {
                return true;
            }
        }
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "No screen for the window: %s, and SDL found only its “%s” video driver, "
                    "which shows nothing (set SDL_VIDEODRIVER=%s to run so on purpose)",
                    g_getenv("DISPLAY") == NULL && g_getenv("WAYLAND_DISPLAY") == NULL
                        ? "neither DISPLAY nor WAYLAND_DISPLAY is set"
                        : "the display server cannot be reached",
                    driver, driver);
        return false;
    }
    return true;
}

VireoSdlWindow *vireo_sdl_window_new(VireoScanout *scanout, const VireoSdlWindowConfig *config,
                                     GError **error)
{
    VireoSdlWindow *self;
    int w = config->width > 0 ? config->width : 1024;
    int h = config->height > 0 ? config->height : 768;

    /* The program keeps its own signal handling (Ctrl-C belongs to the
     * guest's console); the first click in the window counts. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, "1");
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "Cannot open a window for the display: %s", SDL_GetError());
        return NULL;
    }
    if (!check_screen(error)) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        return NULL;
    }

    self = g_new0(VireoSdlWindow, 1);
    self->config = *config;
    self->scanout = scanout;
    self->presenter = -1;
    self->name = g_strdup(config->name != NULL ? config->name : "Vireo");
    self->fullscreen = config->fullscreen;
    self->fullscreen_combo.mods = config->release.mods;
    self->fullscreen_combo.key = KEY_F;
    self->event_type = SDL_RegisterEvents(1);
    if (self->event_type == (Uint32)-1) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE, "SDL has no room for more events");
        vireo_sdl_window_free(self);
        return NULL;
    }
    if (!create_gl(self, config, w, h, error)) {
        vireo_sdl_window_free(self);
        return NULL;
    }
    /* Adaptive vsync where there is some, else vsync, else none (the
     * frame interval still limits the rate). */
    if (SDL_GL_SetSwapInterval(-1) != 0 && SDL_GL_SetSwapInterval(1) != 0) {
        SDL_GL_SetSwapInterval(0);
    }
    self->renderer = vireo_renderer_new(error);
    if (self->renderer == NULL) {
        vireo_sdl_window_free(self);
        return NULL;
    }
    vireo_renderer_set_scale_mode(self->renderer, config->scale_mode);
    set_frame_interval(self);
    update_title(self);

    self->presenter = vireo_scanout_attach(scanout, on_notify, self);
    if (self->presenter < 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE, "The display already has %d presenters",
                    VIREO_SCANOUT_MAX_PRESENTERS);
        vireo_sdl_window_free(self);
        return NULL;
    }
    self->dirty = TRUE;
    self->size_due_us = g_get_monotonic_time(); /* ask for the first size at once */
    self->last_gx = self->last_gy = -1;
    return self;
}

void vireo_sdl_window_free(VireoSdlWindow *self)
{
    if (self == NULL) {
        return;
    }
    if (self->presenter >= 0) {
        vireo_scanout_detach(self->scanout, self->presenter);
    }
    if (self->renderer != NULL) {
        SDL_GL_MakeCurrent(self->window, self->context);
        vireo_renderer_free(self->renderer);
    }
    if (self->context != NULL) {
        SDL_GL_MakeCurrent(self->window, NULL);
        SDL_GL_DeleteContext(self->context);
    }
    if (self->window != NULL) {
        SDL_DestroyWindow(self->window);
    }
    g_free(self->name);
    g_free(self->title);
    g_free(self);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

/* ---- State ---------------------------------------------------------------------- */

void vireo_sdl_window_stop(VireoSdlWindow *self)
{
    SDL_Event ev;

    g_atomic_int_set(&self->stop, 1);
    memset(&ev, 0, sizeof ev);
    ev.type = self->event_type;
    ev.user.code = EVENT_STOP;
    SDL_PushEvent(&ev);
}

void vireo_sdl_window_set_fullscreen(VireoSdlWindow *self, gboolean fullscreen)
{
    if (SDL_SetWindowFullscreen(self->window, fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0) ==
        0) {
        self->fullscreen = fullscreen;
    }
    self->dirty = TRUE;
}

gboolean vireo_sdl_window_get_fullscreen(VireoSdlWindow *self)
{
    return self->fullscreen;
}

void vireo_sdl_window_set_grabbed(VireoSdlWindow *self, gboolean grabbed)
{
    if (self->grabbed == grabbed) {
        return;
    }
    self->grabbed = grabbed;
    SDL_SetWindowKeyboardGrab(self->window, grabbed ? SDL_TRUE : SDL_FALSE);
    update_title(self);
}

gboolean vireo_sdl_window_get_grabbed(VireoSdlWindow *self)
{
    return self->grabbed;
}

const char *vireo_sdl_window_get_title(VireoSdlWindow *self)
{
    return self->title;
}

void vireo_sdl_window_get_drawable_size(VireoSdlWindow *self, int *width, int *height)
{
    SDL_GL_GetDrawableSize(self->window, width, height);
}

void vireo_sdl_window_set_size(VireoSdlWindow *self, int width, int height)
{
    SDL_SetWindowSize(self->window, width, height);
}

guint64 vireo_sdl_window_get_frame_count(VireoSdlWindow *self)
{
    return self->frames;
}

void vireo_sdl_window_set_frame_func(VireoSdlWindow *self, VireoSdlFrameFunc func, void *opaque)
{
    self->frame_func = func;
    self->frame_opaque = opaque;
}

guint8 *vireo_sdl_window_read_pixels(VireoSdlWindow *self, int *width, int *height)
{
    int w, h;
    size_t row;
    guint8 *up, *down;

    SDL_GL_GetDrawableSize(self->window, &w, &h);
    row = (size_t)w * 4;
    up = g_malloc(row * (size_t)MAX(h, 1));
    down = g_malloc(row * (size_t)MAX(h, 1));
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, up);
    for (int y = 0; y < h; y++) {
        memcpy(down + (size_t)y * row, up + (size_t)(h - 1 - y) * row, row);
    }
    g_free(up);
    *width = w;
    *height = h;
    return down;
}

/* ---- Drawing ---------------------------------------------------------------------- */

static void draw_frame(VireoSdlWindow *self)
{
    VireoScanoutFrame frame;
    int fb_w, fb_h;

    /* Later notifications queue a new event from here on. */
    g_atomic_int_set(&self->notify_pending, 0);
    if (vireo_scanout_acquire(self->scanout, self->presenter, &frame)) {
        g_autoptr(GError) error = NULL;
        if (!vireo_renderer_upload(self->renderer, &frame, &error)) {
            /* The renderer shows the error in the window; say it once here. */
            if (!self->upload_failed) {
                g_warning("%s", error->message);
            }
            self->upload_failed = TRUE;
        } else {
            self->upload_failed = FALSE;
        }
        self->guest_cursor = frame.cursor != NULL;
        vireo_scanout_release(self->scanout, self->presenter);
    }
    /* The guest draws its own cursor when it has one and follows the
     * pointer: the host's would be a second one. */
    SDL_ShowCursor(self->guest_cursor && self->config.input != NULL &&
                           self->config.input->pointer_motion != NULL
                       ? SDL_DISABLE
                       : SDL_ENABLE);

    SDL_GL_GetDrawableSize(self->window, &fb_w, &fb_h);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    vireo_renderer_draw(self->renderer, fb_w, fb_h);
    if (self->frame_func != NULL) {
        self->frame_func(self, self->frame_opaque);
    }
    SDL_GL_SwapWindow(self->window);
    self->frames++;
    self->dirty = FALSE;
}

/* ---- Input -------------------------------------------------------------------------- */

static VireoModifiers host_modifiers(void)
{
    SDL_Keymod m = SDL_GetModState();
    VireoModifiers mods = 0;

    if (m & KMOD_CTRL) {
        mods |= VIREO_MOD_CTRL;
    }
    if (m & KMOD_ALT) {
        mods |= VIREO_MOD_ALT;
    }
    if (m & KMOD_SHIFT) {
        mods |= VIREO_MOD_SHIFT;
    }
    if (m & KMOD_GUI) {
        mods |= VIREO_MOD_SUPER;
    }
    return mods;
}

static void send_key(VireoSdlWindow *self, unsigned code, gboolean pressed)
{
    const VireoInputOps *ops = self->config.input;

    if (vireo_key_state_set(&self->keys, code, pressed) && ops != NULL && ops->key != NULL) {
        ops->key(self->config.input_opaque, code, pressed);
    }
}

static void on_key(VireoSdlWindow *self, const SDL_KeyboardEvent *ev)
{
    unsigned code = vireo_keymap_from_usb_hid((unsigned)ev->keysym.scancode);
    gboolean pressed = ev->type == SDL_KEYDOWN;

    if (code == 0) {
        return;
    }
    if (pressed) {
        VireoModifiers mods = host_modifiers();
        if (vireo_key_combo_matches(&self->config.release, mods, code)) {
            if (!ev->repeat) {
                vireo_sdl_window_set_grabbed(self, !self->grabbed);
            }
            self->hotkey_held[code] = TRUE;
            return;
        }
        if (vireo_key_combo_matches(&self->fullscreen_combo, mods, code)) {
            if (!ev->repeat) {
                vireo_sdl_window_set_fullscreen(self, !self->fullscreen);
            }
            self->hotkey_held[code] = TRUE;
            return;
        }
        if (ev->repeat) {
            return; /* the guest repeats keys itself */
        }
    } else if (self->hotkey_held[code]) {
        self->hotkey_held[code] = FALSE;
        return;
    }
    send_key(self, code, pressed);
}

/* Maps a window point to the guest and reports it when it moved. */
static void on_pointer(VireoSdlWindow *self, int wx, int wy)
{
    const VireoInputOps *ops = self->config.input;
    int win_w, win_h, fb_w, fb_h, gx, gy, guest_w, guest_h;

    if (ops == NULL || ops->pointer_motion == NULL) {
        return;
    }
    SDL_GetWindowSize(self->window, &win_w, &win_h);
    SDL_GL_GetDrawableSize(self->window, &fb_w, &fb_h);
    if (win_w <= 0 || win_h <= 0) {
        return;
    }
    /* Window coordinates to device pixels (they differ on HiDPI). */
    if (!vireo_renderer_to_guest(self->renderer, fb_w, fb_h, ((double)wx + 0.5) * fb_w / win_w,
                                 ((double)wy + 0.5) * fb_h / win_h, &gx, &gy)) {
        return;
    }
    if (gx == self->last_gx && gy == self->last_gy) {
        return;
    }
    self->last_gx = gx;
    self->last_gy = gy;
    vireo_renderer_get_image_size(self->renderer, &guest_w, &guest_h);
    ops->pointer_motion(self->config.input_opaque, gx, gy, guest_w, guest_h);
}

static void on_button(VireoSdlWindow *self, const SDL_MouseButtonEvent *ev)
{
    const VireoInputOps *ops = self->config.input;
    unsigned button;

    if (ev->type == SDL_MOUSEBUTTONDOWN && !self->grabbed) {
        vireo_sdl_window_set_grabbed(self, TRUE);
    }
    switch (ev->button) {
    case SDL_BUTTON_LEFT: button = VIREO_BTN_LEFT; break;
    case SDL_BUTTON_MIDDLE: button = VIREO_BTN_MIDDLE; break;
    case SDL_BUTTON_RIGHT: button = VIREO_BTN_RIGHT; break;
    case SDL_BUTTON_X1: button = VIREO_BTN_SIDE; break;
    case SDL_BUTTON_X2: button = VIREO_BTN_EXTRA; break;
    default: return;
    }
    on_pointer(self, ev->x, ev->y);
    if (ops != NULL && ops->pointer_button != NULL) {
        ops->pointer_button(self->config.input_opaque, button, ev->type == SDL_MOUSEBUTTONDOWN);
    }
}

static void on_wheel(VireoSdlWindow *self, const SDL_MouseWheelEvent *ev)
{
    const VireoInputOps *ops = self->config.input;
    float sign = ev->direction == SDL_MOUSEWHEEL_FLIPPED ? -1.0f : 1.0f;
    int dx = (int)lroundf(ev->preciseX * sign * VIREO_WHEEL_NOTCH);
    int dy = (int)lroundf(ev->preciseY * sign * VIREO_WHEEL_NOTCH);

    /* SDL counts y up and x right, as evdev's wheels do. */
    if (ops != NULL && ops->wheel != NULL && (dx != 0 || dy != 0)) {
        ops->wheel(self->config.input_opaque, dx, dy);
    }
}

static void on_focus_lost(VireoSdlWindow *self)
{
    /* Keys held when focus left would stay down in the guest. */
    vireo_key_state_release_all(&self->keys, self->config.input, self->config.input_opaque);
    memset(self->hotkey_held, 0, sizeof self->hotkey_held);
    vireo_sdl_window_set_grabbed(self, FALSE);
}

static void handle_event(VireoSdlWindow *self, const SDL_Event *ev)
{
    if (ev->type == self->event_type) {
        if (ev->user.code == EVENT_REDRAW) {
            self->dirty = TRUE;
        }
        return;
    }
    switch (ev->type) {
    case SDL_QUIT: g_atomic_int_set(&self->stop, 1); break;
    case SDL_WINDOWEVENT:
        switch (ev->window.event) {
        case SDL_WINDOWEVENT_CLOSE: g_atomic_int_set(&self->stop, 1); break;
        case SDL_WINDOWEVENT_SIZE_CHANGED:
            self->dirty = TRUE;
            self->size_due_us = g_get_monotonic_time() + SIZE_SETTLE_US;
            break;
        case SDL_WINDOWEVENT_EXPOSED:
        case SDL_WINDOWEVENT_SHOWN:
        case SDL_WINDOWEVENT_RESTORED: self->dirty = TRUE; break;
        case SDL_WINDOWEVENT_DISPLAY_CHANGED: set_frame_interval(self); break;
        case SDL_WINDOWEVENT_FOCUS_LOST: on_focus_lost(self); break;
        default: break;
        }
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP: on_key(self, &ev->key); break;
    case SDL_MOUSEMOTION: on_pointer(self, ev->motion.x, ev->motion.y); break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP: on_button(self, &ev->button); break;
    case SDL_MOUSEWHEEL: on_wheel(self, &ev->wheel); break;
    default: break;
    }
}

static void ask_size(VireoSdlWindow *self)
{
    int w, h;

    self->size_due_us = 0;
    SDL_GL_GetDrawableSize(self->window, &w, &h);
    if (w > 0 && h > 0 && (w != self->asked_w || h != self->asked_h)) {
        self->asked_w = w;
        self->asked_h = h;
        vireo_scanout_request_size(self->scanout, w, h);
    }
}

void vireo_sdl_window_run(VireoSdlWindow *self)
{
    while (!g_atomic_int_get(&self->stop)) {
        gint64 now = g_get_monotonic_time();
        gint64 wake = G_MAXINT64;
        SDL_Event ev;
        int got;

        if (self->dirty) {
            wake = MAX(now, self->next_frame_us);
        }
        if (self->size_due_us > 0) {
            wake = MIN(wake, MAX(now, self->size_due_us));
        }
        if (wake == G_MAXINT64) {
            got = SDL_WaitEvent(&ev);
        } else {
            got = SDL_WaitEventTimeout(&ev, (int)MIN((wake - now + 999) / 1000, G_MAXINT));
        }
        if (got) {
            handle_event(self, &ev);
            while (SDL_PollEvent(&ev)) {
                handle_event(self, &ev);
            }
        }
        if (g_atomic_int_get(&self->stop)) {
            break;
        }
        now = g_get_monotonic_time();
        if (self->size_due_us > 0 && now >= self->size_due_us) {
            ask_size(self);
        }
        if (self->dirty && now >= self->next_frame_us) {
            self->next_frame_us = now + self->frame_interval_us;
            draw_frame(self);
        }
    }
    /* Nothing stays pressed in the guest once the window is gone. */
    vireo_key_state_release_all(&self->keys, self->config.input, self->config.input_opaque);
}
