/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The display's cost on Mesa's llvmpipe (surfaceless EGL, no GPU): a
 * 1920 x 1080 scanout presented into a 1920 x 1080 framebuffer through the
 * renderer, glFinish() after every frame so that the time is the work done.
 *
 *   bench-display full      every frame changes the whole image
 *   bench-display small     every frame changes a 64 x 64 rectangle
 *   bench-display latency   from vireo_scanout_update() on a device thread
 *                           to the frame drawn (notify, acquire, upload,
 *                           draw, glFinish) on the presenter's thread
 *
 * Each prints one result line. --seconds N sets how long each measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display/renderer.h"
#include "headless-gl.h"

#define WIDTH  1920
#define HEIGHT 1080
#define SMALL  64

static double seconds = 3.0;

static gint64 cpu_time_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Two different B8G8R8X8 images, so that consecutive frames differ. */
static guint8 *make_image(guint seed)
{
    guint8 *p = g_malloc((size_t)WIDTH * HEIGHT * 4);
    guint32 x = seed * 2654435761u + 1;

    for (size_t i = 0; i < (size_t)WIDTH * HEIGHT; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        memcpy(p + i * 4, &x, 4);
    }
    return p;
}

/* Takes the newest frame and draws it: the presenter's whole job. */
static void present(VireoRenderer *r, VireoScanout *s, int id)
{
    VireoScanoutFrame f;

    if (vireo_scanout_acquire(s, id, &f)) {
        if (!vireo_renderer_upload(r, &f, NULL)) {
            g_error("upload failed");
        }
        vireo_scanout_release(s, id);
    }
    vireo_renderer_draw(r, WIDTH, HEIGHT);
    glFinish();
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double percentile(GArray *values, double p)
{
    g_array_sort(values, cmp_double);
    return g_array_index(values, double, (guint)MIN(values->len - 1, (guint)(p * values->len)));
}

/* ---- Throughput --------------------------------------------------------- */

static void throughput(gboolean small)
{
    VireoRenderer *r;
    VireoScanout *s = vireo_scanout_new();
    guint8 *img[2] = { make_image(1), make_image(2) };
    gint64 start, cpu_start, present_us = 0, update_us = 0;
    int id, frames = 0;
    g_autoptr(GError) error = NULL;
    double wall;

    r = vireo_renderer_new(&error);
    g_assert_no_error(error);
    vireo_renderer_set_scale_mode(r, VIREO_SCALE_FIT);
    vireo_scanout_set_mode(s, WIDTH, HEIGHT, VIREO_PIXEL_B8G8R8X8);
    id = vireo_scanout_attach(s, NULL, NULL);
    vireo_scanout_update(s, img[0], WIDTH * 4, (VireoScanoutRect){ 0, 0, WIDTH, HEIGHT });
    for (int i = 0; i < 10; i++) {
        present(r, s, id); /* warm up: shaders compiled, texture allocated */
    }

    start = g_get_monotonic_time();
    cpu_start = cpu_time_us();
    while (g_get_monotonic_time() - start < (gint64)(seconds * G_USEC_PER_SEC)) {
        VireoScanoutRect d = { 0, 0, WIDTH, HEIGHT };
        gint64 t0 = g_get_monotonic_time(), t1;

        if (small) {
            /* A rectangle wandering over the screen. */
            d = (VireoScanoutRect){ (frames * 37) % (WIDTH - SMALL),
                                    (frames * 23) % (HEIGHT - SMALL), SMALL, SMALL };
        }
        vireo_scanout_update(s, img[frames % 2], WIDTH * 4, d);
        t1 = g_get_monotonic_time();
        present(r, s, id);
        update_us += t1 - t0;
        present_us += g_get_monotonic_time() - t1;
        frames++;
    }
    wall = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;

    printf("display-%s: %dx%d, %s damage per frame: %.1f fps; %.2f ms per frame "
           "(presenter %.2f ms: acquire, upload, draw, glFinish; device-side update %.2f ms); "
           "CPU %.2f ms per frame, all threads; %s\n",
           small ? "small" : "full", WIDTH, HEIGHT, small ? "64x64" : "full", frames / wall,
           1000.0 * wall / frames, present_us / 1000.0 / frames, update_us / 1000.0 / frames,
           (double)(cpu_time_us() - cpu_start) / 1000.0 / frames,
           (const char *)glGetString(GL_RENDERER));
    vireo_scanout_detach(s, id);
    vireo_scanout_free(s);
    vireo_renderer_free(r);
    g_free(img[0]);
    g_free(img[1]);
}

/* ---- Latency -------------------------------------------------------------- */

typedef struct {
    VireoScanout *scanout;
    guint8 *img[2];
    gboolean small;
    GMutex lock;
    GCond cond;
    gboolean notified, drawn, quit;
    gint64 updated_at; /* before the last vireo_scanout_update() */
} Latency;

static void on_notify(void *opaque)
{
    Latency *l = opaque;

    g_mutex_lock(&l->lock);
    l->notified = TRUE;
    g_cond_broadcast(&l->cond);
    g_mutex_unlock(&l->lock);
}

/* The device: one update, then waits for it to be drawn and a little more,
 * so that every update meets an idle presenter. */
static gpointer device_thread(gpointer data)
{
    Latency *l = data;

    for (guint n = 0;; n++) {
        VireoScanoutRect d = { 0, 0, WIDTH, HEIGHT };

        g_usleep(1000 + (n * 7919) % 4000);
        g_mutex_lock(&l->lock);
        if (l->quit) {
            g_mutex_unlock(&l->lock);
            break;
        }
        l->drawn = FALSE;
        l->updated_at = g_get_monotonic_time();
        g_mutex_unlock(&l->lock);
        if (l->small) {
            d = (VireoScanoutRect){ (int)(n * 37) % (WIDTH - SMALL),
                                    (int)(n * 23) % (HEIGHT - SMALL), SMALL, SMALL };
        }
        vireo_scanout_update(l->scanout, l->img[n % 2], WIDTH * 4, d);
        g_mutex_lock(&l->lock);
        while (!l->drawn && !l->quit) {
            g_cond_wait(&l->cond, &l->lock);
        }
        g_mutex_unlock(&l->lock);
    }
    return NULL;
}

static void latency_run(gboolean small, double *median, double *p95, int *samples)
{
    Latency l = { 0 };
    g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GError) error = NULL;
    VireoRenderer *r = vireo_renderer_new(&error);
    GThread *device;
    gint64 start;
    int id;

    g_assert_no_error(error);
    l.scanout = vireo_scanout_new();
    l.img[0] = make_image(3);
    l.img[1] = make_image(4);
    l.small = small;
    g_mutex_init(&l.lock);
    g_cond_init(&l.cond);
    vireo_scanout_set_mode(l.scanout, WIDTH, HEIGHT, VIREO_PIXEL_B8G8R8X8);
    id = vireo_scanout_attach(l.scanout, on_notify, &l);
    vireo_scanout_update(l.scanout, l.img[0], WIDTH * 4, (VireoScanoutRect){ 0, 0, WIDTH, HEIGHT });
    for (int i = 0; i < 5; i++) {
        present(r, l.scanout, id);
    }
    l.notified = FALSE;

    device = g_thread_new("device", device_thread, &l);
    start = g_get_monotonic_time();
    while (g_get_monotonic_time() - start < (gint64)(seconds * G_USEC_PER_SEC)) {
        gint64 done;
        g_mutex_lock(&l.lock);
        while (!l.notified) {
            g_cond_wait(&l.cond, &l.lock);
        }
        l.notified = FALSE;
        g_mutex_unlock(&l.lock);

        present(r, l.scanout, id);
        done = g_get_monotonic_time();

        g_mutex_lock(&l.lock);
        if (!l.drawn) {
            double ms = (double)(done - l.updated_at) / 1000.0;
            g_array_append_val(values, ms);
            l.drawn = TRUE;
            g_cond_broadcast(&l.cond);
        }
        g_mutex_unlock(&l.lock);
    }
    g_mutex_lock(&l.lock);
    l.quit = TRUE;
    g_cond_broadcast(&l.cond);
    g_mutex_unlock(&l.lock);
    g_thread_join(device);

    *median = percentile(values, 0.5);
    *p95 = percentile(values, 0.95);
    *samples = (int)values->len;
    vireo_scanout_detach(l.scanout, id);
    vireo_scanout_free(l.scanout);
    vireo_renderer_free(r);
    g_free(l.img[0]);
    g_free(l.img[1]);
    g_mutex_clear(&l.lock);
    g_cond_clear(&l.cond);
}

static void latency(void)
{
    double full_median, full_p95, small_median, small_p95;
    int full_n, small_n;

    latency_run(FALSE, &full_median, &full_p95, &full_n);
    latency_run(TRUE, &small_median, &small_p95, &small_n);
    printf("display-latency: vireo_scanout_update() to frame drawn (notify, acquire, upload, "
           "draw, glFinish), %dx%d: full damage median %.2f ms, p95 %.2f ms (%d frames); "
           "64x64 damage median %.2f ms, p95 %.2f ms (%d frames); %s\n",
           WIDTH, HEIGHT, full_median, full_p95, full_n, small_median, small_p95, small_n,
           (const char *)glGetString(GL_RENDERER));
}

int main(int argc, char *argv[])
{
    g_autoptr(GError) error = NULL;
    HeadlessGl gl;
    const char *mode = argc > 1 ? argv[1] : "full";

    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0) {
            seconds = g_ascii_strtod(argv[i + 1], NULL);
        }
    }
    if (!headless_gl_init(&gl, FALSE, &error)) {
        fprintf(stderr, "bench-display: cannot start OpenGL without a window system: %s\n",
                error->message);
        return 1;
    }
    headless_gl_set_size(&gl, WIDTH, HEIGHT);
    if (strcmp(mode, "full") == 0) {
        throughput(FALSE);
    } else if (strcmp(mode, "small") == 0) {
        throughput(TRUE);
    } else if (strcmp(mode, "latency") == 0) {
        latency();
    } else {
        fprintf(stderr, "usage: bench-display full|small|latency [--seconds N]\n");
        return 2;
    }
    headless_gl_fini(&gl);
    return 0;
}
