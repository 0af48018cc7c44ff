/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "display/renderer.h"

#include <epoxy/gl.h>
#include <math.h>
#include <string.h>

#include "display/placeholder.h"
#include "engine/error.h"

/* The cursor image is 64 x 64 A8R8G8B8 in host-endian 32-bit words: in
 * memory, B G R A on a little-endian host. */
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
#define CURSOR_FORMAT VIREO_PIXEL_B8G8R8A8
#else
#define CURSOR_FORMAT VIREO_PIXEL_A8R8G8B8
#endif

#define N_FORMATS (VIREO_PIXEL_A8B8G8R8 + 1)

/* One program per sampling filter and pixel format, built when first used:
 * with the filter and the byte order fixed in the source, the shader is as
 * short as a plain textured quad, which matters on software rasterizers
 * (a uniform swizzle matrix and a branch cost llvmpipe twice the time). */
typedef struct {
    GLuint id;
    GLint u_rect, u_size, u_scale, u_tex, u_src, u_texsize;
} Program;

struct VireoRenderer {
    Program programs[2][2][N_FORMATS]; /* [external][sharp][format] */
    GLuint vao;
    GLint max_texture;
    gboolean desktop;

    GLuint image_tex;
    int tex_w, tex_h;     /* allocated size of image_tex */
    int image_w, image_h; /* 0 x 0: nothing to show */
    VireoPixelFormat format;

    /* Texture mode: the image is the device's texture, drawn in place (it
     * belongs to the device; the renderer never deletes it). */
    gboolean external;
    GLuint ext_tex;
    int ext_w, ext_h;
    VireoScanoutRect ext_rect;
    gboolean ext_y0_bottom;

    /* A message picture in place of the image. */
    char *msg_title, *msg_detail;
    int msg_w, msg_h; /* size it was last drawn at; 0: not yet */

    GLuint cursor_tex;
    gboolean cursor_loaded, cursor_visible, cursor_premultiplied;
    guint64 cursor_serial;
    int cursor_x, cursor_y, hot_x, hot_y;

    VireoScaleMode mode;
    float bg[3];
    gboolean last_sharp;
};

/*
 * The vertex shader makes the quad from gl_VertexID (a 4-vertex strip):
 * u_rect is its left, top, right and bottom edges in normalized device
 * coordinates, and v_texel the texel position across it.
 *
 * The fragment shader samples in one of two ways. NEAREST fetches the texel
 * under the pixel's centre. SHARP (sharp bilinear) works from the scale
 * factor u_scale, device pixels per texel on each axis (at least 1): a
 * pixel whose centre lies more than half a pixel from a texel edge shows
 * that texel's colour alone; within half a pixel of an edge it blends the
 * two texels in proportion to the pixel's overlap with each. With `edge`
 * the nearest texel edge and `d` the offset from it in texels, d * scale is
 * that offset in pixels; clamped to [-0.5, 0.5] and added to the edge it
 * gives the coordinate at which the linear filter returns exactly that
 * blend (at +-0.5 it lands on a texel centre: no blend).
 *
 * The texel's bytes arrive as RGBA in memory order; SWIZZLE(c) turns them
 * into the colour for the image's pixel format, alpha 1 for formats
 * without alpha.
 *
 * EXTERNAL draws part of a device's texture (texture mode): image texel t
 * is texture texel u_src.xy + t * u_src.zw in a texture of u_texsize
 * texels, which takes the shown rectangle's origin and, with a z or w of
 * -1, an upside-down texture.
 */
static const char vertex_body[] =
    "uniform vec4 u_rect;\n"
    "uniform vec2 u_size;\n"
    "out vec2 v_texel;\n"
    "void main() {\n"
    "    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));\n"
    "    gl_Position = vec4(mix(u_rect.xy, u_rect.zw, corner), 0.0, 1.0);\n"
    "    v_texel = corner * u_size;\n"
    "}\n";

static const char fragment_body[] =
    "uniform sampler2D u_tex;\n"
    "uniform vec2 u_size;\n"
    "uniform vec2 u_scale;\n"
    "#ifdef EXTERNAL\n"
    "uniform vec4 u_src;\n"
    "uniform vec2 u_texsize;\n"
    "#endif\n"
    "in vec2 v_texel;\n"
    "out vec4 o_color;\n"
    "void main() {\n"
    "#ifdef SHARP\n"
    "    vec2 edge = floor(v_texel + 0.5);\n"
    "    vec2 pos = edge + clamp((v_texel - edge) * u_scale, -0.5, 0.5);\n"
    "#ifdef EXTERNAL\n"
    "    vec4 c = texture(u_tex, (u_src.xy + pos * u_src.zw) / u_texsize);\n"
    "#else\n"
    "    vec4 c = texture(u_tex, pos / u_size);\n"
    "#endif\n"
    "#else\n"
    "    ivec2 p = clamp(ivec2(v_texel), ivec2(0), ivec2(u_size) - 1);\n"
    "#ifdef EXTERNAL\n"
    "    p = ivec2(floor(u_src.xy + (vec2(p) + 0.5) * u_src.zw));\n"
    "#endif\n"
    "    vec4 c = texelFetch(u_tex, p, 0);\n"
    "#endif\n"
    "    o_color = SWIZZLE(c);\n"
    "}\n";

/* For each format, the byte each output channel r, g, b, a comes from, or
 * -1 for a constant 1. */
static const int8_t format_sources[N_FORMATS][4] = {
    [VIREO_PIXEL_B8G8R8X8] = { 2, 1, 0, -1 }, [VIREO_PIXEL_B8G8R8A8] = { 2, 1, 0, 3 },
    [VIREO_PIXEL_R8G8B8X8] = { 0, 1, 2, -1 }, [VIREO_PIXEL_R8G8B8A8] = { 0, 1, 2, 3 },
    [VIREO_PIXEL_X8R8G8B8] = { 1, 2, 3, -1 }, [VIREO_PIXEL_A8R8G8B8] = { 1, 2, 3, 0 },
    [VIREO_PIXEL_X8B8G8R8] = { 3, 2, 1, -1 }, [VIREO_PIXEL_A8B8G8R8] = { 3, 2, 1, 0 },
};

/* "#define SWIZZLE(c) vec4((c).bgr, 1.0)" and the like. */
static char *swizzle_define(VireoPixelFormat format)
{
    const int8_t *src = format_sources[format];
    char sel[5] = { 0 };

    for (int i = 0; i < 3; i++) {
        sel[i] = "rgba"[src[i]];
    }
    if (src[3] < 0) {
        return g_strdup_printf("#define SWIZZLE(c) vec4((c).%s, 1.0)\n", sel);
    }
    sel[3] = "rgba"[src[3]];
    return g_strdup_printf("#define SWIZZLE(c) (c).%s\n", sel);
}

static const char desktop_header[] = "#version 150\n";
static const char es_header[] = "#version 300 es\n"
                                "precision highp float;\n"
                                "precision highp int;\n"
                                "precision highp sampler2D;\n";

/* Drains GL's error flags, so that a later check sees only new errors. */
static void clear_gl_errors(void)
{
    for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; i++) {}
}

static const char *gl_error_name(GLenum err)
{
    switch (err) {
    case GL_INVALID_ENUM: return "GL_INVALID_ENUM";
    case GL_INVALID_VALUE: return "GL_INVALID_VALUE";
    case GL_INVALID_OPERATION: return "GL_INVALID_OPERATION";
    case GL_INVALID_FRAMEBUFFER_OPERATION: return "GL_INVALID_FRAMEBUFFER_OPERATION";
    case GL_OUT_OF_MEMORY: return "GL_OUT_OF_MEMORY";
    default: return "unknown GL error";
    }
}

static gboolean check_gl(const char *what, GError **error)
{
    GLenum err = glGetError();

    if (err != GL_NO_ERROR) {
        clear_gl_errors();
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE, "OpenGL failed to %s (%s)", what,
                    gl_error_name(err));
        return FALSE;
    }
    return TRUE;
}

static GLuint compile(GLenum type, const char *const *sources, int n, GError **error)
{
    GLuint shader = glCreateShader(type);
    GLint ok = GL_FALSE, len = 0;

    glShaderSource(shader, n, (const GLchar *const *)sources, NULL);
    glCompileShader(shader);
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        g_autofree char *log = NULL;
        glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &len);
        log = g_malloc0((gsize)MAX(len, 1));
        glGetShaderInfoLog(shader, MAX(len, 1), NULL, log);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "The display's %s shader does not compile on %s: %s",
                    type == GL_VERTEX_SHADER ? "vertex" : "fragment",
                    (const char *)glGetString(GL_RENDERER), g_strstrip(log));
        glDeleteShader(shader);
        return 0;
    }
    return shader;
}

/* The program for a filter and format (and a device's texture or the
 * renderer's own), built the first time. */
static const Program *get_program(VireoRenderer *self, gboolean sharp, VireoPixelFormat format,
                                  gboolean external, GError **error)
{
    Program *prog;
    const char *header = self->desktop ? desktop_header : es_header;
    g_autofree char *swizzle = NULL;
    g_autofree char *defines = NULL;
    const char *vs_sources[1], *fs_sources[4];
    GLuint vs, fs, id;
    GLint ok = GL_FALSE, len = 0;

    if ((unsigned)format >= N_FORMATS) {
        format = VIREO_PIXEL_B8G8R8X8;
    }
    prog = &self->programs[external ? 1 : 0][sharp ? 1 : 0][format];
    if (prog->id != 0) {
        return prog;
    }
    swizzle = swizzle_define(format);
    defines =
        g_strconcat(sharp ? "#define SHARP 1\n" : "", external ? "#define EXTERNAL 1\n" : "", NULL);
    vs_sources[0] = vertex_body;
    fs_sources[0] = defines;
    fs_sources[1] = swizzle;
    fs_sources[2] = fragment_body;
    {
        const char *v[2] = { header, vs_sources[0] };
        vs = compile(GL_VERTEX_SHADER, v, 2, error);
    }
    if (vs == 0) {
        return NULL;
    }
    {
        const char *f[4] = { header, fs_sources[0], fs_sources[1], fs_sources[2] };
        fs = compile(GL_FRAGMENT_SHADER, f, 4, error);
    }
    if (fs == 0) {
        glDeleteShader(vs);
        return NULL;
    }
    id = glCreateProgram();
    glAttachShader(id, vs);
    glAttachShader(id, fs);
    if (self->desktop) {
        glBindFragDataLocation(id, 0, "o_color");
    }
    glLinkProgram(id);
    glDeleteShader(vs);
    glDeleteShader(fs);
    glGetProgramiv(id, GL_LINK_STATUS, &ok);
    if (!ok) {
        g_autofree char *log = NULL;
        glGetProgramiv(id, GL_INFO_LOG_LENGTH, &len);
        log = g_malloc0((gsize)MAX(len, 1));
        glGetProgramInfoLog(id, MAX(len, 1), NULL, log);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "The display's shaders do not link on %s: %s",
                    (const char *)glGetString(GL_RENDERER), g_strstrip(log));
        glDeleteProgram(id);
        return NULL;
    }
    prog->id = id;
    prog->u_rect = glGetUniformLocation(id, "u_rect");
    prog->u_size = glGetUniformLocation(id, "u_size");
    prog->u_scale = glGetUniformLocation(id, "u_scale");
    prog->u_tex = glGetUniformLocation(id, "u_tex");
    prog->u_src = glGetUniformLocation(id, "u_src");
    prog->u_texsize = glGetUniformLocation(id, "u_texsize");
    return prog;
}

static GLuint new_texture(void)
{
    GLuint tex;

    glGenTextures(1, &tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    return tex;
}

VireoRenderer *vireo_renderer_new(GError **error)
{
    VireoRenderer *self;
    int version;
    gboolean desktop;

    /* epoxy answers from the current context; without one there is no
     * version to read. */
    version = epoxy_gl_version();
    desktop = epoxy_is_desktop_gl();
    if (version == 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "No OpenGL context is current for the display");
        return NULL;
    }
    if ((desktop && version < 32) || (!desktop && version < 30)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "The display needs OpenGL 3.2 or OpenGL ES 3.0; %s offers %s %d.%d",
                    (const char *)glGetString(GL_RENDERER), desktop ? "OpenGL" : "OpenGL ES",
                    version / 10, version % 10);
        return NULL;
    }

    self = g_new0(VireoRenderer, 1);
    self->desktop = desktop;
    self->mode = VIREO_SCALE_FIT;
    self->bg[0] = self->bg[1] = self->bg[2] = 0.09f;
    clear_gl_errors();
    /* The common programs now, so that a shader that does not build is an
     * error here rather than a blank display later. */
    if (get_program(self, FALSE, VIREO_PIXEL_B8G8R8X8, FALSE, error) == NULL ||
        get_program(self, TRUE, VIREO_PIXEL_B8G8R8X8, FALSE, error) == NULL) {
        vireo_renderer_free(self);
        return NULL;
    }
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &self->max_texture);
    glGenVertexArrays(1, &self->vao);
    self->image_tex = new_texture();
    self->cursor_tex = new_texture();
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, VIREO_CURSOR_SIZE, VIREO_CURSOR_SIZE, 0, GL_RGBA,
                 GL_UNSIGNED_BYTE, NULL);
    glBindTexture(GL_TEXTURE_2D, 0);
    if (!check_gl("set up the display's textures", error)) {
        vireo_renderer_free(self);
        return NULL;
    }
    return self;
}

void vireo_renderer_free(VireoRenderer *self)
{
    if (self == NULL) {
        return;
    }
    for (int e = 0; e < 2; e++) {
        for (int f = 0; f < 2; f++) {
            for (int i = 0; i < N_FORMATS; i++) {
                if (self->programs[e][f][i].id != 0) {
                    glDeleteProgram(self->programs[e][f][i].id);
                }
            }
        }
    }
    if (self->vao != 0) {
        glDeleteVertexArrays(1, &self->vao);
    }
    if (self->image_tex != 0) {
        glDeleteTextures(1, &self->image_tex);
    }
    if (self->cursor_tex != 0) {
        glDeleteTextures(1, &self->cursor_tex);
    }
    g_free(self->msg_title);
    g_free(self->msg_detail);
    g_free(self);
}

void vireo_renderer_set_scale_mode(VireoRenderer *self, VireoScaleMode mode)
{
    self->mode = mode;
}

VireoScaleMode vireo_renderer_get_scale_mode(VireoRenderer *self)
{
    return self->mode;
}

void vireo_renderer_set_background(VireoRenderer *self, float r, float g, float b)
{
    self->bg[0] = r;
    self->bg[1] = g;
    self->bg[2] = b;
}

void vireo_renderer_set_cursor_premultiplied(VireoRenderer *self, gboolean premultiplied)
{
    self->cursor_premultiplied = premultiplied;
}

static void clear_message(VireoRenderer *self)
{
    g_clear_pointer(&self->msg_title, g_free);
    g_clear_pointer(&self->msg_detail, g_free);
    self->msg_w = self->msg_h = 0;
}

/* Sets the texture to width x height; its contents are undefined. */
static gboolean allocate_image(VireoRenderer *self, int width, int height, GError **error)
{
    if (width > self->max_texture || height > self->max_texture) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "The guest's display is %d x %d pixels; the OpenGL of %s draws at most %d x "
                    "%d",
                    width, height, (const char *)glGetString(GL_RENDERER), self->max_texture,
                    self->max_texture);
        return FALSE;
    }
    if (self->tex_w == width && self->tex_h == height) {
        return TRUE;
    }
    clear_gl_errors();
    glBindTexture(GL_TEXTURE_2D, self->image_tex);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
    if (!check_gl("allocate the guest display's texture", error)) {
        self->tex_w = self->tex_h = 0;
        return FALSE;
    }
    self->tex_w = width;
    self->tex_h = height;
    return TRUE;
}

/* Uploads rows and columns of `pixels` (rows `stride` bytes apart) into
 * the bound texture: GL reads them in place. */
static void upload_rect(const guint8 *pixels, size_t stride, int x, int y, int w, int h)
{
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, (GLint)(stride / 4));
    glPixelStorei(GL_UNPACK_SKIP_PIXELS, x);
    glPixelStorei(GL_UNPACK_SKIP_ROWS, y);
    glTexSubImage2D(GL_TEXTURE_2D, 0, x, y, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pixels);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glPixelStorei(GL_UNPACK_SKIP_PIXELS, 0);
    glPixelStorei(GL_UNPACK_SKIP_ROWS, 0);
}

static void show_error(VireoRenderer *self, const GError *err)
{
    vireo_renderer_show_message(self, "Display error", err->message);
}

gboolean vireo_renderer_upload(VireoRenderer *self, const VireoScanoutFrame *frame, GError **error)
{
    g_autoptr(GError) local = NULL;
    VireoScanoutRect d = frame->damage;
    gboolean full;

    if (frame->cursor == NULL) {
        self->cursor_visible = FALSE;
    } else {
        if (!self->cursor_loaded || frame->cursor_serial != self->cursor_serial) {
            glBindTexture(GL_TEXTURE_2D, self->cursor_tex);
            upload_rect((const guint8 *)frame->cursor, VIREO_CURSOR_SIZE * 4, 0, 0,
                        VIREO_CURSOR_SIZE, VIREO_CURSOR_SIZE);
            self->cursor_loaded = TRUE;
            self->cursor_serial = frame->cursor_serial;
        }
        self->cursor_visible = TRUE;
        self->cursor_x = frame->cursor_x;
        self->cursor_y = frame->cursor_y;
        self->hot_x = frame->cursor_hot_x;
        self->hot_y = frame->cursor_hot_y;
    }

    if (frame->texture != 0 && frame->width > 0 && frame->height > 0) {
        /* Texture mode: nothing to upload, the device's texture is drawn
         * as it is (its commands completed before the frame was
         * published). */
        clear_message(self);
        self->external = TRUE;
        self->ext_tex = frame->texture;
        self->ext_w = frame->texture_width;
        self->ext_h = frame->texture_height;
        self->ext_rect = frame->texture_rect;
        self->ext_y0_bottom = frame->texture_y0_bottom;
        self->image_w = frame->width;
        self->image_h = frame->height;
        self->format = frame->format;
        glBindTexture(GL_TEXTURE_2D, 0);
        return TRUE;
    }
    if (frame->pixels == NULL || frame->width <= 0 || frame->height <= 0) {
        /* The output is off. */
        clear_message(self);
        self->external = FALSE;
        self->image_w = self->image_h = 0;
        glBindTexture(GL_TEXTURE_2D, 0);
        return TRUE;
    }

    /* After a message, or when the texture's size is not the frame's, the
     * whole frame goes up: the scanout's front buffer always holds the
     * complete image, the damage only says what changed in it. */
    full = frame->resized || self->msg_title != NULL || self->external ||
           self->image_w != frame->width || self->image_h != frame->height ||
           self->tex_w != frame->width || self->tex_h != frame->height;
    if (full) {
        if (!allocate_image(self, frame->width, frame->height, &local)) {
            glBindTexture(GL_TEXTURE_2D, 0);
            show_error(self, local);
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        d = (VireoScanoutRect){ 0, 0, frame->width, frame->height };
    }
    clear_message(self);
    self->external = FALSE;
    self->image_w = frame->width;
    self->image_h = frame->height;
    self->format = frame->format;

    /* The scanout clips damage to the mode; clip again so a bad rectangle
     * can never make GL read outside the frame. */
    d.x = CLAMP(d.x, 0, frame->width);
    d.y = CLAMP(d.y, 0, frame->height);
    d.width = CLAMP(d.width, 0, frame->width - d.x);
    d.height = CLAMP(d.height, 0, frame->height - d.y);
    if (d.width > 0 && d.height > 0) {
        glBindTexture(GL_TEXTURE_2D, self->image_tex);
        upload_rect(frame->pixels, frame->stride, d.x, d.y, d.width, d.height);
    }
    glBindTexture(GL_TEXTURE_2D, 0);
    return TRUE;
}

void vireo_renderer_show_message(VireoRenderer *self, const char *title, const char *detail)
{
    char *t = g_strdup(title), *d = g_strdup(detail != NULL ? detail : "");

    clear_message(self);
    self->msg_title = t;
    self->msg_detail = d;
    self->cursor_visible = FALSE;
    self->external = FALSE;
}

/* Draws the message picture at the framebuffer's size into the texture. */
static void prepare_message(VireoRenderer *self, int fb_width, int fb_height)
{
    int w = CLAMP(fb_width, 1, self->max_texture), h = CLAMP(fb_height, 1, self->max_texture);
    size_t stride = (size_t)w * 4;
    g_autofree guint8 *pixels = NULL;
    g_autoptr(GError) error = NULL;

    if (self->msg_w == w && self->msg_h == h) {
        return;
    }
    pixels = g_malloc(stride * (size_t)h);
    vireo_placeholder_draw(pixels, stride, w, h, self->msg_title, self->msg_detail);
    if (allocate_image(self, w, h, &error)) {
        glBindTexture(GL_TEXTURE_2D, self->image_tex);
        upload_rect(pixels, stride, 0, 0, w, h);
        glBindTexture(GL_TEXTURE_2D, 0);
    }
    self->image_w = w;
    self->image_h = h;
    self->format = VIREO_PIXEL_B8G8R8X8;
    self->msg_w = w;
    self->msg_h = h;
}

/* A device's texture samples as RGBA whatever its format's byte order;
 * formats without alpha are drawn opaque. */
static VireoPixelFormat external_format(VireoPixelFormat format)
{
    return format_sources[(unsigned)format < N_FORMATS ? format : 0][3] < 0 ? VIREO_PIXEL_R8G8B8X8
                                                                            : VIREO_PIXEL_R8G8B8A8;
}

static VireoScaleMode effective_mode(VireoRenderer *self)
{
    return self->msg_title != NULL ? VIREO_SCALE_NATIVE : self->mode;
}

VireoRect vireo_renderer_get_view(VireoRenderer *self, int fb_width, int fb_height)
{
    if (self->msg_title != NULL) {
        return vireo_viewport_compute(fb_width, fb_height, fb_width, fb_height, VIREO_SCALE_NATIVE);
    }
    return vireo_viewport_compute(self->image_w, self->image_h, fb_width, fb_height,
                                  effective_mode(self));
}

void vireo_renderer_get_image_size(VireoRenderer *self, int *width, int *height)
{
    *width = self->msg_title != NULL ? 0 : self->image_w;
    *height = self->msg_title != NULL ? 0 : self->image_h;
}

gboolean vireo_renderer_to_guest(VireoRenderer *self, int fb_width, int fb_height, double x,
                                 double y, int *gx, int *gy)
{
    VireoRect view;

    if (self->msg_title != NULL || self->image_w <= 0) {
        return FALSE;
    }
    view = vireo_renderer_get_view(self, fb_width, fb_height);
    return vireo_viewport_to_guest(&view, self->image_w, self->image_h, x, y, gx, gy);
}

gboolean vireo_renderer_get_last_filter_sharp(VireoRenderer *self)
{
    return self->last_sharp;
}

/* Draws a texture of tex_w x tex_h texels in `format` over `r` (device
 * pixels, top-left origin) of a fb_width x fb_height framebuffer. FALSE
 * when the program for it does not build. */
static gboolean draw_quad(VireoRenderer *self, VireoRect r, int fb_width, int fb_height, int tex_w,
                          int tex_h, VireoPixelFormat format, gboolean external, gboolean sharp,
                          float scale_x, float scale_y, GError **error)
{
    const Program *prog = get_program(self, sharp, format, external, error);

    if (prog == NULL) {
        return FALSE;
    }
    glUseProgram(prog->id);
    glUniform1i(prog->u_tex, 0);
    if (external) {
        /* The shown rectangle of the device's texture; rows run upwards
         * from the rectangle's bottom when the texture is upside down. */
        float y0 =
            self->ext_y0_bottom ? (float)(self->ext_h - self->ext_rect.y) : (float)self->ext_rect.y;
        glUniform4f(prog->u_src, (float)self->ext_rect.x, y0, 1.0f,
                    self->ext_y0_bottom ? -1.0f : 1.0f);
        glUniform2f(prog->u_texsize, (float)self->ext_w, (float)self->ext_h);
    }
    glUniform4f(prog->u_rect, 2.0f * (float)r.x / (float)fb_width - 1.0f,
                1.0f - 2.0f * (float)r.y / (float)fb_height,
                2.0f * (float)(r.x + r.width) / (float)fb_width - 1.0f,
                1.0f - 2.0f * (float)(r.y + r.height) / (float)fb_height);
    glUniform2f(prog->u_size, (float)tex_w, (float)tex_h);
    if (sharp) {
        glUniform2f(prog->u_scale, MAX(scale_x, 1.0f), MAX(scale_y, 1.0f));
    }
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    return TRUE;
}

void vireo_renderer_draw(VireoRenderer *self, int fb_width, int fb_height)
{
    g_autoptr(GError) error = NULL;
    VireoRect view;
    float sx, sy;
    gboolean sharp;

    if (fb_width <= 0 || fb_height <= 0) {
        return;
    }
    glViewport(0, 0, fb_width, fb_height);
    glDisable(GL_SCISSOR_TEST);
    glDisable(GL_BLEND);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_STENCIL_TEST);
    glDisable(GL_CULL_FACE);
    glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    glClearColor(self->bg[0], self->bg[1], self->bg[2], 1.0f);

    if (self->msg_title != NULL) {
        prepare_message(self, fb_width, fb_height);
    }
    view = vireo_renderer_get_view(self, fb_width, fb_height);
    if (self->image_w <= 0 || view.width <= 0 || view.height <= 0) {
        glClear(GL_COLOR_BUFFER_BIT);
        return;
    }
    if (view.x > 0 || view.y > 0 || view.x + view.width < fb_width ||
        view.y + view.height < fb_height) {
        glClear(GL_COLOR_BUFFER_BIT);
    }

    /* Whole multiples (native, integer, or a fit that happens to be one)
     * sample nearest; anything else sharp bilinear. */
    sx = (float)view.width / (float)self->image_w;
    sy = (float)view.height / (float)self->image_h;
    sharp = view.width % self->image_w != 0 || view.height % self->image_h != 0;
    self->last_sharp = sharp;

    glBindVertexArray(self->vao);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, self->external ? self->ext_tex : self->image_tex);
    if (!draw_quad(self, view, fb_width, fb_height, self->image_w, self->image_h,
                   self->external ? external_format(self->format) : self->format, self->external,
                   sharp, sx, sy, &error)) {
        /* The message picture's programs were built with the renderer. */
        glBindTexture(GL_TEXTURE_2D, 0);
        glBindVertexArray(0);
        show_error(self, error);
        vireo_renderer_draw(self, fb_width, fb_height);
        return;
    }

    if (self->cursor_visible && self->msg_title == NULL) {
        VireoRect c;
        /* The cursor's 64 x 64 guest pixels, scaled like the image and
         * clipped to it. */
        c.x = view.x + (int)lround((double)(self->cursor_x - self->hot_x) * sx);
        c.y = view.y + (int)lround((double)(self->cursor_y - self->hot_y) * sy);
        c.width = (int)lround(VIREO_CURSOR_SIZE * (double)sx);
        c.height = (int)lround(VIREO_CURSOR_SIZE * (double)sy);
        glEnable(GL_SCISSOR_TEST);
        glScissor(view.x, fb_height - view.y - view.height, view.width, view.height);
        glEnable(GL_BLEND);
        glBlendFuncSeparate(self->cursor_premultiplied ? GL_ONE : GL_SRC_ALPHA,
                            GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
        glBindTexture(GL_TEXTURE_2D, self->cursor_tex);
        if (!draw_quad(self, c, fb_width, fb_height, VIREO_CURSOR_SIZE, VIREO_CURSOR_SIZE,
                       CURSOR_FORMAT, FALSE, sharp, sx, sy, &error)) {
            g_warning("%s", error->message); /* the image is there; only the cursor is not */
            g_clear_error(&error);
        }
        glDisable(GL_BLEND);
        glDisable(GL_SCISSOR_TEST);
    }
    glBindTexture(GL_TEXTURE_2D, 0);
    glBindVertexArray(0);
    glUseProgram(0);
}
