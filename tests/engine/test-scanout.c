/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/scanout.h"

#include <string.h>

#define W 320
#define H 200

static void fill(guint8 *img, VireoScanoutRect r, uint32_t color)
{
    for (int y = r.y; y < r.y + r.height; y++) {
        for (int x = r.x; x < r.x + r.width; x++) {
            memcpy(img + ((size_t)y * W + (size_t)x) * 4, &color, 4);
        }
    }
}

/* Copy the frame's damaged region into a presenter-side mirror. */
static void apply(guint8 *mirror, const VireoScanoutFrame *f)
{
    for (int y = f->damage.y; y < f->damage.y + f->damage.height; y++) {
        memcpy(mirror + ((size_t)y * W + (size_t)f->damage.x) * 4,
               f->pixels + (size_t)y * f->stride + (size_t)f->damage.x * 4,
               (size_t)f->damage.width * 4);
    }
}

static void test_scanout_basic(void)
{
    VireoScanout *s = vireo_scanout_new();
    guint8 *src = g_malloc0(W * H * 4);
    VireoScanoutFrame f;
    int p;

    g_assert_true(vireo_scanout_set_mode(s, W, H, VIREO_PIXEL_B8G8R8X8));
    p = vireo_scanout_attach(s, NULL, NULL);
    g_assert_cmpint(p, >=, 0);
    /* The first frame is a resize reporting the whole image. */
    g_assert_true(vireo_scanout_acquire(s, p, &f));
    g_assert_true(f.resized);
    g_assert_cmpint(f.damage.width, ==, W);
    g_assert_cmpint(f.damage.height, ==, H);
    vireo_scanout_release(s, p);
    g_assert_false(vireo_scanout_acquire(s, p, &f));

    fill(src, (VireoScanoutRect){ 10, 20, 30, 40 }, 0x00ff8040);
    vireo_scanout_update(s, src, W * 4, (VireoScanoutRect){ 10, 20, 30, 40 });
    g_assert_true(vireo_scanout_acquire(s, p, &f));
    g_assert_false(f.resized);
    g_assert_cmpint(f.damage.x, ==, 10);
    g_assert_cmpint(f.damage.y, ==, 20);
    g_assert_cmpint(f.damage.width, ==, 30);
    g_assert_cmpint(f.damage.height, ==, 40);
    g_assert_cmpmem(f.pixels + (25 * W + 15) * 4, 4, src + (25 * W + 15) * 4, 4);
    vireo_scanout_release(s, p);

    /* Guest rectangles outside the mode are clipped, never overflow. */
    vireo_scanout_update(s, src, W * 4, (VireoScanoutRect){ -100, H - 5, G_MAXINT, G_MAXINT });
    g_assert_true(vireo_scanout_acquire(s, p, &f));
    g_assert_cmpint(f.damage.x, ==, 0);
    g_assert_cmpint(f.damage.y, ==, H - 5);
    g_assert_cmpint(f.damage.width, ==, W);
    g_assert_cmpint(f.damage.height, ==, 5);
    vireo_scanout_release(s, p);
    vireo_scanout_update(s, src, W * 4, (VireoScanoutRect){ W + 10, 0, 5, 5 });

    /* Bad modes are refused; switching off gives a frame without pixels. */
    g_assert_false(vireo_scanout_set_mode(s, VIREO_SCANOUT_MAX_SIZE + 1, 10, VIREO_PIXEL_B8G8R8X8));
    g_assert_false(vireo_scanout_set_mode(s, -1, 10, VIREO_PIXEL_B8G8R8X8));
    g_assert_false(vireo_scanout_set_mode(s, 0, 10, VIREO_PIXEL_B8G8R8X8));
    g_assert_true(vireo_scanout_set_mode(s, 0, 0, VIREO_PIXEL_B8G8R8X8));
    g_assert_true(vireo_scanout_acquire(s, p, &f));
    g_assert_true(f.resized);
    g_assert_null(f.pixels);
    vireo_scanout_release(s, p);
    vireo_scanout_detach(s, p);
    vireo_scanout_free(s);
    g_free(src);
}

static void test_scanout_two_presenters_and_cursor(void)
{
    VireoScanout *s = vireo_scanout_new();
    guint8 *src = g_malloc0(W * H * 4);
    uint32_t cursor[VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE] = { 0xff00ff00 };
    VireoScanoutFrame f;
    int a, b;

    vireo_scanout_set_mode(s, W, H, VIREO_PIXEL_B8G8R8X8);
    a = vireo_scanout_attach(s, NULL, NULL);
    b = vireo_scanout_attach(s, NULL, NULL);
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    vireo_scanout_release(s, a);
    /* While b reads, updates are published into the back buffer and swap
     * in when b releases. */
    g_assert_true(vireo_scanout_acquire(s, b, &f));
    const guint8 *b_pixels = f.pixels;
    fill(src, (VireoScanoutRect){ 0, 0, 8, 8 }, 0x11111111);
    vireo_scanout_update(s, src, W * 4, (VireoScanoutRect){ 0, 0, 8, 8 });
    g_assert_cmpuint(b_pixels[0], ==, 0);            /* b's frame did not change under it */
    g_assert_false(vireo_scanout_acquire(s, a, &f)); /* nothing swapped in yet */
    vireo_scanout_release(s, b);
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    g_assert_cmpuint(f.pixels[0], ==, 0x11);
    g_assert_cmpint(f.damage.width, ==, 8);
    vireo_scanout_release(s, a);

    vireo_scanout_set_cursor(s, cursor, 3, 100);
    vireo_scanout_move_cursor(s, 50, 60, true);
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    g_assert_nonnull(f.cursor);
    g_assert_cmphex(f.cursor[0], ==, 0xff00ff00);
    g_assert_cmpint(f.cursor_hot_x, ==, 3);
    g_assert_cmpint(f.cursor_hot_y, ==, VIREO_CURSOR_SIZE - 1);
    g_assert_cmpint(f.cursor_x, ==, 50);
    g_assert_cmpint(f.damage.width, ==, 0);
    vireo_scanout_release(s, a);
    vireo_scanout_move_cursor(s, 50, 60, false);
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    g_assert_null(f.cursor);
    vireo_scanout_release(s, a);
    vireo_scanout_free(s);
    g_free(src);
}

typedef struct {
    VireoScanout *s;
    guint8 *src;
    int updates;
    gint done;
} Producer;

static gpointer producer(gpointer data)
{
    Producer *pr = data;
    GRand *rand = g_rand_new_with_seed(1234);

    for (int i = 0; i < pr->updates; i++) {
        VireoScanoutRect r;
        r.x = g_rand_int_range(rand, 0, W);
        r.y = g_rand_int_range(rand, 0, H);
        r.width = g_rand_int_range(rand, 1, W - r.x + 1);
        r.height = g_rand_int_range(rand, 1, H - r.y + 1);
        fill(pr->src, r, g_rand_int(rand));
        vireo_scanout_update(pr->s, pr->src, W * 4, r);
    }
    g_rand_free(rand);
    g_atomic_int_set(&pr->done, 1);
    return NULL;
}

/* A producer and a presenter on two threads: the presenter uploads only the
 * damage it is told of, yet ends with exactly the producer's image, and the
 * producer never waits for it. */
static void test_scanout_threads(void)
{
    Producer pr = { vireo_scanout_new(), g_malloc0(W * H * 4), 20000, 0 };
    guint8 *mirror = g_malloc0(W * H * 4);
    VireoScanoutFrame f;
    GThread *thread;
    int p, frames = 0;

    vireo_scanout_set_mode(pr.s, W, H, VIREO_PIXEL_B8G8R8X8);
    p = vireo_scanout_attach(pr.s, NULL, NULL);
    thread = g_thread_new("producer", producer, &pr);
    while (!g_atomic_int_get(&pr.done)) {
        if (vireo_scanout_acquire(pr.s, p, &f)) {
            apply(mirror, &f);
            frames++;
            vireo_scanout_release(pr.s, p);
        }
    }
    g_thread_join(thread);
    while (vireo_scanout_acquire(pr.s, p, &f)) {
        apply(mirror, &f);
        vireo_scanout_release(pr.s, p);
    }
    g_assert_cmpint(frames, >, 0);
    g_assert_true(memcmp(mirror, pr.src, W * H * 4) == 0);
    vireo_scanout_free(pr.s);
    g_free(pr.src);
    g_free(mirror);
}

typedef struct {
    gint in_call, finished;
} SlowPresenter;

static void slow_notify(void *opaque)
{
    SlowPresenter *sp = opaque;
    g_atomic_int_set(&sp->in_call, 1);
    g_usleep(50000);
    g_atomic_int_set(&sp->finished, 1);
}

static gpointer update_once(gpointer data)
{
    VireoScanout *s = data;
    static guint8 src[W * H * 4];
    vireo_scanout_update(s, src, W * 4, (VireoScanoutRect){ 0, 0, 4, 4 });
    return NULL;
}

/* Detaching waits for a notify call that is already running, so the
 * presenter can free its state right after. */
static void test_scanout_detach_waits(void)
{
    VireoScanout *s = vireo_scanout_new();
    SlowPresenter *sp = g_new0(SlowPresenter, 1);
    GThread *t;
    int p;

    vireo_scanout_set_mode(s, W, H, VIREO_PIXEL_B8G8R8X8);
    p = vireo_scanout_attach(s, slow_notify, sp);
    t = g_thread_new("update", update_once, s);
    while (!g_atomic_int_get(&sp->in_call)) {
        g_thread_yield();
    }
    vireo_scanout_detach(s, p);
    g_assert_cmpint(g_atomic_int_get(&sp->finished), ==, 1);
    g_thread_join(t);
    g_free(sp);
    vireo_scanout_free(s);
}

static void record_size(void *opaque, int width, int height)
{
    int *got = opaque;
    got[0] = width;
    got[1] = height;
    got[2]++;
}

static void test_scanout_size_request(void)
{
    VireoScanout *s = vireo_scanout_new();
    int got[3] = { 0, 0, 0 };

    vireo_scanout_request_size(s, 800, 600); /* no device listening: dropped */
    vireo_scanout_set_size_func(s, record_size, got);
    vireo_scanout_request_size(s, 1280, 720);
    g_assert_cmpint(got[0], ==, 1280);
    g_assert_cmpint(got[1], ==, 720);
    vireo_scanout_request_size(s, 0, 720); /* meaningless sizes are not passed on */
    g_assert_cmpint(got[2], ==, 1);
    vireo_scanout_request_size(s, 100000, 100000);
    g_assert_cmpint(got[0], ==, VIREO_SCANOUT_MAX_SIZE);
    g_assert_cmpint(got[2], ==, 2);
    vireo_scanout_free(s);
}

static void slow_size(void *opaque, int width, int height)
{
    SlowPresenter *sp = opaque;
    g_atomic_int_set(&sp->in_call, 1);
    g_usleep(50000);
    g_atomic_int_set(&sp->finished, 1);
}

static gpointer request_once(gpointer data)
{
    vireo_scanout_request_size(data, 640, 480);
    return NULL;
}

/* Replacing the size function waits for a call of the old one, so the
 * device may go away right after. */
static void test_scanout_size_func_waits(void)
{
    VireoScanout *s = vireo_scanout_new();
    SlowPresenter *sp = g_new0(SlowPresenter, 1);
    GThread *t;

    vireo_scanout_set_size_func(s, slow_size, sp);
    t = g_thread_new("request", request_once, s);
    while (!g_atomic_int_get(&sp->in_call)) {
        g_thread_yield();
    }
    vireo_scanout_set_size_func(s, NULL, NULL);
    g_assert_cmpint(g_atomic_int_get(&sp->finished), ==, 1);
    g_thread_join(t);
    g_free(sp);
    vireo_scanout_free(s);
}

static void count_call(void *opaque)
{
    (*(int *)opaque)++;
}

/* Texture mode: a presenter of the texture's GL provider gets the texture,
 * any other one the pixels, and the device learns when pixels are
 * needed. The provider is only compared, never called. */
static void test_scanout_texture(void)
{
    VireoScanout *s = vireo_scanout_new();
    VireoGlProvider provider = { NULL, false, "test" }, other = { NULL, false, "other" };
    VireoScanoutTexture tex = { 7, &provider, 100, 80, { 10, 20, 64, 48 }, true };
    VireoScanoutTexture bad = tex;
    guint8 *src = g_malloc0(64 * 48 * 4);
    VireoScanoutFrame f;
    int pixel_calls = 0;
    int a, b;

    vireo_scanout_set_pixels_func(s, count_call, &pixel_calls);
    a = vireo_scanout_attach(s, NULL, NULL);
    vireo_scanout_set_presenter_gl(s, a, &provider);
    g_assert_true(vireo_scanout_needs_pixels(s)); /* no texture yet */
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    vireo_scanout_release(s, a);

    /* Rectangles outside the texture, empty ones, no texture name. */
    bad.rect = (VireoScanoutRect){ 40, 40, 64, 48 };
    g_assert_false(vireo_scanout_set_texture(s, &bad, VIREO_PIXEL_B8G8R8X8));
    bad.rect = (VireoScanoutRect){ -1, 0, 10, 10 };
    g_assert_false(vireo_scanout_set_texture(s, &bad, VIREO_PIXEL_B8G8R8X8));
    bad.rect = (VireoScanoutRect){ 0, 0, 0, 10 };
    g_assert_false(vireo_scanout_set_texture(s, &bad, VIREO_PIXEL_B8G8R8X8));
    bad = tex;
    bad.name = 0;
    g_assert_false(vireo_scanout_set_texture(s, &bad, VIREO_PIXEL_B8G8R8X8));

    g_assert_true(vireo_scanout_set_texture(s, &tex, VIREO_PIXEL_B8G8R8X8));
    g_assert_false(vireo_scanout_needs_pixels(s));
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    g_assert_true(f.resized);
    g_assert_cmpint(f.width, ==, 64);
    g_assert_cmpint(f.height, ==, 48);
    g_assert_cmpuint(f.texture, ==, 7);
    g_assert_cmpint(f.texture_width, ==, 100);
    g_assert_cmpint(f.texture_height, ==, 80);
    g_assert_cmpint(f.texture_rect.x, ==, 10);
    g_assert_cmpint(f.texture_rect.y, ==, 20);
    g_assert_true(f.texture_y0_bottom);
    vireo_scanout_release(s, a);

    /* Published without pixels. */
    vireo_scanout_texture_changed(s, (VireoScanoutRect){ 5, 6, 7, 8 });
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    g_assert_false(f.resized);
    g_assert_cmpuint(f.texture, ==, 7);
    g_assert_cmpint(f.damage.x, ==, 5);
    g_assert_cmpint(f.damage.height, ==, 8);
    vireo_scanout_release(s, a);

    /* A presenter without GL, then one of another provider, needs pixels:
     * the device hears of each. */
    g_assert_cmpint(pixel_calls, ==, 0);
    b = vireo_scanout_attach(s, NULL, NULL);
    g_assert_cmpint(pixel_calls, ==, 1);
    g_assert_true(vireo_scanout_needs_pixels(s));
    vireo_scanout_set_presenter_gl(s, b, &provider);
    g_assert_false(vireo_scanout_needs_pixels(s));
    g_assert_cmpint(pixel_calls, ==, 1);
    vireo_scanout_set_presenter_gl(s, b, &other);
    g_assert_cmpint(pixel_calls, ==, 2);
    g_assert_true(vireo_scanout_needs_pixels(s));
    g_assert_true(vireo_scanout_acquire(s, b, &f));
    g_assert_cmpuint(f.texture, ==, 0);
    g_assert_nonnull(f.pixels);
    vireo_scanout_release(s, b);
    /* Its pixels come from a readback, published as usual. */
    memset(src, 0x5a, 64 * 48 * 4);
    vireo_scanout_update(s, src, 64 * 4, (VireoScanoutRect){ 0, 0, 64, 48 });
    g_assert_true(vireo_scanout_acquire(s, b, &f));
    g_assert_cmpuint(f.texture, ==, 0);
    g_assert_cmpuint(f.pixels[64 * 4 * 47 + 4 * 63], ==, 0x5a);
    vireo_scanout_release(s, b);
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    g_assert_cmpuint(f.texture, ==, 7);
    vireo_scanout_release(s, a);
    vireo_scanout_detach(s, b);
    g_assert_false(vireo_scanout_needs_pixels(s));

    /* Leaving texture mode, by NULL or by a new mode. */
    g_assert_true(vireo_scanout_set_texture(s, NULL, VIREO_PIXEL_B8G8R8X8));
    g_assert_true(vireo_scanout_needs_pixels(s));
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    g_assert_true(f.resized);
    g_assert_cmpuint(f.texture, ==, 0);
    g_assert_cmpint(f.width, ==, 64);
    vireo_scanout_release(s, a);
    g_assert_true(vireo_scanout_set_texture(s, &tex, VIREO_PIXEL_B8G8R8X8));
    g_assert_true(vireo_scanout_set_mode(s, 64, 48, VIREO_PIXEL_B8G8R8X8));
    g_assert_true(vireo_scanout_acquire(s, a, &f));
    g_assert_true(f.resized);
    g_assert_cmpuint(f.texture, ==, 0);
    vireo_scanout_release(s, a);
    g_assert_cmpint(pixel_calls, ==, 2);

    vireo_scanout_set_pixels_func(s, NULL, NULL);
    vireo_scanout_detach(s, a);
    vireo_scanout_free(s);
    g_free(src);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/scanout/basic", test_scanout_basic);
    g_test_add_func("/engine/scanout/two-presenters-and-cursor",
                    test_scanout_two_presenters_and_cursor);
    g_test_add_func("/engine/scanout/threads", test_scanout_threads);
    g_test_add_func("/engine/scanout/size-request", test_scanout_size_request);
    g_test_add_func("/engine/scanout/detach-waits", test_scanout_detach_waits);
    g_test_add_func("/engine/scanout/size-func-waits", test_scanout_size_func_waits);
    g_test_add_func("/engine/scanout/texture", test_scanout_texture);
    return g_test_run();
}
