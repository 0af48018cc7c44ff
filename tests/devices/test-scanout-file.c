/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * vireo_scanout_frame_write(), behind vireo-run --scanout-dump: frames of
 * several pixel formats written as PPM and as PNG and read back here (the
 * PNG's chunks, CRCs, stored deflate blocks and Adler-32 checked), with a
 * padded stride.
 */
#include "display/pixel.h"
#include "display/scanout-file.h"
#include "engine/error.h"

#include <glib/gstdio.h>
#include <string.h>

#define W      37
#define H      21
#define STRIDE (W * 4 + 12)

static void rgb_at(int x, int y, guint8 *r, guint8 *g, guint8 *b)
{
    *r = (guint8)(x * 7);
    *g = (guint8)(y * 11);
    *b = (guint8)(x * y + 3);
}

static guint8 *make_pixels(VireoPixelFormat format)
{
    guint8 *pixels = g_malloc0(STRIDE * H);

    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            guint8 r, g, b;
            rgb_at(x, y, &r, &g, &b);
            vireo_pixel_pack(format, r, g, b, 0x40, pixels + y * STRIDE + x * 4);
        }
    }
    return pixels;
}

static void check_rgb(const guint8 *rgb)
{
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            guint8 r, g, b;
            const guint8 *p = rgb + (y * W + x) * 3;
            rgb_at(x, y, &r, &g, &b);
            if (p[0] != r || p[1] != g || p[2] != b) {
                g_error("(%d, %d): (%u, %u, %u), expected (%u, %u, %u)", x, y, p[0], p[1], p[2], r,
                        g, b);
            }
        }
    }
}

static uint32_t be32(const guint8 *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t crc32_of(const guint8 *data, size_t len)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < len; i++) {
        c ^= data[i];
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
    }
    return c ^ 0xffffffffu;
}

/* The RGB rows of a PNG written with stored deflate blocks. */
static guint8 *read_png(const guint8 *data, size_t len)
{
    g_autoptr(GByteArray) z = g_byte_array_new();
    g_autoptr(GByteArray) raw = g_byte_array_new();
    guint8 *rgb;
    size_t at = 8;
    uint32_t s1 = 1, s2 = 0;
    bool end = false;

    g_assert_cmpmem(data, 8, "\x89PNG\r\n\x1a\n", 8);
    while (at + 12 <= len) {
        uint32_t n = be32(data + at);
        const guint8 *type = data + at + 4;

        g_assert_cmpuint(at + 12 + n, <=, len);
        g_assert_cmphex(crc32_of(type, 4 + n), ==, be32(data + at + 8 + n));
        if (memcmp(type, "IHDR", 4) == 0) {
            g_assert_cmpuint(be32(type + 4), ==, W);
            g_assert_cmpuint(be32(type + 8), ==, H);
            g_assert_cmpuint(type[12], ==, 8); /* bits */
            g_assert_cmpuint(type[13], ==, 2); /* RGB */
        } else if (memcmp(type, "IDAT", 4) == 0) {
            g_byte_array_append(z, type + 4, n);
        } else if (memcmp(type, "IEND", 4) == 0) {
            end = true;
        }
        at += 12 + n;
    }
    g_assert_true(end);
    /* zlib header, stored blocks, Adler-32. */
    g_assert_cmpuint(z->len, >, 6);
    g_assert_cmpuint((z->data[0] * 256 + z->data[1]) % 31, ==, 0);
    at = 2;
    for (bool final = false; !final;) {
        unsigned blen = z->data[at + 1] | (z->data[at + 2] << 8);
        unsigned nlen = z->data[at + 3] | (z->data[at + 4] << 8);

        final = z->data[at] & 1;
        g_assert_cmpuint(z->data[at] >> 1, ==, 0); /* stored */
        g_assert_cmpuint(blen ^ 0xffff, ==, nlen);
        g_byte_array_append(raw, z->data + at + 5, blen);
        at += 5 + blen;
    }
    for (guint i = 0; i < raw->len; i++) {
        s1 = (s1 + raw->data[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    g_assert_cmphex(be32(z->data + at), ==, (s2 << 16) | s1);
    g_assert_cmpuint(raw->len, ==, (W * 3 + 1) * H);
    rgb = g_malloc(W * 3 * H);
    for (int y = 0; y < H; y++) {
        g_assert_cmpuint(raw->data[y * (W * 3 + 1)], ==, 0); /* no filter */
        memcpy(rgb + y * W * 3, raw->data + y * (W * 3 + 1) + 1, W * 3);
    }
    return rgb;
}

static void test_formats(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-dump-XXXXXX", &error);
    g_autofree char *ppm = g_build_filename(dir, "frame.ppm", NULL);
    g_autofree char *png = g_build_filename(dir, "frame.PNG", NULL);
    static const VireoPixelFormat formats[] = { VIREO_PIXEL_B8G8R8X8, VIREO_PIXEL_R8G8B8A8,
                                                VIREO_PIXEL_A8B8G8R8, VIREO_PIXEL_X8R8G8B8 };

    g_assert_no_error(error);
    for (unsigned i = 0; i < G_N_ELEMENTS(formats); i++) {
        g_autofree guint8 *pixels = make_pixels(formats[i]);
        VireoScanoutFrame frame = { 0 };
        g_autofree char *data = NULL;
        g_autofree guint8 *rgb = NULL;
        gsize len;
        const char *header = "P6\n37 21\n255\n";

        frame.pixels = pixels;
        frame.stride = STRIDE;
        frame.width = W;
        frame.height = H;
        frame.format = formats[i];
        g_assert_true(vireo_scanout_frame_write(&frame, ppm, &error));
        g_assert_no_error(error);
        g_assert_true(g_file_get_contents(ppm, &data, &len, &error));
        g_assert_cmpuint(len, ==, strlen(header) + W * H * 3);
        g_assert_cmpmem(data, strlen(header), header, strlen(header));
        check_rgb((const guint8 *)data + strlen(header));
        g_clear_pointer(&data, g_free);

        g_assert_true(vireo_scanout_frame_write(&frame, png, &error));
        g_assert_true(g_file_get_contents(png, &data, &len, &error));
        rgb = read_png((const guint8 *)data, len);
        check_rgb(rgb);
        g_clear_pointer(&data, g_free);
        g_clear_pointer(&rgb, g_free);

        /* The format asked for, whatever the name says. */
        g_assert_true(vireo_scanout_frame_write_as(&frame, png, VIREO_IMAGE_PPM, &error));
        g_assert_true(g_file_get_contents(png, &data, &len, &error));
        g_assert_cmpuint(len, ==, strlen(header) + W * H * 3);
        check_rgb((const guint8 *)data + strlen(header));
        g_clear_pointer(&data, g_free);
        g_assert_true(vireo_scanout_frame_write_as(&frame, ppm, VIREO_IMAGE_PNG, &error));
        g_assert_true(g_file_get_contents(ppm, &data, &len, &error));
        rgb = read_png((const guint8 *)data, len);
        check_rgb(rgb);
    }

    /* A frame without pixels, and a folder that does not exist. */
    {
        VireoScanoutFrame off = { 0 };
        g_autofree guint8 *pixels = make_pixels(VIREO_PIXEL_B8G8R8X8);
        g_autofree char *bad = g_build_filename(dir, "no", "such.ppm", NULL);

        g_assert_false(vireo_scanout_frame_write(&off, ppm, &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE);
        g_clear_error(&error);
        off.pixels = pixels;
        off.stride = STRIDE;
        off.width = W;
        off.height = H;
        g_assert_false(vireo_scanout_frame_write(&off, bad, &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    }
    g_unlink(ppm);
    g_unlink(png);
    g_rmdir(dir);
}

/* A picture taller than one stored block (65535 bytes). */
static void test_large_png(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-dump-XXXXXX", &error);
    g_autofree char *png = g_build_filename(dir, "big.png", NULL);
    const int w = 300, h = 200;
    g_autofree guint8 *pixels = g_malloc((size_t)w * h * 4);
    VireoScanoutFrame frame = { 0 };
    g_autofree char *data = NULL;
    gsize len;

    for (int i = 0; i < w * h; i++) {
        vireo_pixel_pack(VIREO_PIXEL_B8G8R8X8, (guint8)i, (guint8)(i >> 8), (guint8)(i >> 16), 0xff,
                         pixels + 4 * i);
    }
    frame.pixels = pixels;
    frame.stride = (size_t)w * 4;
    frame.width = w;
    frame.height = h;
    frame.format = VIREO_PIXEL_B8G8R8X8;
    g_assert_true(vireo_scanout_frame_write(&frame, png, &error));
    g_assert_true(g_file_get_contents(png, &data, &len, &error));
    /* Three stored blocks, and the picture's size in the header. */
    g_assert_cmpuint(len, >, (size_t)(w * 3 + 1) * h);
    g_assert_cmpuint(len, <, (size_t)(w * 3 + 1) * h + 200);
    g_assert_cmpuint(be32((const guint8 *)data + 16), ==, (uint32_t)w);
    g_unlink(png);
    g_rmdir(dir);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/scanout-file/formats", test_formats);
    g_test_add_func("/scanout-file/large-png", test_large_png);
    return g_test_run();
}
