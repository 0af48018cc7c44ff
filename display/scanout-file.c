/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "display/scanout-file.h"

#include <string.h>

#include "display/pixel.h"
#include "engine/error.h"

/* Deflate's stored blocks hold at most this many bytes each. */
#define STORED_MAX 65535u

/* The rows of `frame` as packed RGB, top row first. */
static guint8 *frame_rgb(const VireoScanoutFrame *frame)
{
    size_t row = (size_t)frame->width * 3;
    guint8 *rgb = g_malloc(row * (size_t)frame->height);

    for (int y = 0; y < frame->height; y++) {
        const guint8 *src = frame->pixels + (size_t)y * frame->stride;
        guint8 *dst = rgb + (size_t)y * row;
        for (int x = 0; x < frame->width; x++) {
            guint8 a;
            vireo_pixel_unpack(frame->format, src + 4 * x, &dst[3 * x], &dst[3 * x + 1],
                               &dst[3 * x + 2], &a);
        }
    }
    return rgb;
}

static GByteArray *encode_ppm(const VireoScanoutFrame *frame)
{
    g_autofree char *header = g_strdup_printf("P6\n%d %d\n255\n", frame->width, frame->height);
    g_autofree guint8 *rgb = frame_rgb(frame);
    GByteArray *out = g_byte_array_new();

    g_byte_array_append(out, (const guint8 *)header, (guint)strlen(header));
    g_byte_array_append(out, rgb, (guint)((size_t)frame->width * 3 * (size_t)frame->height));
    return out;
}

/* ---- PNG ------------------------------------------------------------------ */

static uint32_t crc_table[256];

static void crc_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            }
            crc_table[n] = c;
        }
        g_once_init_leave(&done, 1);
    }
}

static uint32_t crc_update(uint32_t crc, const guint8 *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc = crc_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

static void put_be32(GByteArray *out, uint32_t v)
{
    guint8 b[4] = { (guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v };
    g_byte_array_append(out, b, 4);
}

/* A chunk: length, type, data, and the CRC of type and data. */
static void put_chunk(GByteArray *out, const char *type, const guint8 *data, size_t len)
{
    uint32_t crc = 0xffffffffu;

    put_be32(out, (uint32_t)len);
    g_byte_array_append(out, (const guint8 *)type, 4);
    g_byte_array_append(out, data, (guint)len);
    crc = crc_update(crc, (const guint8 *)type, 4);
    crc = crc_update(crc, data, len);
    put_be32(out, crc ^ 0xffffffffu);
}

static GByteArray *encode_png(const VireoScanoutFrame *frame)
{
    static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    size_t row = (size_t)frame->width * 3;
    size_t raw_len = (row + 1) * (size_t)frame->height;
    g_autofree guint8 *rgb = frame_rgb(frame);
    g_autofree guint8 *raw = g_malloc(raw_len);
    g_autoptr(GByteArray) z = g_byte_array_new();
    GByteArray *out = g_byte_array_new();
    guint8 ihdr[13];
    uint32_t s1 = 1, s2 = 0;

    /* Scanlines: filter type 0 (none), then the row. */
    for (int y = 0; y < frame->height; y++) {
        raw[(size_t)y * (row + 1)] = 0;
        memcpy(raw + (size_t)y * (row + 1) + 1, rgb + (size_t)y * row, row);
    }
    /* A zlib stream of stored deflate blocks, and the Adler-32 of the
     * data. */
    g_byte_array_append(z, (const guint8[]){ 0x78, 0x01 }, 2);
    for (size_t at = 0; at < raw_len;) {
        size_t n = MIN(raw_len - at, (size_t)STORED_MAX);
        guint8 head[5] = { at + n >= raw_len ? 1 : 0, (guint8)n, (guint8)(n >> 8), (guint8)~n,
                           (guint8)(~n >> 8) };
        g_byte_array_append(z, head, 5);
        g_byte_array_append(z, raw + at, (guint)n);
        at += n;
    }
    for (size_t i = 0; i < raw_len; i++) {
        s1 = (s1 + raw[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    put_be32(z, (s2 << 16) | s1);

    crc_init();
    g_byte_array_append(out, signature, sizeof signature);
    ihdr[0] = (guint8)((uint32_t)frame->width >> 24);
    ihdr[1] = (guint8)((uint32_t)frame->width >> 16);
    ihdr[2] = (guint8)((uint32_t)frame->width >> 8);
    ihdr[3] = (guint8)frame->width;
    ihdr[4] = (guint8)((uint32_t)frame->height >> 24);
    ihdr[5] = (guint8)((uint32_t)frame->height >> 16);
    ihdr[6] = (guint8)((uint32_t)frame->height >> 8);
    ihdr[7] = (guint8)frame->height;
    ihdr[8] = 8;  /* bits per sample */
    ihdr[9] = 2;  /* RGB */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* not interlaced */
    put_chunk(out, "IHDR", ihdr, sizeof ihdr);
    put_chunk(out, "IDAT", z->data, z->len);
    put_chunk(out, "IEND", NULL, 0);
    return out;
}

gboolean vireo_scanout_frame_write(const VireoScanoutFrame *frame, const char *path, GError **error)
{
    g_autofree char *lower = g_ascii_strdown(path, -1);

    return vireo_scanout_frame_write_as(
        frame, path, g_str_has_suffix(lower, ".png") ? VIREO_IMAGE_PNG : VIREO_IMAGE_PPM, error);
}

gboolean vireo_scanout_frame_write_as(const VireoScanoutFrame *frame, const char *path,
                                      VireoImageFormat format, GError **error)
{
    g_autoptr(GByteArray) data = NULL;
    g_autoptr(GError) local = NULL;

    if (frame->pixels == NULL || frame->width <= 0 || frame->height <= 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "The display shows no picture (the guest set no mode)");
        return FALSE;
    }
    data = format == VIREO_IMAGE_PNG ? encode_png(frame) : encode_ppm(frame);
    if (!g_file_set_contents(path, (const char *)data->data, (gssize)data->len, &local)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot write %s: %s", path,
                    local->message);
        return FALSE;
    }
    return TRUE;
}
