/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * An animated test picture for a VireoScanout, standing in for a display
 * device in tests, benchmarks and demos. The picture: eight vertical colour
 * bars (white, yellow, cyan, green, magenta, red, blue, black) over the top
 * two thirds, a grey ramp from black to white below them, an orange box that
 * moves across the bars by one step per frame, and the frame number in
 * black on white in the top-left corner. Each frame publishes only what
 * changed: the box's old and new places and the counter.
 */
typedef struct VireoTestPattern VireoTestPattern;

VireoTestPattern *vireo_test_pattern_new(VireoScanout *scanout, VireoPixelFormat format);
/* Stops the producer thread if it runs. */
void vireo_test_pattern_free(VireoTestPattern *self);

/* Sets the scanout's mode to width x height and publishes the whole of the
 * current frame. */
void vireo_test_pattern_resize(VireoTestPattern *self, int width, int height);
/* Draws frame `frame` and publishes what differs from the previous one. */
void vireo_test_pattern_draw_frame(VireoTestPattern *self, guint frame);
guint vireo_test_pattern_get_frame(VireoTestPattern *self);

/* Gives the scanout a cursor, an arrow with its hot spot at the tip, that
 * circles around the image's centre, one step per frame; or hides it. */
void vireo_test_pattern_set_cursor(VireoTestPattern *self, gboolean enabled);
/* Where the cursor's hot spot is in frame `frame`. */
void vireo_test_pattern_cursor_position(int width, int height, guint frame, int *x, int *y);

/* Draws frames at `fps` on a thread of its own, as a device would. With
 * `follow_size`, it installs the scanout's size callback and switches to
 * the sizes presenters request. */
void vireo_test_pattern_start(VireoTestPattern *self, double fps, gboolean follow_size);
void vireo_test_pattern_stop(VireoTestPattern *self);
/* Size requests it has received while following them, and the last one. */
guint vireo_test_pattern_get_size_requests(VireoTestPattern *self, int *width, int *height);

/* The colour of pixel (x, y) of frame `frame` of a width x height pattern.
 * FALSE inside the frame counter's area, whose digits it does not model. */
gboolean vireo_test_pattern_expected(int width, int height, guint frame, int x, int y,
                                     guint8 rgb[3]);
/* The moving box of frame `frame`. */
VireoScanoutRect vireo_test_pattern_box(int width, int height, guint frame);
/* The frame counter's area. */
VireoScanoutRect vireo_test_pattern_counter(int width, int height);

G_END_DECLS
