/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "display/viewport.h"
#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * Draws a guest scanout with OpenGL: one texture holds the guest's image,
 * and each frame uploads only its damaged rectangle, straight from the
 * scanout's pixels (glTexSubImage2D with the unpack row length and skips;
 * no conversion, no staging copy). The bytes are uploaded as RGBA and the
 * fragment shader reorders them for the frame's VireoPixelFormat.
 *
 * The image is placed with vireo_viewport_compute() for the scale mode and
 * the framebuffer's size in device pixels, on a background colour. At whole
 * scale factors texels are sampled nearest; at fractional ones a "sharp
 * bilinear" filter keeps each texel a flat square and blends only across
 * the one device pixel where two texels meet, so text stays crisp without
 * the uneven widths of nearest sampling. The guest's cursor is a second,
 * alpha-blended quad at its position mapped through the same viewport.
 *
 * A renderer lives in one GL context: create, use and free it with that
 * context current (desktop OpenGL 3.2 or later, core or compatibility, or
 * OpenGL ES 3.0 or later). It changes the GL state it needs on every draw
 * and keeps none of the caller's.
 */
typedef struct VireoRenderer VireoRenderer;

/* Compiles the shaders and creates the textures in the current context.
 * Fails with VIREO_ERROR_DEVICE when the context is too old, a shader does
 * not build, or GL reports an error. */
VireoRenderer *vireo_renderer_new(GError **error);
/* With the renderer's context current. */
void vireo_renderer_free(VireoRenderer *self);

void vireo_renderer_set_scale_mode(VireoRenderer *self, VireoScaleMode mode);
VireoScaleMode vireo_renderer_get_scale_mode(VireoRenderer *self);
/* Colour around the image (and everything, when there is none). */
void vireo_renderer_set_background(VireoRenderer *self, float r, float g, float b);
/* Whether the cursor's colours are premultiplied by its alpha (as DRM
 * planes are by default); FALSE, straight alpha, unless set. */
void vireo_renderer_set_cursor_premultiplied(VireoRenderer *self, gboolean premultiplied);

/* Takes what changed in `frame` (from vireo_scanout_acquire): reallocates
 * the texture when the frame is resized, uploads the damaged rectangle,
 * and the cursor when its image changed. A frame without pixels (output
 * off) leaves only the background. A frame with a texture (texture mode,
 * given to presenters that declared the device's GL provider with
 * vireo_scanout_set_presenter_gl, so that their context shares the
 * device's objects) uploads nothing: the draw samples the device's texture
 * in place, its shown rectangle and orientation as the frame says. On
 * failure (an image larger than the GL's textures, out of memory) the
 * renderer shows the error as a message picture and returns FALSE. */
gboolean vireo_renderer_upload(VireoRenderer *self, const VireoScanoutFrame *frame, GError **error);

/* Shows a message picture (placeholder.h) instead of the guest's image,
 * drawn at the framebuffer's size, until the next frame with pixels. */
void vireo_renderer_show_message(VireoRenderer *self, const char *title, const char *detail);

/* Draws into the bound framebuffer, fb_width x fb_height device pixels. */
void vireo_renderer_draw(VireoRenderer *self, int fb_width, int fb_height);

/* Size of the guest image it holds; 0 x 0 when none. */
void vireo_renderer_get_image_size(VireoRenderer *self, int *width, int *height);
/* Where the image goes in a framebuffer of that size (top-left origin). */
VireoRect vireo_renderer_get_view(VireoRenderer *self, int fb_width, int fb_height);
/* Maps a framebuffer point (device pixels, top-left origin) to guest pixel
 * coordinates; FALSE outside the image or when there is none. */
gboolean vireo_renderer_to_guest(VireoRenderer *self, int fb_width, int fb_height, double x,
                                 double y, int *gx, int *gy);
/* TRUE when the last draw sampled the image with the sharp bilinear
 * filter, FALSE when nearest. */
gboolean vireo_renderer_get_last_filter_sharp(VireoRenderer *self);

G_END_DECLS
