/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * A guest display output, between the device that produces it (virtio-gpu,
 * on a vCPU or device thread) and the presenters that show it (the GTK GL
 * widget, the SDL window), which never include each other. Pixels live in
 * two buffers: the device writes into the back one while a presenter reads
 * the front one, so neither waits for the other; a published update swaps
 * them as soon as no presenter is reading. Each presenter gets the region
 * that changed since its last frame, so it uploads only that.
 */
typedef struct VireoScanout VireoScanout;

/* Pixel layouts, named by their bytes in memory from the lowest address
 * (B8G8R8X8: blue first; the DRM format XRGB8888 on a little-endian host). */
typedef enum {
    VIREO_PIXEL_B8G8R8X8,
    VIREO_PIXEL_B8G8R8A8,
    VIREO_PIXEL_R8G8B8X8,
    VIREO_PIXEL_R8G8B8A8,
    VIREO_PIXEL_X8R8G8B8,
    VIREO_PIXEL_A8R8G8B8,
    VIREO_PIXEL_X8B8G8R8,
    VIREO_PIXEL_A8B8G8R8,
} VireoPixelFormat;

typedef struct {
    int x, y, width, height;
} VireoScanoutRect;

#define VIREO_SCANOUT_MAX_SIZE       16384
#define VIREO_SCANOUT_MAX_PRESENTERS 4
#define VIREO_CURSOR_SIZE            64

/*
 * OpenGL contexts for devices that render with OpenGL (virtio-gpu's virgl
 * mode), provided by the display layer (display/egl-context.h, EGL without a
 * window system) so that devices never include display/. Every context a
 * provider makes belongs to one share group: a texture a device renders in
 * one of them can be drawn by a presenter whose context the same provider
 * made, with no copy through the CPU.
 */
typedef struct VireoGlProvider VireoGlProvider;

typedef struct {
    /* A context of OpenGL (or OpenGL ES, per `gles`) major.minor in the
     * provider's share group, or NULL when there is none of that version. */
    void *(*create_context)(VireoGlProvider *self, int major, int minor);
    void (*destroy_context)(VireoGlProvider *self, void *context);
    /* Makes `context` current on the calling thread without a surface;
     * NULL releases the current one. */
    bool (*make_current)(VireoGlProvider *self, void *context);
    /* Waits until the GL commands issued on the calling thread in any of the
     * provider's contexts have completed, so that another context sees
     * their results; the current context stays current. */
    void (*finish)(VireoGlProvider *self);
    /* The EGLDisplay the contexts belong to, or NULL. */
    void *(*get_egl_display)(VireoGlProvider *self);
} VireoGlProviderOps;

struct VireoGlProvider {
    const VireoGlProviderOps *ops;
    bool gles;        /* contexts are OpenGL ES */
    const char *name; /* what renders, for messages ("llvmpipe (LLVM 15.0.6, 256 bits)") */
};

VireoScanout *vireo_scanout_new(void);
void vireo_scanout_free(VireoScanout *scanout);

/* ---- the device's side ---- */

/* The output's mode: width x height pixels of `format`; 0 x 0 switches the
 * output off. Returns false for sizes beyond VIREO_SCANOUT_MAX_SIZE. */
bool vireo_scanout_set_mode(VireoScanout *scanout, int width, int height, VireoPixelFormat format);
/* The guest changed `rect` of its image at `src` (the image's top-left
 * pixel, rows `src_stride` bytes apart, the mode's size and format). Copies
 * what the back buffer needs from `src` and publishes the result. `rect`
 * is clipped to the mode. Never waits for a presenter. */
void vireo_scanout_update(VireoScanout *scanout, const guint8 *src, size_t src_stride,
                          VireoScanoutRect rect);
/* The cursor: a 64 x 64 A8R8G8B8 image (premultiplied or not, as the guest
 * gives it) with its hot spot; NULL hides it. */
void vireo_scanout_set_cursor(VireoScanout *scanout, const uint32_t *argb, int hot_x, int hot_y);
void vireo_scanout_move_cursor(VireoScanout *scanout, int x, int y, bool visible);

/* Size the presenters would like the guest to use (a window's size in
 * device pixels); the device learns of it through this callback, which runs
 * on the presenter's thread. Once vireo_scanout_set_size_func() returns, a
 * call of the previous function has returned too. */
typedef void (*VireoScanoutSizeFunc)(void *opaque, int width, int height);
void vireo_scanout_set_size_func(VireoScanout *scanout, VireoScanoutSizeFunc func, void *opaque);

/* Texture mode: the output's image is a GL texture the device renders
 * into (in the share group of `provider`). Presenters whose GL contexts come
 * from that provider draw it directly; the others need pixels, which the
 * device then also publishes with vireo_scanout_update() (a readback). */
typedef struct {
    uint32_t name;             /* a GL_TEXTURE_2D */
    VireoGlProvider *provider; /* whose share group it lives in */
    int width, height;         /* the texture's size */
    VireoScanoutRect rect;     /* the part shown (top-left origin): the mode's size */
    bool y0_bottom;            /* the texture's row 0 is the image's bottom line */
} VireoScanoutTexture;

/* Enters texture mode with the mode rect.width x rect.height in `format`
 * (the format of the pixels a readback publishes), or with NULL leaves it
 * (the mode stays). Returns false for a rectangle that is not a valid mode
 * or does not lie inside the texture. Waits until no presenter reads, so
 * the previous texture may be deleted afterwards. The frame has no damage
 * until the device publishes one. */
bool vireo_scanout_set_texture(VireoScanout *scanout, const VireoScanoutTexture *texture,
                               VireoPixelFormat format);
/* The texture changed in `rect` (mode coordinates) and its commands have
 * completed: publishes that, without copying pixels. */
void vireo_scanout_texture_changed(VireoScanout *scanout, VireoScanoutRect rect);
/* In texture mode, whether an attached presenter cannot draw the texture,
 * so the device must publish pixels too; outside it, true. */
bool vireo_scanout_needs_pixels(VireoScanout *scanout);
/* Called on the thread of a presenter that needs pixels and attaches (or
 * stops drawing textures) while the output is in texture mode: the device
 * should publish the whole image as pixels soon. */
typedef void (*VireoScanoutPixelsFunc)(void *opaque);
void vireo_scanout_set_pixels_func(VireoScanout *scanout, VireoScanoutPixelsFunc func,
                                   void *opaque);

/* ---- the presenters' side ---- */

/* Called, from the producer's thread, after something was published. A
 * presenter usually schedules a redraw on its own thread from it. */
typedef void (*VireoScanoutNotifyFunc)(void *opaque);

/* Registers a presenter; returns its id (0 .. MAX_PRESENTERS - 1), or -1
 * when there are too many. Its first frame reports the whole image. */
int vireo_scanout_attach(VireoScanout *scanout, VireoScanoutNotifyFunc notify, void *opaque);
/* After it returns, no notify call for `presenter` runs any more, so its
 * state may be freed. Not to be called from the notify function itself. */
void vireo_scanout_detach(VireoScanout *scanout, int presenter);

typedef struct {
    const guint8 *pixels; /* NULL when the output is off */
    size_t stride;
    int width, height;
    VireoPixelFormat format;
    uint64_t serial;         /* increases with every published update */
    VireoScanoutRect damage; /* what changed since this presenter's last frame */
    bool resized;            /* the mode changed: reallocate textures */
    /* cursor */
    const uint32_t *cursor; /* NULL when hidden; the presenter's own copy */
    uint64_t cursor_serial; /* changes when the image changes */
    int cursor_x, cursor_y, cursor_hot_x, cursor_hot_y;
    /* Texture mode, for a presenter of the texture's GL provider: the
     * texture to draw instead of the pixels (0: draw the pixels), its size,
     * the part shown and its orientation. */
    uint32_t texture;
    int texture_width, texture_height;
    VireoScanoutRect texture_rect;
    bool texture_y0_bottom;
} VireoScanoutFrame;

/* Takes the newest frame for `presenter`. Returns false when nothing changed
 * since its last frame. After true, the pixels stay valid and unchanged
 * until vireo_scanout_release(). */
bool vireo_scanout_acquire(VireoScanout *scanout, int presenter, VireoScanoutFrame *frame);
void vireo_scanout_release(VireoScanout *scanout, int presenter);
/* The GL provider `presenter`'s contexts come from (NULL: none, the
 * default): its frames then carry texture-mode textures of that provider
 * instead of relying on pixels. */
void vireo_scanout_set_presenter_gl(VireoScanout *scanout, int presenter,
                                    VireoGlProvider *provider);
/* Ask the device for a size (see vireo_scanout_set_size_func). */
void vireo_scanout_request_size(VireoScanout *scanout, int width, int height);

/* Bytes per pixel (4 for every format above). */
static inline int vireo_pixel_format_bpp(VireoPixelFormat format)
{
    (void)format;
    return 4;
}

G_END_DECLS
