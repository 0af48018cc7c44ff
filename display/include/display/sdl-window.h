/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "display/input.h"
#include "display/viewport.h"
#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * A window showing a VireoScanout, with SDL2 and OpenGL (3.2 core, or ES
 * 3.0 where that is what the system offers), drawn by the VireoRenderer.
 *
 * The window is resizable and HiDPI-aware: it draws at its drawable size in
 * device pixels and asks the device for that size (debounced while the
 * user drags). It redraws when the scanout notifies it, never faster than
 * the display refreshes (with vsync where the driver has it), and when the
 * window system asks. Keys, the pointer in guest pixels, buttons and the
 * wheel go to a VireoInputOps table.
 *
 * Hot keys, with the modifiers of the release combination (Ctrl+Alt by
 * default): that combination (Ctrl+Alt+G) captures and releases the
 * keyboard, so that the host's shortcuts reach the guest; modifiers + F
 * toggles full screen. A click in the window captures the keyboard too, and
 * the title says how to release it. Hot keys never reach the guest.
 *
 * All of it runs on the thread that calls vireo_sdl_window_run() (SDL wants
 * the main thread on some systems); only vireo_sdl_window_stop() may be
 * called from others.
 */
typedef struct VireoSdlWindow VireoSdlWindow;

typedef struct {
    const char *name;  /* the title's first part; NULL for "Vireo" */
    int width, height; /* first size, in window coordinates; 0 for 1024 x 768 */
    VireoScaleMode scale_mode;
    gboolean fullscreen;
    VireoKeyCombo release; /* captures and releases the keyboard */
    const VireoInputOps *input;
    void *input_opaque;
} VireoSdlWindowConfig;

/* Defaults: fit, windowed, 1024 x 768, Ctrl+Alt+G, no input. */
void vireo_sdl_window_config_init(VireoSdlWindowConfig *config);
/* Applies comma-separated options, as `vireo-run --display sdl,...` takes
 * them: scale=fit|integer|native, fullscreen, release=COMBO (such as
 * release=Ctrl+Shift+G), size=WxH. */
gboolean vireo_sdl_window_config_parse(VireoSdlWindowConfig *config, const char *options,
                                       GError **error);

/* Opens the window and attaches to `scanout` (which must outlive it).
 * Fails with VIREO_ERROR_DEVICE, saying why, when there is no display, no
 * usable OpenGL, or the renderer cannot start. SDL's video drivers that
 * show nothing (offscreen, dummy) count as no display unless
 * SDL_VIDEODRIVER names them. */
VireoSdlWindow *vireo_sdl_window_new(VireoScanout *scanout, const VireoSdlWindowConfig *config,
                                     GError **error);
/* Detaches, closes the window. On the thread that created it. */
void vireo_sdl_window_free(VireoSdlWindow *self);

/* Handles events and draws until the window is closed or stopped. */
void vireo_sdl_window_run(VireoSdlWindow *self);
/* Makes vireo_sdl_window_run() return soon; from any thread. */
void vireo_sdl_window_stop(VireoSdlWindow *self);

void vireo_sdl_window_set_fullscreen(VireoSdlWindow *self, gboolean fullscreen);
gboolean vireo_sdl_window_get_fullscreen(VireoSdlWindow *self);
/* Whether the keyboard is captured. */
gboolean vireo_sdl_window_get_grabbed(VireoSdlWindow *self);
void vireo_sdl_window_set_grabbed(VireoSdlWindow *self, gboolean grabbed);
/* The window's title as it is now. */
const char *vireo_sdl_window_get_title(VireoSdlWindow *self);
/* The drawable's size in device pixels. */
void vireo_sdl_window_get_drawable_size(VireoSdlWindow *self, int *width, int *height);
/* Resizes the window (window coordinates). */
void vireo_sdl_window_set_size(VireoSdlWindow *self, int width, int height);
/* Frames drawn so far. */
guint64 vireo_sdl_window_get_frame_count(VireoSdlWindow *self);

/* ---- For tests and tools ---- */

/* Called after each frame is drawn and before it is shown, on the window's
 * thread with its GL context current. */
typedef void (*VireoSdlFrameFunc)(VireoSdlWindow *window, void *opaque);
void vireo_sdl_window_set_frame_func(VireoSdlWindow *self, VireoSdlFrameFunc func, void *opaque);
/* Inside the frame function: the frame's pixels, RGBA, top row first, and
 * their size (g_free the result). */
guint8 *vireo_sdl_window_read_pixels(VireoSdlWindow *self, int *width, int *height);

G_END_DECLS
