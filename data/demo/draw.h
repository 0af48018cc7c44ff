/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Drawing into 32-bit 0x00RRGGBB surfaces: rectangles, spans with
 * anti-aliased ends, ellipses, triangles and the demo's bitmap font. Every
 * function draws only inside its clip rectangle. */
#pragma once

#include "demo.h"

struct surface {
    uint32_t *px;
    int width, height;
    int stride; /* in pixels */
};

/* Half-open: x0 <= x < x1, y0 <= y < y1. */
struct rect {
    int x0, y0, x1, y1;
};

static inline uint32_t rgb(int r, int g, int b)
{
    return ((uint32_t)iclamp(r, 0, 255) << 16) | ((uint32_t)iclamp(g, 0, 255) << 8) |
           (uint32_t)iclamp(b, 0, 255);
}

/* `a` of `over` and 256 - `a` of `under`, per channel (a in 0..256). */
static inline uint32_t blend(uint32_t under, uint32_t over, uint32_t a)
{
    uint32_t rb = ((over & 0xff00ffu) * a + (under & 0xff00ffu) * (256 - a)) >> 8;
    uint32_t g = ((over & 0x00ff00u) * a + (under & 0x00ff00u) * (256 - a)) >> 8;
    return (rb & 0xff00ffu) | (g & 0x00ff00u);
}

/* Colour between `a` (t = 0) and `b` (t = 1). */
uint32_t mix(uint32_t a, uint32_t b, double t);

bool rect_empty(struct rect r);
struct rect rect_intersect(struct rect a, struct rect b);
struct rect rect_union(struct rect a, struct rect b);
bool rect_overlaps(struct rect a, struct rect b);

void fill_rect(struct surface *s, struct rect clip, struct rect r, uint32_t color);
void blend_rect(struct surface *s, struct rect clip, struct rect r, uint32_t color, uint32_t a);
void copy_rect(struct surface *dst, const struct surface *src, struct rect r);
/* Row y from x = xa to xb (fractions cover the end pixels partly), at
 * opacity a (0..256). */
void blend_span(struct surface *s, struct rect clip, int y, double xa, double xb, uint32_t color,
                uint32_t a);
void fill_ellipse(struct surface *s, struct rect clip, double cx, double cy, double rx, double ry,
                  uint32_t color, uint32_t a);
/* A convex polygon of n corners (x, y pairs). */
void fill_convex(struct surface *s, struct rect clip, const double *xy, int n, uint32_t color,
                 uint32_t a);

/* ---- Font (font.c): 5 × 7 glyphs in a 6 × 10 cell, descenders below ------ */

#define FONT_ADVANCE 6
#define FONT_HEIGHT  10

void font_init(void);
int text_width(const char *text, int scale);
/* Draws `text` with its cell's top left at (x, y), each font pixel a
 * scale × scale square, coloured from `top` to `bottom` down the cell. */
void draw_text(struct surface *s, struct rect clip, int x, int y, int scale, uint32_t top,
               uint32_t bottom, const char *text);
/* The same with opacity a (0..256) in one colour: shadows. */
void shade_text(struct surface *s, struct rect clip, int x, int y, int scale, uint32_t color,
                uint32_t a, const char *text);
