/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * Pictures the display shows when there is no guest image: a screen symbol,
 * a title in large letters and a detail line below, drawn with the built-in
 * font (display/font.h) into a B8G8R8X8 image.
 */

/* Draws the picture into a width x height B8G8R8X8 image. Text the font
 * cannot draw is drawn as boxes; callers pass text it can draw. */
void vireo_placeholder_draw(guint8 *pixels, size_t stride, int width, int height, const char *title,
                            const char *detail);

/* Sets `scanout` to width x height B8G8R8X8 and publishes the picture. */
void vireo_placeholder_publish(VireoScanout *scanout, int width, int height, const char *title,
                               const char *detail);

/*
 * A stand-in producer for a machine without a display device: it shows
 * "No display device" on `scanout` and redraws the picture at whatever size
 * a presenter requests (it installs the scanout's size callback), as a
 * display device that follows the window would. The text is translated;
 * where the translation has characters the built-in font lacks, the
 * picture shows the English text.
 */
typedef struct VireoNoDisplay VireoNoDisplay;

VireoNoDisplay *vireo_no_display_new(VireoScanout *scanout, int width, int height);
void vireo_no_display_free(VireoNoDisplay *self);
/* The title and detail it draws, after the font fallback above. */
const char *vireo_no_display_get_title(VireoNoDisplay *self);
const char *vireo_no_display_get_detail(VireoNoDisplay *self);

G_END_DECLS
