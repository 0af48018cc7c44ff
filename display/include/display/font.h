/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A small built-in bitmap font for the display's own pictures ("No display
 * device", renderer errors, the test pattern's frame counter): printable
 * ASCII in 5 x 9 glyphs (7 rows above the baseline, 2 for descenders), on a
 * cell of VIREO_FONT_CELL_W x VIREO_FONT_CELL_H, drawn at whole multiples.
 * Anything else is drawn as a box; vireo_font_can_draw() tells whether a
 * string needs none.
 */
#define VIREO_FONT_CELL_W 6
#define VIREO_FONT_CELL_H 11

/* Whether every character of the UTF-8 `text` has a glyph. */
gboolean vireo_font_can_draw(const char *text);
/* Size in pixels of `text` drawn at `scale` (one line; no trailing gap). */
int vireo_font_text_width(const char *text, int scale);
int vireo_font_text_height(int scale);
/* Draws `text` with its cell's top-left corner at (x, y) into a 4-byte
 * per pixel image of width x height, setting each lit pixel to `pixel`
 * (the caller packs its bytes for the image's format). Clipped. */
void vireo_font_draw(guint8 *pixels, size_t stride, int width, int height, int x, int y, int scale,
                     const char *text, const guint8 pixel[4]);

G_END_DECLS
