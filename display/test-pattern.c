/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "display/test-pattern.h"

#include <math.h>
#include <string.h>

#include "display/font.h"
#include "display/pixel.h"

struct VireoTestPattern {
    VireoScanout *scanout;
    VireoPixelFormat format;
    int width, height;
    size_t stride;
    guint8 *pixels; /* the "guest's" image */
    guint frame;    /* read by other threads: accessed atomically */
    gboolean cursor;

    GThread *thread;
    GMutex lock;
    GCond cond;
    gboolean running;
    gboolean follows_size;
    int want_width, want_height; /* a size request not yet followed */
    guint requests;
    int last_width, last_height; /* of the last request */
    gint64 period_us;
};

static const guint8 bar_colors[8][3] = {
    { 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
    { 255, 0, 255 },   { 255, 0, 0 },   { 0, 0, 255 },   { 0, 0, 0 },
};
static const guint8 box_color[3] = { 255, 128, 0 };

static int counter_scale(int height)
{
    return MAX(1, height / 240);
}

VireoScanoutRect vireo_test_pattern_counter(int width, int height)
{
    int s = counter_scale(height);
    VireoScanoutRect r = { 0, 0, 0, 0 };

    /* Room for "frame " and ten digits, with a margin of 2 * s. */
    r.width = MIN(width, vireo_font_text_width("frame 0000000000", s) + 4 * s);
    r.height = MIN(height, vireo_font_text_height(s) + 4 * s);
    return r;
}

VireoScanoutRect vireo_test_pattern_box(int width, int height, guint frame)
{
    int bars_h = height * 2 / 3;
    int size = MAX(4, height / 8);
    int step = MAX(1, width / 128);
    int travel = MAX(1, width - size);
    VireoScanoutRect r;

    r.width = MIN(size, width);
    r.height = MIN(size, height);
    r.x = (int)(((guint64)frame * (guint64)step) % (guint64)travel);
    r.y = MAX(0, (bars_h - size) / 2);
    return r;
}

static gboolean inside(VireoScanoutRect r, int x, int y)
{
    return x >= r.x && y >= r.y && x < r.x + r.width && y < r.y + r.height;
}

static void base_color(int width, int height, int x, int y, guint8 rgb[3])
{
    if (y < height * 2 / 3) {
        const guint8 *c = bar_colors[MIN(7, x * 8 / MAX(1, width))];
        rgb[0] = c[0];
        rgb[1] = c[1];
        rgb[2] = c[2];
    } else {
        guint8 v = (guint8)(width > 1 ? x * 255 / (width - 1) : 0);
        rgb[0] = rgb[1] = rgb[2] = v;
    }
}

gboolean vireo_test_pattern_expected(int width, int height, guint frame, int x, int y,
                                     guint8 rgb[3])
{
    if (inside(vireo_test_pattern_counter(width, height), x, y)) {
        return FALSE;
    }
    if (inside(vireo_test_pattern_box(width, height, frame), x, y)) {
        rgb[0] = box_color[0];
        rgb[1] = box_color[1];
        rgb[2] = box_color[2];
        return TRUE;
    }
    base_color(width, height, x, y, rgb);
    return TRUE;
}

VireoTestPattern *vireo_test_pattern_new(VireoScanout *scanout, VireoPixelFormat format)
{
    VireoTestPattern *self = g_new0(VireoTestPattern, 1);

    self->scanout = scanout;
    self->format = format;
    g_mutex_init(&self->lock);
    g_cond_init(&self->cond);
    return self;
}

void vireo_test_pattern_free(VireoTestPattern *self)
{
    if (self == NULL) {
        return;
    }
    vireo_test_pattern_stop(self);
    g_free(self->pixels);
    g_mutex_clear(&self->lock);
    g_cond_clear(&self->cond);
    g_free(self);
}

guint vireo_test_pattern_get_frame(VireoTestPattern *self)
{
    return (guint)g_atomic_int_get(&self->frame);
}

/* Paints `r` of the image as frame `frame` has it, counter excepted. */
static void paint(VireoTestPattern *self, VireoScanoutRect r, guint frame)
{
    VireoScanoutRect box = vireo_test_pattern_box(self->width, self->height, frame);
    int x1 = MIN(r.x + r.width, self->width), y1 = MIN(r.y + r.height, self->height);

    for (int y = MAX(r.y, 0); y < y1; y++) {
        guint8 *p = self->pixels + (size_t)y * self->stride + (size_t)MAX(r.x, 0) * 4;
        for (int x = MAX(r.x, 0); x < x1; x++, p += 4) {
            guint8 rgb[3];
            if (inside(box, x, y)) {
                memcpy(rgb, box_color, 3);
            } else {
                base_color(self->width, self->height, x, y, rgb);
            }
            vireo_pixel_pack(self->format, rgb[0], rgb[1], rgb[2], 0xff, p);
        }
    }
}

static void paint_counter(VireoTestPattern *self, guint frame)
{
    VireoScanoutRect r = vireo_test_pattern_counter(self->width, self->height);
    int s = counter_scale(self->height);
    g_autofree char *text = g_strdup_printf("frame %u", frame);
    guint8 white[4], black[4];

    vireo_pixel_pack(self->format, 255, 255, 255, 0xff, white);
    vireo_pixel_pack(self->format, 0, 0, 0, 0xff, black);
    vireo_pixel_fill(self->pixels, self->stride, self->width, self->height, r.x, r.y, r.width,
                     r.height, white);
    vireo_font_draw(self->pixels, self->stride, r.width, r.height, 2 * s, 2 * s, s, text, black);
}

void vireo_test_pattern_resize(VireoTestPattern *self, int width, int height)
{
    guint frame = vireo_test_pattern_get_frame(self);
    VireoScanoutRect all = { 0, 0, width, height };

    if (width <= 0 || height <= 0 ||
        !vireo_scanout_set_mode(self->scanout, width, height, self->format)) {
        return;
    }
    g_free(self->pixels);
    self->width = width;
    self->height = height;
    self->stride = (size_t)width * 4;
    self->pixels = g_malloc(self->stride * (size_t)height);
    paint(self, all, frame);
    paint_counter(self, frame);
    vireo_scanout_update(self->scanout, self->pixels, self->stride, all);
}

void vireo_test_pattern_cursor_position(int width, int height, guint frame, int *x, int *y)
{
    double angle = (double)(frame % 360) * G_PI / 180.0 * 2.0;
    double radius = MIN(width, height) / 4.0;

    *x = width / 2 + (int)lround(radius * cos(angle));
    *y = height / 2 + (int)lround(radius * sin(angle));
}

void vireo_test_pattern_set_cursor(VireoTestPattern *self, gboolean enabled)
{
    self->cursor = enabled;
    if (!enabled) {
        vireo_scanout_set_cursor(self->scanout, NULL, 0, 0);
        return;
    }
    /* An arrow: white with a black outline, its tip on the hot spot. */
    {
        g_autofree uint32_t *argb = g_new0(uint32_t, VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE);
        const int rows = 18;
        int x, y;

        for (y = 0; y < rows; y++) {
            int w = y * 2 / 3 + 1;
            for (x = 0; x < w; x++) {
                gboolean edge = x == 0 || x == w - 1 || y == rows - 1;
                argb[y * VIREO_CURSOR_SIZE + x] = edge ? 0xff000000 : 0xffffffff;
            }
        }
        vireo_scanout_set_cursor(self->scanout, argb, 0, 0);
        vireo_test_pattern_cursor_position(self->width, self->height,
                                           vireo_test_pattern_get_frame(self), &x, &y);
        vireo_scanout_move_cursor(self->scanout, x, y, true);
    }
}

void vireo_test_pattern_draw_frame(VireoTestPattern *self, guint frame)
{
    guint old = vireo_test_pattern_get_frame(self);
    VireoScanoutRect old_box, new_box, counter;

    g_atomic_int_set(&self->frame, (gint)frame);
    if (self->pixels == NULL) {
        return;
    }
    old_box = vireo_test_pattern_box(self->width, self->height, old);
    new_box = vireo_test_pattern_box(self->width, self->height, frame);
    counter = vireo_test_pattern_counter(self->width, self->height);
    paint(self, old_box, frame);
    paint(self, new_box, frame);
    paint_counter(self, frame);
    /* Three updates, so presenters see damage accumulate between frames. */
    vireo_scanout_update(self->scanout, self->pixels, self->stride, old_box);
    vireo_scanout_update(self->scanout, self->pixels, self->stride, new_box);
    vireo_scanout_update(self->scanout, self->pixels, self->stride, counter);
    if (self->cursor) {
        int x, y;
        vireo_test_pattern_cursor_position(self->width, self->height, frame, &x, &y);
        vireo_scanout_move_cursor(self->scanout, x, y, true);
    }
}

static void on_size_request(void *opaque, int width, int height)
{
    VireoTestPattern *self = opaque;

    g_mutex_lock(&self->lock);
    self->want_width = width;
    self->want_height = height;
    self->requests++;
    self->last_width = width;
    self->last_height = height;
    g_cond_signal(&self->cond);
    g_mutex_unlock(&self->lock);
}

static gpointer producer(gpointer data)
{
    VireoTestPattern *self = data;
    gint64 next = g_get_monotonic_time();

    g_mutex_lock(&self->lock);
    while (self->running) {
        int w = self->want_width, h = self->want_height;
        self->want_width = self->want_height = 0;
        g_mutex_unlock(&self->lock);

        if (w > 0 && h > 0 && (w != self->width || h != self->height)) {
            vireo_test_pattern_resize(self, w, h);
        }
        vireo_test_pattern_draw_frame(self, vireo_test_pattern_get_frame(self) + 1);

        g_mutex_lock(&self->lock);
        next += self->period_us;
        if (next < g_get_monotonic_time()) {
            next = g_get_monotonic_time(); /* fell behind: do not catch up in a burst */
        }
        while (self->running && self->want_width == 0 && g_get_monotonic_time() < next) {
            g_cond_wait_until(&self->cond, &self->lock, next);
        }
    }
    g_mutex_unlock(&self->lock);
    return NULL;
}

void vireo_test_pattern_start(VireoTestPattern *self, double fps, gboolean follow_size)
{
    g_return_if_fail(self->thread == NULL);

    self->period_us = (gint64)(G_USEC_PER_SEC / CLAMP(fps, 1.0, 1000.0));
    self->running = TRUE;
    self->follows_size = follow_size;
    if (follow_size) {
        vireo_scanout_set_size_func(self->scanout, on_size_request, self);
    }
    self->thread = g_thread_new("test-pattern", producer, self);
}

guint vireo_test_pattern_get_size_requests(VireoTestPattern *self, int *width, int *height)
{
    guint n;

    g_mutex_lock(&self->lock);
    n = self->requests;
    *width = self->last_width;
    *height = self->last_height;
    g_mutex_unlock(&self->lock);
    return n;
}

void vireo_test_pattern_stop(VireoTestPattern *self)
{
    if (self->thread == NULL) {
        return;
    }
    if (self->follows_size) {
        vireo_scanout_set_size_func(self->scanout, NULL, NULL);
        self->follows_size = FALSE;
    }
    g_mutex_lock(&self->lock);
    self->running = FALSE;
    g_cond_signal(&self->cond);
    g_mutex_unlock(&self->lock);
    g_thread_join(self->thread);
    self->thread = NULL;
}
