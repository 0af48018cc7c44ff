/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The scene. Sizes are fractions of the display's height, so that the
 * picture keeps its look at any size; positions across are fractions of the
 * width. The background is drawn once per size (scene_background()); each
 * frame copies it back only under the objects that moved, draws them on
 * top and reports those rectangles, which the driver sends to the host.
 */
#include "scene.h"

#define PI 3.14159265358979323846

#define MAX_HEIGHT 8192 /* main.c's largest display side */
#define N_CLOUDS   5
#define N_BIRDS    3
#define N_OBJECTS  (N_CLOUDS + N_BIRDS + 1) /* the last one is the status line */

static int W, H;
static bool whole = true;
static struct rect last[N_OBJECTS];

/* ---- Layout ---------------------------------------------------------------- */

static int title_x, title_y, title_scale;
static int sub_y, sub_scale;
static int text_scale;
static struct rect panel, status_rect;
static char panel_text[64];

static const char title[] = "Vireo";
static const char subtitle[] = "a bare-metal RISC-V 64 program on virtio-gpu";
/* The widest status line, for the size of its rectangle. */
static const char status_template[] = "000:00:00.0   frame 0000000000   000.0 fps   paused";

void scene_layout(int width, int height)
{
    W = width;
    H = height;
    whole = true;
    memset(last, 0, sizeof last);

    title_scale = imax(2, H / 70);
    title_x = W * 6 / 100;
    title_y = H * 6 / 100;
    sub_scale = imax(1, H / 280);
    sub_y = title_y + 17 * title_scale / 2;

    text_scale = imax(1, H / 320);
    format(panel_text, sizeof panel_text, "virtio-gpu scanout 0, %d x %d", W, H);
    int pad = 5 * text_scale, line = 12 * text_scale;
    int inner = imax(text_width(panel_text, text_scale), text_width(status_template, text_scale));
    panel.x0 = W * 35 / 1000;
    panel.y1 = H - H * 35 / 1000;
    panel.x1 = panel.x0 + inner + 2 * pad;
    panel.y0 = panel.y1 - 2 * line - 2 * pad + 2 * text_scale;
    status_rect = (struct rect){ panel.x0 + pad, panel.y0 + pad + line, panel.x1 - pad,
                                 panel.y0 + pad + line + FONT_HEIGHT * text_scale };
}

/* ---- Background ------------------------------------------------------------ */

struct rgbf {
    double r, g, b;
};

/* Sky colours from the top down to the horizon. */
static const struct {
    double at;
    struct rgbf c;
} sky_stops[] = {
    { 0.00, { 14, 20, 58 } },
    { 0.40, { 84, 56, 126 } },
    { 0.62, { 232, 138, 114 } },
    { 0.74, { 252, 198, 142 } },
};

static struct rgbf sky_at(double v)
{
    int n = (int)(sizeof sky_stops / sizeof sky_stops[0]);
    if (v <= sky_stops[0].at)
        return sky_stops[0].c;
    for (int i = 1; i < n; i++) {
        if (v <= sky_stops[i].at) {
            double t = (v - sky_stops[i - 1].at) / (sky_stops[i].at - sky_stops[i - 1].at);
            struct rgbf a = sky_stops[i - 1].c, b = sky_stops[i].c;
            return (struct rgbf){ a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t,
                                  a.b + (b.b - a.b) * t };
        }
    }
    return sky_stops[n - 1].c;
}

/* A 4 × 4 ordered dither keeps the long gradients free of bands. */
static const uint8_t bayer[4][4] = {
    { 0, 8, 2, 10 },
    { 12, 4, 14, 6 },
    { 3, 11, 1, 9 },
    { 15, 7, 13, 5 },
};

/* A colour in 8.8 fixed point per channel: the background is drawn with
 * integer arithmetic per pixel. */
struct rgbx {
    int r, g, b;
};

static struct rgbx fixed(struct rgbf c)
{
    return (struct rgbx){ iclamp((int)(c.r * 256.0), 0, 255 * 256),
                          iclamp((int)(c.g * 256.0), 0, 255 * 256),
                          iclamp((int)(c.b * 256.0), 0, 255 * 256) };
}

/* The dither offset at (x, y), added before the cut to 8 bits. */
static int dither(int x, int y)
{
    return bayer[y & 3][x & 3] * 16 + 8;
}

/* `c` cut to 8 bits per channel after adding `d`; every channel of `c` is
 * within 0 to 255 × 256, so no clamping is needed. */
static uint32_t pack(struct rgbx c, int d)
{
    return ((uint32_t)((c.r + d) >> 8) << 16) | ((uint32_t)((c.g + d) >> 8) << 8) |
           (uint32_t)((c.b + d) >> 8);
}

/* The four dithered versions of a colour on row y, by x mod 4. */
static void row_palette(struct rgbx c, int y, uint32_t pal[4])
{
    for (int i = 0; i < 4; i++)
        pal[i] = pack(c, dither(i, y));
}

/* `c` moved toward `to` by a / 4096 (a in 0..4096). */
static struct rgbx toward(struct rgbx c, struct rgbx to, int a)
{
    c.r += ((to.r - c.r) * a) >> 12;
    c.g += ((to.g - c.g) * a) >> 12;
    c.b += ((to.b - c.b) * a) >> 12;
    return c;
}

static double sun_x(void)
{
    return W * 0.73;
}

static double sun_y(void)
{
    return H * 0.60;
}

/* The sky: its gradient, and around the sun a glow that adds
 * (1 - r²/g²)² × 0.6 of the glow colour at distance r (g the glow's
 * radius), taken from a table by r², and the sun's disc with a soft edge.
 * Pixels outside the glow take their row's four dithered colours. */
#define GLOW_STEPS 1024

static void draw_sky(struct surface *bg)
{
    static uint16_t glow_of[GLOW_STEPS];
    int sx = (int)sun_x(), sy = (int)sun_y(), glow = imax(1, (int)(H * 0.42));
    double disc = H * 0.075;
    int64_t glow2 = (int64_t)glow * glow, disc2 = (int64_t)((disc + 1.0) * (disc + 1.0));
    uint64_t to_step = ((uint64_t)GLOW_STEPS << 32) / (uint64_t)glow2;
    const struct rgbx glow_c = fixed((struct rgbf){ 255, 206, 150 });
    const struct rgbx sun_c = fixed((struct rgbf){ 255, 240, 204 });

    for (int i = 0; i < GLOW_STEPS; i++) {
        double f = 1.0 - (i + 0.5) / GLOW_STEPS;
        glow_of[i] = (uint16_t)(f * f * 0.6 * 4096.0);
    }
    for (int y = 0; y < H; y++) {
        struct rgbx base = fixed(sky_at((y + 0.5) / H));
        uint32_t *row = bg->px + (size_t)y * (size_t)bg->stride, pal[4];
        int64_t dy = y - sy;
        int g0 = W, g1 = W; /* the glow's columns on this row */
        row_palette(base, y, pal);
        if (dy * dy < glow2) {
            int half = (int)dsqrt((double)(glow2 - dy * dy)) + 1;
            g0 = iclamp(sx - half, 0, W);
            g1 = iclamp(sx + half + 1, 0, W);
        }
        for (int x = 0; x < g0; x++)
            row[x] = pal[x & 3];
        for (int x = g0; x < g1; x++) {
            int64_t dx = x - sx, r2 = dx * dx + dy * dy;
            if (r2 >= glow2) {
                row[x] = pal[x & 3];
                continue;
            }
            uint64_t step = ((uint64_t)r2 * to_step) >> 32;
            struct rgbx c = toward(base, glow_c, glow_of[step < GLOW_STEPS ? step : 0]);
            if (r2 < disc2) {
                double cover = disc - dsqrt((double)r2) + 0.5;
                if (cover > 0.0)
                    c = toward(c, sun_c, cover >= 1.0 ? 4096 : (int)(cover * 4096.0));
            }
            row[x] = pack(c, dither(x, y));
        }
        for (int x = g1; x < W; x++)
            row[x] = pal[x & 3];
    }
}

static void draw_stars(struct surface *bg)
{
    struct rect all = { 0, 0, W, H };
    uint32_t seed = 0x5eed1234u;
    int n = W * H / 3000, band = H * 2 / 5;

    for (int i = 0; i < n && band > 0; i++) {
        seed = seed * 1664525u + 1013904223u;
        int x = (int)((seed >> 8) % (uint32_t)W);
        seed = seed * 1664525u + 1013904223u;
        int y = (int)((seed >> 8) % (uint32_t)band);
        seed = seed * 1664525u + 1013904223u;
        double fade = 1.0 - (double)y / band;
        uint32_t a = (uint32_t)((96 + (seed >> 24) % 160) * fade * fade);
        uint32_t color = (seed >> 20) & 1 ? rgb(255, 248, 230) : rgb(220, 230, 255);
        blend_rect(bg, all, (struct rect){ x, y, x + 1, y + 1 }, color, a);
        if ((seed >> 16) % 9 == 0) {
            /* A brighter one: a small cross. */
            blend_rect(bg, all, (struct rect){ x - 1, y, x + 2, y + 1 }, color, a / 2);
            blend_rect(bg, all, (struct rect){ x, y - 1, x + 1, y + 2 }, color, a / 2);
        }
    }
}

/* A range of hills: its top edge is a sum of three sine waves. */
static const struct {
    double base;
    double wave[3][3]; /* amplitude, frequency (per display height), phase */
    struct rgbf top, bottom;
} hills[] = {
    { 0.645,
      { { 0.050, 0.9, 0.4 }, { 0.025, 2.3, 1.3 }, { 0.011, 5.5, 2.2 } },
      { 150, 92, 140 },
      { 112, 70, 120 } },
    { 0.735,
      { { 0.034, 0.6, 2.0 }, { 0.015, 1.7, 0.7 }, { 0.006, 4.1, 0.3 } },
      { 84, 54, 102 },
      { 60, 40, 80 } },
    { 0.845,
      { { 0.030, 0.45, 1.1 }, { 0.012, 1.2, 2.9 }, { 0.004, 3.3, 1.0 } },
      { 44, 30, 64 },
      { 22, 16, 36 } },
};

static void draw_hills(struct surface *bg)
{
    /* One range's four dithered colours for each row, worked out once per
     * range; the columns then only look them up. */
    static uint32_t shade[MAX_HEIGHT][4];

    for (size_t k = 0; k < sizeof hills / sizeof hills[0]; k++) {
        double top_min = (hills[k].base - 0.1) * H;
        for (int y = 0; y < H && y < MAX_HEIGHT; y++) {
            double t = (y - top_min) / (H - top_min);
            struct rgbf a = hills[k].top, b = hills[k].bottom;
            row_palette(fixed((struct rgbf){ a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t,
                                             a.b + (b.b - a.b) * t }),
                        y, shade[y]);
        }
        for (int x = 0; x < W; x++) {
            double u = (x + 0.5) / H, v = hills[k].base;
            for (int i = 0; i < 3; i++)
                v += hills[k].wave[i][0] *
                     dsin(2.0 * PI * hills[k].wave[i][1] * u + hills[k].wave[i][2]);
            double edge = v * H;
            int y0 = iclamp((int)dfloor(edge), 0, H), y1 = imin(H, MAX_HEIGHT);
            uint32_t *p = bg->px + (size_t)y0 * (size_t)bg->stride + x;
            if (y0 < y1) {
                /* The edge pixel, covered in part. */
                double cover = y0 + 1 - edge;
                *p = blend(*p, shade[y0][x & 3], (uint32_t)(cover * 256.0));
                p += bg->stride;
            }
            for (int y = y0 + 1; y < y1; y++, p += bg->stride)
                *p = shade[y][x & 3];
        }
    }
}

void scene_background(struct surface *bg)
{
    struct rect all = { 0, 0, W, H };

    draw_sky(bg);
    draw_stars(bg);
    draw_hills(bg);

    /* The title with its shadow, and the line under it. */
    int off = imax(1, title_scale / 2);
    shade_text(bg, all, title_x + off, title_y + off, title_scale, rgb(20, 10, 40), 110, title);
    draw_text(bg, all, title_x, title_y, title_scale, rgb(255, 244, 214), rgb(255, 150, 100),
              title);
    shade_text(bg, all, title_x + 1, sub_y + 1, sub_scale, rgb(20, 10, 40), 110, subtitle);
    draw_text(bg, all, title_x, sub_y, sub_scale, rgb(240, 226, 246), rgb(214, 196, 236), subtitle);

    /* The status panel: darker glass with cut corners, and its fixed line. */
    int c = 2 * text_scale;
    blend_rect(bg, all, (struct rect){ panel.x0 + c, panel.y0, panel.x1 - c, panel.y1 },
               rgb(8, 6, 20), 120);
    blend_rect(bg, all, (struct rect){ panel.x0, panel.y0 + c, panel.x0 + c, panel.y1 - c },
               rgb(8, 6, 20), 120);
    blend_rect(bg, all, (struct rect){ panel.x1 - c, panel.y0 + c, panel.x1, panel.y1 - c },
               rgb(8, 6, 20), 120);
    int pad = 5 * text_scale;
    draw_text(bg, all, panel.x0 + pad, panel.y0 + pad, text_scale, rgb(196, 188, 226),
              rgb(170, 160, 210), panel_text);
}

/* ---- Clouds ------------------------------------------------------------------ */

static const struct {
    double x, y, size, speed; /* start across, height, size, widths per second */
} cloud_defs[N_CLOUDS] = {
    { 0.05, 0.31, 0.90, 0.020 }, { 0.42, 0.36, 0.70, 0.027 }, { 0.68, 0.42, 1.20, 0.015 },
    { 0.22, 0.47, 0.60, 0.033 }, { 0.86, 0.33, 0.80, 0.023 },
};

/* A cloud is a few round puffs (offset across, offset down, radius) over a
 * flat base, in units of its size. */
static const double puffs[][3] = {
    { 0.0, 0.0, 1.0 }, { 1.1, -0.45, 1.25 }, { 2.3, -0.1, 1.0 },
    { 3.2, 0.2, 0.7 }, { -0.9, 0.25, 0.7 },  { 1.3, 0.25, 0.9 },
};
#define CLOUD_LEFT   1.6
#define CLOUD_RIGHT  3.9
#define CLOUD_TOP    1.7
#define CLOUD_BOTTOM 0.55

struct placed {
    double x, y, unit;
};

static struct placed cloud_at(int i, double t)
{
    double unit = H * 0.045 * cloud_defs[i].size;
    double travel = W + (CLOUD_LEFT + CLOUD_RIGHT) * unit;
    double x = dmod(cloud_defs[i].x * W + cloud_defs[i].speed * W * t, travel) - CLOUD_RIGHT * unit;
    return (struct placed){ x, cloud_defs[i].y * H, unit };
}

static struct rect cloud_rect(struct placed c)
{
    return (struct rect){ (int)dfloor(c.x - CLOUD_LEFT * c.unit) - 1,
                          (int)dfloor(c.y - CLOUD_TOP * c.unit) - 1,
                          (int)dfloor(c.x + CLOUD_RIGHT * c.unit) + 2,
                          (int)dfloor(c.y + CLOUD_BOTTOM * c.unit) + 2 };
}

static void draw_cloud(struct surface *fb, struct rect clip, struct placed c)
{
    struct rect r = rect_intersect(cloud_rect(c), clip);
    double top = c.y - CLOUD_TOP * c.unit, bottom = c.y + CLOUD_BOTTOM * c.unit;
    uint32_t lit = rgb(255, 244, 238), shade = rgb(206, 168, 192);

    for (int y = r.y0; y < r.y1; y++) {
        double yc = y + 0.5;
        if (yc >= bottom)
            break;
        /* The row's spans, one per puff it crosses, merged in order. */
        double lo[6], hi[6];
        int n = 0;
        for (size_t k = 0; k < sizeof puffs / sizeof puffs[0]; k++) {
            double py = c.y + puffs[k][1] * c.unit, pr = puffs[k][2] * c.unit;
            double dy = yc - py;
            if (dy * dy >= pr * pr)
                continue;
            double half = dsqrt(pr * pr - dy * dy), px = c.x + puffs[k][0] * c.unit;
            int j = n++;
            while (j > 0 && lo[j - 1] > px - half) {
                lo[j] = lo[j - 1];
                hi[j] = hi[j - 1];
                j--;
            }
            lo[j] = px - half;
            hi[j] = px + half;
        }
        uint32_t color = mix(lit, shade, (yc - top) / (bottom - top));
        for (int k = 0; k < n;) {
            double a = lo[k], b = hi[k];
            for (k++; k < n && lo[k] <= b; k++)
                b = hi[k] > b ? hi[k] : b;
            blend_span(fb, clip, y, a, b, color, 256);
        }
    }
}

/* ---- Birds ------------------------------------------------------------------- */

static const struct {
    double x, y, size, speed, bob, bob_hz, flap_hz, phase;
} bird_defs[N_BIRDS] = {
    { 0.10, 0.52, 1.00, 0.045, 0.020, 0.31, 2.6, 0.0 },
    { 0.55, 0.47, 0.80, 0.052, 0.025, 0.23, 3.1, 1.7 },
    { 0.80, 0.56, 0.65, 0.060, 0.015, 0.41, 3.6, 4.1 },
};
#define BIRD_HALF_WIDTH  1.8
#define BIRD_HALF_HEIGHT 2.0

struct bird {
    struct placed at;
    double flap; /* -1 (wings down) to 1 (wings up) */
};

static struct bird bird_at(int i, double t)
{
    double unit = H * 0.024 * bird_defs[i].size;
    double travel = W + 2 * BIRD_HALF_WIDTH * unit;
    double x =
        dmod(bird_defs[i].x * W + bird_defs[i].speed * W * t, travel) - BIRD_HALF_WIDTH * unit;
    double y = H * (bird_defs[i].y +
                    bird_defs[i].bob * dsin(2 * PI * bird_defs[i].bob_hz * t + bird_defs[i].phase));
    double flap = dsin(2 * PI * bird_defs[i].flap_hz * t + bird_defs[i].phase);
    return (struct bird){ { x, y, unit }, flap };
}

static struct rect bird_rect(struct bird b)
{
    double u = b.at.unit;
    return (struct rect){ (int)dfloor(b.at.x - BIRD_HALF_WIDTH * u) - 1,
                          (int)dfloor(b.at.y - BIRD_HALF_HEIGHT * u) - 1,
                          (int)dfloor(b.at.x + BIRD_HALF_WIDTH * u) + 2,
                          (int)dfloor(b.at.y + BIRD_HALF_HEIGHT * u) + 2 };
}

/* A convex polygon given in bird units around the bird's position. */
static void bird_shape(struct surface *fb, struct rect clip, struct placed p, const double *pts,
                       int n, uint32_t color)
{
    double xy[8];
    for (int i = 0; i < n; i++) {
        xy[2 * i] = p.x + pts[2 * i] * p.unit;
        xy[2 * i + 1] = p.y + pts[2 * i + 1] * p.unit;
    }
    fill_convex(fb, clip, xy, n, color, 256);
}

static void draw_bird(struct surface *fb, struct rect clip, struct bird b)
{
    struct placed p = b.at;
    uint32_t body = rgb(34, 24, 50), far = rgb(70, 52, 86);
    double f = b.flap;
    /* Wings taper from the root along the back to a tip swept backwards;
     * the tip swings up and down with the flap. */
    const double far_wing[] = { 0.6, -0.1, 0.25, -0.1 - 1.1 * f, -0.2, -0.1 - 1.6 * f, -0.3, -0.1 };
    const double tail[] = { -0.6, -0.15, -1.65, -0.35, -1.55, 0.25, -0.6, 0.15 };
    const double beak[] = { 1.2, -0.3, 1.65, -0.14, 1.2, -0.06 };
    const double near_wing[] = { 0.45, -0.12,           0.05,  -0.12 - 1.3 * f,
                                 -0.5, -0.12 - 1.9 * f, -0.55, -0.12 };

    bird_shape(fb, clip, p, far_wing, 4, far);
    bird_shape(fb, clip, p, tail, 4, body);
    fill_ellipse(fb, clip, p.x, p.y, 1.0 * p.unit, 0.38 * p.unit, body, 256);
    fill_ellipse(fb, clip, p.x + 0.95 * p.unit, p.y - 0.2 * p.unit, 0.34 * p.unit, 0.32 * p.unit,
                 body, 256);
    bird_shape(fb, clip, p, beak, 3, body);
    bird_shape(fb, clip, p, near_wing, 4, body);
}

/* ---- Status line --------------------------------------------------------- */

static void draw_status(struct surface *fb, struct rect clip, const struct scene_status *st)
{
    char clock[24], line[96];
    uint64_t tenths = (uint64_t)(st->seconds * 10.0);
    uint64_t s = tenths / 10, m = s / 60, h = m / 60;

    if (h > 0)
        format(clock, sizeof clock, "%lu:%02lu:%02lu.%lu", h, m % 60, s % 60, tenths % 10);
    else
        format(clock, sizeof clock, "%02lu:%02lu.%lu", m, s % 60, tenths % 10);
    int fps10 = (int)(st->fps * 10.0 + 0.5);
    format(line, sizeof line, "%s   frame %lu   %d.%d fps%s", clock, st->frames, fps10 / 10,
           fps10 % 10, st->paused ? "   paused" : "");
    draw_text(fb, clip, status_rect.x0, status_rect.y0, text_scale, rgb(255, 236, 200),
              rgb(255, 196, 150), line);
}

/* ---- Frames -------------------------------------------------------------- */

/* Adds `r` to the list, then merges rectangles that overlap until none do. */
static int add_dirty(struct rect dirty[SCENE_MAX_DIRTY], int n, struct rect r)
{
    r = rect_intersect(r, (struct rect){ 0, 0, W, H });
    if (rect_empty(r))
        return n;
    for (;;) {
        bool merged = false;
        for (int i = 0; i < n; i++) {
            if (rect_overlaps(dirty[i], r)) {
                r = rect_union(r, dirty[i]);
                dirty[i] = dirty[--n];
                merged = true;
                break;
            }
        }
        if (!merged)
            break;
    }
    if (n == SCENE_MAX_DIRTY) {
        /* Full: fold everything into one. */
        for (int i = 0; i < n; i++)
            r = rect_union(r, dirty[i]);
        n = 0;
    }
    dirty[n++] = r;
    return n;
}

int scene_frame(struct surface *fb, const struct surface *bg, double t,
                const struct scene_status *status, struct rect dirty[SCENE_MAX_DIRTY])
{
    struct placed clouds[N_CLOUDS];
    struct bird birds[N_BIRDS];
    struct rect now[N_OBJECTS];
    int n = 0;

    for (int i = 0; i < N_CLOUDS; i++) {
        clouds[i] = cloud_at(i, t);
        now[i] = cloud_rect(clouds[i]);
    }
    for (int i = 0; i < N_BIRDS; i++) {
        birds[i] = bird_at(i, t);
        now[N_CLOUDS + i] = bird_rect(birds[i]);
    }
    now[N_OBJECTS - 1] = status_rect;

    if (whole) {
        n = add_dirty(dirty, 0, (struct rect){ 0, 0, W, H });
        whole = false;
    } else {
        for (int i = 0; i < N_OBJECTS; i++) {
            n = add_dirty(dirty, n, last[i]);
            n = add_dirty(dirty, n, now[i]);
        }
    }
    memcpy(last, now, sizeof last);

    for (int k = 0; k < n; k++) {
        struct rect clip = dirty[k];
        copy_rect(fb, bg, clip);
        for (int i = 0; i < N_CLOUDS; i++) {
            if (rect_overlaps(now[i], clip))
                draw_cloud(fb, clip, clouds[i]);
        }
        for (int i = 0; i < N_BIRDS; i++) {
            if (rect_overlaps(now[N_CLOUDS + i], clip))
                draw_bird(fb, clip, birds[i]);
        }
        if (rect_overlaps(status_rect, clip))
            draw_status(fb, clip, status);
    }
    return n;
}
