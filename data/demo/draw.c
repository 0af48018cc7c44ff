/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Drawing primitives for 0x00RRGGBB surfaces (see draw.h). */
#include "draw.h"

uint32_t mix(uint32_t a, uint32_t b, double t)
{
    t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
    return blend(a, b, (uint32_t)(t * 256.0 + 0.5));
}

bool rect_empty(struct rect r)
{
    return r.x0 >= r.x1 || r.y0 >= r.y1;
}

struct rect rect_intersect(struct rect a, struct rect b)
{
    return (struct rect){ imax(a.x0, b.x0), imax(a.y0, b.y0), imin(a.x1, b.x1), imin(a.y1, b.y1) };
}

struct rect rect_union(struct rect a, struct rect b)
{
    if (rect_empty(a))
        return b;
    if (rect_empty(b))
        return a;
    return (struct rect){ imin(a.x0, b.x0), imin(a.y0, b.y0), imax(a.x1, b.x1), imax(a.y1, b.y1) };
}

bool rect_overlaps(struct rect a, struct rect b)
{
    return !rect_empty(rect_intersect(a, b));
}

static struct rect clip_to(const struct surface *s, struct rect clip, struct rect r)
{
    struct rect all = { 0, 0, s->width, s->height };
    return rect_intersect(rect_intersect(r, clip), all);
}

void fill_rect(struct surface *s, struct rect clip, struct rect r, uint32_t color)
{
    r = clip_to(s, clip, r);
    for (int y = r.y0; y < r.y1; y++) {
        uint32_t *row = s->px + (size_t)y * (size_t)s->stride;
        for (int x = r.x0; x < r.x1; x++)
            row[x] = color;
    }
}

void blend_rect(struct surface *s, struct rect clip, struct rect r, uint32_t color, uint32_t a)
{
    r = clip_to(s, clip, r);
    for (int y = r.y0; y < r.y1; y++) {
        uint32_t *row = s->px + (size_t)y * (size_t)s->stride;
        for (int x = r.x0; x < r.x1; x++)
            row[x] = blend(row[x], color, a);
    }
}

void copy_rect(struct surface *dst, const struct surface *src, struct rect r)
{
    struct rect all = { 0, 0, imin(dst->width, src->width), imin(dst->height, src->height) };
    r = rect_intersect(r, all);
    if (rect_empty(r))
        return;
    for (int y = r.y0; y < r.y1; y++) {
        memcpy(dst->px + (size_t)y * (size_t)dst->stride + r.x0,
               src->px + (size_t)y * (size_t)src->stride + r.x0, (size_t)(r.x1 - r.x0) * 4);
    }
}

/* One pixel at coverage `cover` (0..1) of opacity a. */
static void blend_part(uint32_t *p, double cover, uint32_t color, uint32_t a)
{
    uint32_t alpha = (uint32_t)(cover * a);
    if (alpha > 0)
        *p = alpha >= 256 ? color : blend(*p, color, alpha);
}

void blend_span(struct surface *s, struct rect clip, int y, double xa, double xb, uint32_t color,
                uint32_t a)
{
    struct rect r =
        clip_to(s, clip, (struct rect){ (int)dfloor(xa), y, (int)dfloor(xb) + 1, y + 1 });
    if (rect_empty(r) || xb <= xa)
        return;
    uint32_t *row = s->px + (size_t)y * (size_t)s->stride;
    /* The pixels holding the ends are covered in part; those between them
     * whole, which is integer work only. */
    int first = (int)dfloor(xa), last = (int)dfloor(xb);
    if (first == last) {
        blend_part(&row[first], xb - xa, color, a);
        return;
    }
    if (first >= r.x0)
        blend_part(&row[first], first + 1 - xa, color, a);
    if (last < r.x1)
        blend_part(&row[last], xb - last, color, a);
    int x0 = imax(first + 1, r.x0), x1 = imin(last, r.x1);
    if (a >= 256) {
        for (int x = x0; x < x1; x++)
            row[x] = color;
    } else {
        for (int x = x0; x < x1; x++)
            row[x] = blend(row[x], color, a);
    }
}

void fill_ellipse(struct surface *s, struct rect clip, double cx, double cy, double rx, double ry,
                  uint32_t color, uint32_t a)
{
    int y0 = imax((int)dfloor(cy - ry), clip.y0), y1 = imin((int)dfloor(cy + ry) + 1, clip.y1);
    for (int y = y0; y < y1; y++) {
        double dy = (y + 0.5 - cy) / ry;
        if (dy <= -1.0 || dy >= 1.0)
            continue;
        double half = rx * dsqrt(1.0 - dy * dy);
        blend_span(s, clip, y, cx - half, cx + half, color, a);
    }
}

void fill_convex(struct surface *s, struct rect clip, const double *xy, int n, uint32_t color,
                 uint32_t a)
{
    double ymin = xy[1], ymax = xy[1];
    for (int i = 1; i < n; i++) {
        ymin = xy[2 * i + 1] < ymin ? xy[2 * i + 1] : ymin;
        ymax = xy[2 * i + 1] > ymax ? xy[2 * i + 1] : ymax;
    }
    int y0 = imax((int)dfloor(ymin), clip.y0), y1 = imin((int)dfloor(ymax) + 1, clip.y1);
    for (int y = y0; y < y1; y++) {
        /* Where the row's centre line crosses the edges. */
        double yc = y + 0.5, lo = 1e30, hi = -1e30;
        for (int i = 0; i < n; i++) {
            int j = (i + 1) % n;
            double xa = xy[2 * i], ya = xy[2 * i + 1], xb = xy[2 * j], yb = xy[2 * j + 1];
            if ((ya <= yc && yb > yc) || (yb <= yc && ya > yc)) {
                double x = xa + (yc - ya) * (xb - xa) / (yb - ya);
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
            }
        }
        if (hi > lo)
            blend_span(s, clip, y, lo, hi, color, a);
    }
}
