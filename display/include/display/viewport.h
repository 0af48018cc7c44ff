/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How a guest scanout maps onto the pixels of a presenter. All sizes are in
 * device pixels (a HiDPI window of 800x600 logical pixels at scale 2 has
 * 1600x1200 device pixels). */
typedef enum {
    VIREO_SCALE_FIT,     /* as large as fits, aspect ratio kept */
    VIREO_SCALE_INTEGER, /* the largest whole multiple that fits (or fit, when none does) */
    VIREO_SCALE_NATIVE,  /* one guest pixel on one device pixel, centred */
} VireoScaleMode;

typedef struct {
    int x, y, width, height;
} VireoRect;

/* The rectangle, inside a target of target_w x target_h device pixels, where a
 * guest image of guest_w x guest_h is drawn. Empty when either size is not
 * positive. */
VireoRect vireo_viewport_compute(int guest_w, int guest_h, int target_w, int target_h,
                                 VireoScaleMode mode);

/* Maps a point of the target to guest pixel coordinates through `view`;
 * returns FALSE when the point lies outside the drawn image. */
gboolean vireo_viewport_to_guest(const VireoRect *view, int guest_w, int guest_h, double tx,
                                 double ty, int *gx, int *gy);

G_END_DECLS
