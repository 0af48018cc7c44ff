/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * Small PNG pictures of a VM, kept with its snapshots: the guest's screen
 * as its display device last published it, or, without a display, the
 * serial console's last lines drawn as a terminal shows them. Both are
 * drawn with cairo, on the calling thread, without a window.
 */

#define VIREO_THUMBNAIL_WIDTH 320

/* The screen scaled to `width` pixels (the height keeps its proportions),
 * or NULL while the guest has no picture on it. Takes a frame as a
 * presenter of its own, for a moment. */
GBytes *vireo_thumbnail_from_scanout(VireoScanout *scanout, int width);
/* The last `rows` lines of `text` (at most `columns` characters each) in
 * light monospace on a dark ground, scaled to `width` pixels. */
GBytes *vireo_thumbnail_from_text(const char *text, int columns, int rows, int width);

G_END_DECLS
