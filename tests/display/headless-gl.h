/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <glib.h>

/*
 * An OpenGL context without any window system, for renderer tests and
 * benchmarks: Mesa's surfaceless EGL platform (EGL_PLATFORM_SURFACELESS_MESA,
 * llvmpipe when there is no GPU), rendering into a framebuffer object.
 */
typedef struct {
    EGLDisplay display;
    EGLContext context;
    GLuint fbo, color;
    int width, height;
    gboolean gles;
} HeadlessGl;

/* Desktop OpenGL 3.2 core, or OpenGL ES 3.0 when `gles`; the context is
 * current on return. Fails with the reason (no EGL, no surfaceless
 * platform, no context of that kind). */
gboolean headless_gl_init(HeadlessGl *gl, gboolean gles, GError **error);
void headless_gl_fini(HeadlessGl *gl);
/* (Re)creates and binds a width x height RGBA8 framebuffer object. */
void headless_gl_set_size(HeadlessGl *gl, int width, int height);
/* The framebuffer's pixels, RGBA, top row first (g_free it). */
guint8 *headless_gl_read(HeadlessGl *gl);
