/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "display/egl-context.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <string.h>

#include "engine/error.h"

typedef struct {
    VireoGlProvider base;
    EGLDisplay display;
    EGLenum api;
    EGLContext root; /* the share group's first context, never current */
    char *name;
    /* Contexts made current since the last finish, with the thread they
     * were current on: finish() waits for those of its own thread. */
    GMutex lock;
    GArray *used; /* Used */
} EglProvider;

typedef struct {
    GThread *thread;
    EGLContext context;
} Used;

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

static gboolean has_extension(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && (p = strstr(p, name)) != NULL; p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            return TRUE;
        }
    }
    return FALSE;
}

static EGLContext create(EglProvider *p, int major, int minor, EGLContext share)
{
    EGLint attribs[8];
    int n = 0;

    attribs[n++] = EGL_CONTEXT_MAJOR_VERSION;
    attribs[n++] = major;
    attribs[n++] = EGL_CONTEXT_MINOR_VERSION;
    attribs[n++] = minor;
    if (p->api == EGL_OPENGL_API && (major > 3 || (major == 3 && minor >= 2))) {
        attribs[n++] = EGL_CONTEXT_OPENGL_PROFILE_MASK;
        attribs[n++] = EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT;
    }
    attribs[n] = EGL_NONE;
    /* The API is a per-thread setting of EGL. */
    if (!eglBindAPI(p->api)) {
        return EGL_NO_CONTEXT;
    }
    return eglCreateContext(p->display, EGL_NO_CONFIG_KHR, share, attribs);
}

static void *egl_create_context(VireoGlProvider *self, int major, int minor)
{
    EglProvider *p = (EglProvider *)self;
    EGLContext ctx = create(p, major, minor, p->root);

    return ctx == EGL_NO_CONTEXT ? NULL : ctx;
}

static void egl_destroy_context(VireoGlProvider *self, void *context)
{
    EglProvider *p = (EglProvider *)self;

    g_mutex_lock(&p->lock);
    for (guint i = 0; i < p->used->len;) {
        if (g_array_index(p->used, Used, i).context == context) {
            g_array_remove_index_fast(p->used, i);
        } else {
            i++;
        }
    }
    g_mutex_unlock(&p->lock);
    if (eglGetCurrentContext() == context) {
        eglMakeCurrent(p->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    }
    eglDestroyContext(p->display, context);
}

static bool egl_make_current(VireoGlProvider *self, void *context)
{
    EglProvider *p = (EglProvider *)self;
    EGLContext ctx = context != NULL ? context : EGL_NO_CONTEXT;
    GThread *me = g_thread_self();
    bool known = false;

    if (!eglMakeCurrent(p->display, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
        return false;
    }
    if (context == NULL) {
        return true;
    }
    g_mutex_lock(&p->lock);
    for (guint i = 0; i < p->used->len && !known; i++) {
        Used *u = &g_array_index(p->used, Used, i);
        known = u->thread == me && u->context == ctx;
    }
    if (!known) {
        Used u = { me, ctx };
        g_array_append_val(p->used, u);
    }
    g_mutex_unlock(&p->lock);
    return true;
}

/* glFinish in every context this thread used since the last finish, the
 * current one last; the current context stays current. */
static void egl_finish(VireoGlProvider *self)
{
    EglProvider *p = (EglProvider *)self;
    EGLContext current = eglGetCurrentContext();
    GThread *me = g_thread_self();
    g_autoptr(GArray) mine = g_array_new(FALSE, FALSE, sizeof(EGLContext));

    g_mutex_lock(&p->lock);
    for (guint i = 0; i < p->used->len;) {
        Used *u = &g_array_index(p->used, Used, i);
        if (u->thread == me) {
            if (u->context != current) {
                g_array_append_val(mine, u->context);
            }
            g_array_remove_index_fast(p->used, i);
        } else {
            i++;
        }
    }
    g_mutex_unlock(&p->lock);
    for (guint i = 0; i < mine->len; i++) {
        if (eglMakeCurrent(p->display, EGL_NO_SURFACE, EGL_NO_SURFACE,
                           g_array_index(mine, EGLContext, i))) {
            glFinish();
        }
    }
    if (mine->len > 0) {
        eglMakeCurrent(p->display, EGL_NO_SURFACE, EGL_NO_SURFACE, current);
    }
    if (current != EGL_NO_CONTEXT) {
        glFinish();
    }
}

static void *egl_get_display(VireoGlProvider *self)
{
    return ((EglProvider *)self)->display;
}

static const VireoGlProviderOps egl_ops = {
    .create_context = egl_create_context,
    .destroy_context = egl_destroy_context,
    .make_current = egl_make_current,
    .finish = egl_finish,
    .get_egl_display = egl_get_display,
};

VireoGlProvider *vireo_egl_provider_new(gboolean gles, GError **error)
{
    EglProvider *p;
    const char *client, *exts;
    EGLDisplay display;
    EGLContext prev_ctx, root;
    EGLDisplay prev_dpy;
    EGLSurface prev_draw, prev_read;
    EGLint major, minor;
    const char *renderer;

    client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (client == NULL || !has_extension(client, "EGL_MESA_platform_surfaceless")) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "EGL has no surfaceless platform (client extensions: %s); install Mesa's "
                    "EGL (libegl-mesa0, libgl1-mesa-dri)",
                    client != NULL ? client : "none");
        return NULL;
    }
    display = eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    if (display == EGL_NO_DISPLAY || !eglInitialize(display, &major, &minor)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "EGL cannot initialize the surfaceless display: %s",
                    egl_error_name(eglGetError()));
        return NULL;
    }
    exts = eglQueryString(display, EGL_EXTENSIONS);
    if (exts == NULL || !has_extension(exts, "EGL_KHR_surfaceless_context") ||
        (!has_extension(exts, "EGL_KHR_no_config_context") &&
         !has_extension(exts, "EGL_MESA_configless_context"))) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "EGL %d.%d has no surfaceless or configless contexts (extensions: %s)", major,
                    minor, exts != NULL ? exts : "none");
        return NULL;
    }

    p = g_new0(EglProvider, 1);
    p->base.ops = &egl_ops;
    p->base.gles = gles;
    p->display = display;
    p->api = gles ? EGL_OPENGL_ES_API : EGL_OPENGL_API;
    g_mutex_init(&p->lock);
    p->used = g_array_new(FALSE, FALSE, sizeof(Used));
    root = create(p, 3, gles ? 0 : 2, EGL_NO_CONTEXT);
    if (root == EGL_NO_CONTEXT) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE, "EGL cannot create an %s context: %s",
                    gles ? "OpenGL ES 3.0" : "OpenGL 3.2 core", egl_error_name(eglGetError()));
        vireo_egl_provider_free(&p->base);
        return NULL;
    }
    p->root = root;

    /* Its renderer's name, with whatever was current put back. */
    prev_dpy = eglGetCurrentDisplay();
    prev_ctx = eglGetCurrentContext();
    prev_draw = eglGetCurrentSurface(EGL_DRAW);
    prev_read = eglGetCurrentSurface(EGL_READ);
    if (eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, root)) {
        renderer = (const char *)glGetString(GL_RENDERER);
        p->name = g_strdup(renderer != NULL ? renderer : "an unknown renderer");
        if (prev_ctx != EGL_NO_CONTEXT) {
            eglMakeCurrent(prev_dpy, prev_draw, prev_read, prev_ctx);
        } else {
            eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        }
    } else {
        p->name = g_strdup("an unknown renderer");
    }
    p->base.name = p->name;
    return &p->base;
}

void vireo_egl_provider_free(VireoGlProvider *provider)
{
    EglProvider *p = (EglProvider *)provider;

    if (p == NULL) {
        return;
    }
    if (p->root != NULL && p->root != EGL_NO_CONTEXT) {
        eglDestroyContext(p->display, p->root);
    }
    g_array_unref(p->used);
    g_mutex_clear(&p->lock);
    g_free(p->name);
    g_free(p);
}
