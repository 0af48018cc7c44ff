/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The renderer on Mesa's llvmpipe through surfaceless EGL: no window
 * system, no GPU. It draws into a framebuffer object that each test reads
 * back. Run with --gles for an OpenGL ES 3.0 context instead of OpenGL 3.2
 * core.
 */
#include <string.h>

#include "display/pixel.h"
#include "display/renderer.h"
#include "engine/error.h"
#include "headless-gl.h"

static HeadlessGl gl;

/* Background used by the tests: (51, 102, 153). */
#define BG_R 51
#define BG_G 102
#define BG_B 153

static VireoRenderer *new_renderer(void)
{
    g_autoptr(GError) error = NULL;
    VireoRenderer *r = vireo_renderer_new(&error);

    g_assert_no_error(error);
    g_assert_nonnull(r);
    vireo_renderer_set_background(r, BG_R / 255.0f, BG_G / 255.0f, BG_B / 255.0f);
    return r;
}

static guint8 *render(VireoRenderer *r, int fb_w, int fb_h)
{
    headless_gl_set_size(&gl, fb_w, fb_h);
    vireo_renderer_draw(r, fb_w, fb_h);
    g_assert_cmpint(glGetError(), ==, GL_NO_ERROR);
    return headless_gl_read(&gl);
}

static const guint8 *at(const guint8 *fb, int fb_w, int x, int y)
{
    return fb + ((size_t)y * (size_t)fb_w + (size_t)x) * 4;
}

static gboolean is_rgb(const guint8 *p, int r, int g, int b, int tolerance)
{
    return ABS(p[0] - r) <= tolerance && ABS(p[1] - g) <= tolerance && ABS(p[2] - b) <= tolerance;
}

static gboolean is_bg(const guint8 *p)
{
    return is_rgb(p, BG_R, BG_G, BG_B, 1);
}

#define assert_rgb(p, r, g, b, tol)                                                              \
    do {                                                                                         \
        const guint8 *p_ = (p);                                                                  \
        if (!is_rgb(p_, r, g, b, tol)) {                                                         \
            g_error("%s:%d: got (%d, %d, %d), expected (%d, %d, %d)", __FILE__, __LINE__, p_[0], \
                    p_[1], p_[2], r, g, b);                                                      \
        }                                                                                        \
    } while (0)

static VireoScanoutFrame make_frame(const guint8 *pixels, size_t stride, int w, int h,
                                    VireoPixelFormat format, VireoScanoutRect damage,
                                    gboolean resized)
{
    VireoScanoutFrame f;

    memset(&f, 0, sizeof f);
    f.pixels = pixels;
    f.stride = stride;
    f.width = w;
    f.height = h;
    f.format = format;
    f.damage = damage;
    f.resized = resized;
    return f;
}

static void upload_ok(VireoRenderer *r, const VireoScanoutFrame *f)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(vireo_renderer_upload(r, f, &error));
    g_assert_no_error(error);
}

/* An image of random B8G8R8X8 pixels. */
static guint8 *random_image(int w, int h)
{
    guint8 *p = g_malloc((size_t)w * (size_t)h * 4);

    for (size_t i = 0; i < (size_t)w * (size_t)h * 4; i++) {
        p[i] = (guint8)g_test_rand_int_range(0, 256);
    }
    return p;
}

/* Whether the fb_w-wide readback shows `img` (B8G8R8X8, w x h) at (ox, oy)
 * with each guest pixel k x k device pixels. */
static void assert_image_at(const guint8 *fb, int fb_w, const guint8 *img, int w, int h, int ox,
                            int oy, int k)
{
    for (int y = 0; y < h * k; y++) {
        for (int x = 0; x < w * k; x++) {
            const guint8 *s = img + ((size_t)(y / k) * (size_t)w + (size_t)(x / k)) * 4;
            const guint8 *d = at(fb, fb_w, ox + x, oy + y);
            if (d[0] != s[2] || d[1] != s[1] || d[2] != s[0]) {
                g_error("device pixel (%d, %d) is (%d, %d, %d), guest pixel (%d, %d) is (%d, %d, "
                        "%d)",
                        ox + x, oy + y, d[0], d[1], d[2], x / k, y / k, s[2], s[1], s[0]);
            }
        }
    }
}

/* ---- Pixel formats --------------------------------------------------------- */

typedef struct {
    VireoPixelFormat format;
    guint8 bytes[4]; /* one pixel of colour (0x11, 0x22, 0x33), alpha 0x44 */
} FormatCase;

/* Written out by hand, independently of display/pixel.c. X bytes are 0 so
 * that a shader that used them as alpha would show. */
static const FormatCase format_cases[] = {
    { VIREO_PIXEL_B8G8R8X8, { 0x33, 0x22, 0x11, 0x00 } },
    { VIREO_PIXEL_B8G8R8A8, { 0x33, 0x22, 0x11, 0x44 } },
    { VIREO_PIXEL_R8G8B8X8, { 0x11, 0x22, 0x33, 0x00 } },
    { VIREO_PIXEL_R8G8B8A8, { 0x11, 0x22, 0x33, 0x44 } },
    { VIREO_PIXEL_X8R8G8B8, { 0x00, 0x11, 0x22, 0x33 } },
    { VIREO_PIXEL_A8R8G8B8, { 0x44, 0x11, 0x22, 0x33 } },
    { VIREO_PIXEL_X8B8G8R8, { 0x00, 0x33, 0x22, 0x11 } },
    { VIREO_PIXEL_A8B8G8R8, { 0x44, 0x33, 0x22, 0x11 } },
};

static void test_formats(void)
{
    VireoRenderer *r = new_renderer();

    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    for (guint i = 0; i < G_N_ELEMENTS(format_cases); i++) {
        const FormatCase *c = &format_cases[i];
        gboolean alpha = vireo_pixel_format_has_alpha(c->format);
        /* Two pixels: the case's colour, then pure red packed by pixel.c. */
        guint8 img[8];
        g_autofree guint8 *fb = NULL;
        VireoScanoutFrame f;

        memcpy(img, c->bytes, 4);
        vireo_pixel_pack(c->format, 0xff, 0, 0, 0xff, img + 4);
        f = make_frame(img, 8, 2, 1, c->format, (VireoScanoutRect){ 0, 0, 2, 1 }, TRUE);
        upload_ok(r, &f);
        fb = render(r, 2, 1);
        g_test_message("%s: (%02x %02x %02x %02x)", vireo_pixel_format_name(c->format), fb[0],
                       fb[1], fb[2], fb[3]);
        assert_rgb(fb, 0x11, 0x22, 0x33, 0);
        g_assert_cmpint(fb[3], ==, alpha ? 0x44 : 0xff);
        assert_rgb(fb + 4, 0xff, 0, 0, 0);
        g_assert_cmpint(fb[7], ==, 0xff);
    }
    vireo_renderer_free(r);
}

/* ---- Damage ----------------------------------------------------------------- */

/* Several partial updates through a real scanout; after each, the drawn
 * image is the source image. */
static void test_damage_through_scanout(void)
{
    const int w = 64, h = 48;
    VireoRenderer *r = new_renderer();
    VireoScanout *s = vireo_scanout_new();
    g_autofree guint8 *src = random_image(w, h);
    VireoScanoutFrame f;
    int id;

    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    g_assert_true(vireo_scanout_set_mode(s, w, h, VIREO_PIXEL_B8G8R8X8));
    id = vireo_scanout_attach(s, NULL, NULL);
    vireo_scanout_update(s, src, (size_t)w * 4, (VireoScanoutRect){ 0, 0, w, h });

    for (int round = 0; round < 25; round++) {
        g_autofree guint8 *fb = NULL;

        if (round > 0) {
            /* One to three updates between frames. */
            int n = g_test_rand_int_range(1, 4);
            for (int k = 0; k < n; k++) {
                VireoScanoutRect d;
                d.x = g_test_rand_int_range(0, w);
                d.y = g_test_rand_int_range(0, h);
                d.width = g_test_rand_int_range(1, w - d.x + 1);
                d.height = g_test_rand_int_range(1, h - d.y + 1);
                for (int y = d.y; y < d.y + d.height; y++) {
                    for (int x = d.x; x < d.x + d.width; x++) {
                        for (int b = 0; b < 4; b++) {
                            src[((size_t)y * w + (size_t)x) * 4 + (size_t)b] =
                                (guint8)g_test_rand_int_range(0, 256);
                        }
                    }
                }
                vireo_scanout_update(s, src, (size_t)w * 4, d);
            }
        }
        g_assert_true(vireo_scanout_acquire(s, id, &f));
        g_assert_true(round == 0 || !f.resized);
        g_assert_true(round > 0 || f.resized);
        upload_ok(r, &f);
        vireo_scanout_release(s, id);
        fb = render(r, w, h);
        assert_image_at(fb, w, src, w, h, 0, 0, 1);
    }
    vireo_scanout_detach(s, id);
    vireo_scanout_free(s);
    vireo_renderer_free(r);
}

/* Only the damaged rectangle is read: pixels outside it in the frame are
 * garbage, yet the old image stays there. */
static void test_damage_only(void)
{
    const int w = 32, h = 24;
    VireoRenderer *r = new_renderer();
    g_autofree guint8 *first = random_image(w, h);
    g_autofree guint8 *second = random_image(w, h);
    g_autofree guint8 *expect = g_memdup2(first, (gsize)w * h * 4);
    g_autofree guint8 *fb = NULL;
    VireoScanoutRect d = { 5, 7, 11, 9 };
    VireoScanoutFrame f;

    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    f = make_frame(first, (size_t)w * 4, w, h, VIREO_PIXEL_B8G8R8X8,
                   (VireoScanoutRect){ 0, 0, w, h }, TRUE);
    upload_ok(r, &f);
    f = make_frame(second, (size_t)w * 4, w, h, VIREO_PIXEL_B8G8R8X8, d, FALSE);
    upload_ok(r, &f);
    for (int y = d.y; y < d.y + d.height; y++) {
        memcpy(expect + ((size_t)y * w + (size_t)d.x) * 4,
               second + ((size_t)y * w + (size_t)d.x) * 4, (size_t)d.width * 4);
    }
    fb = render(r, w, h);
    assert_image_at(fb, w, expect, w, h, 0, 0, 1);
    vireo_renderer_free(r);
}

/* A frame whose rows are further apart than its width (a stride with
 * padding), updated in a rectangle away from the origin. */
static void test_stride(void)
{
    const int w = 20, h = 10;
    const size_t stride = 128;
    VireoRenderer *r = new_renderer();
    g_autofree guint8 *padded = g_malloc0(stride * h);
    g_autofree guint8 *packed = random_image(w, h);
    g_autofree guint8 *fb = NULL;
    VireoScanoutFrame f;

    for (int y = 0; y < h; y++) {
        memcpy(padded + (size_t)y * stride, packed + (size_t)y * w * 4, (size_t)w * 4);
    }
    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    f = make_frame(padded, stride, w, h, VIREO_PIXEL_B8G8R8X8, (VireoScanoutRect){ 0, 0, w, h },
                   TRUE);
    upload_ok(r, &f);
    fb = render(r, w, h);
    assert_image_at(fb, w, packed, w, h, 0, 0, 1);
    vireo_renderer_free(r);
}

/* ---- Placement ---------------------------------------------------------------- */

/* 40 x 30 in quadrants: red, green / blue, white. */
static guint8 *quadrants(void)
{
    guint8 *img = g_malloc(40 * 30 * 4);

    for (int y = 0; y < 30; y++) {
        for (int x = 0; x < 40; x++) {
            guint8 *p = img + ((size_t)y * 40 + (size_t)x) * 4;
            gboolean right = x >= 20, bottom = y >= 15;
            guint8 rr = !bottom ? (right ? 0 : 255) : (right ? 255 : 0);
            guint8 gg = !bottom ? (right ? 255 : 0) : (right ? 255 : 0);
            guint8 bb = bottom ? 255 : 0;
            vireo_pixel_pack(VIREO_PIXEL_B8G8R8X8, rr, gg, bb, 255, p);
        }
    }
    return img;
}

static VireoRenderer *renderer_with_quadrants(VireoScaleMode mode)
{
    VireoRenderer *r = new_renderer();
    g_autofree guint8 *img = quadrants();
    VireoScanoutFrame f = make_frame(img, 40 * 4, 40, 30, VIREO_PIXEL_B8G8R8X8,
                                     (VireoScanoutRect){ 0, 0, 40, 30 }, TRUE);

    vireo_renderer_set_scale_mode(r, mode);
    upload_ok(r, &f);
    return r;
}

/* The extent of non-background pixels on row y and column x. */
static void measure(const guint8 *fb, int fb_w, int fb_h, int row, int col, int *x0, int *x1,
                    int *y0, int *y1)
{
    *x0 = *y0 = G_MAXINT;
    *x1 = *y1 = -1;
    for (int x = 0; x < fb_w; x++) {
        if (!is_bg(at(fb, fb_w, x, row))) {
            *x0 = MIN(*x0, x);
            *x1 = MAX(*x1, x);
        }
    }
    for (int y = 0; y < fb_h; y++) {
        if (!is_bg(at(fb, fb_w, col, y))) {
            *y0 = MIN(*y0, y);
            *y1 = MAX(*y1, y);
        }
    }
}

static void test_fit(void)
{
    VireoRenderer *r = renderer_with_quadrants(VIREO_SCALE_FIT);
    g_autofree guint8 *fb = render(r, 200, 100);
    VireoRect v = vireo_renderer_get_view(r, 200, 100);
    int x0, x1, y0, y1, soft = 0;

    /* 40 x 30 in 200 x 100: full height, 133 wide (4:3), centred. */
    g_assert_cmpint(v.x, ==, 33);
    g_assert_cmpint(v.y, ==, 0);
    g_assert_cmpint(v.width, ==, 133);
    g_assert_cmpint(v.height, ==, 100);
    measure(fb, 200, 100, 25, 50, &x0, &x1, &y0, &y1);
    g_assert_cmpint(x0, ==, 33);
    g_assert_cmpint(x1, ==, 165);
    g_assert_cmpint(y0, ==, 0);
    g_assert_cmpint(y1, ==, 99);
    /* Aspect ratio within a pixel. */
    g_assert_cmpfloat(ABS((double)(x1 - x0 + 1) / (y1 - y0 + 1) - 40.0 / 30.0), <, 0.011);
    /* Background on both sides, the quadrants inside. */
    assert_rgb(at(fb, 200, 0, 50), BG_R, BG_G, BG_B, 1);
    assert_rgb(at(fb, 200, 199, 50), BG_R, BG_G, BG_B, 1);
    assert_rgb(at(fb, 200, 60, 20), 255, 0, 0, 0);
    assert_rgb(at(fb, 200, 140, 20), 0, 255, 0, 0);
    assert_rgb(at(fb, 200, 60, 80), 0, 0, 255, 0);
    assert_rgb(at(fb, 200, 140, 80), 255, 255, 255, 0);
    /* 3.33 device pixels per texel: sharp bilinear, so the red-green edge
     * is at most one blended pixel wide. */
    g_assert_true(vireo_renderer_get_last_filter_sharp(r));
    for (int x = x0; x <= x1; x++) {
        const guint8 *p = at(fb, 200, x, 20);
        if (!is_rgb(p, 255, 0, 0, 0) && !is_rgb(p, 0, 255, 0, 0)) {
            soft++;
        }
    }
    g_assert_cmpint(soft, <=, 1);
    vireo_renderer_free(r);
}

static void test_integer(void)
{
    VireoRenderer *r = new_renderer();
    g_autofree guint8 *img = random_image(40, 30);
    g_autofree guint8 *fb = NULL;
    VireoScanoutFrame f = make_frame(img, 40 * 4, 40, 30, VIREO_PIXEL_B8G8R8X8,
                                     (VireoScanoutRect){ 0, 0, 40, 30 }, TRUE);
    int x0, x1, y0, y1;

    vireo_renderer_set_scale_mode(r, VIREO_SCALE_INTEGER);
    upload_ok(r, &f);
    /* 200 x 100 holds 3 x (120 x 90), at (40, 5); every texel a 3 x 3
     * block, exactly. */
    fb = render(r, 200, 100);
    g_assert_false(vireo_renderer_get_last_filter_sharp(r));
    assert_image_at(fb, 200, img, 40, 30, 40, 5, 3);
    measure(fb, 200, 100, 50, 100, &x0, &x1, &y0, &y1);
    g_assert_cmpint(x0, >=, 40);
    g_assert_cmpint(x1, <=, 159);
    g_assert_cmpint(y0, >=, 5);
    g_assert_cmpint(y1, <=, 94);
    assert_rgb(at(fb, 200, 39, 50), BG_R, BG_G, BG_B, 1);
    assert_rgb(at(fb, 200, 160, 50), BG_R, BG_G, BG_B, 1);
    assert_rgb(at(fb, 200, 100, 4), BG_R, BG_G, BG_B, 1);
    assert_rgb(at(fb, 200, 100, 95), BG_R, BG_G, BG_B, 1);
    vireo_renderer_free(r);
}

static void test_native(void)
{
    VireoRenderer *r = new_renderer();
    g_autofree guint8 *img = random_image(40, 30);
    g_autofree guint8 *fb = NULL;
    VireoScanoutFrame f = make_frame(img, 40 * 4, 40, 30, VIREO_PIXEL_B8G8R8X8,
                                     (VireoScanoutRect){ 0, 0, 40, 30 }, TRUE);

    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    upload_ok(r, &f);
    fb = render(r, 200, 100);
    assert_image_at(fb, 200, img, 40, 30, 80, 35, 1);
    assert_rgb(at(fb, 200, 79, 40), BG_R, BG_G, BG_B, 1);
    assert_rgb(at(fb, 200, 120, 40), BG_R, BG_G, BG_B, 1);
    assert_rgb(at(fb, 200, 90, 34), BG_R, BG_G, BG_B, 1);
    assert_rgb(at(fb, 200, 90, 65), BG_R, BG_G, BG_B, 1);
    g_assert_false(vireo_renderer_get_last_filter_sharp(r));
    vireo_renderer_free(r);
}

/* One-texel black and white stripes at 2.5 device pixels per texel: each
 * device pixel is the texel under it, except where a texel edge crosses
 * it, where it is the area-weighted blend of the two. */
static void test_sharp_bilinear(void)
{
    VireoRenderer *r = new_renderer();
    guint8 img[10 * 4 * 4];
    g_autofree guint8 *fb = NULL;
    VireoScanoutFrame f;
    int blended = 0;

    for (int y = 0; y < 4; y++) {
        for (int x = 0; x < 10; x++) {
            guint8 v = x % 2 ? 255 : 0;
            vireo_pixel_pack(VIREO_PIXEL_R8G8B8X8, v, v, v, 255, img + (y * 10 + x) * 4);
        }
    }
    f = make_frame(img, 40, 10, 4, VIREO_PIXEL_R8G8B8X8, (VireoScanoutRect){ 0, 0, 10, 4 }, TRUE);
    vireo_renderer_set_scale_mode(r, VIREO_SCALE_FIT);
    upload_ok(r, &f);
    fb = render(r, 25, 10);
    g_assert_true(vireo_renderer_get_last_filter_sharp(r));
    for (int x = 0; x < 25; x++) {
        double left = x / 2.5, right = (x + 1) / 2.5; /* the pixel's footprint in texels */
        int t0 = (int)left, t1 = (int)(right - 1e-9);
        double expect;
        int got = at(fb, 25, x, 5)[0];

        if (t0 == t1) {
            expect = t0 % 2 ? 255 : 0;
        } else {
            /* Crosses the edge at texel t1: the share of each side. */
            double share1 = (right - t1) / (right - left);
            expect = 255.0 * ((t1 % 2 ? share1 : 0) + (t0 % 2 ? 1 - share1 : 0));
            blended++;
        }
        if (ABS(got - expect) > 3) {
            g_error("pixel %d: %d, expected %.1f", x, got, expect);
        }
    }
    /* Nine edges inside, each crossing at most one pixel. */
    g_assert_cmpint(blended, <=, 9);
    vireo_renderer_free(r);
}

/* ---- Cursor ----------------------------------------------------------------- */

static uint32_t *test_cursor(void)
{
    uint32_t *c = g_new0(uint32_t, VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE);

    for (int y = 10; y < 14; y++) {
        for (int x = 10; x < 14; x++) {
            c[y * VIREO_CURSOR_SIZE + x] = 0xffff0000; /* opaque red */
        }
    }
    c[10 * VIREO_CURSOR_SIZE + 14] = 0x8000ff00; /* half-transparent green */
    return c;
}

static void test_cursor_placement(void)
{
    VireoRenderer *r = new_renderer();
    g_autofree guint8 *img = g_malloc(40 * 30 * 4);
    g_autofree uint32_t *cursor = test_cursor();
    VireoScanoutFrame f;

    memset(img, 128, 40 * 30 * 4);
    f = make_frame(img, 40 * 4, 40, 30, VIREO_PIXEL_B8G8R8X8, (VireoScanoutRect){ 0, 0, 40, 30 },
                   TRUE);
    f.cursor = cursor;
    f.cursor_serial = 1;
    f.cursor_x = 20;
    f.cursor_y = 15;
    f.cursor_hot_x = 10;
    f.cursor_hot_y = 10;
    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    upload_ok(r, &f);

    {
        /* 1:1: the red block at (20..23, 15..18), the half-green pixel next
         * to it blended over grey, grey around. */
        g_autofree guint8 *fb = render(r, 40, 30);
        for (int y = 15; y < 19; y++) {
            for (int x = 20; x < 24; x++) {
                assert_rgb(at(fb, 40, x, y), 255, 0, 0, 0);
            }
        }
        assert_rgb(at(fb, 40, 24, 15), 64, 192, 64, 2);
        assert_rgb(at(fb, 40, 19, 15), 128, 128, 128, 0);
        assert_rgb(at(fb, 40, 24, 16), 128, 128, 128, 0);
        assert_rgb(at(fb, 40, 20, 19), 128, 128, 128, 0);
    }
    {
        /* Twice the size: the block is 8 x 8 at (40, 30). */
        g_autofree guint8 *fb = NULL;
        vireo_renderer_set_scale_mode(r, VIREO_SCALE_INTEGER);
        fb = render(r, 80, 60);
        assert_rgb(at(fb, 80, 40, 30), 255, 0, 0, 0);
        assert_rgb(at(fb, 80, 47, 37), 255, 0, 0, 0);
        assert_rgb(at(fb, 80, 39, 30), 128, 128, 128, 0);
        assert_rgb(at(fb, 80, 48, 38), 128, 128, 128, 0);
    }
    {
        /* Near the image's right edge, inside a larger framebuffer: the part
         * beyond the image is not drawn over the background. */
        g_autofree guint8 *fb = NULL;
        VireoScanoutFrame g = f;
        g.damage = (VireoScanoutRect){ 0, 0, 0, 0 };
        g.resized = FALSE;
        g.cursor_x = 38;
        g.cursor_y = 5;
        upload_ok(r, &g);
        vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
        fb = render(r, 100, 80); /* image at (30, 25) */
        assert_rgb(at(fb, 100, 30 + 38, 25 + 5), 255, 0, 0, 0);
        assert_rgb(at(fb, 100, 30 + 39, 25 + 5), 255, 0, 0, 0);
        assert_rgb(at(fb, 100, 30 + 40, 25 + 5), BG_R, BG_G, BG_B, 1);
        assert_rgb(at(fb, 100, 30 + 41, 25 + 6), BG_R, BG_G, BG_B, 1);
    }
    {
        /* Hidden. */
        g_autofree guint8 *fb = NULL;
        VireoScanoutFrame g = f;
        g.damage = (VireoScanoutRect){ 0, 0, 0, 0 };
        g.resized = FALSE;
        g.cursor = NULL;
        upload_ok(r, &g);
        fb = render(r, 40, 30);
        assert_rgb(at(fb, 40, 20, 15), 128, 128, 128, 0);
    }
    vireo_renderer_free(r);
}

static void test_cursor_premultiplied(void)
{
    VireoRenderer *r = new_renderer();
    g_autofree guint8 *img = g_malloc(40 * 30 * 4);
    g_autofree uint32_t *cursor = test_cursor();
    g_autofree guint8 *fb = NULL;
    VireoScanoutFrame f;

    memset(img, 128, 40 * 30 * 4);
    cursor[10 * VIREO_CURSOR_SIZE + 14] = 0x80008000; /* half green, premultiplied */
    f = make_frame(img, 40 * 4, 40, 30, VIREO_PIXEL_B8G8R8X8, (VireoScanoutRect){ 0, 0, 40, 30 },
                   TRUE);
    f.cursor = cursor;
    f.cursor_serial = 7;
    f.cursor_x = 20;
    f.cursor_y = 15;
    f.cursor_hot_x = 10;
    f.cursor_hot_y = 10;
    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    vireo_renderer_set_cursor_premultiplied(r, TRUE);
    upload_ok(r, &f);
    fb = render(r, 40, 30);
    assert_rgb(at(fb, 40, 24, 15), 64, 192, 64, 2);
    vireo_renderer_free(r);
}

/* ---- Modes and failures --------------------------------------------------------- */

static void test_resize(void)
{
    VireoRenderer *r = new_renderer();
    VireoScanout *s = vireo_scanout_new();
    guint8 red[4], green[4];
    g_autofree guint8 *a = g_malloc(32 * 32 * 4);
    g_autofree guint8 *b = g_malloc(48 * 16 * 4);
    VireoScanoutFrame f;
    int id, w, h;

    vireo_pixel_pack(VIREO_PIXEL_X8R8G8B8, 255, 0, 0, 255, red);
    vireo_pixel_pack(VIREO_PIXEL_R8G8B8A8, 0, 255, 0, 255, green);
    vireo_pixel_fill(a, 32 * 4, 32, 32, 0, 0, 32, 32, red);
    vireo_pixel_fill(b, 48 * 4, 48, 16, 0, 0, 48, 16, green);
    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    id = vireo_scanout_attach(s, NULL, NULL);

    vireo_scanout_set_mode(s, 32, 32, VIREO_PIXEL_X8R8G8B8);
    vireo_scanout_update(s, a, 32 * 4, (VireoScanoutRect){ 0, 0, 32, 32 });
    g_assert_true(vireo_scanout_acquire(s, id, &f));
    upload_ok(r, &f);
    vireo_scanout_release(s, id);
    {
        g_autofree guint8 *fb = render(r, 64, 64);
        assert_rgb(at(fb, 64, 16, 16), 255, 0, 0, 0);
        assert_rgb(at(fb, 64, 47, 47), 255, 0, 0, 0);
        assert_rgb(at(fb, 64, 15, 15), BG_R, BG_G, BG_B, 1);
    }

    vireo_scanout_set_mode(s, 48, 16, VIREO_PIXEL_R8G8B8A8);
    vireo_scanout_update(s, b, 48 * 4, (VireoScanoutRect){ 0, 0, 48, 16 });
    g_assert_true(vireo_scanout_acquire(s, id, &f));
    g_assert_true(f.resized);
    upload_ok(r, &f);
    vireo_scanout_release(s, id);
    vireo_renderer_get_image_size(r, &w, &h);
    g_assert_cmpint(w, ==, 48);
    g_assert_cmpint(h, ==, 16);
    {
        /* 48 x 16 at (8, 24). */
        g_autofree guint8 *fb = render(r, 64, 64);
        assert_rgb(at(fb, 64, 8, 24), 0, 255, 0, 0);
        assert_rgb(at(fb, 64, 55, 39), 0, 255, 0, 0);
        assert_rgb(at(fb, 64, 7, 30), BG_R, BG_G, BG_B, 1);
        assert_rgb(at(fb, 64, 30, 23), BG_R, BG_G, BG_B, 1);
        assert_rgb(at(fb, 64, 30, 40), BG_R, BG_G, BG_B, 1);
    }

    /* Output off: the background only. */
    vireo_scanout_set_mode(s, 0, 0, VIREO_PIXEL_B8G8R8X8);
    g_assert_true(vireo_scanout_acquire(s, id, &f));
    g_assert_null(f.pixels);
    upload_ok(r, &f);
    vireo_scanout_release(s, id);
    {
        g_autofree guint8 *fb = render(r, 64, 64);
        for (int y = 0; y < 64; y += 7) {
            for (int x = 0; x < 64; x += 7) {
                assert_rgb(at(fb, 64, x, y), BG_R, BG_G, BG_B, 1);
            }
        }
    }
    vireo_scanout_detach(s, id);
    vireo_scanout_free(s);
    vireo_renderer_free(r);
}

static void test_to_guest(void)
{
    VireoRenderer *r = renderer_with_quadrants(VIREO_SCALE_FIT);
    int gx = -1, gy = -1;

    /* The image spans x 33..165 of 200 x 100. */
    g_assert_true(vireo_renderer_to_guest(r, 200, 100, 33.0, 0.0, &gx, &gy));
    g_assert_cmpint(gx, ==, 0);
    g_assert_cmpint(gy, ==, 0);
    g_assert_true(vireo_renderer_to_guest(r, 200, 100, 165.9, 99.9, &gx, &gy));
    g_assert_cmpint(gx, ==, 39);
    g_assert_cmpint(gy, ==, 29);
    g_assert_true(vireo_renderer_to_guest(r, 200, 100, 99.5, 50.0, &gx, &gy));
    g_assert_cmpint(gx, ==, 20);
    g_assert_cmpint(gy, ==, 15);
    g_assert_false(vireo_renderer_to_guest(r, 200, 100, 10.0, 50.0, &gx, &gy));
    g_assert_false(vireo_renderer_to_guest(r, 200, 100, 190.0, 50.0, &gx, &gy));
    vireo_renderer_free(r);
}

/* Counts pixels of one colour. */
static int count_rgb(const guint8 *fb, int w, int h, int r, int g, int b)
{
    int n = 0;

    for (int i = 0; i < w * h; i++) {
        n += is_rgb(fb + (size_t)i * 4, r, g, b, 0);
    }
    return n;
}

static void test_message(void)
{
    VireoRenderer *r = renderer_with_quadrants(VIREO_SCALE_FIT);
    g_autofree guint8 *img = random_image(40, 30);
    VireoScanoutFrame f;
    int w, h;

    vireo_renderer_show_message(r, "No display device", "Nothing to show");
    vireo_renderer_get_image_size(r, &w, &h);
    g_assert_cmpint(w, ==, 0);
    {
        /* The picture, drawn 1:1 at the framebuffer's size: its dark
         * background and light title, neither black nor the renderer's
         * background. */
        g_autofree guint8 *fb = render(r, 320, 200);
        int title = count_rgb(fb, 320, 200, 0xf2, 0xf3, 0xf5);
        int picture_bg = count_rgb(fb, 320, 200, 0x24, 0x27, 0x2e);
        g_assert_cmpint(title, >, 100);
        g_assert_cmpint(picture_bg, >, 320 * 200 / 2);
        g_assert_cmpint(count_rgb(fb, 320, 200, 0, 0, 0), ==, 0);
    }
    /* The next frame replaces it, even with a small damage rectangle. */
    f = make_frame(img, 40 * 4, 40, 30, VIREO_PIXEL_B8G8R8X8, (VireoScanoutRect){ 1, 1, 2, 2 },
                   FALSE);
    vireo_renderer_set_scale_mode(r, VIREO_SCALE_NATIVE);
    upload_ok(r, &f);
    {
        g_autofree guint8 *fb = render(r, 40, 30);
        assert_image_at(fb, 40, img, 40, 30, 0, 0, 1);
    }
    vireo_renderer_free(r);
}

static void test_too_large(void)
{
    VireoRenderer *r = new_renderer();
    g_autoptr(GError) error = NULL;
    GLint max = 0;
    guint8 dummy[4] = { 0 };
    VireoScanoutFrame f;

    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max);
    f = make_frame(dummy, (size_t)(max + 1) * 4, max + 1, 8, VIREO_PIXEL_B8G8R8X8,
                   (VireoScanoutRect){ 0, 0, max + 1, 8 }, TRUE);
    g_assert_false(vireo_renderer_upload(r, &f, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE);
    g_test_message("%s", error->message);
    {
        /* It says so on screen rather than drawing nothing. */
        g_autofree guint8 *fb = render(r, 320, 200);
        g_assert_cmpint(count_rgb(fb, 320, 200, 0xf2, 0xf3, 0xf5), >, 100);
    }
    vireo_renderer_free(r);
}

int main(int argc, char *argv[])
{
    g_autoptr(GError) error = NULL;
    gboolean gles = FALSE;
    int status;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--gles") == 0) {
            gles = TRUE;
            memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof argv[0]);
            argc--;
            break;
        }
    }
    g_test_init(&argc, &argv, NULL);
    if (!headless_gl_init(&gl, gles, &error)) {
        g_printerr("Bail out! cannot start OpenGL without a window system: %s\n", error->message);
        return 1;
    }
    g_test_message("%s, %s", (const char *)glGetString(GL_RENDERER),
                   (const char *)glGetString(GL_VERSION));

    g_test_add_func("/renderer/formats", test_formats);
    g_test_add_func("/renderer/damage/scanout", test_damage_through_scanout);
    g_test_add_func("/renderer/damage/only-damage", test_damage_only);
    g_test_add_func("/renderer/damage/stride", test_stride);
    g_test_add_func("/renderer/placement/fit", test_fit);
    g_test_add_func("/renderer/placement/integer", test_integer);
    g_test_add_func("/renderer/placement/native", test_native);
    g_test_add_func("/renderer/sharp-bilinear", test_sharp_bilinear);
    g_test_add_func("/renderer/cursor/placement", test_cursor_placement);
    g_test_add_func("/renderer/cursor/premultiplied", test_cursor_premultiplied);
    g_test_add_func("/renderer/resize", test_resize);
    g_test_add_func("/renderer/to-guest", test_to_guest);
    g_test_add_func("/renderer/message", test_message);
    g_test_add_func("/renderer/too-large", test_too_large);
    status = g_test_run();
    headless_gl_fini(&gl);
    return status;
}
