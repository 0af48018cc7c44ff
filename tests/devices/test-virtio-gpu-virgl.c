/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-gpu in 3D (virgl) on Mesa's llvmpipe through surfaceless EGL (no X,
 * no /dev/dri), driven through the device's rings: capsets, a context, a 3D
 * render target cleared by a command stream the test encodes, read back into
 * guest memory; the same resource on an output, seen by a presenter that
 * needs pixels (read back) and by one whose GL context shares the device's
 * (the texture drawn by the renderer with no copy); orientation of uploaded
 * images on both paths; fences in order; malformed 3D commands; resets; and
 * the fall back to 2D with its reason.
 *
 * When EGL or virglrenderer cannot start, the tests fail with the reason,
 * except that without /dev/dri a virglrenderer that refuses llvmpipe is a
 * skip that says so.
 */
#include "display/egl-context.h"
#include "display/renderer.h"
#include "engine/error.h"
#include "gpu-driver.h"
#include "snap-driver.h"

#include <epoxy/gl.h>

#define CTX    1
#define RES    10
#define RES_W  64
#define RES_H  48
#define STRIDE (RES_W * 4)
#define T_PIX  (GD_BACKING + 0x100000) /* the resource's backing */

/* Gallium's values used by the command streams and resources below. */
#define PIPE_TEXTURE_2D   2
#define PIPE_CLEAR_COLOR0 (1u << 2)
#define BIND_RENDER_TGT   (1u << 1)
#define BIND_SAMPLER_VIEW (1u << 3)
#define BIND_SCANOUT      (1u << 18)

/* virgl's command stream (virglrenderer's virgl_protocol.h): each command
 * is a header word (command, object type, length in words) and its words. */
#define VIRGL_CCMD_CREATE_OBJECT         1
#define VIRGL_CCMD_SET_FRAMEBUFFER_STATE 5
#define VIRGL_CCMD_CLEAR                 7
#define VIRGL_OBJECT_SURFACE             8
#define VIRGL_CMD0(cmd, obj, len) \
    ((uint32_t)(cmd) | ((uint32_t)(obj) << 8) | ((uint32_t)(len) << 16))

static VireoGlProvider *provider;
static char *provider_error;

typedef struct {
    GpuDriver d;
    VireoScanout *scanout;
    int presenter;
} Fixture;

static bool virgl_usable(VireoVirtio *dev)
{
    const char *reason = NULL;

    if (vireo_virtio_gpu_get_3d_status(dev, &reason) == VIREO_VIRTIO_GPU_3D_ACTIVE) {
        return true;
    }
    if (!g_file_test("/dev/dri", G_FILE_TEST_EXISTS)) {
        g_test_skip_printf("no /dev/dri and virglrenderer refuses surfaceless llvmpipe: %s",
                           reason);
    } else {
        g_test_fail_printf("3D does not start: %s", reason);
    }
    return false;
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    VireoVirtioGpuConfig config;

    memset(f, 0, sizeof *f);
    if (provider == NULL) {
        g_test_fail_printf("no OpenGL without a window system: %s", provider_error);
        return;
    }
    harness_init(&f->d.h);
    f->scanout = vireo_scanout_new();
    f->presenter = vireo_scanout_attach(f->scanout, NULL, NULL);
    vireo_virtio_gpu_config_init(&config);
    config.scanouts[0] = f->scanout;
    config.virgl = true;
    config.gl = provider;
    harness_attach(&f->d.h, vireo_virtio_gpu_new(f->d.h.bus, &config));
    if (!virgl_usable(f->d.h.dev)) {
        return;
    }
    gd_start(&f->d, (1ull << VIREO_VIRTIO_GPU_F_VIRGL) | (1ull << VIREO_VIRTIO_GPU_F_EDID));
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    if (f->d.h.bus == NULL) {
        return;
    }
    harness_clear(&f->d.h);
    vireo_scanout_detach(f->scanout, f->presenter);
    vireo_scanout_free(f->scanout);
}

#define NEED_VIRGL(f)                      \
    do {                                   \
        if (g_test_failed()) {             \
            return;                        \
        }                                  \
        if ((f)->d.h.mmio == NULL) {       \
            return;                        \
        }                                  \
        if (!virgl_usable((f)->d.h.dev)) { \
            return;                        \
        }                                  \
    } while (0)

/* ---- Commands ------------------------------------------------------------- */

static uint32_t ctx_create(Fixture *f, uint32_t ctx, const char *name)
{
    GdCmd c;
    guint8 buf[64] = { 0 };

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_CTX_CREATE);
    gd_ctx(&c, ctx);
    gd_u32(&c, (uint32_t)strlen(name));
    gd_u32(&c, 0);
    memcpy(buf, name, strlen(name));
    gd_bytes(&c, buf, sizeof buf);
    return gd_call(&f->d, &c);
}

static uint32_t ctx_resource(Fixture *f, uint32_t type, uint32_t ctx, uint32_t id)
{
    GdCmd c;

    gd_begin(&c, type);
    gd_ctx(&c, ctx);
    gd_u32(&c, id);
    gd_u32(&c, 0);
    return gd_call(&f->d, &c);
}

static uint32_t create_3d(Fixture *f, uint32_t id, uint32_t format, uint32_t w, uint32_t h)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_3D);
    gd_u32(&c, id);
    gd_u32(&c, PIPE_TEXTURE_2D);
    gd_u32(&c, format);
    gd_u32(&c, BIND_RENDER_TGT | BIND_SAMPLER_VIEW | BIND_SCANOUT);
    gd_u32(&c, w);
    gd_u32(&c, h);
    gd_u32(&c, 1); /* depth */
    gd_u32(&c, 1); /* array size */
    gd_u32(&c, 0); /* last level */
    gd_u32(&c, 0); /* samples */
    gd_u32(&c, 0); /* flags */
    gd_u32(&c, 0);
    return gd_call(&f->d, &c);
}

static void transfer_3d_cmd(GdCmd *c, uint32_t type, uint32_t ctx, uint32_t id, uint32_t x,
                            uint32_t y, uint32_t w, uint32_t h, uint64_t offset, uint32_t stride)
{
    gd_begin(c, type);
    gd_ctx(c, ctx);
    gd_u32(c, x);
    gd_u32(c, y);
    gd_u32(c, 0);
    gd_u32(c, w);
    gd_u32(c, h);
    gd_u32(c, 1);
    gd_u64(c, offset);
    gd_u32(c, id);
    gd_u32(c, 0);      /* level */
    gd_u32(c, stride); /* stride */
    gd_u32(c, 0);      /* layer stride */
}

static uint32_t transfer_3d(Fixture *f, uint32_t type, uint32_t ctx, uint32_t id, uint32_t x,
                            uint32_t y, uint32_t w, uint32_t h, uint64_t fence)
{
    GdCmd c;

    transfer_3d_cmd(&c, type, ctx, id, x, y, w, h, (uint64_t)y * STRIDE + (uint64_t)x * 4, STRIDE);
    if (fence != 0) {
        gd_fence(&c, fence, ctx);
    }
    return gd_call(&f->d, &c);
}

/* SUBMIT_3D of `n` words on `ctx`, fenced when `fence` is not 0. */
static void submit_cmd(GdCmd *c, uint32_t ctx, const uint32_t *words, unsigned n, uint64_t fence)
{
    gd_begin(c, VIREO_VIRTIO_GPU_CMD_SUBMIT_3D);
    gd_ctx(c, ctx);
    if (fence != 0) {
        gd_fence(c, fence, ctx);
    }
    gd_u32(c, n * 4);
    gd_u32(c, 0);
    for (unsigned i = 0; i < n; i++) {
        gd_u32(c, words[i]);
    }
}

static uint32_t f32_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return u;
}

/* Encodes: a surface (handle 1) on resource `res`, a framebuffer with it as
 * colour buffer 0, and a clear of that buffer to (r, g, b, a). */
static unsigned encode_clear(uint32_t *w, uint32_t res, uint32_t format, float r, float g, float b,
                             float a)
{
    double depth = 1.0;
    uint32_t d[2];
    unsigned n = 0;

    memcpy(d, &depth, 8);
    w[n++] = VIRGL_CMD0(VIRGL_CCMD_CREATE_OBJECT, VIRGL_OBJECT_SURFACE, 5);
    w[n++] = 1;      /* the surface's handle */
    w[n++] = res;    /* its resource */
    w[n++] = format; /* its format */
    w[n++] = 0;      /* mip level */
    w[n++] = 0;      /* first and last layer */
    w[n++] = VIRGL_CMD0(VIRGL_CCMD_SET_FRAMEBUFFER_STATE, 0, 3);
    w[n++] = 1; /* one colour buffer */
    w[n++] = 0; /* no depth buffer */
    w[n++] = 1; /* colour buffer 0: surface 1 */
    w[n++] = VIRGL_CMD0(VIRGL_CCMD_CLEAR, 0, 8);
    w[n++] = PIPE_CLEAR_COLOR0;
    w[n++] = f32_bits(r);
    w[n++] = f32_bits(g);
    w[n++] = f32_bits(b);
    w[n++] = f32_bits(a);
    w[n++] = d[0];
    w[n++] = d[1];
    w[n++] = 0; /* stencil */
    return n;
}

/* A context, and a 64 x 48 B8G8R8X8 render target with backing, attached
 * to it. */
static void setup_target(Fixture *f)
{
    GdEntry e = { T_PIX, RES_W * RES_H * 4 };

    g_assert_cmphex(ctx_create(f, CTX, "test"), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(create_3d(f, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, RES_W, RES_H), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_attach(&f->d, RES, &e, 1), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(ctx_resource(f, VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, CTX, RES), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
}

/* Clears the render target, fenced, and waits for the fence. */
static void clear_target(Fixture *f, float r, float g, float b, uint64_t fence)
{
    uint32_t words[32];
    unsigned n = encode_clear(words, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, r, g, b, 1.0f);
    GdCmd c;
    guint8 *resp;

    submit_cmd(&c, CTX, words, n, fence);
    g_assert_cmphex(gd_call_len(&f->d, 0, &c, c.len, 64, &resp), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(get32le(resp + 4), ==, VIREO_VIRTIO_GPU_FLAG_FENCE);
    g_assert_cmpuint(get32le(resp + 8), ==, fence);
}

static void assert_bgrx(const guint8 *p, guint8 b, guint8 g, guint8 r)
{
    if (p[0] != b || p[1] != g || p[2] != r) {
        g_error("pixel (%u, %u, %u) in B, G, R; expected (%u, %u, %u)", p[0], p[1], p[2], b, g, r);
    }
}

/* ---- Tests ------------------------------------------------------------------ */

static void test_features(Fixture *f, gconstpointer data)
{
    guint8 *r;
    GdCmd c;
    uint32_t id, version, size;

    NEED_VIRGL(f);
    g_assert_true(device_features(&f->d.h) & (1ull << VIREO_VIRTIO_GPU_F_VIRGL));
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_NUM_CAPSETS, 4), >=, 1);

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_CAPSET_INFO);
    gd_u32(&c, 0);
    gd_u32(&c, 0);
    g_assert_cmphex(gd_call_len(&f->d, 0, &c, c.len, 64, &r), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_CAPSET_INFO);
    id = get32le(r + 24);
    version = get32le(r + 28);
    size = get32le(r + 32);
    g_assert_true(id == VIREO_VIRTIO_GPU_CAPSET_VIRGL || id == VIREO_VIRTIO_GPU_CAPSET_VIRGL2);
    g_assert_cmpuint(version, >=, 1);
    g_assert_cmpuint(size, >, 16);
    g_assert_cmpuint(size, <, GD_SLOT_SIZE - 24);

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_CAPSET);
    gd_u32(&c, id);
    gd_u32(&c, version);
    g_assert_cmphex(gd_call_len(&f->d, 0, &c, c.len, 24 + size, &r), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_CAPSET);
    /* The capability set starts with its highest protocol version. */
    g_assert_cmpuint(get32le(r + 24), >=, 1);

    /* Out of range. */
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_CAPSET_INFO);
    gd_u32(&c, 99);
    gd_u32(&c, 0);
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_CAPSET);
    gd_u32(&c, id);
    gd_u32(&c, version + 1);
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_CAPSET);
    gd_u32(&c, 77);
    gd_u32(&c, 1);
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
}

/* The clear, read back into guest memory by TRANSFER_FROM_HOST_3D. */
static void test_clear(Fixture *f, gconstpointer data)
{
    guint8 *pix;

    NEED_VIRGL(f);
    setup_target(f);
    pix = gpa(&f->d.h, T_PIX);
    memset(pix, 0, RES_W * RES_H * 4);
    clear_target(f, 0.25f, 0.5f, 1.0f, 5);
    g_assert_cmphex(
        transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, CTX, RES, 0, 0, RES_W, RES_H, 6),
        ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    for (unsigned i = 0; i < RES_W * RES_H; i++) {
        assert_bgrx(pix + 4 * i, 0xff, 0x80, 0x40);
    }
    /* Again in another colour, part of it only. */
    clear_target(f, 1.0f, 0.0f, 0.0f, 7);
    g_assert_cmphex(
        transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, CTX, RES, 8, 4, 16, 8, 8), ==,
        VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    assert_bgrx(pix + 4 * (4 * RES_W + 8), 0x00, 0x00, 0xff);
    assert_bgrx(pix + 4 * (11 * RES_W + 23), 0x00, 0x00, 0xff);
    assert_bgrx(pix + 4 * (3 * RES_W + 8), 0xff, 0x80, 0x40);
    assert_bgrx(pix + 4 * (4 * RES_W + 24), 0xff, 0x80, 0x40);
}

/* A presenter in the device's share group: the renderer draws the texture
 * in place into a framebuffer the test reads. */
typedef struct {
    void *context;
    GLuint fbo, rb;
    VireoRenderer *renderer;
} GlPresenter;

static void gl_presenter_init(GlPresenter *p, int w, int h)
{
    g_autoptr(GError) error = NULL;

    p->context = provider->ops->create_context(provider, 3, provider->gles ? 0 : 2);
    g_assert_nonnull(p->context);
    g_assert_true(provider->ops->make_current(provider, p->context));
    glGenFramebuffers(1, &p->fbo);
    glGenRenderbuffers(1, &p->rb);
    glBindRenderbuffer(GL_RENDERBUFFER, p->rb);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, w, h);
    glBindFramebuffer(GL_FRAMEBUFFER, p->fbo);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, p->rb);
    g_assert_cmphex(glCheckFramebufferStatus(GL_FRAMEBUFFER), ==, GL_FRAMEBUFFER_COMPLETE);
    p->renderer = vireo_renderer_new(&error);
    g_assert_no_error(error);
    vireo_renderer_set_scale_mode(p->renderer, VIREO_SCALE_NATIVE);
}

/* Draws `frame` and returns the framebuffer, top row first (g_free). */
static guint8 *gl_presenter_draw(GlPresenter *p, const VireoScanoutFrame *frame, int w, int h)
{
    g_autoptr(GError) error = NULL;
    guint8 *up = g_malloc((size_t)w * h * 4), *down = g_malloc((size_t)w * h * 4);

    g_assert_true(vireo_renderer_upload(p->renderer, frame, &error));
    g_assert_no_error(error);
    vireo_renderer_draw(p->renderer, w, h);
    glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, up);
    g_assert_cmphex(glGetError(), ==, GL_NO_ERROR);
    for (int y = 0; y < h; y++) {
        memcpy(down + (size_t)y * w * 4, up + (size_t)(h - 1 - y) * w * 4, (size_t)w * 4);
    }
    g_free(up);
    return down;
}

static void gl_presenter_fini(GlPresenter *p)
{
    vireo_renderer_free(p->renderer);
    glDeleteFramebuffers(1, &p->fbo);
    glDeleteRenderbuffers(1, &p->rb);
    provider->ops->make_current(provider, NULL);
    provider->ops->destroy_context(provider, p->context);
}

/* The render target on an output: read back for the presenter without GL,
 * drawn in place for the one sharing the device's contexts. */
static void test_scanout(Fixture *f, gconstpointer data)
{
    VireoScanoutFrame frame;
    GlPresenter gp;
    int sharing;
    g_autofree guint8 *fb = NULL;

    NEED_VIRGL(f);
    setup_target(f);
    clear_target(f, 0.25f, 0.5f, 1.0f, 1);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, RES, 0, 0, RES_W, RES_H), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(vireo_scanout_acquire(f->scanout, f->presenter, &frame));
    g_assert_cmpint(frame.width, ==, RES_W);
    g_assert_cmpuint(frame.texture, ==, 0);
    g_assert_nonnull(frame.pixels);
    assert_bgrx(frame.pixels, 0xff, 0x80, 0x40);
    assert_bgrx(frame.pixels + frame.stride * (RES_H - 1) + 4 * (RES_W - 1), 0xff, 0x80, 0x40);
    vireo_scanout_release(f->scanout, f->presenter);

    /* A new colour, flushed: the readback follows. */
    clear_target(f, 0.0f, 1.0f, 0.0f, 2);
    g_assert_cmphex(gd_flush(&f->d, RES, 0, 0, RES_W, RES_H), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(vireo_scanout_acquire(f->scanout, f->presenter, &frame));
    assert_bgrx(frame.pixels + frame.stride * 10 + 40, 0x00, 0xff, 0x00);
    vireo_scanout_release(f->scanout, f->presenter);

    /* Now only a presenter of the device's GL provider: no readback. */
    vireo_scanout_detach(f->scanout, f->presenter);
    gl_presenter_init(&gp, RES_W, RES_H);
    sharing = vireo_scanout_attach(f->scanout, NULL, NULL);
    vireo_scanout_set_presenter_gl(f->scanout, sharing, provider);
    g_assert_false(vireo_scanout_needs_pixels(f->scanout));
    clear_target(f, 1.0f, 0.0f, 0.5f, 3);
    g_assert_cmphex(gd_flush(&f->d, RES, 0, 0, RES_W, RES_H), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(vireo_scanout_acquire(f->scanout, sharing, &frame));
    g_assert_cmpuint(frame.texture, !=, 0);
    g_assert_cmpint(frame.texture_width, ==, RES_W);
    g_assert_cmpint(frame.damage.width, ==, RES_W);
    fb = gl_presenter_draw(&gp, &frame, RES_W, RES_H);
    vireo_scanout_release(f->scanout, sharing);
    for (int i = 0; i < RES_W * RES_H; i++) {
        const guint8 *p = fb + 4 * i;
        if (p[0] != 0xff || p[1] != 0 || ABS(p[2] - 0x80) > 1) {
            g_error("drawn pixel %d: (%u, %u, %u)", i, p[0], p[1], p[2]);
        }
    }
    /* The pixels were not read back: the scanout's buffer still holds the
     * green of the last readback. */
    assert_bgrx(frame.pixels + frame.stride * 10 + 40, 0x00, 0xff, 0x00);

    /* A presenter without GL comes: the device reads the whole image back
     * for it at once. */
    f->presenter = vireo_scanout_attach(f->scanout, NULL, NULL);
    g_assert_true(vireo_scanout_needs_pixels(f->scanout));
    {
        gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        bool red = false;
        while (!red && g_get_monotonic_time() < end) {
            if (vireo_scanout_acquire(f->scanout, f->presenter, &frame)) {
                red = frame.pixels != NULL && frame.pixels[2] == 0xff && frame.pixels[1] == 0;
                vireo_scanout_release(f->scanout, f->presenter);
            }
            g_usleep(1000);
        }
        g_assert_true(red);
    }
    vireo_scanout_detach(f->scanout, sharing);
    gl_presenter_fini(&gp);
}

/* An image uploaded with TRANSFER_TO_HOST_3D (top half red, bottom half
 * blue, as the guest sees it) shows the right way up on both paths. */
static void test_orientation(Fixture *f, gconstpointer data)
{
    VireoScanoutFrame frame;
    GlPresenter gp;
    guint8 *pix;
    int sharing;
    g_autofree guint8 *fb = NULL;

    NEED_VIRGL(f);
    setup_target(f);
    pix = gpa(&f->d.h, T_PIX);
    for (int y = 0; y < RES_H; y++) {
        for (int x = 0; x < RES_W; x++) {
            guint8 *p = pix + 4 * (y * RES_W + x);
            p[0] = y < RES_H / 2 ? 0 : 0xff;
            p[1] = 0;
            p[2] = y < RES_H / 2 ? 0xff : 0;
            p[3] = 0xff;
        }
    }
    g_assert_cmphex(
        transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, CTX, RES, 0, 0, RES_W, RES_H, 0),
        ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    /* Part of it on the output: rows 8 to 39, columns 4 to 35. */
    g_assert_cmphex(gd_set_scanout(&f->d, 0, RES, 4, 8, 32, 32), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(vireo_scanout_acquire(f->scanout, f->presenter, &frame));
    g_assert_cmpint(frame.width, ==, 32);
    assert_bgrx(frame.pixels, 0, 0, 0xff);
    assert_bgrx(frame.pixels + frame.stride * 15, 0, 0, 0xff);
    assert_bgrx(frame.pixels + frame.stride * 16, 0xff, 0, 0);
    assert_bgrx(frame.pixels + frame.stride * 31 + 4 * 31, 0xff, 0, 0);
    vireo_scanout_release(f->scanout, f->presenter);

    gl_presenter_init(&gp, 32, 32);
    sharing = vireo_scanout_attach(f->scanout, NULL, NULL);
    vireo_scanout_set_presenter_gl(f->scanout, sharing, provider);
    g_assert_true(vireo_scanout_acquire(f->scanout, sharing, &frame));
    g_assert_cmpuint(frame.texture, !=, 0);
    fb = gl_presenter_draw(&gp, &frame, 32, 32);
    vireo_scanout_release(f->scanout, sharing);
    /* RGBA: red on top, blue below. */
    g_assert_cmpuint(fb[0], ==, 0xff);
    g_assert_cmpuint(fb[2], ==, 0);
    g_assert_cmpuint(fb[4 * (15 * 32 + 31)], ==, 0xff);
    g_assert_cmpuint(fb[4 * (16 * 32)], ==, 0);
    g_assert_cmpuint(fb[4 * (16 * 32) + 2], ==, 0xff);
    vireo_scanout_detach(f->scanout, sharing);
    gl_presenter_fini(&gp);
}

/* Fenced commands, several at once: answered in fence order, each after
 * its work. */
static void test_fences(Fixture *f, gconstpointer data)
{
    uint32_t words[32];
    unsigned n, slots[6];
    uint16_t base, heads[6];
    GdCmd c;

    NEED_VIRGL(f);
    setup_target(f);
    n = encode_clear(words, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 0.0f, 0.0f, 1.0f, 1.0f);
    base = used_idx(&f->d.h, &f->d.q[0]);
    for (unsigned i = 0; i < 6; i++) {
        if (i % 2 == 0) {
            submit_cmd(&c, CTX, words, n, 100 + i);
        } else {
            /* A fenced 2D command between them. */
            gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
            gd_fence(&c, 100 + i, 0);
        }
        heads[i] = f->d.q[0].next_desc;
        slots[i] = gd_post(&f->d, 0, &c, c.len, 512);
    }
    gd_kick_wait(&f->d, 0, 6);
    for (unsigned i = 0; i < 6; i++) {
        const guint8 *r = gd_resp(&f->d, slots[i]);
        uint32_t id, len;

        /* The used ring lists them in the order they were made. */
        used_elem(&f->d.h, &f->d.q[0], (uint16_t)(base + i), &id, &len);
        g_assert_cmpuint(id, ==, heads[i]);
        g_assert_cmphex(get32le(r + 4), ==, VIREO_VIRTIO_GPU_FLAG_FENCE);
        g_assert_cmpuint(get32le(r + 8), ==, 100 + i);
    }
}

static void test_malformed(Fixture *f, gconstpointer data)
{
    uint32_t words[32];
    GdCmd c;
    GdEntry e = { T_PIX, RES_W * RES_H * 4 };

    NEED_VIRGL(f);
    /* Contexts: id 0, twice the same, unknown ones, a long name, a context
     * type that was not offered. */
    g_assert_cmphex(ctx_create(f, 0, "zero"), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    g_assert_cmphex(ctx_create(f, CTX, "one"), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(ctx_create(f, CTX, "again"), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_CTX_CREATE);
    gd_ctx(&c, 2);
    gd_u32(&c, 65);
    gd_u32(&c, 0);
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC); /* short */
    for (unsigned i = 0; i < 16; i++) {
        gd_u32(&c, 0x41414141);
    }
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    put32le(c.buf + 24, 4);
    put32le(c.buf + 28, 4); /* context_init: a capset id */
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_CTX_DESTROY);
    gd_ctx(&c, 9);
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);

    /* Resources. */
    g_assert_cmphex(create_3d(f, 0, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(create_3d(f, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 0, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(create_3d(f, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16385, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(create_3d(f, RES, 0xffff, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(create_3d(f, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, RES_W, RES_H), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(create_3d(f, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_create_2d(&f->d, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(ctx_resource(f, VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 9, RES), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    g_assert_cmphex(ctx_resource(f, VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, CTX, 99), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);

    /* Transfers: unknown resource, a 2D one, no backing, unknown context,
     * a box that overflows, one outside the resource, one past the
     * backing. */
    g_assert_cmphex(
        transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, CTX, 99, 0, 0, 1, 1, 0), ==,
        VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_create_2d(&f->d, 11, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(
        transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, CTX, 11, 0, 0, 1, 1, 0), ==,
        VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(
        transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, CTX, RES, 0, 0, 1, 1, 0), ==,
        VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(gd_attach(&f->d, RES, &e, 1), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(ctx_resource(f, VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, CTX, RES), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 9, RES, 0, 0, 1, 1, 0),
                    ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    g_assert_cmphex(transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, CTX, RES, 0xfffffff0u,
                                0, 0x20, 1, 0),
                    ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(
        transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, CTX, RES, 60, 0, 8, 1, 0), ==,
        VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    transfer_3d_cmd(&c, VIREO_VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, CTX, RES, 0, 0, RES_W, RES_H,
                    64, STRIDE);
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

    /* Command streams: unknown context, size past the command or not whole
     * words, garbage. */
    {
        unsigned n = encode_clear(words, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 1, 1, 1, 1);
        submit_cmd(&c, 9, words, n, 0);
        g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
        submit_cmd(&c, CTX, words, n, 0);
        put32le(c.buf + 24, n * 4 + 4);
        g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
        put32le(c.buf + 24, 6);
        g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
        for (unsigned i = 0; i < 16; i++) {
            words[i] = 0xdeadbeefu * (i + 1);
        }
        submit_cmd(&c, CTX, words, 16, 0);
        gd_call(&f->d, &c); /* an error or not, as virglrenderer decides */
    }
    /* A 3D scanout of a buffer-less format check: set_scanout of a resource
     * whose format the outputs do not take. */
    g_assert_cmphex(create_3d(f, 12, 0xb1 /* R16G16B16A16_FLOAT */, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 12, 0, 0, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

    /* After all that, the device still renders (in a new context: the old
     * one may have been marked broken by the garbage). */
    g_assert_false(status(&f->d.h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
    g_assert_cmphex(ctx_create(f, 3, "after"), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(ctx_resource(f, VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 3, RES), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    {
        unsigned n = encode_clear(words, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 0, 0, 1, 1);
        guint8 *pix = gpa(&f->d.h, T_PIX);
        submit_cmd(&c, 3, words, n, 42);
        g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        g_assert_cmphex(transfer_3d(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 3, RES, 0, 0,
                                    RES_W, RES_H, 43),
                        ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        assert_bgrx(pix, 0xff, 0, 0);
    }
}

/* Resets with contexts, 3D resources, backing and an output in texture
 * mode: afterwards the ids are free and rendering works. */
static void test_reset(Fixture *f, gconstpointer data)
{
    VireoScanoutFrame frame;

    NEED_VIRGL(f);
    for (int round = 0; round < 2; round++) {
        setup_target(f);
        clear_target(f, 0.0f, 1.0f, 1.0f, 1);
        g_assert_cmphex(gd_set_scanout(&f->d, 0, RES, 0, 0, RES_W, RES_H), ==,
                        VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        if (round == 0) {
            reg_write(&f->d.h, VIREO_VIRTIO_MMIO_STATUS, 0);
        } else {
            vireo_bus_reset(f->d.h.bus);
        }
        gd_start(&f->d, 1ull << VIREO_VIRTIO_GPU_F_VIRGL);
        g_assert_cmphex(gd_flush(&f->d, RES, 0, 0, 1, 1), ==,
                        VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
        g_assert_true(vireo_scanout_acquire(f->scanout, f->presenter, &frame));
        g_assert_null(frame.pixels);
        g_assert_cmpuint(frame.texture, ==, 0);
        vireo_scanout_release(f->scanout, f->presenter);
    }
    setup_target(f);
    clear_target(f, 1.0f, 1.0f, 0.0f, 9);
}

/* A device in 3D mode cannot be saved, and says why. It pauses (its thread
 * answers the fenced command it holds first, then nothing until it
 * resumes) and goes on afterwards. */
static void test_snapshot_refused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    uint32_t words[32];
    unsigned n;
    uint16_t used, paused_at;
    GdCmd c;

    NEED_VIRGL(f);
    setup_target(f);
    n = encode_clear(words, RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 1.0f, 0.0f, 0.0f, 1.0f);
    submit_cmd(&c, CTX, words, n, 5);
    used = used_idx(&f->d.h, &f->d.q[0]);
    gd_post(&f->d, 0, &c, c.len, 64);
    drv_kick(&f->d.h, &f->d.q[0]);
    snap_pause(&f->d.h);
    paused_at = used_idx(&f->d.h, &f->d.q[0]);
    g_usleep(20000);
    g_assert_cmpuint(used_idx(&f->d.h, &f->d.q[0]), ==, paused_at);
    g_assert_null(snap_try_save(&f->d.h, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE);
    g_assert_nonnull(strstr(error->message, "3D mode cannot be saved"));
    snap_resume(&f->d.h);
    g_assert_true(drv_wait_used(&f->d.h, &f->d.q[0], (uint16_t)(used + 1)));
    clear_target(f, 0.0f, 1.0f, 0.0f, 6);
}

/* Without an OpenGL provider the device offers 2D, says why, and works. */
static void test_fallback(void)
{
    VireoVirtioGpuConfig config;
    GpuDriver d;
    const char *reason = NULL;
    VireoScanoutFrame frame;
    int p;

    harness_init(&d.h);
    vireo_virtio_gpu_config_init(&config);
    config.virgl = true;
    config.gl_error = "no EGL in this test";
    harness_attach(&d.h, vireo_virtio_gpu_new(d.h.bus, &config));
    g_assert_cmpint(vireo_virtio_gpu_get_3d_status(d.h.dev, &reason), ==,
                    VIREO_VIRTIO_GPU_3D_UNAVAILABLE);
    g_assert_nonnull(reason);
    g_assert_nonnull(strstr(reason, "no EGL in this test"));
    g_assert_false(device_features(&d.h) & (1ull << VIREO_VIRTIO_GPU_F_VIRGL));
    g_assert_cmpuint(cfg_read(&d.h, VIREO_VIRTIO_GPU_CFG_NUM_CAPSETS, 4), ==, 0);
    gd_start(&d, 0);
    p = vireo_scanout_attach(vireo_virtio_gpu_get_scanout(d.h.dev, 0), NULL, NULL);
    gd_resource_2d(&d, 1, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16, 16, GD_BACKING);
    g_assert_cmphex(gd_set_scanout(&d, 0, 1, 0, 0, 16, 16), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(vireo_scanout_acquire(vireo_virtio_gpu_get_scanout(d.h.dev, 0), p, &frame));
    g_assert_cmpint(frame.width, ==, 16);
    vireo_scanout_release(vireo_virtio_gpu_get_scanout(d.h.dev, 0), p);
    vireo_scanout_detach(vireo_virtio_gpu_get_scanout(d.h.dev, 0), p);
    harness_clear(&d.h);

    /* Not asked for: off, no reason. */
    harness_init(&d.h);
    vireo_virtio_gpu_config_init(&config);
    harness_attach(&d.h, vireo_virtio_gpu_new(d.h.bus, &config));
    g_assert_cmpint(vireo_virtio_gpu_get_3d_status(d.h.dev, &reason), ==, VIREO_VIRTIO_GPU_3D_OFF);
    g_assert_null(reason);
    harness_clear(&d.h);
}

/* virglrenderer is one per process: a second 3D device at the same time
 * falls back to 2D and says why. */
static void test_second_device(Fixture *f, gconstpointer data)
{
    VireoVirtioGpuConfig config;
    VireoBus *bus;
    VireoVirtio *second;
    const char *reason = NULL;

    NEED_VIRGL(f);
    bus = vireo_bus_new();
    vireo_virtio_gpu_config_init(&config);
    config.virgl = true;
    config.gl = provider;
    second = vireo_virtio_gpu_new(bus, &config);
    g_assert_cmpint(vireo_virtio_gpu_get_3d_status(second, &reason), ==,
                    VIREO_VIRTIO_GPU_3D_UNAVAILABLE);
    g_assert_nonnull(reason);
    vireo_virtio_free(second);
    vireo_bus_free(bus);
}

int main(int argc, char *argv[])
{
    g_autoptr(GError) error = NULL;
    int status;

    g_test_init(&argc, &argv, NULL);
    provider = vireo_egl_provider_new(FALSE, &error);
    if (provider == NULL) {
        provider_error = g_strdup(error->message);
    }
#define VIRGL_TEST(path, func) \
    g_test_add("/virtio-gpu-virgl/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
    VIRGL_TEST("features", test_features);
    VIRGL_TEST("clear", test_clear);
    VIRGL_TEST("scanout", test_scanout);
    VIRGL_TEST("orientation", test_orientation);
    VIRGL_TEST("fences", test_fences);
    VIRGL_TEST("malformed", test_malformed);
    VIRGL_TEST("reset", test_reset);
    VIRGL_TEST("second-device", test_second_device);
    VIRGL_TEST("snapshot-refused", test_snapshot_refused);
    g_test_add_func("/virtio-gpu-virgl/fallback", test_fallback);
    status = g_test_run();
    vireo_egl_provider_free(provider);
    g_free(provider_error);
    return status;
}
