/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-gpu's display latency on Mesa's llvmpipe without a window system
 * (surfaceless EGL): from the guest's RESOURCE_FLUSH (the QueueNotify that
 * makes it available) to the frame drawn by the renderer on the presenter's
 * thread, through the device's thread, the scanout and the renderer, for a
 * 1920 x 1080 output:
 *
 *   2D, whole image    the device copies the flushed rectangle into the
 *                      scanout; the presenter uploads it and draws
 *   2D, 64 x 64        the same for a small rectangle
 *   virgl              a 3D render target cleared by the guest; the
 *                      presenter's context shares the device's, so the
 *                      texture is drawn in place (no readback, no upload)
 *
 * Before each flush the guest updates the resource (TRANSFER_TO_HOST_2D, or
 * a clear with SUBMIT_3D) and waits for it, so that only the flush is
 * timed. Prints one result line. --seconds N sets how long each part
 * measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display/egl-context.h"
#include "display/renderer.h"
#include "gpu-driver.h"

#include <epoxy/gl.h>

#define WIDTH  1920
#define HEIGHT 1080
#define SMALL  64
#define RES    1
#define CTX    1

static double seconds = 3.0;
static VireoGlProvider *provider;

typedef enum {
    PART_2D_FULL,
    PART_2D_SMALL,
    PART_VIRGL,
} Part;

typedef struct {
    Part part;
    GpuDriver d;
    VireoScanout *scanout;
    GMutex lock;
    GCond cond;
    gboolean notified, drawn, quit, failed;
    gint64 flushed_at;
} Bench;

static void on_notify(void *opaque)
{
    Bench *b = opaque;

    g_mutex_lock(&b->lock);
    b->notified = TRUE;
    g_cond_broadcast(&b->cond);
    g_mutex_unlock(&b->lock);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double percentile(GArray *values, double p)
{
    if (values->len == 0) {
        return 0.0;
    }
    g_array_sort(values, cmp_double);
    return g_array_index(values, double, (guint)MIN(values->len - 1, (guint)(p * values->len)));
}

static uint32_t f32_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return u;
}

/* SUBMIT_3D of a clear of the render target (see tests/devices/
 * test-virtio-gpu-virgl.c for the encoding), fenced, waited for. */
static void clear_3d(GpuDriver *d, float r, float g, float b, uint64_t fence)
{
    double depth = 1.0;
    uint32_t dd[2];
    uint32_t w[] = {
        1 | (8 << 8) | (5 << 16),
        1,
        RES,
        VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
        0,
        0,
        5 | (3 << 16),
        1,
        0,
        1,
        7 | (8 << 16),
        4,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    };
    GdCmd c;

    memcpy(dd, &depth, 8);
    w[12] = f32_bits(r);
    w[13] = f32_bits(g);
    w[14] = f32_bits(b);
    w[15] = f32_bits(1.0f);
    w[16] = dd[0];
    w[17] = dd[1];
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_SUBMIT_3D);
    gd_fence(&c, fence, CTX);
    gd_ctx(&c, CTX);
    gd_u32(&c, sizeof w);
    gd_u32(&c, 0);
    gd_bytes(&c, w, sizeof w);
    if (gd_call(d, &c) != VIREO_VIRTIO_GPU_RESP_OK_NODATA) {
        g_error("SUBMIT_3D failed");
    }
}

static void setup_3d(GpuDriver *d)
{
    GdEntry e = { GD_BACKING, WIDTH * HEIGHT * 4 };
    guint8 name[64] = "bench";
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_CTX_CREATE);
    gd_ctx(&c, CTX);
    gd_u32(&c, 5);
    gd_u32(&c, 0);
    gd_bytes(&c, name, sizeof name);
    g_assert_cmphex(gd_call(d, &c), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_3D);
    gd_u32(&c, RES);
    gd_u32(&c, 2); /* PIPE_TEXTURE_2D */
    gd_u32(&c, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
    gd_u32(&c, (1u << 1) | (1u << 3) | (1u << 18)); /* render target, sampler, scanout */
    gd_u32(&c, WIDTH);
    gd_u32(&c, HEIGHT);
    gd_u32(&c, 1);
    gd_u32(&c, 1);
    gd_u32(&c, 0);
    gd_u32(&c, 0);
    gd_u32(&c, 0);
    gd_u32(&c, 0);
    g_assert_cmphex(gd_call(d, &c), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_attach(d, RES, &e, 1), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE);
    gd_ctx(&c, CTX);
    gd_u32(&c, RES);
    gd_u32(&c, 0);
    g_assert_cmphex(gd_call(d, &c), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    clear_3d(d, 0.2f, 0.3f, 0.4f, 1);
}

/* The guest: updates the resource, then flushes it and waits until the
 * presenter drew it, at irregular intervals. */
static gpointer guest_thread(gpointer data)
{
    Bench *b = data;
    GpuDriver *d = &b->d;
    guint8 *pixels = gpa(&d->h, GD_BACKING);

    for (guint n = 1;; n++) {
        VireoScanoutRect r = { 0, 0, WIDTH, HEIGHT };
        uint16_t target;
        GdCmd c;

        g_usleep(1000 + (n * 7919) % 4000);
        if (b->part == PART_2D_SMALL) {
            r = (VireoScanoutRect){ (int)(n * 37) % (WIDTH - SMALL),
                                    (int)(n * 23) % (HEIGHT - SMALL), SMALL, SMALL };
        }
        if (b->part == PART_VIRGL) {
            clear_3d(d, (float)(n % 7) / 7.0f, (float)(n % 5) / 5.0f, 0.5f, 1 + n);
        } else {
            for (int y = r.y; y < r.y + r.height; y++) {
                memset(pixels + ((size_t)y * WIDTH + (size_t)r.x) * 4, (int)(n * 29),
                       (size_t)r.width * 4);
            }
            if (gd_transfer_2d(d, RES, (uint32_t)r.x, (uint32_t)r.y, (uint32_t)r.width,
                               (uint32_t)r.height, ((uint64_t)r.y * WIDTH + (uint64_t)r.x) * 4) !=
                VIREO_VIRTIO_GPU_RESP_OK_NODATA) {
                g_error("TRANSFER_TO_HOST_2D failed");
            }
        }

        gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_FLUSH);
        gd_rect(&c, (uint32_t)r.x, (uint32_t)r.y, (uint32_t)r.width, (uint32_t)r.height);
        gd_u32(&c, RES);
        gd_u32(&c, 0);
        gd_post(d, VIREO_VIRTIO_GPU_CONTROLQ, &c, c.len, 64);
        target = (uint16_t)(used_idx(&d->h, &d->q[0]) + 1);
        g_mutex_lock(&b->lock);
        if (b->quit) {
            g_mutex_unlock(&b->lock);
            break;
        }
        b->drawn = FALSE;
        b->flushed_at = g_get_monotonic_time();
        g_mutex_unlock(&b->lock);
        drv_kick(&d->h, &d->q[0]);

        g_mutex_lock(&b->lock);
        while (!b->drawn && !b->quit) {
            g_cond_wait(&b->cond, &b->lock);
        }
        g_mutex_unlock(&b->lock);
        if (!drv_wait_used(&d->h, &d->q[0], target)) {
            g_error("RESOURCE_FLUSH was not answered");
        }
    }
    return NULL;
}

/* Takes the newest frame and draws it. */
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

static void run_part(Part part, double *median, double *p95, int *samples)
{
    Bench b = { .part = part };
    g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GError) error = NULL;
    VireoVirtioGpuConfig config;
    VireoRenderer *r;
    GThread *guest;
    gint64 start;
    int id;

    g_mutex_init(&b.lock);
    g_cond_init(&b.cond);
    b.scanout = vireo_scanout_new();
    harness_init(&b.d.h);
    vireo_virtio_gpu_config_init(&config);
    config.scanouts[0] = b.scanout;
    config.virgl = part == PART_VIRGL;
    config.gl = provider;
    harness_attach(&b.d.h, vireo_virtio_gpu_new(b.d.h.bus, &config));
    if (part == PART_VIRGL &&
        vireo_virtio_gpu_get_3d_status(b.d.h.dev, NULL) != VIREO_VIRTIO_GPU_3D_ACTIVE) {
        *median = *p95 = 0.0;
        *samples = 0;
        harness_clear(&b.d.h);
        vireo_scanout_free(b.scanout);
        return;
    }
    gd_start(&b.d, part == PART_VIRGL ? 1ull << VIREO_VIRTIO_GPU_F_VIRGL : 0);

    r = vireo_renderer_new(&error);
    g_assert_no_error(error);
    id = vireo_scanout_attach(b.scanout, on_notify, &b);
    if (part == PART_VIRGL) {
        /* The presenter's context shares the device's: textures in place. */
        vireo_scanout_set_presenter_gl(b.scanout, id, provider);
        setup_3d(&b.d);
    } else {
        gd_resource_2d(&b.d, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, WIDTH, HEIGHT,
                       GD_BACKING);
    }
    g_assert_cmphex(gd_set_scanout(&b.d, 0, RES, 0, 0, WIDTH, HEIGHT), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    for (int i = 0; i < 5; i++) {
        present(r, b.scanout, id);
    }
    b.notified = FALSE;

    guest = g_thread_new("guest", guest_thread, &b);
    start = g_get_monotonic_time();
    while (g_get_monotonic_time() - start < (gint64)(seconds * G_USEC_PER_SEC)) {
        gint64 done;

        g_mutex_lock(&b.lock);
        while (!b.notified) {
            g_cond_wait(&b.cond, &b.lock);
        }
        b.notified = FALSE;
        g_mutex_unlock(&b.lock);

        present(r, b.scanout, id);
        done = g_get_monotonic_time();

        g_mutex_lock(&b.lock);
        if (!b.drawn && b.flushed_at != 0) {
            double ms = (double)(done - b.flushed_at) / 1000.0;
            g_array_append_val(values, ms);
            b.drawn = TRUE;
            b.flushed_at = 0;
            g_cond_broadcast(&b.cond);
        }
        g_mutex_unlock(&b.lock);
    }
    g_mutex_lock(&b.lock);
    b.quit = TRUE;
    b.drawn = TRUE;
    g_cond_broadcast(&b.cond);
    g_mutex_unlock(&b.lock);
    g_thread_join(guest);

    *median = percentile(values, 0.5);
    *p95 = percentile(values, 0.95);
    *samples = (int)values->len;
    vireo_scanout_detach(b.scanout, id);
    vireo_renderer_free(r);
    harness_clear(&b.d.h);
    vireo_scanout_free(b.scanout);
    g_mutex_clear(&b.lock);
    g_cond_clear(&b.cond);
}

int main(int argc, char *argv[])
{
    g_autoptr(GError) error = NULL;
    double m[3], p[3];
    int n[3];
    void *context;
    GLuint fbo, rb;
    const char *renderer;

    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0) {
            seconds = g_ascii_strtod(argv[i + 1], NULL);
        }
    }
    provider = vireo_egl_provider_new(FALSE, &error);
    if (provider == NULL) {
        fprintf(stderr, "bench-gpu: cannot start OpenGL without a window system: %s\n",
                error->message);
        return 1;
    }
    /* The presenter: a context of the provider, drawing into a framebuffer
     * object of the output's size. */
    context = provider->ops->create_context(provider, 3, 2);
    if (context == NULL || !provider->ops->make_current(provider, context)) {
        fprintf(stderr, "bench-gpu: no OpenGL 3.2 context on %s\n", provider->name);
        return 1;
    }
    glGenFramebuffers(1, &fbo);
    glGenRenderbuffers(1, &rb);
    glBindRenderbuffer(GL_RENDERBUFFER, rb);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, WIDTH, HEIGHT);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
    renderer = (const char *)glGetString(GL_RENDERER);

    run_part(PART_2D_FULL, &m[0], &p[0], &n[0]);
    run_part(PART_2D_SMALL, &m[1], &p[1], &n[1]);
    run_part(PART_VIRGL, &m[2], &p[2], &n[2]);
    printf("gpu-flush-latency: RESOURCE_FLUSH to frame drawn (device thread, scanout, notify, "
           "acquire, upload, draw, glFinish), %dx%d: 2D full damage median %.2f ms, p95 %.2f ms "
           "(%d frames); 2D 64x64 median %.2f ms, p95 %.2f ms (%d frames); virgl texture drawn "
           "in place median %.2f ms, p95 %.2f ms (%d frames%s); %s\n",
           WIDTH, HEIGHT, m[0], p[0], n[0], m[1], p[1], n[1], m[2], p[2], n[2],
           n[2] == 0 ? ", 3D unavailable" : "", renderer);

    glDeleteFramebuffers(1, &fbo);
    glDeleteRenderbuffers(1, &rb);
    provider->ops->make_current(provider, NULL);
    provider->ops->destroy_context(provider, context);
    vireo_egl_provider_free(provider);
    return 0;
}
