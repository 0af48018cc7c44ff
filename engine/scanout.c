/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/scanout.h"

#include <string.h>

typedef struct {
    bool attached;
    VireoScanoutNotifyFunc notify;
    void *opaque;
    uint64_t serial;         /* of the last frame it took */
    uint64_t cursor_serial;  /* of the last cursor image it took */
    VireoScanoutRect damage; /* published since its last frame */
    bool resized;
    bool reading;        /* between acquire and release */
    int calls;           /* notify calls running now */
    VireoGlProvider *gl; /* where its GL contexts come from, or NULL */
    /* The cursor image as of its last frame: the device may replace the
     * scanout's own copy while the presenter reads this one. */
    uint32_t cursor[VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE];
} Presenter;

struct VireoScanout {
    GMutex lock;
    GCond calls_done;
    int width, height;
    VireoPixelFormat format;
    size_t stride;
    guint8 *buf[2];
    int front; /* buf[front] is what presenters read; buf[!front] the device writes */
    /* Where each buffer lags behind the device's image. */
    VireoScanoutRect stale[2];
    bool swap_pending; /* back holds a newer image than front, not yet swapped */
    bool writing;      /* the device is copying into the back buffer */
    uint64_t serial;
    int readers;
    Presenter presenters[VIREO_SCANOUT_MAX_PRESENTERS];

    uint32_t cursor[VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE];
    bool cursor_set, cursor_visible;
    uint64_t cursor_serial;
    int cursor_x, cursor_y, cursor_hot_x, cursor_hot_y;

    VireoScanoutSizeFunc size_func;
    void *size_opaque;
    VireoScanoutPixelsFunc pixels_func;
    void *pixels_opaque;
    int callbacks; /* size and pixels calls running now */

    /* Texture mode: the image is `texture`, and the buffers hold pixels
     * only when a presenter needs them. */
    bool texture_mode;
    VireoScanoutTexture texture;
};

static bool rect_empty(VireoScanoutRect r)
{
    return r.width <= 0 || r.height <= 0;
}

static VireoScanoutRect rect_union(VireoScanoutRect a, VireoScanoutRect b)
{
    VireoScanoutRect r;

    if (rect_empty(a)) {
        return b;
    }
    if (rect_empty(b)) {
        return a;
    }
    r.x = MIN(a.x, b.x);
    r.y = MIN(a.y, b.y);
    r.width = MAX(a.x + a.width, b.x + b.width) - r.x;
    r.height = MAX(a.y + a.height, b.y + b.height) - r.y;
    return r;
}

static VireoScanoutRect rect_clip(VireoScanoutRect r, int width, int height)
{
    /* Work in 64 bits: the guest controls x, y, width and height. */
    gint64 x0 = MAX((gint64)r.x, 0), y0 = MAX((gint64)r.y, 0);
    gint64 x1 = MIN((gint64)r.x + r.width, (gint64)width);
    gint64 y1 = MIN((gint64)r.y + r.height, (gint64)height);
    VireoScanoutRect c = { 0, 0, 0, 0 };

    if (x1 > x0 && y1 > y0) {
        c.x = (int)x0;
        c.y = (int)y0;
        c.width = (int)(x1 - x0);
        c.height = (int)(y1 - y0);
    }
    return c;
}

VireoScanout *vireo_scanout_new(void)
{
    VireoScanout *s = g_new0(VireoScanout, 1);

    g_mutex_init(&s->lock);
    g_cond_init(&s->calls_done);
    s->format = VIREO_PIXEL_B8G8R8X8;
    return s;
}

void vireo_scanout_free(VireoScanout *scanout)
{
    if (scanout == NULL) {
        return;
    }
    g_free(scanout->buf[0]);
    g_free(scanout->buf[1]);
    g_mutex_clear(&scanout->lock);
    g_cond_clear(&scanout->calls_done);
    g_free(scanout);
}

/* Calls every presenter's notify function outside the lock; detach waits
 * for the calls it handed out, so a presenter may free its state as soon as
 * vireo_scanout_detach() returns. */
static void notify_all(VireoScanout *s)
{
    VireoScanoutNotifyFunc funcs[VIREO_SCANOUT_MAX_PRESENTERS];
    void *data[VIREO_SCANOUT_MAX_PRESENTERS];
    int ids[VIREO_SCANOUT_MAX_PRESENTERS];
    int n = 0;

    g_mutex_lock(&s->lock);
    for (int i = 0; i < VIREO_SCANOUT_MAX_PRESENTERS; i++) {
        Presenter *p = &s->presenters[i];
        if (p->attached && p->notify != NULL) {
            p->calls++;
            funcs[n] = p->notify;
            data[n] = p->opaque;
            ids[n++] = i;
        }
    }
    g_mutex_unlock(&s->lock);
    for (int i = 0; i < n; i++) {
        funcs[i](data[i]);
    }
    if (n > 0) {
        g_mutex_lock(&s->lock);
        for (int i = 0; i < n; i++) {
            s->presenters[ids[i]].calls--;
        }
        g_cond_broadcast(&s->calls_done);
        g_mutex_unlock(&s->lock);
    }
}

/* With the lock held: waits until no presenter reads a frame. */
static void wait_no_readers_locked(VireoScanout *s)
{
    while (s->readers > 0) {
        g_mutex_unlock(&s->lock);
        g_thread_yield();
        g_mutex_lock(&s->lock);
    }
}

/* With the lock held: every presenter takes the whole image again, as a
 * resize. */
static void invalidate_locked(VireoScanout *s)
{
    VireoScanoutRect full = { 0, 0, s->width, s->height };

    s->serial++;
    for (int i = 0; i < VIREO_SCANOUT_MAX_PRESENTERS; i++) {
        s->presenters[i].resized = true;
        s->presenters[i].damage = full;
    }
}

/* With the lock held and no reader: sets the mode (new buffers, zeroed)
 * and stores the old buffers in `old` for the caller to free unlocked. */
static void set_mode_locked(VireoScanout *s, int width, int height, VireoPixelFormat format,
                            guint8 *old[2])
{
    VireoScanoutRect full = { 0, 0, width, height };

    old[0] = s->buf[0];
    old[1] = s->buf[1];
    s->width = width;
    s->height = height;
    s->format = format;
    s->stride = (size_t)width * (size_t)vireo_pixel_format_bpp(format);
    s->buf[0] = width > 0 ? g_malloc0(s->stride * (size_t)height) : NULL;
    s->buf[1] = width > 0 ? g_malloc0(s->stride * (size_t)height) : NULL;
    s->stale[0] = s->stale[1] = full;
    s->swap_pending = false;
    invalidate_locked(s);
}

static bool mode_valid(int width, int height)
{
    return width >= 0 && height >= 0 && width <= VIREO_SCANOUT_MAX_SIZE &&
           height <= VIREO_SCANOUT_MAX_SIZE && (width == 0) == (height == 0);
}

bool vireo_scanout_set_mode(VireoScanout *scanout, int width, int height, VireoPixelFormat format)
{
    VireoScanout *s = scanout;
    guint8 *old[2] = { NULL, NULL };

    if (!mode_valid(width, height)) {
        return false;
    }
    g_mutex_lock(&s->lock);
    if (s->width == width && s->height == height && s->format == format && !s->texture_mode) {
        g_mutex_unlock(&s->lock);
        return true;
    }
    /* A presenter may be reading the old buffers (or drawing the texture):
     * replace them, and free the old ones only when nobody reads. Presenters
     * are told to resize, which they do at their next acquire. */
    wait_no_readers_locked(s);
    s->texture_mode = false;
    if (s->width == width && s->height == height && s->format == format) {
        invalidate_locked(s); /* from a texture back to these pixels */
    } else {
        set_mode_locked(s, width, height, format, old);
    }
    g_mutex_unlock(&s->lock);
    g_free(old[0]);
    g_free(old[1]);
    notify_all(s);
    return true;
}

/* With the lock held and no reader: make the back buffer the front one. */
static void swap_locked(VireoScanout *s)
{
    s->front = !s->front;
    s->swap_pending = false;
    s->serial++;
}

void vireo_scanout_update(VireoScanout *scanout, const guint8 *src, size_t src_stride,
                          VireoScanoutRect rect)
{
    VireoScanout *s = scanout;
    VireoScanoutRect copy;
    guint8 *dst;
    size_t bpp;
    int back;

    g_mutex_lock(&s->lock);
    if (s->width == 0 || src == NULL) {
        g_mutex_unlock(&s->lock);
        return;
    }
    rect = rect_clip(rect, s->width, s->height);
    back = !s->front;
    /* The back buffer also needs what it missed while it was the front. */
    copy = rect_union(rect, s->stale[back]);
    dst = s->buf[back];
    bpp = (size_t)vireo_pixel_format_bpp(s->format);
    s->writing = true; /* no swap while the back buffer is half written */
    g_mutex_unlock(&s->lock);

    /* Presenters never read the back buffer, and only this thread writes
     * it: no lock while copying. */
    for (int row = 0; row < copy.height; row++) {
        size_t off_src = (size_t)(copy.y + row) * src_stride + (size_t)copy.x * bpp;
        size_t off_dst = (size_t)(copy.y + row) * s->stride + (size_t)copy.x * bpp;
        memcpy(dst + off_dst, src + off_src, (size_t)copy.width * bpp);
    }

    g_mutex_lock(&s->lock);
    s->writing = false;
    s->stale[back] = (VireoScanoutRect){ 0, 0, 0, 0 };
    s->stale[!back] = rect_union(s->stale[!back], rect);
    for (int i = 0; i < VIREO_SCANOUT_MAX_PRESENTERS; i++) {
        s->presenters[i].damage = rect_union(s->presenters[i].damage, rect);
    }
    if (s->readers == 0) {
        swap_locked(s);
    } else {
        s->swap_pending = true; /* the last reader swaps */
    }
    g_mutex_unlock(&s->lock);
    notify_all(s);
}

void vireo_scanout_set_cursor(VireoScanout *scanout, const uint32_t *argb, int hot_x, int hot_y)
{
    g_mutex_lock(&scanout->lock);
    if (argb != NULL) {
        memcpy(scanout->cursor, argb, sizeof scanout->cursor);
        scanout->cursor_hot_x = CLAMP(hot_x, 0, VIREO_CURSOR_SIZE - 1);
        scanout->cursor_hot_y = CLAMP(hot_y, 0, VIREO_CURSOR_SIZE - 1);
    }
    scanout->cursor_set = argb != NULL;
    scanout->cursor_serial++;
    scanout->serial++;
    g_mutex_unlock(&scanout->lock);
    notify_all(scanout);
}

void vireo_scanout_move_cursor(VireoScanout *scanout, int x, int y, bool visible)
{
    g_mutex_lock(&scanout->lock);
    scanout->cursor_x = x;
    scanout->cursor_y = y;
    scanout->cursor_visible = visible;
    scanout->serial++;
    g_mutex_unlock(&scanout->lock);
    notify_all(scanout);
}

void vireo_scanout_set_size_func(VireoScanout *scanout, VireoScanoutSizeFunc func, void *opaque)
{
    g_mutex_lock(&scanout->lock);
    while (scanout->callbacks > 0) {
        g_cond_wait(&scanout->calls_done, &scanout->lock);
    }
    scanout->size_func = func;
    scanout->size_opaque = opaque;
    g_mutex_unlock(&scanout->lock);
}

/* With the lock held: counts a size or pixels call about to run unlocked. */
static void callback_begin_locked(VireoScanout *s)
{
    s->callbacks++;
}

static void callback_end(VireoScanout *s)
{
    g_mutex_lock(&s->lock);
    s->callbacks--;
    g_cond_broadcast(&s->calls_done);
    g_mutex_unlock(&s->lock);
}

void vireo_scanout_request_size(VireoScanout *scanout, int width, int height)
{
    VireoScanoutSizeFunc func;
    void *opaque;

    if (width <= 0 || height <= 0) {
        return;
    }
    g_mutex_lock(&scanout->lock);
    func = scanout->size_func;
    opaque = scanout->size_opaque;
    if (func != NULL) {
        callback_begin_locked(scanout);
    }
    g_mutex_unlock(&scanout->lock);
    if (func != NULL) {
        func(opaque, MIN(width, VIREO_SCANOUT_MAX_SIZE), MIN(height, VIREO_SCANOUT_MAX_SIZE));
        callback_end(scanout);
    }
}

void vireo_scanout_set_pixels_func(VireoScanout *scanout, VireoScanoutPixelsFunc func, void *opaque)
{
    g_mutex_lock(&scanout->lock);
    while (scanout->callbacks > 0) {
        g_cond_wait(&scanout->calls_done, &scanout->lock);
    }
    scanout->pixels_func = func;
    scanout->pixels_opaque = opaque;
    g_mutex_unlock(&scanout->lock);
}

/* With the lock held: whether `p` cannot draw the texture of texture mode. */
static bool needs_pixels_locked(VireoScanout *s, const Presenter *p)
{
    return p->attached && (p->gl == NULL || p->gl != s->texture.provider);
}

/* With the lock held, for presenter `p` that may just have come to need
 * pixels: the pixels function to call (unlocked, then callback_end()), or
 * NULL. */
static VireoScanoutPixelsFunc pixels_call_locked(VireoScanout *s, const Presenter *p, void **opaque)
{
    if (!s->texture_mode || s->pixels_func == NULL || !needs_pixels_locked(s, p)) {
        return NULL;
    }
    callback_begin_locked(s);
    *opaque = s->pixels_opaque;
    return s->pixels_func;
}

bool vireo_scanout_set_texture(VireoScanout *scanout, const VireoScanoutTexture *texture,
                               VireoPixelFormat format)
{
    VireoScanout *s = scanout;
    guint8 *old[2] = { NULL, NULL };

    if (texture != NULL) {
        VireoScanoutRect r = texture->rect;
        if (texture->name == 0 || r.x < 0 || r.y < 0 || r.width <= 0 || r.height <= 0 ||
            !mode_valid(r.width, r.height) || (gint64)r.x + r.width > texture->width ||
            (gint64)r.y + r.height > texture->height) {
            return false;
        }
    }
    g_mutex_lock(&s->lock);
    if (texture == NULL && !s->texture_mode) {
        g_mutex_unlock(&s->lock);
        return true;
    }
    wait_no_readers_locked(s);
    if (texture == NULL) {
        s->texture_mode = false;
        invalidate_locked(s);
    } else {
        if (s->width != texture->rect.width || s->height != texture->rect.height ||
            s->format != format) {
            set_mode_locked(s, texture->rect.width, texture->rect.height, format, old);
        } else {
            invalidate_locked(s);
        }
        s->texture_mode = true;
        s->texture = *texture;
        /* Until the device publishes, there is nothing new to show. */
        for (int i = 0; i < VIREO_SCANOUT_MAX_PRESENTERS; i++) {
            s->presenters[i].damage = (VireoScanoutRect){ 0, 0, 0, 0 };
        }
    }
    g_mutex_unlock(&s->lock);
    g_free(old[0]);
    g_free(old[1]);
    notify_all(s);
    return true;
}

void vireo_scanout_texture_changed(VireoScanout *scanout, VireoScanoutRect rect)
{
    VireoScanout *s = scanout;

    g_mutex_lock(&s->lock);
    if (!s->texture_mode) {
        g_mutex_unlock(&s->lock);
        return;
    }
    rect = rect_clip(rect, s->width, s->height);
    for (int i = 0; i < VIREO_SCANOUT_MAX_PRESENTERS; i++) {
        s->presenters[i].damage = rect_union(s->presenters[i].damage, rect);
    }
    s->serial++;
    g_mutex_unlock(&s->lock);
    notify_all(s);
}

bool vireo_scanout_needs_pixels(VireoScanout *scanout)
{
    bool needs = true;

    g_mutex_lock(&scanout->lock);
    if (scanout->texture_mode) {
        needs = false;
        for (int i = 0; i < VIREO_SCANOUT_MAX_PRESENTERS; i++) {
            needs = needs || needs_pixels_locked(scanout, &scanout->presenters[i]);
        }
    }
    g_mutex_unlock(&scanout->lock);
    return needs;
}

void vireo_scanout_set_presenter_gl(VireoScanout *scanout, int presenter, VireoGlProvider *provider)
{
    VireoScanoutPixelsFunc func = NULL;
    void *opaque = NULL;
    Presenter *p;

    g_return_if_fail(presenter >= 0 && presenter < VIREO_SCANOUT_MAX_PRESENTERS);
    g_mutex_lock(&scanout->lock);
    p = &scanout->presenters[presenter];
    if (p->attached && p->gl != provider) {
        p->gl = provider;
        /* Its next frame is the whole image, drawn the new way. */
        p->resized = true;
        p->damage = (VireoScanoutRect){ 0, 0, scanout->width, scanout->height };
        scanout->serial++;
        func = pixels_call_locked(scanout, p, &opaque);
    }
    g_mutex_unlock(&scanout->lock);
    if (func != NULL) {
        func(opaque);
        callback_end(scanout);
    }
}

int vireo_scanout_attach(VireoScanout *scanout, VireoScanoutNotifyFunc notify, void *opaque)
{
    VireoScanoutPixelsFunc func = NULL;
    void *func_opaque = NULL;
    int id = -1;

    g_mutex_lock(&scanout->lock);
    for (int i = 0; i < VIREO_SCANOUT_MAX_PRESENTERS; i++) {
        Presenter *p = &scanout->presenters[i];
        if (!p->attached && p->calls == 0) {
            memset(p, 0, sizeof *p);
            p->attached = true;
            p->notify = notify;
            p->opaque = opaque;
            p->resized = true;
            p->damage = (VireoScanoutRect){ 0, 0, scanout->width, scanout->height };
            id = i;
            func = pixels_call_locked(scanout, p, &func_opaque);
            break;
        }
    }
    g_mutex_unlock(&scanout->lock);
    if (func != NULL) {
        func(func_opaque);
        callback_end(scanout);
    }
    return id;
}

void vireo_scanout_detach(VireoScanout *scanout, int presenter)
{
    if (presenter < 0 || presenter >= VIREO_SCANOUT_MAX_PRESENTERS) {
        return;
    }
    g_mutex_lock(&scanout->lock);
    if (scanout->presenters[presenter].reading) {
        scanout->readers--;
        if (scanout->readers == 0 && scanout->swap_pending && !scanout->writing) {
            swap_locked(scanout);
        }
    }
    scanout->presenters[presenter].attached = false;
    while (scanout->presenters[presenter].calls > 0) {
        g_cond_wait(&scanout->calls_done, &scanout->lock);
    }
    memset(&scanout->presenters[presenter], 0, sizeof scanout->presenters[presenter]);
    g_mutex_unlock(&scanout->lock);
}

bool vireo_scanout_acquire(VireoScanout *scanout, int presenter, VireoScanoutFrame *frame)
{
    VireoScanout *s = scanout;
    Presenter *p;

    g_return_val_if_fail(presenter >= 0 && presenter < VIREO_SCANOUT_MAX_PRESENTERS, false);
    p = &s->presenters[presenter];
    g_mutex_lock(&s->lock);
    if (!p->attached || p->reading || (p->serial == s->serial && !p->resized)) {
        g_mutex_unlock(&s->lock);
        return false;
    }
    p->reading = true;
    s->readers++;
    frame->pixels = s->buf[s->front];
    frame->stride = s->stride;
    frame->width = s->width;
    frame->height = s->height;
    frame->format = s->format;
    frame->serial = s->serial;
    frame->resized = p->resized;
    /* Everything published since the presenter's last frame, clipped. When
     * a swap is pending, part of it is only in the back buffer: the front
     * buffer will change there (stale[front]) once swapped, so that part is
     * reported again with the next frame. */
    frame->damage = rect_clip(p->damage, s->width, s->height);
    p->damage = s->swap_pending ? s->stale[s->front] : (VireoScanoutRect){ 0, 0, 0, 0 };
    if (p->cursor_serial != s->cursor_serial || p->serial == 0) {
        memcpy(p->cursor, s->cursor, sizeof p->cursor);
        p->cursor_serial = s->cursor_serial;
    }
    frame->cursor = s->cursor_set && s->cursor_visible ? p->cursor : NULL;
    frame->cursor_serial = s->cursor_serial;
    frame->cursor_x = s->cursor_x;
    frame->cursor_y = s->cursor_y;
    frame->cursor_hot_x = s->cursor_hot_x;
    frame->cursor_hot_y = s->cursor_hot_y;
    if (s->texture_mode && !needs_pixels_locked(s, p)) {
        frame->texture = s->texture.name;
        frame->texture_width = s->texture.width;
        frame->texture_height = s->texture.height;
        frame->texture_rect = s->texture.rect;
        frame->texture_y0_bottom = s->texture.y0_bottom;
    } else {
        frame->texture = 0;
        frame->texture_width = frame->texture_height = 0;
        frame->texture_rect = (VireoScanoutRect){ 0, 0, 0, 0 };
        frame->texture_y0_bottom = false;
    }
    p->serial = s->serial;
    p->resized = false;
    g_mutex_unlock(&s->lock);
    return true;
}

void vireo_scanout_release(VireoScanout *scanout, int presenter)
{
    VireoScanout *s = scanout;
    bool swapped = false;

    g_return_if_fail(presenter >= 0 && presenter < VIREO_SCANOUT_MAX_PRESENTERS);
    g_mutex_lock(&s->lock);
    if (s->presenters[presenter].reading) {
        s->presenters[presenter].reading = false;
        s->readers--;
        if (s->readers == 0 && s->swap_pending && !s->writing) {
            swap_locked(s);
            swapped = true;
        }
    }
    g_mutex_unlock(&s->lock);
    if (swapped) {
        notify_all(s);
    }
}
