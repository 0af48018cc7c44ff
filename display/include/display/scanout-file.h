/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * A scanout's picture as an image file, for tests that check what the guest
 * drew (vireo-run --scanout-dump): the frame's pixels, whatever their
 * VireoPixelFormat, as 8-bit RGB without alpha and without the cursor.
 */

/* Writes `frame` (from vireo_scanout_acquire, with pixels) to `path`: PNG
 * (RGB, 8 bits, stored without compression) when the name ends in ".png",
 * binary PPM (P6) otherwise. The file is replaced atomically. Fails with
 * VIREO_ERROR_IO when it cannot be written, VIREO_ERROR_DEVICE when the
 * frame has no pixels. */
gboolean vireo_scanout_frame_write(const VireoScanoutFrame *frame, const char *path,
                                   GError **error);

typedef enum {
    VIREO_IMAGE_PPM,
    VIREO_IMAGE_PNG,
} VireoImageFormat;

/* The same in `format`, whatever the name (QMP's screendump). */
gboolean vireo_scanout_frame_write_as(const VireoScanoutFrame *frame, const char *path,
                                      VireoImageFormat format, GError **error);

G_END_DECLS
