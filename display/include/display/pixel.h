/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "engine/scanout.h"

G_BEGIN_DECLS

/* The four bytes of one pixel of `format` with these channel values, in
 * memory order. X formats store 0xff in the unused byte. */
void vireo_pixel_pack(VireoPixelFormat format, guint8 r, guint8 g, guint8 b, guint8 a,
                      guint8 out[4]);
/* The channels of a pixel stored in `format` (alpha is 0xff for X formats). */
void vireo_pixel_unpack(VireoPixelFormat format, const guint8 in[4], guint8 *r, guint8 *g,
                        guint8 *b, guint8 *a);
/* "B8G8R8X8", ...; NULL for an unknown value. */
const char *vireo_pixel_format_name(VireoPixelFormat format);
/* Whether the format carries alpha (the A formats). */
gboolean vireo_pixel_format_has_alpha(VireoPixelFormat format);
/* Fills a rectangle (clipped to width x height) with one 4-byte pixel. */
void vireo_pixel_fill(guint8 *pixels, size_t stride, int width, int height, int x, int y, int w,
                      int h, const guint8 pixel[4]);

G_END_DECLS
