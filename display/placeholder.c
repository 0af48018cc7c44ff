/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "display/placeholder.h"

#include <glib/gi18n-lib.h>

#include "display/font.h"
#include "display/pixel.h"

#define NO_DEVICE_TITLE N_("No display device")
#define NO_DEVICE_DETAIL \
    N_("This virtual machine has no graphics device. Its serial console is in the terminal.")

typedef struct {
    guint8 r, g, b;
} Rgb;

static const Rgb background = { 0x24, 0x27, 0x2e };
static const Rgb symbol = { 0x6b, 0x72, 0x80 };
static const Rgb title_color = { 0xf2, 0xf3, 0xf5 };
static const Rgb detail_color = { 0xb4, 0xb9, 0xc2 };

static void fill(guint8 *pixels, size_t stride, int width, int height, int x, int y, int w, int h,
                 Rgb c)
{
    guint8 px[4];

    vireo_pixel_pack(VIREO_PIXEL_B8G8R8X8, c.r, c.g, c.b, 0xff, px);
    vireo_pixel_fill(pixels, stride, width, height, x, y, w, h, px);
}

/* Splits `text` at spaces into lines of at most `max_chars` characters
 * (longer words stay whole). */
static GPtrArray *wrap(const char *text, int max_chars)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    GString *line = g_string_new(NULL);

    for (int i = 0; words[i] != NULL; i++) {
        glong len = g_utf8_strlen(words[i], -1);
        if (line->len > 0 && g_utf8_strlen(line->str, -1) + 1 + len > max_chars) {
            g_ptr_array_add(lines, g_string_free(line, FALSE));
            line = g_string_new(NULL);
        }
        if (line->len > 0) {
            g_string_append_c(line, ' ');
        }
        g_string_append(line, words[i]);
    }
    if (line->len > 0) {
        g_ptr_array_add(lines, g_string_free(line, FALSE));
    } else {
        g_string_free(line, TRUE);
    }
    return lines;
}

void vireo_placeholder_draw(guint8 *pixels, size_t stride, int width, int height, const char *title,
                            const char *detail)
{
    g_autoptr(GPtrArray) lines = NULL;
    guint8 px[4];
    int title_w1 = MAX(vireo_font_text_width(title, 1), 1);
    int scale, detail_scale, max_chars, icon_w, icon_h, line_h, total_h, y;

    fill(pixels, stride, width, height, 0, 0, width, height, background);

    /* The title takes at most 70% of the width; everything together about
     * half of the height. */
    scale = MAX(1, MIN(width * 7 / 10 / title_w1, height / (VIREO_FONT_CELL_H * 7)));
    detail_scale = MAX(1, scale / 2);
    max_chars = MAX(8, width * 9 / 10 / (VIREO_FONT_CELL_W * detail_scale));
    lines = wrap(detail != NULL ? detail : "", max_chars);
    icon_w = 16 * scale;
    icon_h = 10 * scale;
    line_h = VIREO_FONT_CELL_H * detail_scale + detail_scale * 2;
    total_h = icon_h + 3 * scale + 3 * scale + vireo_font_text_height(scale) + 3 * scale +
              (int)lines->len * line_h;
    y = MAX(0, (height - total_h) / 2);

    /* A screen on its stand. */
    {
        int x = (width - icon_w) / 2, t = MAX(1, scale / 2 + 1);
        fill(pixels, stride, width, height, x, y, icon_w, t, symbol);
        fill(pixels, stride, width, height, x, y + icon_h - t, icon_w, t, symbol);
        fill(pixels, stride, width, height, x, y, t, icon_h, symbol);
        fill(pixels, stride, width, height, x + icon_w - t, y, t, icon_h, symbol);
        fill(pixels, stride, width, height, x + icon_w / 2 - scale, y + icon_h, 2 * scale,
             2 * scale, symbol);
        fill(pixels, stride, width, height, x + icon_w / 2 - 4 * scale, y + icon_h + 2 * scale,
             8 * scale, t, symbol);
        y += icon_h + 6 * scale;
    }

    vireo_pixel_pack(VIREO_PIXEL_B8G8R8X8, title_color.r, title_color.g, title_color.b, 0xff, px);
    vireo_font_draw(pixels, stride, width, height,
                    (width - vireo_font_text_width(title, scale)) / 2, y, scale, title, px);
    y += vireo_font_text_height(scale) + 3 * scale;

    vireo_pixel_pack(VIREO_PIXEL_B8G8R8X8, detail_color.r, detail_color.g, detail_color.b, 0xff,
                     px);
    for (guint i = 0; i < lines->len; i++) {
        const char *line = g_ptr_array_index(lines, i);
        vireo_font_draw(pixels, stride, width, height,
                        (width - vireo_font_text_width(line, detail_scale)) / 2, y, detail_scale,
                        line, px);
        y += line_h;
    }
}

void vireo_placeholder_publish(VireoScanout *scanout, int width, int height, const char *title,
                               const char *detail)
{
    size_t stride = (size_t)width * 4;
    g_autofree guint8 *pixels = NULL;

    if (width <= 0 || height <= 0 ||
        !vireo_scanout_set_mode(scanout, width, height, VIREO_PIXEL_B8G8R8X8)) {
        return;
    }
    pixels = g_malloc(stride * (size_t)height);
    vireo_placeholder_draw(pixels, stride, width, height, title, detail);
    vireo_scanout_update(scanout, pixels, stride, (VireoScanoutRect){ 0, 0, width, height });
}

struct VireoNoDisplay {
    VireoScanout *scanout;
    const char *title, *detail;
};

static void on_size_request(void *opaque, int width, int height)
{
    VireoNoDisplay *self = opaque;

    vireo_placeholder_publish(self->scanout, width, height, self->title, self->detail);
}

static const char *drawable(const char *msgid)
{
    const char *text = _(msgid);

    return vireo_font_can_draw(text) ? text : msgid;
}

VireoNoDisplay *vireo_no_display_new(VireoScanout *scanout, int width, int height)
{
    VireoNoDisplay *self = g_new0(VireoNoDisplay, 1);

    self->scanout = scanout;
    self->title = drawable(NO_DEVICE_TITLE);
    self->detail = drawable(NO_DEVICE_DETAIL);
    vireo_placeholder_publish(scanout, width, height, self->title, self->detail);
    vireo_scanout_set_size_func(scanout, on_size_request, self);
    return self;
}

void vireo_no_display_free(VireoNoDisplay *self)
{
    if (self == NULL) {
        return;
    }
    vireo_scanout_set_size_func(self->scanout, NULL, NULL);
    g_free(self);
}

const char *vireo_no_display_get_title(VireoNoDisplay *self)
{
    return self->title;
}

const char *vireo_no_display_get_detail(VireoNoDisplay *self)
{
    return self->detail;
}
