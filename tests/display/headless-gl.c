/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "headless-gl.h"

#include <string.h>

#include "engine/error.h"

static const char *egl_error_name(EGLint err)
{
    switch (err) {
    case EGL_SUCCESS: return "EGL_SUCCESS";
    case EGL_NOT_INITIALIZED: return "EGL_NOT_INITIALIZED";
    case EGL_BAD_ACCESS: return "EGL_BAD_ACCESS";
    case EGL_BAD_ALLOC: return "EGL_BAD_ALLOC";
    case EGL_BAD_ATTRIBUTE: return "EGL_BAD_ATTRIBUTE";
    case EGL_BAD_CONFIG: return "EGL_BAD_CONFIG";
    case EGL_BAD_CONTEXT: return "EGL_BAD_CONTEXT";
    case EGL_BAD_DISPLAY: return "EGL_BAD_DISPLAY";
    case EGL_BAD_MATCH: return "EGL_BAD_MATCH";
    case EGL_BAD_PARAMETER: return "EGL_BAD_PARAMETER";
    default: return "another EGL error";
    }
}

gboolean headless_gl_init(HeadlessGl *gl, gboolean gles, GError **error)
{
    const char *exts;
    EGLint major, minor;
    const EGLint gl_attribs[] = {
        EGL_CONTEXT_MAJOR_VERSION,
        3,
        EGL_CONTEXT_MINOR_VERSION,
        2,
        EGL_CONTEXT_OPENGL_PROFILE_MASK,
        EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
        EGL_NONE,
    };
    const EGLint es_attribs[] = {
        EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 0, EGL_NONE,
    };

    memset(gl, 0, sizeof *gl);
    gl->gles = gles;
    exts = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (exts == NULL || strstr(exts, "EGL_MESA_platform_surfaceless") == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "EGL has no surfaceless platform (client extensions: %s); install Mesa's "
                    "EGL (libegl-mesa0, libgl1-mesa-dri)",
                    exts != NULL ? exts : "none");
        return FALSE;
    }
    gl->display =
        eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    if (gl->display == EGL_NO_DISPLAY || !eglInitialize(gl->display, &major, &minor)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "EGL cannot initialize the surfaceless display: %s",
                    egl_error_name(eglGetError()));
        return FALSE;
    }
    if (!eglBindAPI(gles ? EGL_OPENGL_ES_API : EGL_OPENGL_API)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE, "EGL has no %s: %s",
                    gles ? "OpenGL ES" : "OpenGL", egl_error_name(eglGetError()));
        return FALSE;
    }
    gl->context = eglCreateContext(gl->display, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT,
                                   gles ? es_attribs : gl_attribs);
    if (gl->context == EGL_NO_CONTEXT ||
        !eglMakeCurrent(gl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, gl->context)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "EGL cannot create a configless %s context: %s",
                    gles ? "OpenGL ES 3.0" : "OpenGL 3.2 core", egl_error_name(eglGetError()));
        return FALSE;
    }
    return TRUE;
}

void headless_gl_set_size(HeadlessGl *gl, int width, int height)
{
    if (gl->fbo == 0) {
        glGenFramebuffers(1, &gl->fbo);
        glGenRenderbuffers(1, &gl->color);
    }
    glBindRenderbuffer(GL_RENDERBUFFER, gl->color);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, width, height);
    glBindFramebuffer(GL_FRAMEBUFFER, gl->fbo);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, gl->color);
    g_assert_cmpint(glCheckFramebufferStatus(GL_FRAMEBUFFER), ==, GL_FRAMEBUFFER_COMPLETE);
    gl->width = width;
    gl->height = height;
}

guint8 *headless_gl_read(HeadlessGl *gl)
{
    size_t row = (size_t)gl->width * 4;
    guint8 *up = g_malloc(row * (size_t)gl->height);
    guint8 *down = g_malloc(row * (size_t)gl->height);

    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    glReadPixels(0, 0, gl->width, gl->height, GL_RGBA, GL_UNSIGNED_BYTE, up);
    for (int y = 0; y < gl->height; y++) {
        memcpy(down + (size_t)y * row, up + (size_t)(gl->height - 1 - y) * row, row);
    }
    g_free(up);
    return down;
}

void headless_gl_fini(HeadlessGl *gl)
{
    if (gl->display == EGL_NO_DISPLAY || gl->display == NULL) {
        return;
    }
    if (gl->context != EGL_NO_CONTEXT && gl->context != NULL) {
        if (gl->fbo != 0) {
            glDeleteFramebuffers(1, &gl->fbo);
            glDeleteRenderbuffers(1, &gl->color);
        }
        eglMakeCurrent(gl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        eglDestroyContext(gl->display, gl->context);
    }
    eglTerminate(gl->display);
    memset(gl, 0, sizeof *gl);
}
