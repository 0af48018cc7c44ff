/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "display/viewport.h"

#include <math.h>

VireoRect vireo_viewport_compute(int guest_w, int guest_h, int target_w, int target_h,
                                 VireoScaleMode mode)
{
    VireoRect r = { 0, 0, 0, 0 };

    if (guest_w <= 0 || guest_h <= 0 || target_w <= 0 || target_h <= 0) {
        return r;
    }
    if (mode == VIREO_SCALE_INTEGER) {
        int k = MIN(target_w / guest_w, target_h / guest_h);
        if (k >= 1) {
            r.width = guest_w * k;
            r.height = guest_h * k;
        } else {
            mode = VIREO_SCALE_FIT;
        }
    } else if (mode == VIREO_SCALE_NATIVE) {
        r.width = guest_w;
        r.height = guest_h;
    }
    if (mode == VIREO_SCALE_FIT) {
        /* Compare guest_w/guest_h with target_w/target_h in integers. */
        gint64 lhs = (gint64)guest_w * target_h;
        gint64 rhs = (gint64)target_w * guest_h;
        if (lhs >= rhs) {
            r.width = target_w;
            r.height = (int)(((gint64)guest_h * target_w + guest_w / 2) / guest_w);
        } else {
            r.height = target_h;
            r.width = (int)(((gint64)guest_w * target_h + guest_h / 2) / guest_h);
        }
        r.width = CLAMP(r.width, 1, target_w);
        r.height = CLAMP(r.height, 1, target_h);
    }
    r.x = (target_w - r.width) / 2;
    r.y = (target_h - r.height) / 2;
    return r;
}

gboolean vireo_viewport_to_guest(const VireoRect *view, int guest_w, int guest_h, double tx,
                                 double ty, int *gx, int *gy)
{
    double fx, fy;

    if (view->width <= 0 || view->height <= 0) {
        return FALSE;
    }
    fx = (tx - view->x) / view->width;
    fy = (ty - view->y) / view->height;
    if (fx < 0.0 || fy < 0.0 || fx >= 1.0 || fy >= 1.0) {
        return FALSE;
    }
    *gx = CLAMP((int)floor(fx * guest_w), 0, guest_w - 1);
    *gy = CLAMP((int)floor(fy * guest_h), 0, guest_h - 1);
    return TRUE;
}
