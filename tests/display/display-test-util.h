/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "display/test-pattern.h"

/* Helpers shared by the presenter tests: reading an RGBA readback (top row
 * first) and comparing it with the test pattern. */

typedef struct {
    guint8 *pixels; /* RGBA, top row first */
    int width, height;
} Readback;

static inline const guint8 *readback_at(const Readback *rb, int x, int y)
{
    return rb->pixels + ((size_t)y * (size_t)rb->width + (size_t)x) * 4;
}

static inline gboolean readback_is(const Readback *rb, int x, int y, const guint8 rgb[3],
                                   int tolerance)
{
    const guint8 *p = readback_at(rb, x, y);

    return ABS(p[0] - rgb[0]) <= tolerance && ABS(p[1] - rgb[1]) <= tolerance &&
           ABS(p[2] - rgb[2]) <= tolerance;
}

/* Checks the pattern's still parts (the bars below the box, the ramp)
 * where a pattern of pw x ph is drawn at k device pixels per guest pixel
 * from (ox, oy) of the readback. Returns the number of mismatches. */
static inline int readback_check_pattern(const Readback *rb, int pw, int ph, int ox, int oy, int k)
{
    VireoScanoutRect box = vireo_test_pattern_box(pw, ph, 0);
    int bad = 0;

    for (int bar = 0; bar < 8; bar++) {
        int gx = (2 * bar + 1) * pw / 16;
        int ys[2] = { box.y + box.height + (ph * 2 / 3 - box.y - box.height) / 2, ph * 5 / 6 };
        for (int i = 0; i < 2; i++) {
            guint8 rgb[3];
            if (vireo_test_pattern_expected(pw, ph, 0, gx, ys[i], rgb) &&
                !readback_is(rb, ox + gx * k + k / 2, oy + ys[i] * k + k / 2, rgb, 2)) {
                const guint8 *p = readback_at(rb, ox + gx * k + k / 2, oy + ys[i] * k + k / 2);
                g_test_message("pattern (%d, %d): (%d, %d, %d), expected (%d, %d, %d)", gx, ys[i],
                               p[0], p[1], p[2], rgb[0], rgb[1], rgb[2]);
                bad++;
            }
        }
    }
    return bad;
}

/* The leftmost column of the orange box on the box's middle row; -1 when
 * there is none. */
static inline int readback_find_box(const Readback *rb, int row)
{
    static const guint8 orange[3] = { 255, 128, 0 };

    for (int x = 0; x < rb->width; x++) {
        if (readback_is(rb, x, row, orange, 2)) {
            return x;
        }
    }
    return -1;
}

/* Whether two readbacks of the same size differ anywhere. */
static inline gboolean readback_differs(const Readback *a, const Readback *b)
{
    return a->width != b->width || a->height != b->height ||
           memcmp(a->pixels, b->pixels, (size_t)a->width * (size_t)a->height * 4) != 0;
}

/* Writes the readback as a PPM into $VIREO_SCREENSHOT_DIR, if set. */
static inline void readback_save(const Readback *rb, const char *name)
{
    const char *dir = g_getenv("VIREO_SCREENSHOT_DIR");
    g_autofree char *path = NULL;
    FILE *f;

    if (dir == NULL) {
        return;
    }
    path = g_strdup_printf("%s/%s.ppm", dir, name);
    f = g_fopen(path, "wb");
    if (f == NULL) {
        return;
    }
    fprintf(f, "P6\n%d %d\n255\n", rb->width, rb->height);
    for (int i = 0; i < rb->width * rb->height; i++) {
        fwrite(rb->pixels + (size_t)i * 4, 1, 3, f);
    }
    fclose(f);
}
