/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The demo's scene: a dusk sky with a sun, stars and hills (the background,
 * drawn once per display size), drifting clouds, flying birds and a status
 * line with the running time, the frame count and the frame rate. */
#pragma once

#include "draw.h"

#define SCENE_MAX_DIRTY 48

struct scene_status {
    double seconds; /* since the start, pauses left out */
    uint64_t frames;
    double fps;
    bool paused;
};

/* Fits the scene to a display of this size; the next frame is whole. */
void scene_layout(int width, int height);
/* Draws the still layer: sky, sun, stars, hills, title, status panel. */
void scene_background(struct surface *bg);
/* Draws the frame at time `t` (seconds) into `fb`, redrawing from `bg` only
 * what moved since the last frame (everything after scene_layout()).
 * Returns the number of rectangles it changed, stored in `dirty`; they do
 * not overlap. */
int scene_frame(struct surface *fb, const struct surface *bg, double t,
                const struct scene_status *status, struct rect dirty[SCENE_MAX_DIRTY]);
