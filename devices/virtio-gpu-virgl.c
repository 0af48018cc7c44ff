/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-gpu's 3D mode on virglrenderer: the device's thread owns the
 * library (it is not thread-safe and keeps global state), which renders
 * with OpenGL contexts from the device's VireoGlProvider through the
 * context callbacks of its stable interface.
 */
#include "config.h"

#include "virtio-gpu-priv.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <virglrenderer.h>

/* A transfer's box, as virglrenderer reads it (its header declares the
 * type without the fields). */
struct virgl_box {
    uint32_t x, y, z;
    uint32_t w, h, d;
};

#define CAPSET_INFO_SIZE        (VIREO_VIRTIO_GPU_HDR_SIZE + 8)
#define CAPSET_SIZE             (VIREO_VIRTIO_GPU_HDR_SIZE + 8)
#define CTX_CREATE_SIZE         (VIREO_VIRTIO_GPU_HDR_SIZE + 8 + 64)
#define CTX_RESOURCE_SIZE       (VIREO_VIRTIO_GPU_HDR_SIZE + 8)
#define RESOURCE_CREATE_3D_SIZE (VIREO_VIRTIO_GPU_HDR_SIZE + 48)
#define TRANSFER_3D_SIZE        (VIREO_VIRTIO_GPU_HDR_SIZE + 48)
#define SUBMIT_SIZE             (VIREO_VIRTIO_GPU_HDR_SIZE + 8)
#define MAX_CAPSETS             2
#define RESOURCE_OVERHEAD_3D    4096

/* Gallium's texture targets, as the guest's resources name them. */
#define PIPE_BUFFER            0
#define PIPE_TEXTURE_2D        2
#define PIPE_TEXTURE_RECT      4
#define PIPE_MAX_TEXTURE_TYPES 9
#define MAX_TEXTURE_LEVELS     15
#define MAX_ARRAY_LAYERS       2048
#define MAX_SAMPLES            32
/* A resource's info flag: its texture's row 0 is the image's bottom line. */
#define VIRGL_RESOURCE_Y_0_TOP 1u

/* A fenced command waiting for its fence. */
typedef struct {
    VireoVirtioChain chain;
    GpuCmd cmd; /* header fields and the payload only */
    uint32_t type;
    uint32_t seq;
} Held;

struct GpuVirgl {
    VireoGlProvider *gl;
    GQueue held; /* Held, in fence order */
    uint32_t next_seq;
    uint32_t retired; /* the last fence virglrenderer retired */
    bool any_retired;
    GHashTable *contexts; /* ids of the guest's contexts */
    unsigned n_capsets;
    uint32_t capset_id[MAX_CAPSETS], capset_version[MAX_CAPSETS], capset_size[MAX_CAPSETS];
};

/* virglrenderer is one per process. */
static GMutex owner_lock;
static bool owner_taken;

/* ---- virglrenderer's callbacks, on the device's thread ------------------- */

static void cb_write_fence(void *cookie, uint32_t fence)
{
    Gpu *g = cookie;

    g->virgl->retired = fence;
    g->virgl->any_retired = true;
}

static virgl_renderer_gl_context cb_create_gl_context(void *cookie, int scanout_idx,
                                                      struct virgl_renderer_gl_ctx_param *param)
{
    Gpu *g = cookie;
    VireoGlProvider *gl = g->virgl->gl;

    /* Every context of the provider shares objects with every other, so a
     * texture of any of them can be shown. */
    return gl->ops->create_context(gl, param->major_ver, param->minor_ver);
}

static void cb_destroy_gl_context(void *cookie, virgl_renderer_gl_context ctx)
{
    Gpu *g = cookie;

    g->virgl->gl->ops->destroy_context(g->virgl->gl, ctx);
}

static int cb_make_current(void *cookie, int scanout_idx, virgl_renderer_gl_context ctx)
{
    Gpu *g = cookie;

    return g->virgl->gl->ops->make_current(g->virgl->gl, ctx) ? 0 : -1;
}

static struct virgl_renderer_callbacks callbacks = {
    .version = 2,
    .write_fence = cb_write_fence,
    .create_gl_context = cb_create_gl_context,
    .destroy_gl_context = cb_destroy_gl_context,
    .make_current = cb_make_current,
};

/* virglrenderer's messages go to GLib's debug log. */
G_GNUC_PRINTF(1, 0) static void virgl_debug(const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);

    g_debug("virglrenderer: %s", g_strchomp(msg));
}

/* ---- Starting and stopping ----------------------------------------------- */

bool gpu_virgl_init(Gpu *g, VireoGlProvider *gl, char **reason)
{
    static const uint32_t capsets[MAX_CAPSETS] = { VIREO_VIRTIO_GPU_CAPSET_VIRGL,
                                                   VIREO_VIRTIO_GPU_CAPSET_VIRGL2 };
    GpuVirgl *v;
    int err;

    g_mutex_lock(&owner_lock);
    if (owner_taken) {
        g_mutex_unlock(&owner_lock);
        *reason = g_strdup(_("Another virtual GPU in this program already uses 3D acceleration"));
        return false;
    }
    owner_taken = true;
    g_mutex_unlock(&owner_lock);

    v = g_new0(GpuVirgl, 1);
    v->gl = gl;
    g_queue_init(&v->held);
    v->contexts = g_hash_table_new(NULL, NULL);
    g->virgl = v; /* the callbacks need it during the start */
    virgl_set_debug_callback(virgl_debug);
    err = virgl_renderer_init(g, gl->gles ? VIRGL_RENDERER_USE_GLES : 0, &callbacks);
    if (err != 0) {
        *reason = g_strdup_printf(_("virglrenderer cannot start on %s (error %d)"),
                                  gl->name != NULL ? gl->name : "OpenGL", err);
        gl->ops->make_current(gl, NULL);
        goto fail;
    }
    for (unsigned i = 0; i < MAX_CAPSETS; i++) {
        uint32_t version = 0, size = 0;

        virgl_renderer_get_cap_set(capsets[i], &version, &size);
        if (version > 0 && size > 0) {
            v->capset_id[v->n_capsets] = capsets[i];
            v->capset_version[v->n_capsets] = version;
            v->capset_size[v->n_capsets] = size;
            v->n_capsets++;
        }
    }
    if (v->n_capsets == 0) {
        *reason = g_strdup_printf(_("virglrenderer offers no 3D capabilities on %s"),
                                  gl->name != NULL ? gl->name : "OpenGL");
        virgl_renderer_cleanup(g);
        gl->ops->make_current(gl, NULL);
        goto fail;
    }
    g_debug("virtio-gpu: 3D with virglrenderer on %s", gl->name);
    return true;

fail:
    g->virgl = NULL;
    g_hash_table_destroy(v->contexts);
    g_free(v);
    g_mutex_lock(&owner_lock);
    owner_taken = false;
    g_mutex_unlock(&owner_lock);
    return false;
}

void gpu_virgl_fini(Gpu *g)
{
    GpuVirgl *v = g->virgl;

    virgl_renderer_cleanup(g);
    v->gl->ops->make_current(v->gl, NULL);
    g_hash_table_destroy(v->contexts);
    g_free(v);
    g->virgl = NULL;
    g_mutex_lock(&owner_lock);
    owner_taken = false;
    g_mutex_unlock(&owner_lock);
}

uint32_t gpu_virgl_num_capsets(Gpu *g)
{
    return g->virgl->n_capsets;
}

/* ---- Fences ------------------------------------------------------------- */

static void held_free(Held *h)
{
    if (h->cmd.payload != NULL) {
        g_byte_array_unref(h->cmd.payload);
    }
    g_free(h);
}

void gpu_virgl_hold(Gpu *g, VireoVirtioChain *chain, const GpuCmd *c, uint32_t type)
{
    GpuVirgl *v = g->virgl;
    Held *h = g_new0(Held, 1);

    h->chain = *chain;
    h->cmd = *c;
    h->cmd.data = NULL;
    h->cmd.len = 0;
    h->cmd.payload = c->payload != NULL ? g_byte_array_ref(c->payload) : NULL;
    h->type = type;
    h->seq = ++v->next_seq;
    /* virglrenderer's fences retire in the order they were made, after
     * the work submitted before them. */
    if (virgl_renderer_create_fence((int)h->seq, 0) != 0) {
        gpu_respond(g, &h->chain, &h->cmd, type);
        held_free(h);
        return;
    }
    g_queue_push_tail(&v->held, h);
}

static bool answer_retired(Gpu *g)
{
    GpuVirgl *v = g->virgl;
    bool any = false;
    Held *h;

    while (v->any_retired && (h = g_queue_peek_head(&v->held)) != NULL &&
           (int32_t)(v->retired - h->seq) >= 0) {
        g_queue_pop_head(&v->held);
        gpu_respond(g, &h->chain, &h->cmd, h->type);
        held_free(h);
        any = true;
    }
    return any;
}

bool gpu_virgl_poll(Gpu *g)
{
    if (g_queue_is_empty(&g->virgl->held)) {
        return false;
    }
    virgl_renderer_poll();
    return answer_retired(g);
}

bool gpu_virgl_fences_pending(Gpu *g)
{
    return !g_queue_is_empty(&g->virgl->held);
}

void gpu_virgl_reset(Gpu *g)
{
    GpuVirgl *v = g->virgl;
    GHashTableIter iter;
    gpointer key, value;
    Held *h;

    /* Chains of the old epoch go nowhere. */
    while ((h = g_queue_pop_head(&v->held)) != NULL) {
        vireo_virtio_chain_clear(&h->chain);
        held_free(h);
    }
    g_hash_table_iter_init(&iter, v->contexts);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        virgl_renderer_context_destroy(GPOINTER_TO_UINT(key));
    }
    g_hash_table_remove_all(v->contexts);
    g_hash_table_iter_init(&iter, g->resources);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        GpuResource *r = value;
        if (r->is_3d) {
            gpu_virgl_resource_unref(g, r);
        }
    }
}

/* ---- Resources ------------------------------------------------------------ */

static uint32_t error_response(int err)
{
    if (err == ENOMEM || err == -ENOMEM) {
        return VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
}

void gpu_virgl_resource_unref(Gpu *g, GpuResource *r)
{
    if (r->n_iov > 0) {
        gpu_virgl_detach_backing(g, r);
    }
    virgl_renderer_resource_unref(r->id);
}

uint32_t gpu_virgl_attach_backing(Gpu *g, GpuResource *r)
{
    /* virglrenderer keeps the list itself: it lives until the detach. */
    if (virgl_renderer_resource_attach_iov((int)r->id, r->iov, (int)r->n_iov) != 0) {
        gpu_backing_drop(g, r);
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

void gpu_virgl_detach_backing(Gpu *g, GpuResource *r)
{
    struct iovec *iov = NULL;
    int n = 0;

    virgl_renderer_resource_detach_iov((int)r->id, &iov, &n);
}

static bool context_known(GpuVirgl *v, uint32_t ctx_id)
{
    return ctx_id != 0 && g_hash_table_contains(v->contexts, GUINT_TO_POINTER(ctx_id));
}

static uint32_t cmd_create_3d(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    struct virgl_renderer_resource_create_args args;
    uint64_t bytes;
    GpuResource *r;
    int err;

    if (c->len < RESOURCE_CREATE_3D_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    memset(&args, 0, sizeof args);
    args.handle = gpu_le32(p);
    args.target = gpu_le32(p + 4);
    args.format = gpu_le32(p + 8);
    args.bind = gpu_le32(p + 12);
    args.width = gpu_le32(p + 16);
    args.height = gpu_le32(p + 20);
    args.depth = gpu_le32(p + 24);
    args.array_size = gpu_le32(p + 28);
    args.last_level = gpu_le32(p + 32);
    args.nr_samples = gpu_le32(p + 36);
    args.flags = gpu_le32(p + 40);
    if (args.handle == 0 || gpu_resource_lookup(g, args.handle) != NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    /* Bounds that keep the size estimate in 64 bits; virglrenderer checks
     * the combinations. */
    if (args.target >= PIPE_MAX_TEXTURE_TYPES || args.width == 0 || args.height == 0 ||
        args.depth == 0 || args.array_size == 0 || args.last_level >= MAX_TEXTURE_LEVELS ||
        args.nr_samples > MAX_SAMPLES || args.depth > VIREO_VIRTIO_GPU_MAX_DIMENSION ||
        args.array_size > MAX_ARRAY_LAYERS ||
        (args.target != PIPE_BUFFER && (args.width > VIREO_VIRTIO_GPU_MAX_DIMENSION ||
                                        args.height > VIREO_VIRTIO_GPU_MAX_DIMENSION))) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (args.target == PIPE_BUFFER) {
        bytes = (uint64_t)args.width;
    } else {
        bytes = (uint64_t)args.width * args.height * args.depth * args.array_size * 4;
        bytes += bytes / 3 * (args.last_level > 0); /* the mipmaps */
        bytes *= MAX(args.nr_samples, 1u);
    }
    bytes += RESOURCE_OVERHEAD_3D;
    if (bytes > VIREO_VIRTIO_GPU_MAX_3D_MEMORY - g->bytes_3d) {
        return VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    virgl_renderer_force_ctx_0();
    err = virgl_renderer_resource_create(&args, NULL, 0);
    if (err != 0) {
        return error_response(err);
    }
    r = g_new0(GpuResource, 1);
    r->id = args.handle;
    r->is_3d = true;
    r->gpu_format = args.format;
    r->width = args.width;
    r->height = args.height;
    r->stride = (size_t)args.width * 4;
    r->has_format = (args.target == PIPE_TEXTURE_2D || args.target == PIPE_TEXTURE_RECT) &&
                    args.depth == 1 && args.array_size == 1 && args.nr_samples <= 1 &&
                    gpu_format_lookup(args.format, &r->format);
    r->host_bytes = bytes;
    g->bytes_3d += bytes;
    g_hash_table_insert(g->resources, GUINT_TO_POINTER(r->id), r);
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_transfer_3d(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    struct virgl_box box;
    uint64_t offset;
    uint32_t level, stride, layer_stride;
    GpuResource *r;
    int err;

    if (c->len < TRANSFER_3D_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    box.x = gpu_le32(p);
    box.y = gpu_le32(p + 4);
    box.z = gpu_le32(p + 8);
    box.w = gpu_le32(p + 12);
    box.h = gpu_le32(p + 16);
    box.d = gpu_le32(p + 20);
    offset = gpu_le64(p + 24);
    r = gpu_resource_lookup(g, gpu_le32(p + 32));
    level = gpu_le32(p + 36);
    stride = gpu_le32(p + 40);
    layer_stride = gpu_le32(p + 44);
    if (r == NULL || !r->is_3d) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (c->ctx_id != 0 && !context_known(g->virgl, c->ctx_id)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    if ((uint64_t)box.x + box.w > G_MAXUINT32 || (uint64_t)box.y + box.h > G_MAXUINT32 ||
        (uint64_t)box.z + box.d > G_MAXUINT32 || level >= MAX_TEXTURE_LEVELS) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (r->n_iov == 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (c->ctx_id == 0) {
        virgl_renderer_force_ctx_0();
    }
    /* virglrenderer checks the box against the resource and the transfer
     * against the backing. */
    if (c->type == VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D) {
        err = virgl_renderer_transfer_write_iov(r->id, c->ctx_id, (int)level, stride, layer_stride,
                                                &box, offset, NULL, 0);
    } else {
        err = virgl_renderer_transfer_read_iov(r->id, c->ctx_id, level, stride, layer_stride, &box,
                                               offset, NULL, 0);
        /* Decoded guest code on those pages is stale now. */
        for (unsigned i = 0; err == 0 && i < r->n_iov; i++) {
            vireo_bus_note_ram_write(g->bus, r->iov_addr[i], r->iov[i].iov_len);
        }
    }
    return err == 0 ? VIREO_VIRTIO_GPU_RESP_OK_NODATA : error_response(err);
}

uint32_t gpu_virgl_transfer_2d(Gpu *g, GpuResource *r, uint32_t x, uint32_t y, uint32_t w,
                               uint32_t h, uint64_t offset)
{
    struct virgl_box box = { x, y, 0, w, h, 1 };

    if (r->n_iov == 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    virgl_renderer_force_ctx_0();
    return virgl_renderer_transfer_write_iov(r->id, 0, 0, 0, 0, &box, offset, NULL, 0) == 0
               ? VIREO_VIRTIO_GPU_RESP_OK_NODATA
               : VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
}

/* ---- Contexts and command streams ------------------------------------------ */

static uint32_t cmd_ctx_create(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    GpuVirgl *v = g->virgl;
    char name[65] = { 0 };
    uint32_t nlen, init;

    if (c->len < CTX_CREATE_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    nlen = gpu_le32(p);
    init = gpu_le32(p + 4);
    if (c->ctx_id == 0 || context_known(v, c->ctx_id)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    /* Context types come with VIRTIO_GPU_F_CONTEXT_INIT, not offered. */
    if (nlen > 64 || init != 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (g_hash_table_size(v->contexts) >= VIREO_VIRTIO_GPU_MAX_CONTEXTS) {
        return VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    memcpy(name, p + 8, nlen);
    if (virgl_renderer_context_create(c->ctx_id, nlen, name) != 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    g_hash_table_add(v->contexts, GUINT_TO_POINTER(c->ctx_id));
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_ctx_destroy(Gpu *g, GpuCmd *c)
{
    if (!context_known(g->virgl, c->ctx_id)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    virgl_renderer_context_destroy(c->ctx_id);
    g_hash_table_remove(g->virgl->contexts, GUINT_TO_POINTER(c->ctx_id));
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_ctx_resource(Gpu *g, GpuCmd *c)
{
    GpuResource *r;

    if (c->len < CTX_RESOURCE_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (!context_known(g->virgl, c->ctx_id)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    r = gpu_resource_lookup(g, gpu_le32(c->data + VIREO_VIRTIO_GPU_HDR_SIZE));
    if (r == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    /* 2D resources live outside virglrenderer: nothing to attach. */
    if (r->is_3d) {
        if (c->type == VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE) {
            virgl_renderer_ctx_attach_resource((int)c->ctx_id, (int)r->id);
        } else {
            virgl_renderer_ctx_detach_resource((int)c->ctx_id, (int)r->id);
        }
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_submit(Gpu *g, GpuCmd *c)
{
    uint32_t size;

    if (c->len < SUBMIT_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    size = gpu_le32(c->data + VIREO_VIRTIO_GPU_HDR_SIZE);
    if (!context_known(g->virgl, c->ctx_id)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    if (size > c->len - SUBMIT_SIZE || size % 4 != 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (size == 0) {
        return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
    }
    /* The stream is the device's own copy (g->cmd_buf, 32-bit aligned at
     * this offset); virglrenderer decodes and checks it. */
    if (virgl_renderer_submit_cmd((void *)(c->data + SUBMIT_SIZE), (int)c->ctx_id,
                                  (int)(size / 4)) != 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_capset_info(Gpu *g, GpuCmd *c)
{
    GpuVirgl *v = g->virgl;
    guint8 info[16] = { 0 };
    uint32_t index;

    if (c->len < CAPSET_INFO_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    index = gpu_le32(c->data + VIREO_VIRTIO_GPU_HDR_SIZE);
    if (index >= v->n_capsets) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    gpu_put32(info, v->capset_id[index]);
    gpu_put32(info + 4, v->capset_version[index]);
    gpu_put32(info + 8, v->capset_size[index]);
    g_byte_array_append(c->payload, info, sizeof info);
    return VIREO_VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

static uint32_t cmd_capset(Gpu *g, GpuCmd *c)
{
    GpuVirgl *v = g->virgl;
    uint32_t id, version;

    if (c->len < CAPSET_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    id = gpu_le32(c->data + VIREO_VIRTIO_GPU_HDR_SIZE);
    version = gpu_le32(c->data + VIREO_VIRTIO_GPU_HDR_SIZE + 4);
    for (unsigned i = 0; i < v->n_capsets; i++) {
        if (v->capset_id[i] == id) {
            if (version == 0 || version > v->capset_version[i]) {
                return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
            }
            g_byte_array_set_size(c->payload, v->capset_size[i]);
            memset(c->payload->data, 0, v->capset_size[i]);
            virgl_renderer_fill_caps(id, version, c->payload->data);
            return VIREO_VIRTIO_GPU_RESP_OK_CAPSET;
        }
    }
    return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
}

uint32_t gpu_virgl_execute(Gpu *g, GpuCmd *c)
{
    switch (c->type) {
    case VIREO_VIRTIO_GPU_CMD_GET_CAPSET_INFO: return cmd_capset_info(g, c);
    case VIREO_VIRTIO_GPU_CMD_GET_CAPSET: return cmd_capset(g, c);
    case VIREO_VIRTIO_GPU_CMD_CTX_CREATE: return cmd_ctx_create(g, c);
    case VIREO_VIRTIO_GPU_CMD_CTX_DESTROY: return cmd_ctx_destroy(g, c);
    case VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case VIREO_VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE: return cmd_ctx_resource(g, c);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_3D: return cmd_create_3d(g, c);
    case VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case VIREO_VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: return cmd_transfer_3d(g, c);
    case VIREO_VIRTIO_GPU_CMD_SUBMIT_3D: return cmd_submit(g, c);
    default: return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
}

/* ---- Scanouts ---------------------------------------------------------------- */

static void gl_finish(Gpu *g)
{
    VireoGlProvider *gl = g->virgl->gl;

    if (gl->ops->finish != NULL) {
        gl->ops->finish(gl);
    }
}

static bool resource_y0_bottom(GpuResource *r)
{
    struct virgl_renderer_resource_info info;

    return virgl_renderer_resource_get_info((int)r->id, &info) == 0 &&
           (info.flags & VIRGL_RESOURCE_Y_0_TOP);
}

/* Reads `w` x `h` pixels at (x, y) of the image (top-left origin) into
 * `dst`, rows `stride` bytes apart, turning an upside-down texture the
 * right way up. */
static bool read_pixels(Gpu *g, GpuResource *r, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                        guint8 *dst, size_t stride)
{
    struct virgl_box box = { x, y, 0, w, h, 1 };
    struct iovec iov;
    size_t row = (size_t)w * 4;

    virgl_renderer_force_ctx_0();
    if (!resource_y0_bottom(r)) {
        iov.iov_base = dst;
        iov.iov_len = stride * (h - 1) + row;
        return virgl_renderer_transfer_read_iov(r->id, 0, 0, (uint32_t)stride, 0, &box, 0, &iov,
                                                1) == 0;
    }
    {
        g_autofree guint8 *tmp = g_try_malloc(row * h);

        if (tmp == NULL) {
            return false;
        }
        box.y = r->height - (y + h);
        iov.iov_base = tmp;
        iov.iov_len = row * h;
        if (virgl_renderer_transfer_read_iov(r->id, 0, 0, (uint32_t)row, 0, &box, 0, &iov, 1) !=
            0) {
            return false;
        }
        for (uint32_t i = 0; i < h; i++) {
            memcpy(dst + (size_t)i * stride, tmp + (size_t)(h - 1 - i) * row, row);
        }
    }
    return true;
}

/* Publishes `part` (resource coordinates, inside what `s` shows): as a
 * texture change where every presenter draws the texture, otherwise with
 * pixels read back. */
static void publish_3d(Gpu *g, GpuScanout *s, GpuResource *r, uint32_t x, uint32_t y, uint32_t w,
                       uint32_t h)
{
    VireoScanoutRect rel = { (int)(x - s->x), (int)(y - s->y), (int)w, (int)h };
    size_t stride = (size_t)s->width * 4;

    /* Rendering from any context is complete before anyone reads it. */
    gl_finish(g);
    if (!vireo_scanout_needs_pixels(s->scanout)) {
        vireo_scanout_texture_changed(s->scanout, rel);
        return;
    }
    if (s->readback == NULL || s->readback_size < stride * s->height) {
        g_free(s->readback);
        s->readback_size = stride * s->height;
        s->readback = g_try_malloc0(s->readback_size);
        if (s->readback == NULL) {
            s->readback_size = 0;
            return;
        }
    }
    if (read_pixels(g, r, x, y, w, h, s->readback + (size_t)rel.y * stride + (size_t)rel.x * 4,
                    stride)) {
        vireo_scanout_update(s->scanout, s->readback, stride, rel);
    }
}

uint32_t gpu_virgl_set_scanout(Gpu *g, GpuScanout *s, GpuResource *r, uint32_t x, uint32_t y,
                               uint32_t w, uint32_t h)
{
    struct virgl_renderer_resource_info info;
    VireoScanoutTexture tex;

    if (virgl_renderer_resource_get_info((int)r->id, &info) != 0 || info.tex_id == 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    tex.name = info.tex_id;
    tex.provider = g->virgl->gl;
    tex.width = (int)r->width;
    tex.height = (int)r->height;
    tex.rect = (VireoScanoutRect){ (int)x, (int)y, (int)w, (int)h };
    tex.y0_bottom = (info.flags & VIRGL_RESOURCE_Y_0_TOP) != 0;
    if (!vireo_scanout_set_texture(s->scanout, &tex, r->format)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    s->resource_id = r->id;
    s->x = x;
    s->y = y;
    s->width = w;
    s->height = h;
    s->texture = true;
    publish_3d(g, s, r, x, y, w, h);
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

void gpu_virgl_flush(Gpu *g, GpuScanout *s, GpuResource *r, uint32_t x, uint32_t y, uint32_t w,
                     uint32_t h)
{
    publish_3d(g, s, r, x, y, w, h);
}

void gpu_virgl_refresh(Gpu *g, GpuScanout *s)
{
    GpuResource *r = gpu_resource_lookup(g, s->resource_id);

    if (r != NULL && r->is_3d) {
        publish_3d(g, s, r, s->x, s->y, s->width, s->height);
    }
}

bool gpu_virgl_read_cursor(Gpu *g, GpuResource *r, uint32_t *argb)
{
    guint8 pixels[VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE * 4];

    gl_finish(g);
    if (!read_pixels(g, r, 0, 0, VIREO_CURSOR_SIZE, VIREO_CURSOR_SIZE, pixels,
                     VIREO_CURSOR_SIZE * 4)) {
        return false;
    }
    gpu_pixels_to_argb(pixels, VIREO_CURSOR_SIZE * 4, r->format, argb);
    return true;
}
