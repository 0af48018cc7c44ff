/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-thumbnail"

#include "config.h"

#include <cairo.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "vireo-thumbnail.h"

#define TEXT_FONT    "Monospace 11"
#define TEXT_PADDING 8 /* around the text, in the terminal's pixels */

static cairo_status_t append_png(void *closure, const unsigned char *data, unsigned int length)
{
    g_byte_array_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

static GBytes *surface_to_png(cairo_surface_t *surface)
{
    GByteArray *png = g_byte_array_new();

    if (cairo_surface_write_to_png_stream(surface, append_png, png) != CAIRO_STATUS_SUCCESS) {
        g_byte_array_unref(png);
        return NULL;
    }
    return g_byte_array_free_to_bytes(png);
}

/* `src`, `src_width` x `src_height` pixels, as a PNG `width` pixels wide
 * (never wider than the source). */
static GBytes *scale_to_png(cairo_surface_t *src, double src_width, double src_height, int width)
{
    int height;
    cairo_surface_t *dst;
    cairo_t *cr;
    GBytes *png;

    width = MAX(1, MIN(width, (int)src_width));
    height = MAX(1, (int)(src_height * width / src_width + 0.5));
    dst = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cr = cairo_create(dst);
    cairo_scale(cr, width / src_width, height / src_height);
    cairo_set_source_surface(cr, src, 0, 0);
    /* GOOD averages every source pixel when shrinking. */
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_paint(cr);
    cairo_destroy(cr);
    png = cairo_surface_status(dst) == CAIRO_STATUS_SUCCESS ? surface_to_png(dst) : NULL;
    cairo_surface_destroy(dst);
    return png;
}

/* Where red, green and blue are in a pixel of `format` (byte offsets). */
static void channel_offsets(VireoPixelFormat format, int *r, int *g, int *b)
{
    switch (format) {
    case VIREO_PIXEL_B8G8R8X8:
    case VIREO_PIXEL_B8G8R8A8: *b = 0, *g = 1, *r = 2; break;
    case VIREO_PIXEL_R8G8B8X8:
    case VIREO_PIXEL_R8G8B8A8: *r = 0, *g = 1, *b = 2; break;
    case VIREO_PIXEL_X8R8G8B8:
    case VIREO_PIXEL_A8R8G8B8: *r = 1, *g = 2, *b = 3; break;
    case VIREO_PIXEL_X8B8G8R8:
    case VIREO_PIXEL_A8B8G8R8:
    default: *b = 1, *g = 2, *r = 3; break;
    }
}

static void ignore_notify(void *opaque)
{
}

GBytes *vireo_thumbnail_from_scanout(VireoScanout *scanout, int width)
{
    VireoScanoutFrame frame;
    cairo_surface_t *surface = NULL;
    GBytes *png = NULL;
    int presenter, fw = 0, fh = 0;

    g_return_val_if_fail(scanout != NULL, NULL);
    g_return_val_if_fail(width > 0, NULL);

    /* A new presenter's first frame is the whole picture. */
    presenter = vireo_scanout_attach(scanout, ignore_notify, NULL);
    if (presenter < 0) {
        return NULL;
    }
    if (vireo_scanout_acquire(scanout, presenter, &frame)) {
        if (frame.pixels != NULL && frame.width > 0 && frame.height > 0) {
            int r, g, b, stride;
            guint8 *data;

            fw = frame.width;
            fh = frame.height;
            channel_offsets(frame.format, &r, &g, &b);
            surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, fw, fh);
            cairo_surface_flush(surface);
            data = cairo_image_surface_get_data(surface);
            stride = cairo_image_surface_get_stride(surface);
            for (int y = 0; data != NULL && y < fh; y++) {
                const guint8 *src = frame.pixels + (size_t)y * frame.stride;
                guint32 *dst = (guint32 *)(data + (size_t)y * stride);
                for (int x = 0; x < fw; x++, src += 4) {
                    dst[x] = (guint32)src[r] << 16 | (guint32)src[g] << 8 | src[b];
                }
            }
            cairo_surface_mark_dirty(surface);
        }
        vireo_scanout_release(scanout, presenter);
    }
    vireo_scanout_detach(scanout, presenter);
    if (surface != NULL) {
        if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS) {
            png = scale_to_png(surface, fw, fh, width);
        }
        cairo_surface_destroy(surface);
    }
    return png;
}

static gboolean is_blank(const char *line)
{
    for (; *line != '\0'; line++) {
        if (!g_ascii_isspace(*line)) {
            return FALSE;
        }
    }
    return TRUE;
}

/* The last `rows` lines of `text` that are not blank at the end, cut to
 * `columns` characters, without control characters. */
static char *last_lines(const char *text, int columns, int rows)
{
    g_auto(GStrv) lines = g_strsplit(text != NULL ? text : "", "\n", -1);
    guint n = g_strv_length(lines);
    GString *out = g_string_new(NULL);

    while (n > 0 && is_blank(lines[n - 1])) {
        n--;
    }
    for (guint i = n > (guint)rows ? n - (guint)rows : 0; i < n; i++) {
        const char *p = lines[i];
        int col = 0;

        if (!g_utf8_validate(p, -1, NULL)) {
            continue;
        }
        for (; *p != '\0' && col < columns; p = g_utf8_next_char(p)) {
            gunichar c = g_utf8_get_char(p);
            if (!g_unichar_iscntrl(c)) {
                g_string_append_unichar(out, c);
                col++;
            }
        }
        if (i + 1 < n) {
            g_string_append_c(out, '\n');
        }
    }
    return g_string_free(out, FALSE);
}

GBytes *vireo_thumbnail_from_text(const char *text, int columns, int rows, int width)
{
    g_autofree char *shown = NULL;
    cairo_surface_t *surface;
    cairo_font_options_t *options;
    PangoFontDescription *font;
    PangoLayout *layout;
    cairo_t *cr;
    GBytes *png = NULL;
    int cell_w, cell_h, canvas_w, canvas_h;

    g_return_val_if_fail(columns > 0 && rows > 0 && width > 0, NULL);

    shown = last_lines(text, columns, rows);
    /* The terminal at its own size, in pixels, then scaled down. */
    surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cr = cairo_create(surface);
    layout = pango_cairo_create_layout(cr);
    options = cairo_font_options_create();
    cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    pango_cairo_context_set_font_options(pango_layout_get_context(layout), options);
    cairo_font_options_destroy(options);
    font = pango_font_description_from_string(TEXT_FONT);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_context_changed(layout);
    pango_layout_set_text(layout, "M", -1);
    pango_layout_get_pixel_size(layout, &cell_w, &cell_h);
    cairo_destroy(cr);
    cairo_surface_destroy(surface);

    canvas_w = MAX(1, columns * MAX(cell_w, 1) + 2 * TEXT_PADDING);
    canvas_h = MAX(1, rows * MAX(cell_h, 1) + 2 * TEXT_PADDING);
    surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, canvas_w, canvas_h);
    cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 0x1e / 255.0, 0x1e / 255.0, 0x1e / 255.0);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
    cairo_move_to(cr, TEXT_PADDING, TEXT_PADDING);
    pango_layout_set_text(layout, shown, -1);
    pango_cairo_update_layout(cr, layout);
    pango_cairo_show_layout(cr, layout);
    cairo_destroy(cr);
    g_object_unref(layout);
    if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(surface);
        png = scale_to_png(surface, canvas_w, canvas_h, width);
    }
    cairo_surface_destroy(surface);
    return png;
}
