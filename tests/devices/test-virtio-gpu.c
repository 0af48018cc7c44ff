/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-gpu in 2D through its registers and rings, as a guest driver would
 * drive it: the configuration, display info and EDID, resources backed by
 * scattered guest pages, transfers, scanouts and flushes checked pixel by
 * pixel in the VireoScanout, the cursor queue, the display event after a
 * presenter's size request, fences, malformed commands (each answered with
 * its error while the device keeps working) and resets with resources in
 * place.
 */
#include "devices/virt.h"
#include "engine/error.h"
#include "gpu-driver.h"
#include "snap-driver.h"

#include <glib/gstdio.h>
#include <libfdt.h>

#define N_SCANOUTS 2
#define RES_W      64
#define RES_H      48

typedef struct {
    GpuDriver d;
    VireoScanout *scanouts[N_SCANOUTS];
    int presenter[N_SCANOUTS];
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    VireoVirtioGpuConfig config;

    harness_init(&f->d.h);
    vireo_virtio_gpu_config_init(&config);
    config.n_scanouts = N_SCANOUTS;
    for (unsigned i = 0; i < N_SCANOUTS; i++) {
        f->scanouts[i] = vireo_scanout_new();
        config.scanouts[i] = f->scanouts[i];
        f->presenter[i] = vireo_scanout_attach(f->scanouts[i], NULL, NULL);
        g_assert_cmpint(f->presenter[i], >=, 0);
    }
    harness_attach(&f->d.h, vireo_virtio_gpu_new(f->d.h.bus, &config));
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    harness_clear(&f->d.h);
    for (unsigned i = 0; i < N_SCANOUTS; i++) {
        vireo_scanout_detach(f->scanouts[i], f->presenter[i]);
        vireo_scanout_free(f->scanouts[i]);
    }
}

static void start(Fixture *f)
{
    gd_start(&f->d, 1ull << VIREO_VIRTIO_GPU_F_EDID);
}

/* The test pattern: byte k of pixel (x, y) of image `seed`. */
static guint8 pixel_byte(unsigned seed, unsigned x, unsigned y, unsigned k)
{
    return (guint8)(seed * 31 + x * (3 + k) + y * (7 + 2 * k) + k * 50);
}

/* Writes image `seed` (w x h, rows w * 4 bytes apart) across the backing
 * entries, in order. */
static void fill_backing(Fixture *f, const GdEntry *e, unsigned n, unsigned seed, unsigned w,
                         unsigned h)
{
    uint64_t total = (uint64_t)w * h * 4, at = 0;

    for (unsigned i = 0; i < n && at < total; i++) {
        guint8 *p = gpa(&f->d.h, e[i].addr);
        for (uint32_t j = 0; j < e[i].len && at < total; j++, at++) {
            unsigned pix = (unsigned)(at / 4);
            p[j] = pixel_byte(seed, pix % w, pix / w, (unsigned)(at % 4));
        }
    }
}

/* Takes the newest frame of scanout `i`. */
static bool acquire(Fixture *f, unsigned i, VireoScanoutFrame *frame)
{
    return vireo_scanout_acquire(f->scanouts[i], f->presenter[i], frame);
}

static void release(Fixture *f, unsigned i)
{
    vireo_scanout_release(f->scanouts[i], f->presenter[i]);
}

/* Checks that the frame shows image `seed` from (ox, oy) of the resource,
 * except in `fresh` (frame coordinates), where it shows image `fresh_seed`. */
static void check_frame(const VireoScanoutFrame *frame, unsigned seed, unsigned ox, unsigned oy,
                        VireoScanoutRect fresh, unsigned fresh_seed)
{
    g_assert_nonnull(frame->pixels);
    for (int y = 0; y < frame->height; y++) {
        for (int x = 0; x < frame->width; x++) {
            bool in = x >= fresh.x && x < fresh.x + fresh.width && y >= fresh.y &&
                      y < fresh.y + fresh.height;
            const guint8 *p = frame->pixels + (size_t)y * frame->stride + (size_t)x * 4;
            for (unsigned k = 0; k < 4; k++) {
                guint8 want =
                    pixel_byte(in ? fresh_seed : seed, ox + (unsigned)x, oy + (unsigned)y, k);
                if (p[k] != want) {
                    g_error("pixel (%d, %d) byte %u: %u, expected %u", x, y, k, p[k], want);
                }
            }
        }
    }
}

static void test_config(Fixture *f, gconstpointer data)
{
    uint64_t features;

    g_assert_cmpuint(reg_read(&f->d.h, VIREO_VIRTIO_MMIO_DEVICE_ID), ==, VIREO_VIRTIO_ID_GPU);
    features = device_features(&f->d.h);
    g_assert_true(features & (1ull << VIREO_VIRTIO_GPU_F_EDID));
    g_assert_false(features & (1ull << VIREO_VIRTIO_GPU_F_VIRGL));
    g_assert_false(features & (1ull << VIREO_VIRTIO_GPU_F_RESOURCE_BLOB));
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_READ, 4), ==, 0);
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_NUM_SCANOUTS, 4), ==, N_SCANOUTS);
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_NUM_CAPSETS, 4), ==, 0);
    g_assert_true(vireo_virtio_is_gpu(f->d.h.dev));
    g_assert_cmpuint(vireo_virtio_gpu_get_n_scanouts(f->d.h.dev), ==, N_SCANOUTS);
    g_assert_true(vireo_virtio_gpu_get_scanout(f->d.h.dev, 1) == f->scanouts[1]);
    g_assert_null(vireo_virtio_gpu_get_scanout(f->d.h.dev, N_SCANOUTS));
}

static void get_display_info(Fixture *f, guint8 **resp)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
    g_assert_cmphex(gd_call_len(&f->d, VIREO_VIRTIO_GPU_CONTROLQ, &c, c.len, 24 + 16 * 24, resp),
                    ==, VIREO_VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
}

static void test_display_info(Fixture *f, gconstpointer data)
{
    guint8 *r;

    start(f);
    get_display_info(f, &r);
    /* Output 0 at (0, 0), output 1 to its right, both 1024 x 768 and
     * enabled; the other 14 entries are zeros. */
    g_assert_cmpuint(get32le(r + 24), ==, 0);
    g_assert_cmpuint(get32le(r + 24 + 8), ==, 1024);
    g_assert_cmpuint(get32le(r + 24 + 12), ==, 768);
    g_assert_cmpuint(get32le(r + 24 + 16), ==, 1);
    g_assert_cmpuint(get32le(r + 48), ==, 1024);
    g_assert_cmpuint(get32le(r + 48 + 16), ==, 1);
    for (unsigned i = N_SCANOUTS; i < 16; i++) {
        for (unsigned k = 0; k < 24; k++) {
            g_assert_cmpuint(r[24 + i * 24 + k], ==, 0);
        }
    }
}

/* Reads the preferred mode from an EDID's first detailed timing. */
static void edid_mode(const guint8 *e, int *w, int *h)
{
    const guint8 *d = e + 54;

    *w = d[2] | ((d[4] >> 4) << 8);
    *h = d[5] | ((d[7] >> 4) << 8);
}

static void check_edid(const guint8 *e, int width, int height)
{
    static const guint8 header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
    guint8 sum = 0;
    int w, h;

    g_assert_cmpmem(e, 8, header, 8);
    for (int i = 0; i < 128; i++) {
        sum = (guint8)(sum + e[i]);
    }
    g_assert_cmpuint(sum, ==, 0);
    g_assert_cmpuint(e[18], ==, 1);
    g_assert_cmpuint(e[19], ==, 4);
    g_assert_true(e[20] & 0x80);                   /* digital */
    g_assert_true(e[24] & 0x02);                   /* the preferred timing is the native mode */
    g_assert_cmpuint(e[54] | (e[55] << 8), !=, 0); /* a timing, not a descriptor */
    edid_mode(e, &w, &h);
    g_assert_cmpint(w, ==, width);
    g_assert_cmpint(h, ==, height);
    /* A monitor name descriptor. */
    g_assert_cmpuint(e[72 + 3], ==, 0xfc);
    g_assert_cmpmem(e + 72 + 5, 5, "Vireo", 5);
}

static uint32_t get_edid(Fixture *f, uint32_t scanout, guint8 **resp)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_EDID);
    gd_u32(&c, scanout);
    gd_u32(&c, 0);
    return gd_call_len(&f->d, VIREO_VIRTIO_GPU_CONTROLQ, &c, c.len, 24 + 8 + 1024, resp);
}

static void test_edid(Fixture *f, gconstpointer data)
{
    guint8 *r;
    guint8 edid[128];

    start(f);
    g_assert_cmphex(get_edid(f, 0, &r), ==, VIREO_VIRTIO_GPU_RESP_OK_EDID);
    g_assert_cmpuint(get32le(r + 24), ==, 128);
    check_edid(r + 32, 1024, 768);
    g_assert_cmphex(get_edid(f, 1, &r), ==, VIREO_VIRTIO_GPU_RESP_OK_EDID);
    check_edid(r + 32, 1024, 768);
    g_assert_cmphex(get_edid(f, N_SCANOUTS, &r), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);

    /* Generated directly: odd and large sizes stay valid. */
    vireo_virtio_gpu_build_edid(edid, 0, 1366, 771);
    check_edid(edid, 1366, 771);
    vireo_virtio_gpu_build_edid(edid, 3, 3840, 2160);
    check_edid(edid, 3840, 2160);
    vireo_virtio_gpu_build_edid(edid, 0, 1, 1);
    check_edid(edid, 1, 1);

    /* Without VIRTIO_GPU_F_EDID there is none. */
    gd_start(&f->d, 0);
    g_assert_cmphex(get_edid(f, 0, &r), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
}

/* A presenter's size request becomes the preferred mode, announced by the
 * display event and a configuration interrupt. */
static void test_display_event(Fixture *f, gconstpointer data)
{
    uint32_t generation;
    guint8 *r;

    start(f);
    ack(&f->d.h);
    generation = reg_read(&f->d.h, VIREO_VIRTIO_MMIO_CONFIG_GENERATION);
    vireo_scanout_request_size(f->scanouts[0], 1280, 800);
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_READ, 4), ==,
                     VIREO_VIRTIO_GPU_EVENT_DISPLAY);
    g_assert_true(isr(&f->d.h) & VIREO_VIRTIO_ISR_CONFIG);
    g_assert_true(irq_probe_level(&f->d.h.irq));
    g_assert_cmpuint(reg_read(&f->d.h, VIREO_VIRTIO_MMIO_CONFIG_GENERATION), !=, generation);
    ack(&f->d.h);

    get_display_info(f, &r);
    g_assert_cmpuint(get32le(r + 24 + 8), ==, 1280);
    g_assert_cmpuint(get32le(r + 24 + 12), ==, 800);
    g_assert_cmpuint(get32le(r + 48), ==, 1280); /* output 1 moved right */
    g_assert_cmpuint(get32le(r + 48 + 8), ==, 1024);
    g_assert_cmphex(get_edid(f, 0, &r), ==, VIREO_VIRTIO_GPU_RESP_OK_EDID);
    check_edid(r + 32, 1280, 800);

    /* events_clear is write-1-to-clear. */
    cfg_write(&f->d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_CLEAR, 4, VIREO_VIRTIO_GPU_EVENT_DISPLAY);
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_READ, 4), ==, 0);

    /* The same size again is no event; the second output's is. */
    vireo_scanout_request_size(f->scanouts[0], 1280, 800);
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_READ, 4), ==, 0);
    vireo_scanout_request_size(f->scanouts[1], 640, 480);
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_READ, 4), ==,
                     VIREO_VIRTIO_GPU_EVENT_DISPLAY);
    get_display_info(f, &r);
    g_assert_cmpuint(get32le(r + 48 + 8), ==, 640);
    g_assert_cmpuint(get32le(r + 48 + 12), ==, 480);
}

/* Three backing entries, out of address order, of lengths that are not
 * whole pages, together exactly RES_W x RES_H x 4 bytes. */
static const GdEntry scattered[3] = {
    { GD_BACKING + 0x10000, 5000 },
    { GD_BACKING + 0x3000, 4000 },
    { GD_BACKING + 0x20100, RES_W *RES_H * 4 - 9000 },
};

/* The whole 2D path for one format: create, back with scattered pages,
 * transfer, show on both outputs (the second a part of the resource),
 * flush; then a partial transfer at an offset and a partial flush. */
static void test_2d(Fixture *f, gconstpointer data)
{
    uint32_t format = GPOINTER_TO_UINT(data);
    VireoScanoutFrame frame;
    VireoScanoutRect none = { 0, 0, 0, 0 }, part = { 10, 5, 20, 7 };
    VireoPixelFormat expect = format == VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM
                                  ? VIREO_PIXEL_B8G8R8X8
                                  : VIREO_PIXEL_R8G8B8A8;

    start(f);
    fill_backing(f, scattered, 3, 1, RES_W, RES_H);
    g_assert_cmphex(gd_create_2d(&f->d, 7, format, RES_W, RES_H), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_attach(&f->d, 7, scattered, 3), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_transfer_2d(&f->d, 7, 0, 0, RES_W, RES_H, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 7, 0, 0, RES_W, RES_H), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_set_scanout(&f->d, 1, 7, 8, 4, 40, 30), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_flush(&f->d, 7, 0, 0, RES_W, RES_H), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);

    g_assert_true(acquire(f, 0, &frame));
    g_assert_cmpint(frame.width, ==, RES_W);
    g_assert_cmpint(frame.height, ==, RES_H);
    g_assert_cmpint(frame.format, ==, expect);
    check_frame(&frame, 1, 0, 0, none, 0);
    release(f, 0);
    g_assert_true(acquire(f, 1, &frame));
    g_assert_cmpint(frame.width, ==, 40);
    g_assert_cmpint(frame.height, ==, 30);
    check_frame(&frame, 1, 8, 4, none, 0);
    release(f, 1);

    /* The guest redraws everything but transfers only `part`, at the offset
     * of its top-left pixel: only `part` changes. */
    fill_backing(f, scattered, 3, 2, RES_W, RES_H);
    g_assert_cmphex(gd_transfer_2d(&f->d, 7, (uint32_t)part.x, (uint32_t)part.y,
                                   (uint32_t)part.width, (uint32_t)part.height,
                                   (uint64_t)part.y * RES_W * 4 + (uint64_t)part.x * 4),
                    ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_false(acquire(f, 0, &frame)); /* not flushed yet */
    g_assert_cmphex(gd_flush(&f->d, 7, (uint32_t)part.x, (uint32_t)part.y, (uint32_t)part.width,
                             (uint32_t)part.height),
                    ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    g_assert_cmpint(frame.damage.x, ==, part.x);
    g_assert_cmpint(frame.damage.y, ==, part.y);
    g_assert_cmpint(frame.damage.width, ==, part.width);
    g_assert_cmpint(frame.damage.height, ==, part.height);
    check_frame(&frame, 1, 0, 0, part, 2);
    release(f, 0);
    /* Output 1 shows it moved by its origin (8, 4). */
    g_assert_true(acquire(f, 1, &frame));
    g_assert_cmpint(frame.damage.x, ==, part.x - 8);
    g_assert_cmpint(frame.damage.y, ==, part.y - 4);
    check_frame(&frame, 1, 8, 4,
                (VireoScanoutRect){ part.x - 8, part.y - 4, part.width, part.height }, 2);
    release(f, 1);

    /* A flush outside output 1's part reaches output 0 only. */
    g_assert_cmphex(gd_transfer_2d(&f->d, 7, 0, 40, RES_W, 8, 40 * RES_W * 4), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_flush(&f->d, 7, 0, 40, RES_W, 8), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    g_assert_cmpint(frame.damage.y, ==, 40);
    release(f, 0);
    g_assert_false(acquire(f, 1, &frame));

    /* Switching an output off, and the resource going away, end its
     * picture. */
    g_assert_cmphex(gd_set_scanout(&f->d, 1, 0, 0, 0, 0, 0), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 1, &frame));
    g_assert_null(frame.pixels);
    release(f, 1);
    g_assert_cmphex(gd_detach(&f->d, 7), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_unref(&f->d, 7), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    g_assert_null(frame.pixels);
    release(f, 0);
}

/* Two resources, flipped between on one output. */
static void test_page_flip(Fixture *f, gconstpointer data)
{
    GdEntry a = { GD_BACKING, 32 * 16 * 4 }, b = { GD_BACKING + 0x10000, 32 * 16 * 4 };
    VireoScanoutFrame frame;
    VireoScanoutRect none = { 0, 0, 0, 0 };

    start(f);
    fill_backing(f, &a, 1, 3, 32, 16);
    fill_backing(f, &b, 1, 4, 32, 16);
    gd_resource_2d(&f->d, 1, VIREO_VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, 32, 16, a.addr);
    gd_resource_2d(&f->d, 2, VIREO_VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, 32, 16, b.addr);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 1, 0, 0, 32, 16), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    check_frame(&frame, 3, 0, 0, none, 0);
    release(f, 0);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 2, 0, 0, 32, 16), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    check_frame(&frame, 4, 0, 0, none, 0);
    release(f, 0);
    /* A flush of the resource not shown changes nothing. */
    g_assert_cmphex(gd_flush(&f->d, 1, 0, 0, 32, 16), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_false(acquire(f, 0, &frame));
}

static void test_cursor(Fixture *f, gconstpointer data)
{
    GdEntry e = { GD_BACKING, 64 * 64 * 4 };
    GdEntry e2 = { GD_BACKING + 0x10000, 64 * 64 * 4 };
    guint8 *p = gpa(&f->d.h, e.addr);
    guint8 *p2 = gpa(&f->d.h, e2.addr);
    VireoScanoutFrame frame;

    start(f);
    for (unsigned i = 0; i < 64 * 64; i++) {
        /* B8G8R8A8: blue, green, red, alpha in memory. */
        p[4 * i] = (guint8)i;
        p[4 * i + 1] = (guint8)(i >> 4);
        p[4 * i + 2] = (guint8)(i * 3);
        p[4 * i + 3] = (guint8)(i * 5);
        /* R8G8B8X8. */
        p2[4 * i] = (guint8)(i * 7);
        p2[4 * i + 1] = (guint8)(i * 11);
        p2[4 * i + 2] = (guint8)(i * 13);
        p2[4 * i + 3] = 0x12;
    }
    gd_resource_2d(&f->d, 5, VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64, e.addr);
    gd_resource_2d(&f->d, 6, VIREO_VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 64, 64, e2.addr);

    g_assert_cmphex(gd_update_cursor(&f->d, 0, 100, 50, 5, 3, 4), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    g_assert_nonnull(frame.cursor);
    g_assert_cmpint(frame.cursor_x, ==, 100);
    g_assert_cmpint(frame.cursor_y, ==, 50);
    g_assert_cmpint(frame.cursor_hot_x, ==, 3);
    g_assert_cmpint(frame.cursor_hot_y, ==, 4);
    for (unsigned i = 0; i < 64 * 64; i++) {
        uint32_t want = ((uint32_t)(guint8)(i * 5) << 24) | ((uint32_t)(guint8)(i * 3) << 16) |
                        ((uint32_t)(guint8)(i >> 4) << 8) | (guint8)i;
        g_assert_cmphex(frame.cursor[i], ==, want);
    }
    release(f, 0);

    g_assert_cmphex(gd_move_cursor(&f->d, 0, -10, 700), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    g_assert_nonnull(frame.cursor);
    g_assert_cmpint(frame.cursor_x, ==, -10);
    g_assert_cmpint(frame.cursor_y, ==, 700);
    release(f, 0);

    /* Another format: alpha is opaque where the format has none. */
    g_assert_cmphex(gd_update_cursor(&f->d, 0, 1, 2, 6, 0, 63), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    for (unsigned i = 0; i < 64 * 64; i++) {
        uint32_t want = 0xff000000u | ((uint32_t)(guint8)(i * 7) << 16) |
                        ((uint32_t)(guint8)(i * 11) << 8) | (guint8)(i * 13);
        g_assert_cmphex(frame.cursor[i], ==, want);
    }
    g_assert_cmpint(frame.cursor_hot_y, ==, 63);
    release(f, 0);
    /* The other output's cursor is its own. */
    g_assert_true(acquire(f, 1, &frame));
    g_assert_null(frame.cursor);
    release(f, 1);

    /* Resource 0 hides it. */
    g_assert_cmphex(gd_update_cursor(&f->d, 0, 1, 2, 0, 0, 0), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(f, 0, &frame));
    g_assert_null(frame.cursor);
    release(f, 0);

    /* Errors. */
    g_assert_cmphex(gd_update_cursor(&f->d, N_SCANOUTS, 0, 0, 5, 0, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
    g_assert_cmphex(gd_move_cursor(&f->d, 0xffffffffu, 0, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
    g_assert_cmphex(gd_update_cursor(&f->d, 0, 0, 0, 99, 0, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_update_cursor(&f->d, 0, 0, 0, 5, 64, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_create_2d(&f->d, 9, VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 32, 32), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_update_cursor(&f->d, 0, 0, 0, 9, 0, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
}

/* Fenced commands answer with the fence; several made available at once
 * come back in order. */
static void test_fences(Fixture *f, gconstpointer data)
{
    GdCmd c;
    unsigned slots[3];
    uint16_t base;

    start(f);
    base = used_idx(&f->d.h, &f->d.q[0]);
    for (unsigned i = 0; i < 3; i++) {
        gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
        gd_fence(&c, 1000 + i, 0);
        gd_u32(&c, 20 + i);
        gd_u32(&c, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
        gd_u32(&c, 16);
        gd_u32(&c, 16);
        slots[i] = gd_post(&f->d, VIREO_VIRTIO_GPU_CONTROLQ, &c, c.len, 64);
    }
    gd_kick_wait(&f->d, VIREO_VIRTIO_GPU_CONTROLQ, 3);
    for (unsigned i = 0; i < 3; i++) {
        const guint8 *r = gd_resp(&f->d, slots[i]);
        uint32_t id, len;

        used_elem(&f->d.h, &f->d.q[0], (uint16_t)(base + i), &id, &len);
        g_assert_cmpuint(id, ==, 2 * i); /* two descriptors per command */
        g_assert_cmpuint(len, ==, 24);
        g_assert_cmphex(get32le(r), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        g_assert_cmphex(get32le(r + 4), ==, VIREO_VIRTIO_GPU_FLAG_FENCE);
        g_assert_cmpuint(get32le(r + 8), ==, 1000 + i);
    }
    /* An unfenced answer has no fence. */
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_UNREF);
    gd_u32(&c, 20);
    gd_u32(&c, 0);
    {
        guint8 *r;
        g_assert_cmphex(gd_call_len(&f->d, 0, &c, c.len, 64, &r), ==,
                        VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        g_assert_cmphex(get32le(r + 4), ==, 0);
    }
}

/* A command that only has a header. */
static uint32_t bare(Fixture *f, uint32_t type)
{
    GdCmd c;

    gd_begin(&c, type);
    return gd_call(&f->d, &c);
}

static void test_malformed(Fixture *f, gconstpointer data)
{
    const uint32_t fmt = VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
    const uint64_t ram_end = T_RAM_BASE + T_RAM_SIZE;
    GdEntry e16 = { GD_BACKING, 16 * 16 * 4 };
    GdCmd c;
    GdEntry e;
    guint8 *r;

    start(f);
    /* Unknown commands, on either queue; 3D commands without virgl. */
    g_assert_cmphex(bare(f, 0x0999), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_CTX_CREATE), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_SUBMIT_3D), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_UPDATE_CURSOR), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC); /* on the control queue */
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
    g_assert_cmphex(gd_call_cursor(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    /* A short header; commands shorter than their structure. */
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
    g_assert_cmphex(gd_call_len(&f->d, 0, &c, 16, 64, &r), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
    gd_u32(&c, 1);
    gd_u32(&c, fmt);
    gd_u32(&c, 16);
    g_assert_cmphex(gd_call(&f->d, &c), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_SET_SCANOUT), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_RESOURCE_FLUSH), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_RESOURCE_UNREF), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(bare(f, VIREO_VIRTIO_GPU_CMD_GET_EDID), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);

    /* Creating. */
    g_assert_cmphex(gd_create_2d(&f->d, 0, fmt, 16, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_create_2d(&f->d, 1, 5, 16, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_create_2d(&f->d, 1, fmt, 0, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_create_2d(&f->d, 1, fmt, 16, 16385), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_create_2d(&f->d, 1, fmt, 0xffffffffu, 0xffffffffu), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_create_2d(&f->d, 1, fmt, 16384, 16384), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
    g_assert_cmphex(gd_create_2d(&f->d, 1, fmt, 16, 16), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_create_2d(&f->d, 1, fmt, 16, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);

    /* Unknown resources and id 0. */
    g_assert_cmphex(gd_unref(&f->d, 99), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_unref(&f->d, 0), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_flush(&f->d, 99, 0, 0, 1, 1), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_flush(&f->d, 0, 0, 0, 1, 1), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_transfer_2d(&f->d, 99, 0, 0, 1, 1, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_attach(&f->d, 99, &e16, 1), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_detach(&f->d, 99), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 99, 0, 0, 16, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);

    /* Scanouts out of range. */
    g_assert_cmphex(gd_set_scanout(&f->d, N_SCANOUTS, 1, 0, 0, 16, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
    g_assert_cmphex(gd_set_scanout(&f->d, 0xffffffffu, 0, 0, 0, 0, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);

    /* Rectangles outside the resource, or overflowing 32 bits. */
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 1, 0, 0, 17, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 1, 8, 8, 0, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 1, 0x7fffffffu, 0, 2, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 1, 0xfffffff8u, 0, 16, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_flush(&f->d, 1, 0xffffffffu, 0, 1, 1), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_flush(&f->d, 1, 0, 8, 16, 0xfffffff9u), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

    /* Transfers: without backing, then outside the resource, then past
     * the end of the backing. */
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 0, 0, 16, 16, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(gd_attach(&f->d, 1, &e16, 1), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 0xfffffff0u, 0, 0x20, 1, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 0, 1, 16, 16, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 0, 0, 16, 16, 4), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 4, 4, 4, 4, 16 * 16 * 4 - 12), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 0, 0, 1, 1, G_MAXUINT64), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 0, 0, 1, 1, G_MAXUINT64 - 2), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    /* The last pixel exactly is fine. */
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 15, 15, 1, 1, 16 * 16 * 4 - 4), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);

    /* Backing: attached twice, detached twice. */
    g_assert_cmphex(gd_attach(&f->d, 1, &e16, 1), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    g_assert_cmphex(gd_detach(&f->d, 1), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_detach(&f->d, 1), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    /* Entries outside RAM, running past its end, wrapping around, empty;
     * too few bytes for the resource; counts of 0, too many, or more than
     * the command holds. */
    e = (GdEntry){ 0x1000, 4096 };
    g_assert_cmphex(gd_attach(&f->d, 1, &e, 1), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    e = (GdEntry){ ram_end - 512, 1024 };
    g_assert_cmphex(gd_attach(&f->d, 1, &e, 1), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    e = (GdEntry){ 0xfffffffffffff000ull, 0x2000 };
    g_assert_cmphex(gd_attach(&f->d, 1, &e, 1), ==, VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    {
        GdEntry two[2] = { { GD_BACKING, 512 }, { GD_BACKING + 4096, 0 } };
        g_assert_cmphex(gd_attach(&f->d, 1, two, 2), ==,
                        VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
        two[1].len = 500; /* 1012 of 1024 bytes */
        g_assert_cmphex(gd_attach(&f->d, 1, two, 2), ==,
                        VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    }
    g_assert_cmphex(gd_attach_n(&f->d, 1, &e16, 1, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_attach_n(&f->d, 1, &e16, 1, VIREO_VIRTIO_GPU_MAX_BACKING_ENTRIES + 1), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_attach_n(&f->d, 1, &e16, 1, 0xffffffffu), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    g_assert_cmphex(gd_attach_n(&f->d, 1, &e16, 1, 3), ==, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
    /* A failed attach leaves none. */
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 0, 0, 16, 16, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);

    /* After all that, the device works and never needed a reset. */
    g_assert_false(status(&f->d.h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
    fill_backing(f, &e16, 1, 9, 16, 16);
    g_assert_cmphex(gd_attach(&f->d, 1, &e16, 1), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_transfer_2d(&f->d, 1, 0, 0, 16, 16, 0), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 1, 0, 0, 16, 16), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    {
        VireoScanoutFrame frame;
        g_assert_true(acquire(f, 0, &frame));
        check_frame(&frame, 9, 0, 0, (VireoScanoutRect){ 0, 0, 0, 0 }, 0);
        release(f, 0);
    }
}

/* A response buffer too short for the header gets what fits. */
static void test_short_response(Fixture *f, gconstpointer data)
{
    GdCmd c;
    uint32_t id, len;
    uint16_t base;

    start(f);
    base = used_idx(&f->d.h, &f->d.q[0]);
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
    gd_call_len(&f->d, 0, &c, c.len, 8, NULL);
    used_elem(&f->d.h, &f->d.q[0], base, &id, &len);
    g_assert_cmpuint(len, ==, 8);
    /* Display info into a buffer that holds only part of it. */
    gd_call_len(&f->d, 0, &c, c.len, 100, NULL);
    used_elem(&f->d.h, &f->d.q[0], (uint16_t)(base + 1), &id, &len);
    g_assert_cmpuint(len, ==, 100);
    g_assert_false(status(&f->d.h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
}

/* Resets (by the driver, then by the board) with resources, backing and
 * outputs in place: everything the guest made is gone afterwards. */
static void test_reset(Fixture *f, gconstpointer data)
{
    GdEntry e = { GD_BACKING, 32 * 32 * 4 };
    VireoScanoutFrame frame;

    for (int round = 0; round < 2; round++) {
        start(f);
        fill_backing(f, &e, 1, 5, 32, 32);
        gd_resource_2d(&f->d, 3, VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 32, 32, e.addr);
        g_assert_cmphex(gd_create_2d(&f->d, 4, VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64), ==,
                        VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        g_assert_cmphex(gd_set_scanout(&f->d, 0, 3, 0, 0, 32, 32), ==,
                        VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        g_assert_cmphex(gd_update_cursor(&f->d, 0, 5, 5, 4, 0, 0), ==,
                        VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        g_assert_true(acquire(f, 0, &frame));
        g_assert_nonnull(frame.pixels);
        g_assert_nonnull(frame.cursor);
        release(f, 0);

        if (round == 0) {
            reg_write(&f->d.h, VIREO_VIRTIO_MMIO_STATUS, 0);
        } else {
            vireo_bus_reset(f->d.h.bus);
        }
        g_assert_cmpuint(status(&f->d.h), ==, 0);
        start(f);
        g_assert_cmphex(gd_flush(&f->d, 3, 0, 0, 32, 32), ==,
                        VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
        g_assert_true(acquire(f, 0, &frame));
        g_assert_null(frame.pixels);
        g_assert_null(frame.cursor);
        release(f, 0);
        /* The ids are free again. */
        g_assert_cmphex(gd_create_2d(&f->d, 3, VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 8, 8), ==,
                        VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        g_assert_cmphex(gd_unref(&f->d, 3), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
        reg_write(&f->d.h, VIREO_VIRTIO_MMIO_STATUS, 0);
    }
}

/* Commands kept coming while the driver resets: none is answered into the
 * new epoch, and the device is usable afterwards. */
static void test_reset_busy(Fixture *f, gconstpointer data)
{
    GdCmd c;

    start(f);
    for (unsigned i = 0; i < 20; i++) {
        gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
        gd_u32(&c, 100 + i);
        gd_u32(&c, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
        gd_u32(&c, 1024);
        gd_u32(&c, 768);
        gd_post(&f->d, 0, &c, c.len, 64);
    }
    drv_kick(&f->d.h, &f->d.q[0]);
    reg_write(&f->d.h, VIREO_VIRTIO_MMIO_STATUS, 0);
    start(f);
    g_assert_cmpuint(used_idx(&f->d.h, &f->d.q[0]), ==, 0);
    for (unsigned i = 0; i < 20; i++) {
        g_assert_cmphex(
            gd_create_2d(&f->d, 100 + i, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64), ==,
            VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    }
}

/* ---- Pausing and snapshots ------------------------------------------------ */

#define CURSOR_RES    5
#define T_CURSOR_PIX  (GD_BACKING + 0x30000)
#define SNAP_OUT_SIZE 46 /* an output's part without a cursor image */

/* A second device with outputs of its own, the driver's view of the rings
 * of `f` and a copy of its RAM. */
static void twin_setup(Fixture *t, Fixture *f)
{
    fixture_setup(t, NULL);
    t->d.q[0] = f->d.q[0];
    t->d.q[1] = f->d.q[1];
    t->d.next_slot = f->d.next_slot;
    snap_copy_ram(&t->d.h, &f->d.h);
}

static uint32_t cursor_word(unsigned i)
{
    /* B8G8R8A8 bytes i, i >> 4, i * 3, i * 5 as A8R8G8B8. */
    return ((uint32_t)(guint8)(i * 5) << 24) | ((uint32_t)(guint8)(i * 3) << 16) |
           ((uint32_t)(guint8)(i >> 4) << 8) | (guint8)i;
}

static void cursor_resource(Fixture *f)
{
    guint8 *p = gpa(&f->d.h, T_CURSOR_PIX);

    for (unsigned i = 0; i < 64 * 64; i++) {
        p[4 * i] = (guint8)i;
        p[4 * i + 1] = (guint8)(i >> 4);
        p[4 * i + 2] = (guint8)(i * 3);
        p[4 * i + 3] = (guint8)(i * 5);
    }
    gd_resource_2d(&f->d, CURSOR_RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64, T_CURSOR_PIX);
}

/* Resources with their pixels and backing, both outputs and the cursors
 * go with the state: loaded into a second device, its outputs show the
 * same pictures and cursor at once; once it resumes, the command made
 * available while the first was paused is answered, and the resources
 * and their backing (in the second device's RAM) serve new commands. The
 * first device answers it too, and takes a size the presenter asked for
 * while it was paused. */
static void test_snapshot_round_trip(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) section = NULL;
    VireoScanoutRect none = { 0, 0, 0, 0 }, part = { 4, 6, 20, 10 };
    VireoScanoutFrame frame;
    GdCmd c;
    unsigned slot;
    uint16_t used;
    Fixture t;

    start(f);
    fill_backing(f, scattered, 3, 1, RES_W, RES_H);
    g_assert_cmphex(gd_create_2d(&f->d, 7, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, RES_W, RES_H),
                    ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_attach(&f->d, 7, scattered, 3), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_transfer_2d(&f->d, 7, 0, 0, RES_W, RES_H, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 7, 0, 0, RES_W, RES_H), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_set_scanout(&f->d, 1, 7, 8, 4, 40, 30), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    cursor_resource(f);
    g_assert_cmphex(gd_update_cursor(&f->d, 0, 100, 50, CURSOR_RES, 3, 4), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_move_cursor(&f->d, 1, -5, 7), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_create_2d(&f->d, 9, VIREO_VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 16, 16), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    ack(&f->d.h);

    snap_pause(&f->d.h);
    /* Paused: a command waits, and so does a size request. */
    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
    gd_u32(&c, 11);
    gd_u32(&c, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
    gd_u32(&c, 8);
    gd_u32(&c, 8);
    used = used_idx(&f->d.h, &f->d.q[0]);
    slot = gd_post(&f->d, 0, &c, c.len, 64);
    drv_kick(&f->d.h, &f->d.q[0]);
    vireo_scanout_request_size(f->scanouts[1], 800, 600);
    g_usleep(10000);
    g_assert_cmpuint(used_idx(&f->d.h, &f->d.q[0]), ==, used);
    g_assert_cmpuint(isr(&f->d.h), ==, 0);
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_READ, 4), ==, 0);
    section = snap_save(&f->d.h);

    twin_setup(&t, f);
    snap_pause(&t.d.h);
    g_assert_true(snap_load(&t.d.h, section, &error));
    g_assert_no_error(error);
    /* The outputs show the loaded pictures before the device runs. */
    g_assert_true(acquire(&t, 0, &frame));
    g_assert_cmpint(frame.width, ==, RES_W);
    g_assert_cmpint(frame.height, ==, RES_H);
    g_assert_cmpint(frame.format, ==, VIREO_PIXEL_B8G8R8X8);
    check_frame(&frame, 1, 0, 0, none, 0);
    g_assert_nonnull(frame.cursor);
    g_assert_cmpint(frame.cursor_x, ==, 100);
    g_assert_cmpint(frame.cursor_y, ==, 50);
    g_assert_cmpint(frame.cursor_hot_x, ==, 3);
    g_assert_cmpint(frame.cursor_hot_y, ==, 4);
    for (unsigned i = 0; i < 64 * 64; i++) {
        g_assert_cmphex(frame.cursor[i], ==, cursor_word(i));
    }
    release(&t, 0);
    g_assert_true(acquire(&t, 1, &frame));
    g_assert_cmpint(frame.width, ==, 40);
    g_assert_cmpint(frame.height, ==, 30);
    check_frame(&frame, 1, 8, 4, none, 0);
    g_assert_null(frame.cursor); /* moved, but no image */
    g_assert_cmpint(frame.cursor_x, ==, -5);
    release(&t, 1);
    g_assert_cmpuint(used_idx(&t.d.h, &t.d.q[0]), ==, used);

    snap_resume(&t.d.h);
    g_assert_true(drv_wait_used(&t.d.h, &t.d.q[0], (uint16_t)(used + 1)));
    g_assert_cmphex(get32le(gd_resp(&t.d, slot)), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(irq_probe_level(&t.d.h.irq));
    /* The loaded resources are there, with their backing. */
    g_assert_cmphex(gd_create_2d(&t.d, 7, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_create_2d(&t.d, 9, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_cmphex(gd_transfer_2d(&t.d, 9, 0, 0, 16, 16, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC); /* no backing */
    fill_backing(&t, scattered, 3, 2, RES_W, RES_H);
    g_assert_cmphex(gd_transfer_2d(&t.d, 7, (uint32_t)part.x, (uint32_t)part.y,
                                   (uint32_t)part.width, (uint32_t)part.height,
                                   (uint64_t)part.y * RES_W * 4 + (uint64_t)part.x * 4),
                    ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_flush(&t.d, 7, 0, 0, RES_W, RES_H), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(&t, 0, &frame));
    check_frame(&frame, 1, 0, 0, part, 2);
    release(&t, 0);
    g_assert_cmphex(gd_update_cursor(&t.d, 1, 1, 1, CURSOR_RES, 0, 0), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_detach(&t.d, 7), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_unref(&t.d, 7), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_unref(&t.d, 9), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_true(acquire(&t, 0, &frame));
    g_assert_null(frame.pixels);
    release(&t, 0);
    fixture_teardown(&t, NULL);

    /* The first device answers the waiting command, and the display event
     * for the size asked for while paused comes now. */
    snap_resume(&f->d.h);
    g_assert_true(drv_wait_used(&f->d.h, &f->d.q[0], (uint16_t)(used + 1)));
    g_assert_cmpuint(cfg_read(&f->d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_READ, 4), ==,
                     VIREO_VIRTIO_GPU_EVENT_DISPLAY);
    g_assert_true(isr(&f->d.h) & VIREO_VIRTIO_ISR_CONFIG);
}

/* A reset while paused, which the device's thread carries out only when it
 * runs again, is in the saved state: nothing the guest made is saved. */
static void test_snapshot_reset_paused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) section = NULL;
    VireoScanoutFrame frame;
    Fixture t;

    start(f);
    cursor_resource(f);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, CURSOR_RES, 0, 0, 64, 64), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    snap_pause(&f->d.h);
    reg_write(&f->d.h, VIREO_VIRTIO_MMIO_STATUS, 0);
    section = snap_save(&f->d.h);
    g_assert_cmpuint(g_bytes_get_size(section), ==, SNAP_OFF_MODEL(2) + 12 + 2 * SNAP_OUT_SIZE + 4);
    twin_setup(&t, f);
    snap_pause(&t.d.h);
    g_assert_true(snap_load(&t.d.h, section, &error));
    snap_resume(&t.d.h);
    start(&t);
    g_assert_cmphex(gd_create_2d(&t.d, CURSOR_RES, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8),
                    ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    fixture_teardown(&t, NULL);
    snap_resume(&f->d.h);
    start(f);
    g_assert_cmphex(gd_flush(&f->d, CURSOR_RES, 0, 0, 8, 8), ==,
                    VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    g_assert_true(acquire(f, 0, &frame));
    g_assert_null(frame.pixels);
    release(f, 0);
}

/* Bad values in the display device's part are refused and change
 * nothing. */
static void test_snapshot_hostile(Fixture *f, gconstpointer data)
{
    const gsize m = SNAP_OFF_MODEL(2);
    const gsize out0 = m + 12, out1 = out0 + SNAP_OUT_SIZE;
    const gsize res = out1 + SNAP_OUT_SIZE + 4; /* the first resource */
    const gsize pixels = (gsize)RES_W * RES_H * 4;
    const gsize entries = res + 16 + pixels + 4;
    g_autoptr(GBytes) good = NULL;
    const struct {
        gsize offset;
        unsigned size;
        uint64_t value;
        const char *what;
    } cases[] = {
        { m, 4, 2, "display device's layout version" },
        { m + 4, 4, 3, "had 3 outputs" },
        { m + 8, 4, 2, "display events" },
        { out0, 4, 0, "prefers 0 x" },
        { out0 + 4, 4, VIREO_VIRTIO_GPU_MAX_DIMENSION + 1, "prefers" },
        { out0 + 8, 4, 8, "resource 8, which does not exist" },
        { out0 + 20, 4, RES_W + 1, "outside resource 7" },
        { out0 + 12, 4, 1, "outside resource 7" },
        { out0 + 24, 4, 0, "outside resource 7" },
        { out1 + 12, 4, 1, "is off but shows" },
        { out0 + 28, 1, 2, "a flag has the value 2" },
        { out0 + 30, 4, 64, "hot spot" },
        { out0 + 34, 4, (uint32_t)-1, "hot spot" },
        { m + 12 + 2 * SNAP_OUT_SIZE, 4, 2, "ends" },
        { res, 4, 0, "not a new resource id" },
        { res + 4, 4, 99, "not a 2D resource" },
        { res + 8, 4, 0, "not a 2D resource" },
        { res + 12, 4, 0xffffffffu, "not a 2D resource" },
        { res + 8, 8, 16384 | (16384ull << 32), "need more than 512 MiB" },
        { res + 8, 8, 16384 | (8192ull << 32), "need more than 512 MiB" },
        { entries - 4, 4, VIREO_VIRTIO_GPU_MAX_BACKING_ENTRIES + 1, "backing entries" },
        { entries - 4, 4, 1000, "ends in the backing" },
        { entries, 8, 0x1000, "not in RAM" },
        { entries, 8, T_RAM_BASE + T_RAM_SIZE - 100, "not in RAM" },
        { entries, 8, 0xfffffffffffff000ull, "not in RAM" },
        { entries + 8, 4, 0, "not in RAM" },
        { entries + 12 + 8, 4, 100, "smaller than its image" },
    };

    start(f);
    fill_backing(f, scattered, 3, 1, RES_W, RES_H);
    g_assert_cmphex(gd_create_2d(&f->d, 7, VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, RES_W, RES_H),
                    ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_attach(&f->d, 7, scattered, 3), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_set_scanout(&f->d, 0, 7, 0, 0, RES_W, RES_H), ==,
                    VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    snap_pause(&f->d.h);
    good = snap_save(&f->d.h);
    g_assert_cmpuint(g_bytes_get_size(good), ==, entries + 3 * 12);

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GBytes) bad = NULL;

        switch (cases[i].size) {
        case 1: bad = snap_patch_u8(good, cases[i].offset, (uint8_t)cases[i].value); break;
        case 4: bad = snap_patch_u32(good, cases[i].offset, (uint32_t)cases[i].value); break;
        default: bad = snap_patch_u64(good, cases[i].offset, cases[i].value); break;
        }
        g_test_message("case %u: %s", i, cases[i].what);
        snap_assert_refused(&f->d.h, bad, cases[i].what);
    }
    /* The same resource twice. */
    {
        gsize n;
        const guint8 *p = g_bytes_get_data(good, &n);
        g_autoptr(GByteArray) twice = g_byte_array_new();
        g_autoptr(GBytes) bad = NULL;
        uint32_t two = GUINT32_TO_LE(2);

        g_byte_array_append(twice, p, (guint)n);
        g_byte_array_append(twice, p + res, (guint)(n - res));
        memcpy(twice->data + res - 4, &two, 4);
        bad = g_bytes_new(twice->data, twice->len);
        snap_assert_refused(&f->d.h, bad, "resource 7 is not a new resource id");
    }
    snap_assert_truncations_refused(&f->d.h, good, 97);

    snap_resume(&f->d.h);
    g_assert_cmphex(gd_flush(&f->d, 7, 0, 0, RES_W, RES_H), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
}

/* The display on the virt board: in the lowest slot the console, the
 * entropy device, the network card and the disks leave, the keyboard and
 * the tablet after it, in the device tree, and only when configured. */
static void test_board(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-gpu-XXXXXX", &error);
    g_autofree char *kernel = g_build_filename(dir, "kernel.bin", NULL);
    VireoScanout *scanout = vireo_scanout_new();
    VireoVirtDisk disks[6];
    VireoVirtConfig c = {
        .ram_size = 64ull << 20,
        .n_harts = 1,
        .kernel = kernel,
        .gpu = VIREO_VIRT_GPU_2D,
        .input = true,
        .scanout = scanout,
    };
    VireoVirt *board = NULL;
    VireoMachine *m;
    uint64_t v = 0;
    const void *fdt;
    unsigned slot = 99, kbd, tablet;

    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(kernel, "\x73\x00\x50\x10", 4, &error));

    g_assert_true(vireo_virt_config_gpu_slot(&c, &slot));
    g_assert_cmpuint(slot, ==, 2);
    g_assert_true(vireo_virt_config_input_slots(&c, &kbd, &tablet));
    g_assert_cmpuint(kbd, ==, 3);
    g_assert_cmpuint(tablet, ==, 4);
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    g_assert_nonnull(vireo_virt_get_gpu(board));
    g_assert_true(vireo_virt_get_virtio(board, 2) == vireo_virt_get_gpu(board));
    g_assert_true(vireo_virt_get_scanout(board) == scanout);
    g_assert_cmpint(vireo_virtio_gpu_get_3d_status(vireo_virt_get_gpu(board), NULL), ==,
                    VIREO_VIRTIO_GPU_3D_OFF);
    g_assert_true(vireo_bus_read(vireo_machine_bus(m),
                                 vireo_virt_virtio_base(2) + VIREO_VIRTIO_MMIO_DEVICE_ID, 4, &v));
    g_assert_cmpuint(v, ==, VIREO_VIRTIO_ID_GPU);
    fdt = g_bytes_get_data(vireo_virt_boot_get_fdt(vireo_virt_get_boot(board)), NULL);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10003000"), >=, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10005000"), >=, 0);
    vireo_machine_free(m);

    /* With a disk and a network card: slot 3, and the board's own
     * scanout. */
    {
        g_autoptr(VireoNetConfig) net = vireo_net_config_parse("user", &error);
        g_assert_no_error(error);
        disks[0] = (VireoVirtDisk){ kernel, true };
        c.disks = disks;
        c.n_disks = 1;
        c.net = net;
        c.scanout = NULL;
        g_assert_true(vireo_virt_config_gpu_slot(&c, &slot));
        g_assert_cmpuint(slot, ==, 3);
        m = vireo_virt_new(&c, &board, &error);
        g_assert_no_error(error);
        g_assert_true(vireo_virt_get_virtio(board, 3) == vireo_virt_get_gpu(board));
        g_assert_nonnull(vireo_virt_get_scanout(board));
        g_assert_true(vireo_virtio_is_gpu(vireo_virt_get_virtio(board, 3)));
        vireo_machine_free(m);
        c.net = NULL;
    }

    /* None: no device, no node. */
    c.gpu = VIREO_VIRT_GPU_NONE;
    c.input = false;
    c.n_disks = 0;
    g_assert_false(vireo_virt_config_gpu_slot(&c, NULL));
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    g_assert_null(vireo_virt_get_gpu(board));
    g_assert_null(vireo_virt_get_scanout(board));
    fdt = g_bytes_get_data(vireo_virt_boot_get_fdt(vireo_virt_get_boot(board)), NULL);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10003000"), <, 0);
    vireo_machine_free(m);

    /* Six disks leave no slot for it. */
    for (unsigned i = 0; i < 6; i++) {
        disks[i] = (VireoVirtDisk){ kernel, true };
    }
    c.gpu = VIREO_VIRT_GPU_2D;
    c.n_disks = 5;
    g_assert_true(vireo_virt_config_gpu_slot(&c, &slot)); /* five disks and a display fit */
    g_assert_cmpuint(slot, ==, 2);
    c.n_disks = 6;
    g_assert_false(vireo_virt_config_gpu_slot(&c, &slot));
    g_assert_null(vireo_virt_new(&c, &board, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    {
        g_autoptr(VireoNetConfig) net = vireo_net_config_parse("user", &error);
        c.net = net;
        c.n_disks = 5;
        g_assert_null(vireo_virt_new(&c, &board, &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
        g_clear_error(&error);
        c.net = NULL;
    }

    vireo_scanout_free(scanout);
    g_unlink(kernel);
    g_rmdir(dir);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define GPU_TEST(path, data, func) \
    g_test_add("/virtio-gpu/" path, Fixture, data, fixture_setup, func, fixture_teardown)
    GPU_TEST("config", NULL, test_config);
    GPU_TEST("display-info", NULL, test_display_info);
    GPU_TEST("edid", NULL, test_edid);
    GPU_TEST("display-event", NULL, test_display_event);
    GPU_TEST("2d/b8g8r8x8", GUINT_TO_POINTER(VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM), test_2d);
    GPU_TEST("2d/r8g8b8a8", GUINT_TO_POINTER(VIREO_VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM), test_2d);
    GPU_TEST("page-flip", NULL, test_page_flip);
    GPU_TEST("cursor", NULL, test_cursor);
    GPU_TEST("fences", NULL, test_fences);
    GPU_TEST("malformed", NULL, test_malformed);
    GPU_TEST("short-response", NULL, test_short_response);
    GPU_TEST("reset", NULL, test_reset);
    GPU_TEST("reset-busy", NULL, test_reset_busy);
    GPU_TEST("snapshot/round-trip", NULL, test_snapshot_round_trip);
    GPU_TEST("snapshot/reset-paused", NULL, test_snapshot_reset_paused);
    GPU_TEST("snapshot/hostile", NULL, test_snapshot_hostile);
    g_test_add_func("/virtio-gpu/board", test_board);
    return g_test_run();
}
