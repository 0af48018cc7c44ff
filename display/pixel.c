/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "display/pixel.h"

#include <string.h>

/* Byte positions of R, G, B and A (-1: no alpha, the byte is padding). */
typedef struct {
    const char *name;
    int r, g, b, a, x;
} Layout;

static const Layout layouts[] = {
    [VIREO_PIXEL_B8G8R8X8] = { "B8G8R8X8", 2, 1, 0, -1, 3 },
    [VIREO_PIXEL_B8G8R8A8] = { "B8G8R8A8", 2, 1, 0, 3, -1 },
    [VIREO_PIXEL_R8G8B8X8] = { "R8G8B8X8", 0, 1, 2, -1, 3 },
    [VIREO_PIXEL_R8G8B8A8] = { "R8G8B8A8", 0, 1, 2, 3, -1 },
    [VIREO_PIXEL_X8R8G8B8] = { "X8R8G8B8", 1, 2, 3, -1, 0 },
    [VIREO_PIXEL_A8R8G8B8] = { "A8R8G8B8", 1, 2, 3, 0, -1 },
    [VIREO_PIXEL_X8B8G8R8] = { "X8B8G8R8", 3, 2, 1, -1, 0 },
    [VIREO_PIXEL_A8B8G8R8] = { "A8B8G8R8", 3, 2, 1, 0, -1 },
};

static const Layout *layout_of(VireoPixelFormat format)
{
    if ((unsigned)format >= G_N_ELEMENTS(layouts)) {
        return &layouts[VIREO_PIXEL_B8G8R8X8];
    }
    return &layouts[format];
}

void vireo_pixel_pack(VireoPixelFormat format, guint8 r, guint8 g, guint8 b, guint8 a,
                      guint8 out[4])
{
    const Layout *l = layout_of(format);

    out[l->r] = r;
    out[l->g] = g;
    out[l->b] = b;
    out[l->a >= 0 ? l->a : l->x] = l->a >= 0 ? a : 0xff;
}

void vireo_pixel_unpack(VireoPixelFormat format, const guint8 in[4], guint8 *r, guint8 *g,
                        guint8 *b, guint8 *a)
{
    const Layout *l = layout_of(format);

    *r = in[l->r];
    *g = in[l->g];
    *b = in[l->b];
    *a = l->a >= 0 ? in[l->a] : 0xff;
}

const char *vireo_pixel_format_name(VireoPixelFormat format)
{
    return (unsigned)format < G_N_ELEMENTS(layouts) ? layouts[format].name : NULL;
}

gboolean vireo_pixel_format_has_alpha(VireoPixelFormat format)
{
    return layout_of(format)->a >= 0;
}

void vireo_pixel_fill(guint8 *pixels, size_t stride, int width, int height, int x, int y, int w,
                      int h, const guint8 pixel[4])
{
    int x0 = MAX(x, 0), y0 = MAX(y, 0);
    int x1 = (int)MIN((gint64)x + w, (gint64)width);
    int y1 = (int)MIN((gint64)y + h, (gint64)height);

    if (x1 <= x0 || y1 <= y0) {
        return;
    }
    for (int row = y0; row < y1; row++) {
        guint8 *p = pixels + (size_t)row * stride + (size_t)x0 * 4;
        for (int col = x0; col < x1; col++, p += 4) {
            memcpy(p, pixel, 4);
        }
    }
}
