/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "virtio-gpu-priv.h"

#include "engine/error.h"

#include <glib/gi18n-lib.h>

/* Sizes of the requests (5.7.6), header included. */
#define RECT_SIZE           16
#define CREATE_2D_SIZE      (VIREO_VIRTIO_GPU_HDR_SIZE + 16)
#define RESOURCE_ID_SIZE    (VIREO_VIRTIO_GPU_HDR_SIZE + 8) /* unref, detach, ctx resource */
#define SET_SCANOUT_SIZE    (VIREO_VIRTIO_GPU_HDR_SIZE + RECT_SIZE + 8)
#define FLUSH_SIZE          (VIREO_VIRTIO_GPU_HDR_SIZE + RECT_SIZE + 8)
#define TRANSFER_2D_SIZE    (VIREO_VIRTIO_GPU_HDR_SIZE + RECT_SIZE + 16)
#define ATTACH_SIZE         (VIREO_VIRTIO_GPU_HDR_SIZE + 8)
#define MEM_ENTRY_SIZE      16
#define GET_EDID_SIZE       (VIREO_VIRTIO_GPU_HDR_SIZE + 8)
#define CURSOR_SIZE         (VIREO_VIRTIO_GPU_HDR_SIZE + 32)
#define DISPLAY_ONE_SIZE    24
#define EDID_RESPONSE_BYTES 1024
/* Bookkeeping counted against the host memory limit besides the pixels. */
#define RESOURCE_OVERHEAD 256

typedef struct {
    int r, g, b, a; /* byte of each channel in a pixel; a < 0: opaque */
} Channels;

/* The eight formats of 5.7.6.8; their names give the bytes in memory, as
 * VireoPixelFormat's do. */
static const struct {
    uint32_t gpu;
    VireoPixelFormat format;
    Channels ch;
} formats[] = {
    { VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIREO_PIXEL_B8G8R8A8, { 2, 1, 0, 3 } },
    { VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, VIREO_PIXEL_B8G8R8X8, { 2, 1, 0, -1 } },
    { VIREO_VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, VIREO_PIXEL_A8R8G8B8, { 1, 2, 3, 0 } },
    { VIREO_VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, VIREO_PIXEL_X8R8G8B8, { 1, 2, 3, -1 } },
    { VIREO_VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIREO_PIXEL_R8G8B8A8, { 0, 1, 2, 3 } },
    { VIREO_VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, VIREO_PIXEL_X8B8G8R8, { 3, 2, 1, -1 } },
    { VIREO_VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, VIREO_PIXEL_A8B8G8R8, { 3, 2, 1, 0 } },
    { VIREO_VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, VIREO_PIXEL_R8G8B8X8, { 0, 1, 2, -1 } },
};

bool gpu_format_lookup(uint32_t gpu_format, VireoPixelFormat *format)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(formats); i++) {
        if (formats[i].gpu == gpu_format) {
            *format = formats[i].format;
            return true;
        }
    }
    return false;
}

static const Channels *format_channels(VireoPixelFormat format)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(formats); i++) {
        if (formats[i].format == format) {
            return &formats[i].ch;
        }
    }
    return &formats[0].ch;
}

void gpu_pixels_to_argb(const guint8 *src, size_t stride, VireoPixelFormat format, uint32_t *argb)
{
    const Channels *ch = format_channels(format);

    for (int y = 0; y < VIREO_CURSOR_SIZE; y++) {
        const guint8 *row = src + (size_t)y * stride;
        for (int x = 0; x < VIREO_CURSOR_SIZE; x++) {
            const guint8 *p = row + 4 * x;
            uint32_t a = ch->a < 0 ? 0xff : p[ch->a];
            argb[y * VIREO_CURSOR_SIZE + x] =
                (a << 24) | ((uint32_t)p[ch->r] << 16) | ((uint32_t)p[ch->g] << 8) | p[ch->b];
        }
    }
}

/* ---- Resources ---------------------------------------------------------- */

GpuResource *gpu_resource_lookup(Gpu *g, uint32_t id)
{
    return id == 0 ? NULL : g_hash_table_lookup(g->resources, GUINT_TO_POINTER(id));
}

void gpu_backing_clear(GpuResource *r)
{
    g_clear_pointer(&r->iov, g_free);
    g_clear_pointer(&r->iov_end, g_free);
    g_clear_pointer(&r->iov_addr, g_free);
    r->n_iov = 0;
    r->backing_size = 0;
}

/* The memory counter and limit a resource counts against. */
static uint64_t *memory_used(Gpu *g, const GpuResource *r)
{
    return r->is_3d ? &g->bytes_3d : &g->host_bytes;
}

static uint64_t memory_limit(const GpuResource *r)
{
    return r->is_3d ? VIREO_VIRTIO_GPU_MAX_3D_MEMORY : VIREO_VIRTIO_GPU_MAX_HOST_MEMORY;
}

void gpu_backing_drop(Gpu *g, GpuResource *r)
{
    *memory_used(g, r) -= r->backing_bytes;
    r->backing_bytes = 0;
    gpu_backing_clear(r);
}

/* The hash table's value destructor: the 3D part is gone by then. */
static void resource_free(gpointer data)
{
    GpuResource *r = data;

    gpu_backing_clear(r);
    g_free(r->pixels);
    g_free(r);
}

/* Copies `len` bytes from `offset` of the backing into `dst`. The caller
 * checked that they lie inside it. */
static void backing_read(const GpuResource *r, uint64_t offset, guint8 *dst, size_t len)
{
    unsigned lo = 0, hi = r->n_iov;

    /* The first entry that ends after `offset`. */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (r->iov_end[mid] > offset) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    for (unsigned i = lo; len > 0 && i < r->n_iov; i++) {
        uint64_t start = r->iov_end[i] - r->iov[i].iov_len;
        uint64_t in = offset - start;
        size_t n = (size_t)MIN((uint64_t)len, (uint64_t)r->iov[i].iov_len - in);

        memcpy(dst, (const guint8 *)r->iov[i].iov_base + in, n);
        dst += n;
        len -= n;
        offset += n;
    }
}

/* Switches off every scanout showing resource `id`. */
static void scanouts_drop_resource(Gpu *g, uint32_t id)
{
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        GpuScanout *s = &g->scanouts[i];
        if (s->resource_id == id) {
            gpu_scanout_disable(g, s);
        }
    }
}

/* Also ends texture mode: once this returns, no presenter draws the
 * texture any more. */
void gpu_scanout_disable(Gpu *g, GpuScanout *s)
{
    s->resource_id = 0;
    s->x = s->y = s->width = s->height = 0;
    s->texture = false;
    vireo_scanout_set_mode(s->scanout, 0, 0, VIREO_PIXEL_B8G8R8X8);
}

void gpu_resource_destroy(Gpu *g, GpuResource *r)
{
    scanouts_drop_resource(g, r->id);
    if (r->is_3d && g->virgl != NULL) {
        gpu_virgl_resource_unref(g, r);
    }
    *memory_used(g, r) -= r->host_bytes + r->backing_bytes;
    g_hash_table_remove(g->resources, GUINT_TO_POINTER(r->id));
}

/* ---- 2D commands --------------------------------------------------------- */

typedef struct {
    uint32_t x, y, width, height;
} Rect;

static Rect read_rect(const guint8 *p)
{
    Rect r = { gpu_le32(p), gpu_le32(p + 4), gpu_le32(p + 8), gpu_le32(p + 12) };
    return r;
}

/* Whether `r` lies inside a width x height image (64-bit sums: every field
 * is the guest's). */
static bool rect_inside(Rect r, uint32_t width, uint32_t height)
{
    return (uint64_t)r.x + r.width <= width && (uint64_t)r.y + r.height <= height;
}

static uint32_t cmd_get_display_info(Gpu *g, GpuCmd *c)
{
    guint8 modes[VIREO_VIRTIO_GPU_SPEC_MAX_SCANOUTS * DISPLAY_ONE_SIZE] = { 0 };
    uint32_t x = 0;

    vireo_virtio_lock(g->dev);
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        guint8 *m = modes + i * DISPLAY_ONE_SIZE;
        GpuScanout *s = &g->scanouts[i];
        /* Outputs side by side, left to right. */
        gpu_put32(m, x);
        gpu_put32(m + 4, 0);
        gpu_put32(m + 8, (uint32_t)s->pref_width);
        gpu_put32(m + 12, (uint32_t)s->pref_height);
        gpu_put32(m + 16, 1); /* enabled */
        gpu_put32(m + 20, 0);
        x += (uint32_t)s->pref_width;
    }
    vireo_virtio_unlock(g->dev);
    g_byte_array_append(c->payload, modes, sizeof modes);
    return VIREO_VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

static uint32_t cmd_get_edid(Gpu *g, GpuCmd *c)
{
    guint8 resp[8 + EDID_RESPONSE_BYTES] = { 0 };
    uint32_t index;
    int width, height;
    bool edid;

    vireo_virtio_lock(g->dev);
    edid = vireo_virtio_get_features_locked(g->dev) & (1ull << VIREO_VIRTIO_GPU_F_EDID);
    vireo_virtio_unlock(g->dev);
    if (!edid || c->len < GET_EDID_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    index = gpu_le32(c->data + VIREO_VIRTIO_GPU_HDR_SIZE);
    if (index >= g->n_scanouts) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    vireo_virtio_lock(g->dev);
    width = g->scanouts[index].pref_width;
    height = g->scanouts[index].pref_height;
    vireo_virtio_unlock(g->dev);
    gpu_put32(resp, VIREO_VIRTIO_GPU_EDID_SIZE);
    vireo_virtio_gpu_build_edid(resp + 8, index, width, height);
    g_byte_array_append(c->payload, resp, sizeof resp);
    return VIREO_VIRTIO_GPU_RESP_OK_EDID;
}

static uint32_t cmd_create_2d(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    uint32_t id, gpu_format, width, height;
    VireoPixelFormat format;
    GpuResource *r;
    uint64_t bytes;
    guint8 *pixels;

    if (c->len < CREATE_2D_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    id = gpu_le32(p);
    gpu_format = gpu_le32(p + 4);
    width = gpu_le32(p + 8);
    height = gpu_le32(p + 12);
    if (id == 0 || gpu_resource_lookup(g, id) != NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!gpu_format_lookup(gpu_format, &format) || width == 0 || height == 0 ||
        width > VIREO_VIRTIO_GPU_MAX_DIMENSION || height > VIREO_VIRTIO_GPU_MAX_DIMENSION) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    bytes = (uint64_t)width * height * 4;
    if (bytes + RESOURCE_OVERHEAD > VIREO_VIRTIO_GPU_MAX_HOST_MEMORY - g->host_bytes) {
        return VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    pixels = g_try_malloc0((gsize)bytes);
    if (pixels == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    r = g_new0(GpuResource, 1);
    r->id = id;
    r->gpu_format = gpu_format;
    r->has_format = true;
    r->format = format;
    r->width = width;
    r->height = height;
    r->stride = (size_t)width * 4;
    r->pixels = pixels;
    r->host_bytes = bytes + RESOURCE_OVERHEAD;
    g->host_bytes += r->host_bytes;
    g_hash_table_insert(g->resources, GUINT_TO_POINTER(id), r);
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_unref(Gpu *g, GpuCmd *c)
{
    GpuResource *r;

    if (c->len < RESOURCE_ID_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    r = gpu_resource_lookup(g, gpu_le32(c->data + VIREO_VIRTIO_GPU_HDR_SIZE));
    if (r == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    gpu_resource_destroy(g, r);
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

/* Publishes `rect` (resource coordinates, inside the scanout's rectangle) of
 * a 2D resource on `s`. */
static void publish_2d(GpuScanout *s, GpuResource *r, Rect rect)
{
    const guint8 *origin = r->pixels + (size_t)s->y * r->stride + (size_t)s->x * 4;
    VireoScanoutRect d = { (int)(rect.x - s->x), (int)(rect.y - s->y), (int)rect.width,
                           (int)rect.height };

    vireo_scanout_update(s->scanout, origin, r->stride, d);
}

static uint32_t cmd_set_scanout(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    Rect rect;
    uint32_t index, id;
    GpuScanout *s;
    GpuResource *r;

    if (c->len < SET_SCANOUT_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    rect = read_rect(p);
    index = gpu_le32(p + RECT_SIZE);
    id = gpu_le32(p + RECT_SIZE + 4);
    if (index >= g->n_scanouts) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    s = &g->scanouts[index];
    if (id == 0) {
        gpu_scanout_disable(g, s);
        return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
    }
    r = gpu_resource_lookup(g, id);
    if (r == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (rect.width == 0 || rect.height == 0 || !rect_inside(rect, r->width, r->height) ||
        !r->has_format) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (r->is_3d) {
        return gpu_virgl_set_scanout(g, s, r, rect.x, rect.y, rect.width, rect.height);
    }
    if (s->resource_id == id && !s->texture && s->x == rect.x && s->y == rect.y &&
        s->width == rect.width && s->height == rect.height) {
        return VIREO_VIRTIO_GPU_RESP_OK_NODATA; /* nothing changes */
    }
    s->resource_id = id;
    s->x = rect.x;
    s->y = rect.y;
    s->width = rect.width;
    s->height = rect.height;
    s->texture = false;
    vireo_scanout_set_mode(s->scanout, (int)rect.width, (int)rect.height, r->format);
    /* The output shows what the resource holds now. */
    publish_2d(s, r, rect);
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_flush(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    Rect rect;
    GpuResource *r;

    if (c->len < FLUSH_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    rect = read_rect(p);
    r = gpu_resource_lookup(g, gpu_le32(p + RECT_SIZE));
    if (r == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(rect, r->width, r->height)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        GpuScanout *s = &g->scanouts[i];
        uint32_t x0, y0, x1, y1;
        Rect part;

        if (s->resource_id != r->id) {
            continue;
        }
        /* The flushed part of what this output shows (all in range). */
        x0 = MAX(rect.x, s->x);
        y0 = MAX(rect.y, s->y);
        x1 = MIN(rect.x + rect.width, s->x + s->width);
        y1 = MIN(rect.y + rect.height, s->y + s->height);
        if (x1 <= x0 || y1 <= y0) {
            continue;
        }
        part = (Rect){ x0, y0, x1 - x0, y1 - y0 };
        if (r->is_3d) {
            gpu_virgl_flush(g, s, r, part.x, part.y, part.width, part.height);
        } else {
            publish_2d(s, r, part);
        }
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_transfer_2d(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    Rect rect;
    uint64_t offset, need;
    GpuResource *r;

    if (c->len < TRANSFER_2D_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    rect = read_rect(p);
    offset = gpu_le64(p + RECT_SIZE);
    r = gpu_resource_lookup(g, gpu_le32(p + RECT_SIZE + 8));
    if (r == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(rect, r->width, r->height)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (r->is_3d) {
        return gpu_virgl_transfer_2d(g, r, rect.x, rect.y, rect.width, rect.height, offset);
    }
    if (r->n_iov == 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (rect.width == 0 || rect.height == 0) {
        return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
    }
    /* Row i of the rectangle is at offset + i * stride of the backing. */
    need = (uint64_t)(rect.height - 1) * r->stride + (uint64_t)rect.width * 4;
    if (need > r->backing_size || offset > r->backing_size - need) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if ((size_t)rect.width * 4 == r->stride) {
        /* Whole rows: one run of bytes. */
        backing_read(r, offset, r->pixels + (size_t)rect.y * r->stride,
                     (size_t)rect.height * r->stride);
    } else {
        for (uint32_t i = 0; i < rect.height; i++) {
            backing_read(r, offset + (uint64_t)i * r->stride,
                         r->pixels + (size_t)(rect.y + i) * r->stride + (size_t)rect.x * 4,
                         (size_t)rect.width * 4);
        }
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_attach_backing(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    GpuResource *r;
    uint32_t n;
    uint64_t total = 0, lists;
    struct iovec *iov;
    uint64_t *ends, *addrs;

    if (c->len < ATTACH_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    r = gpu_resource_lookup(g, gpu_le32(p));
    n = gpu_le32(p + 4);
    if (r == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (n == 0 || n > VIREO_VIRTIO_GPU_MAX_BACKING_ENTRIES) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if ((c->len - ATTACH_SIZE) / MEM_ENTRY_SIZE < n) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC; /* the entries are not all there */
    }
    if (r->n_iov > 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC; /* detach first */
    }
    /* The lists count against the resources' memory limit too. */
    lists = (uint64_t)n * (sizeof(struct iovec) + 2 * sizeof(uint64_t));
    if (lists > memory_limit(r) - *memory_used(g, r)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    iov = g_new(struct iovec, n);
    ends = g_new(uint64_t, n);
    addrs = g_new(uint64_t, n);
    for (uint32_t i = 0; i < n; i++) {
        const guint8 *e = p + 8 + (size_t)i * MEM_ENTRY_SIZE;
        uint64_t addr = gpu_le64(e);
        uint32_t len = gpu_le32(e + 8);
        /* Each entry lies wholly in guest RAM (NULL also for ranges that
         * wrap around or run past its end). */
        guint8 *host = len > 0 ? vireo_bus_host_ptr(g->bus, addr, len, true) : NULL;

        if (host == NULL) {
            g_free(iov);
            g_free(ends);
            g_free(addrs);
            return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        iov[i].iov_base = host;
        iov[i].iov_len = len;
        addrs[i] = addr;
        total += len; /* at most 2^18 entries of < 2^32 bytes */
        ends[i] = total;
    }
    if (!r->is_3d && total < (uint64_t)r->stride * r->height) {
        g_free(iov);
        g_free(ends);
        g_free(addrs);
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    r->iov = iov;
    r->iov_end = ends;
    r->iov_addr = addrs;
    r->n_iov = n;
    r->backing_size = total;
    r->backing_bytes = lists;
    *memory_used(g, r) += lists;
    if (r->is_3d) {
        return gpu_virgl_attach_backing(g, r);
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_detach_backing(Gpu *g, GpuCmd *c)
{
    GpuResource *r;

    if (c->len < RESOURCE_ID_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    r = gpu_resource_lookup(g, gpu_le32(c->data + VIREO_VIRTIO_GPU_HDR_SIZE));
    if (r == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (r->n_iov == 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (r->is_3d) {
        gpu_virgl_detach_backing(g, r);
    }
    gpu_backing_drop(g, r);
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- The cursor queue ----------------------------------------------------- */

static uint32_t cmd_cursor(Gpu *g, GpuCmd *c)
{
    const guint8 *p = c->data + VIREO_VIRTIO_GPU_HDR_SIZE;
    uint32_t index, id;
    int x, y;
    GpuScanout *s;

    if (c->len < CURSOR_SIZE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    index = gpu_le32(p);
    /* Positions are signed: a cursor may hang off the left or top edge. */
    x = (int)(int32_t)gpu_le32(p + 4);
    y = (int)(int32_t)gpu_le32(p + 8);
    id = gpu_le32(p + 16);
    if (index >= g->n_scanouts) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    s = &g->scanouts[index];
    if (c->type == VIREO_VIRTIO_GPU_CMD_UPDATE_CURSOR) {
        uint32_t hot_x = gpu_le32(p + 20), hot_y = gpu_le32(p + 24);

        if (id == 0) {
            s->cursor_set = false;
            vireo_scanout_set_cursor(s->scanout, NULL, 0, 0);
        } else {
            GpuResource *r = gpu_resource_lookup(g, id);
            uint32_t argb[VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE];

            if (r == NULL) {
                return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
            }
            if (r->width != VIREO_CURSOR_SIZE || r->height != VIREO_CURSOR_SIZE || !r->has_format ||
                hot_x >= VIREO_CURSOR_SIZE || hot_y >= VIREO_CURSOR_SIZE) {
                return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
            }
            if (r->is_3d) {
                if (!gpu_virgl_read_cursor(g, r, argb)) {
                    return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
                }
            } else {
                gpu_pixels_to_argb(r->pixels, r->stride, r->format, argb);
            }
            memcpy(s->cursor, argb, sizeof s->cursor);
            s->cursor_set = true;
            s->cursor_hot_x = (int)hot_x;
            s->cursor_hot_y = (int)hot_y;
            vireo_scanout_set_cursor(s->scanout, argb, (int)hot_x, (int)hot_y);
        }
    }
    s->cursor_x = x;
    s->cursor_y = y;
    s->cursor_visible = true;
    vireo_scanout_move_cursor(s->scanout, x, y, true);
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- Dispatch ------------------------------------------------------------- */

static uint32_t execute(Gpu *g, unsigned queue, GpuCmd *c)
{
    if (queue == VIREO_VIRTIO_GPU_CURSORQ) {
        if (c->type == VIREO_VIRTIO_GPU_CMD_UPDATE_CURSOR ||
            c->type == VIREO_VIRTIO_GPU_CMD_MOVE_CURSOR) {
            return cmd_cursor(g, c);
        }
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    switch (c->type) {
    case VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO: return cmd_get_display_info(g, c);
    case VIREO_VIRTIO_GPU_CMD_GET_EDID: return cmd_get_edid(g, c);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: return cmd_create_2d(g, c);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_UNREF: return cmd_unref(g, c);
    case VIREO_VIRTIO_GPU_CMD_SET_SCANOUT: return cmd_set_scanout(g, c);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_FLUSH: return cmd_flush(g, c);
    case VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: return cmd_transfer_2d(g, c);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: return cmd_attach_backing(g, c);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: return cmd_detach_backing(g, c);
    default: break;
    }
    if (g->virgl != NULL) {
        return gpu_virgl_execute(g, c);
    }
    return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
}

/* Writes the response header (echoing the fence) and the payload, and
 * returns the chain. A chain from before a reset goes nowhere. */
void gpu_respond(Gpu *g, VireoVirtioChain *chain, const GpuCmd *c, uint32_t type)
{
    guint8 hdr[VIREO_VIRTIO_GPU_HDR_SIZE] = { 0 };
    gsize written;

    gpu_put32(hdr, type);
    if (c->flags & VIREO_VIRTIO_GPU_FLAG_FENCE) {
        gpu_put32(hdr + 4, VIREO_VIRTIO_GPU_FLAG_FENCE);
        gpu_put64(hdr + 8, c->fence_id);
        gpu_put32(hdr + 16, c->ctx_id);
    }
    vireo_virtio_lock(g->dev);
    written = vireo_virtio_chain_write_locked(g->dev, chain, 0, hdr, sizeof hdr);
    if (written == sizeof hdr && c->payload != NULL && c->payload->len > 0 &&
        type != VIREO_VIRTIO_GPU_RESP_OK_NODATA && type < VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC) {
        written += vireo_virtio_chain_write_locked(g->dev, chain, sizeof hdr, c->payload->data,
                                                   c->payload->len);
    }
    vireo_virtio_push_locked(g->dev, chain, (uint32_t)written);
    vireo_virtio_notify_locked(g->dev, chain->queue);
    vireo_virtio_unlock(g->dev);
}

/* Everything the guest made goes: resources, outputs, the cursor and, in
 * 3D, virglrenderer's contexts. */
static void reset_state(Gpu *g)
{
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        GpuScanout *s = &g->scanouts[i];
        gpu_scanout_disable(g, s);
        s->cursor_set = s->cursor_visible = false;
        s->cursor_hot_x = s->cursor_hot_y = s->cursor_x = s->cursor_y = 0;
        vireo_scanout_set_cursor(s->scanout, NULL, 0, 0);
        vireo_scanout_move_cursor(s->scanout, 0, 0, false);
    }
    if (g->virgl != NULL) {
        gpu_virgl_reset(g);
    }
    g_hash_table_remove_all(g->resources);
    g->host_bytes = 0;
    g->bytes_3d = 0;
}

static void ensure_cmd_buf(Gpu *g, size_t len)
{
    if (g->cmd_cap < len) {
        g->cmd_cap = MAX(len, (size_t)4096);
        g_free(g->cmd_buf);
        /* 8-byte aligned, so that a virgl command stream can be read in
         * place as 32-bit words. */
        g->cmd_buf = g_malloc(g->cmd_cap);
    }
}

/* Serves one chain, or the reset, or retired fences; false when there was
 * nothing to do. */
static bool step(Gpu *g)
{
    VireoVirtioChain chain;
    GpuCmd c = { 0 };
    uint64_t epoch;
    bool popped = false;
    uint32_t type, refresh;

    g_mutex_lock(&g->wake_lock);
    refresh = g->refresh;
    g->refresh = 0;
    g_mutex_unlock(&g->wake_lock);
    for (unsigned i = 0; refresh != 0 && i < g->n_scanouts; i++) {
        if ((refresh & (1u << i)) && g->scanouts[i].texture) {
            gpu_virgl_refresh(g, &g->scanouts[i]);
        }
    }

    vireo_virtio_lock(g->dev);
    epoch = vireo_virtio_get_epoch_locked(g->dev);
    if (epoch != g->epoch) {
        g->epoch = epoch;
        vireo_virtio_unlock(g->dev);
        reset_state(g);
        return true;
    }
    for (unsigned k = 0; k < 2 && !popped; k++) {
        unsigned q = (g->next_queue + k) % 2;
        if (vireo_virtio_pop_locked(g->dev, q, &chain)) {
            popped = true;
            g->next_queue = (q + 1) % 2;
        }
    }
    if (popped) {
        size_t n = (size_t)MIN(chain.out_len, (uint64_t)VIREO_VIRTIO_GPU_MAX_COMMAND);
        ensure_cmd_buf(g, n);
        c.len = vireo_virtio_chain_read_locked(g->dev, &chain, 0, g->cmd_buf, n);
        c.data = g->cmd_buf;
    }
    vireo_virtio_unlock(g->dev);
    if (!popped) {
        return g->virgl != NULL && gpu_virgl_poll(g);
    }

    if (c.len < VIREO_VIRTIO_GPU_HDR_SIZE) {
        gpu_respond(g, &chain, &c, VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC);
        return true;
    }
    c.type = gpu_le32(c.data);
    c.flags = gpu_le32(c.data + 4);
    c.fence_id = gpu_le64(c.data + 8);
    c.ctx_id = gpu_le32(c.data + 16);
    c.ring_idx = c.data[20];
    c.payload = g_byte_array_new();
    type = execute(g, chain.queue, &c);
    if (g->virgl != NULL && (c.flags & VIREO_VIRTIO_GPU_FLAG_FENCE)) {
        /* Answered when virglrenderer retires a fence behind the work
         * submitted so far, so fences retire in order. */
        gpu_virgl_hold(g, &chain, &c, type);
    } else {
        gpu_respond(g, &chain, &c, type);
    }
    g_byte_array_unref(c.payload);
    return true;
}

/* While the device is paused the thread waits here, once the command it
 * took is answered (in 3D: once every fenced command it holds is answered,
 * as virglrenderer retires their fences). The device takes no command
 * meanwhile, so the thread touches neither guest memory nor its own state
 * until it resumes. */
static void gpu_park(Gpu *g)
{
    g_mutex_lock(&g->wake_lock);
    if (g->paused && !(g->virgl != NULL && gpu_virgl_fences_pending(g))) {
        g->parked = true;
        g_cond_broadcast(&g->park_cond);
        while (g->paused && !g_atomic_int_get(&g->quit)) {
            g_cond_wait(&g->park_cond, &g->wake_lock);
        }
        g->parked = false;
    }
    g_mutex_unlock(&g->wake_lock);
}

static gpointer gpu_thread(gpointer data)
{
    Gpu *g = data;

    /* virglrenderer starts here: the thread that owns it. */
    if (g->virgl_wanted) {
        if (g->gl == NULL) {
            char *why = g->virgl_reason;
            g->virgl_reason =
                g_strdup_printf(_("3D acceleration needs OpenGL without a window system, which "
                                  "is not available: %s"),
                                why != NULL ? why : _("no reason given"));
            g_free(why);
        } else {
            char *reason = NULL;
            if (!gpu_virgl_init(g, g->gl, &reason)) {
                g_free(g->virgl_reason);
                g->virgl_reason = reason;
            }
        }
    }
    g_mutex_lock(&g->wake_lock);
    g->started = true;
    g_cond_broadcast(&g->wake_cond);
    while (!g->dev_set) {
        g_cond_wait(&g->wake_cond, &g->wake_lock);
    }
    g_mutex_unlock(&g->wake_lock);

    while (!g_atomic_int_get(&g->quit)) {
        bool polling;

        gpu_park(g);
        if (step(g)) {
            continue;
        }
        polling = g->virgl != NULL && gpu_virgl_fences_pending(g);
        g_mutex_lock(&g->wake_lock);
        if (polling) {
            /* virglrenderer's fences retire when polled. */
            gint64 until = g_get_monotonic_time() + 1000;
            while (!g->kicked && !g_atomic_int_get(&g->quit) &&
                   g_cond_wait_until(&g->wake_cond, &g->wake_lock, until)) {}
        } else {
            while (!g->kicked && !g_atomic_int_get(&g->quit)) {
                g_cond_wait(&g->wake_cond, &g->wake_lock);
            }
        }
        g->kicked = false;
        g_mutex_unlock(&g->wake_lock);
    }
    if (g->virgl != NULL) {
        gpu_virgl_reset(g);
    }
    g_hash_table_remove_all(g->resources);
    if (g->virgl != NULL) {
        gpu_virgl_fini(g);
    }
    return NULL;
}

/* A presenter that needs pixels came while an output shows a texture. */
static void gpu_pixels_wanted(void *opaque)
{
    GpuScanout *s = opaque;
    Gpu *g = s->gpu;

    g_mutex_lock(&g->wake_lock);
    g->refresh |= 1u << s->index;
    g->kicked = true;
    g_cond_signal(&g->wake_cond);
    g_mutex_unlock(&g->wake_lock);
}

void gpu_kick(Gpu *g)
{
    g_mutex_lock(&g->wake_lock);
    g->kicked = true;
    g_cond_signal(&g->wake_cond);
    g_mutex_unlock(&g->wake_lock);
}

/* ---- The device's callbacks ------------------------------------------------ */

static uint64_t gpu_get_features(void *model)
{
    Gpu *g = model;
    uint64_t f = 1ull << VIREO_VIRTIO_GPU_F_EDID;

    if (g->virgl != NULL) {
        f |= 1ull << VIREO_VIRTIO_GPU_F_VIRGL;
    }
    return f;
}

static void gpu_get_config(void *model, guint8 *config)
{
    Gpu *g = model;

    gpu_put32(config + VIREO_VIRTIO_GPU_CFG_EVENTS_READ, g->events_read);
    gpu_put32(config + VIREO_VIRTIO_GPU_CFG_EVENTS_CLEAR, 0);
    gpu_put32(config + VIREO_VIRTIO_GPU_CFG_NUM_SCANOUTS, g->n_scanouts);
    gpu_put32(config + VIREO_VIRTIO_GPU_CFG_NUM_CAPSETS,
              g->virgl != NULL ? gpu_virgl_num_capsets(g) : 0);
}

/* Only events_clear is writable: each 1 clears that bit of events_read. */
static void gpu_set_config(void *model, unsigned offset, const guint8 *data, unsigned len)
{
    Gpu *g = model;

    for (unsigned i = 0; i < len; i++) {
        unsigned at = offset + i;
        if (at >= VIREO_VIRTIO_GPU_CFG_EVENTS_CLEAR && at < VIREO_VIRTIO_GPU_CFG_EVENTS_CLEAR + 4) {
            g->events_read &=
                ~((uint32_t)data[i] << (8 * (at - VIREO_VIRTIO_GPU_CFG_EVENTS_CLEAR)));
        }
    }
}

static void gpu_queue_notify(void *model, unsigned queue)
{
    gpu_kick(model);
}

/* The thread notices the new epoch and drops everything itself. */
static void gpu_reset(void *model)
{
    Gpu *g = model;

    g->events_read = 0;
    gpu_kick(g);
}

static void gpu_free(void *model)
{
    Gpu *g = model;

    for (unsigned i = 0; i < g->n_scanouts; i++) {
        vireo_scanout_set_size_func(g->scanouts[i].scanout, NULL, NULL);
        vireo_scanout_set_pixels_func(g->scanouts[i].scanout, NULL, NULL);
    }
    g_mutex_lock(&g->wake_lock);
    g_atomic_int_set(&g->quit, 1);
    g_cond_signal(&g->wake_cond);
    g_cond_broadcast(&g->park_cond);
    g_mutex_unlock(&g->wake_lock);
    g_thread_join(g->thread);
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        if (g->scanouts[i].owned) {
            vireo_scanout_free(g->scanouts[i].scanout);
        }
        g_free(g->scanouts[i].readback);
    }
    g_free(g->virgl_reason);
    g_hash_table_destroy(g->resources);
    g_free(g->cmd_buf);
    g_mutex_clear(&g->wake_lock);
    g_cond_clear(&g->wake_cond);
    g_cond_clear(&g->park_cond);
    g_free(g);
}

/* With the device lock: makes width x height the output's preferred mode,
 * and tells the driver through the display event. */
static void set_preferred_locked(Gpu *g, GpuScanout *s, int width, int height)
{
    if (width != s->pref_width || height != s->pref_height) {
        s->pref_width = width;
        s->pref_height = height;
        g->events_read |= VIREO_VIRTIO_GPU_EVENT_DISPLAY;
        vireo_virtio_config_changed_locked(g->dev);
    }
}

/* ---- Pausing ---------------------------------------------------------------- */

/* The device takes no command now: wait until the thread answered the one
 * it has and parked. */
static void gpu_pause(void *model)
{
    Gpu *g = model;

    g_mutex_lock(&g->wake_lock);
    g->paused = true;
    g->kicked = true;
    g_cond_signal(&g->wake_cond);
    while (!g->parked && !g_atomic_int_get(&g->quit)) {
        g_cond_wait(&g->park_cond, &g->wake_lock);
    }
    g_mutex_unlock(&g->wake_lock);
}

static void gpu_resume(void *model)
{
    Gpu *g = model;

    g_mutex_lock(&g->wake_lock);
    g->paused = false;
    g->kicked = true;
    g_cond_broadcast(&g->park_cond);
    g_mutex_unlock(&g->wake_lock);
    /* Sizes the presenters asked for meanwhile. */
    vireo_virtio_lock(g->dev);
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        GpuScanout *s = &g->scanouts[i];
        if (s->pending_width > 0) {
            set_preferred_locked(g, s, s->pending_width, s->pending_height);
            s->pending_width = s->pending_height = 0;
        }
    }
    vireo_virtio_unlock(g->dev);
}

/* ---- Snapshots ---------------------------------------------------------------- */

/*
 * The 2D state: the display event and the preferred modes, each output's
 * resource and rectangle and its cursor, and every resource with its
 * pixels and its backing entries (guest addresses, checked to lie in RAM
 * on load; the pages come with RAM). The thread is parked (the device is
 * paused), so its state can be read and replaced from here.
 */
#define GPU_STATE_VERSION 1

typedef struct {
    int pref_width, pref_height;
    uint32_t resource_id, x, y, width, height;
    bool cursor_set, cursor_visible;
    int cursor_hot_x, cursor_hot_y, cursor_x, cursor_y;
    uint32_t cursor[VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE];
} GpuScanoutLoad;

typedef struct {
    uint32_t events_read;
    GpuScanoutLoad scanouts[VIREO_VIRTIO_GPU_MAX_SCANOUTS];
    GHashTable *resources; /* id -> GpuResource, as in Gpu */
    uint64_t host_bytes;
} GpuLoad;

static gint compare_ids(gconstpointer a, gconstpointer b)
{
    uint32_t x = GPOINTER_TO_UINT(*(gconstpointer const *)a);
    uint32_t y = GPOINTER_TO_UINT(*(gconstpointer const *)b);
    return x < y ? -1 : x > y;
}

static bool gpu_save(void *model, VireoSnapWriter *w, GError **error)
{
    Gpu *g = model;
    /* A reset the thread has not carried out yet leaves nothing. */
    bool reset = g->epoch != vireo_virtio_get_epoch_locked(g->dev);
    g_autoptr(GPtrArray) ids = g_ptr_array_new();

    if (g->virgl != NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "The display device in 3D mode cannot be saved (virglrenderer's contexts "
                    "and resources are not part of a machine's state)");
        return false;
    }
    vireo_snap_put_u32(w, GPU_STATE_VERSION);
    vireo_snap_put_u32(w, g->n_scanouts);
    vireo_snap_put_u32(w, g->events_read);
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        const GpuScanout *s = &g->scanouts[i];
        bool cursor = !reset && s->cursor_set;

        vireo_snap_put_u32(w, (uint32_t)s->pref_width);
        vireo_snap_put_u32(w, (uint32_t)s->pref_height);
        vireo_snap_put_u32(w, reset ? 0 : s->resource_id);
        vireo_snap_put_u32(w, reset ? 0 : s->x);
        vireo_snap_put_u32(w, reset ? 0 : s->y);
        vireo_snap_put_u32(w, reset ? 0 : s->width);
        vireo_snap_put_u32(w, reset ? 0 : s->height);
        vireo_snap_put_bool(w, cursor);
        vireo_snap_put_bool(w, !reset && s->cursor_visible);
        vireo_snap_put_u32(w, (uint32_t)(reset ? 0 : s->cursor_hot_x));
        vireo_snap_put_u32(w, (uint32_t)(reset ? 0 : s->cursor_hot_y));
        vireo_snap_put_u32(w, (uint32_t)(reset ? 0 : s->cursor_x));
        vireo_snap_put_u32(w, (uint32_t)(reset ? 0 : s->cursor_y));
        for (unsigned k = 0; cursor && k < G_N_ELEMENTS(s->cursor); k++) {
            vireo_snap_put_u32(w, s->cursor[k]);
        }
    }
    if (!reset) {
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, g->resources);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
            g_ptr_array_add(ids, key);
        }
        g_ptr_array_sort(ids, compare_ids);
    }
    vireo_snap_put_u32(w, ids->len);
    for (guint i = 0; i < ids->len; i++) {
        const GpuResource *r = gpu_resource_lookup(g, GPOINTER_TO_UINT(ids->pdata[i]));

        vireo_snap_put_u32(w, r->id);
        vireo_snap_put_u32(w, r->gpu_format);
        vireo_snap_put_u32(w, r->width);
        vireo_snap_put_u32(w, r->height);
        vireo_snap_put_bytes(w, r->pixels, r->stride * r->height);
        vireo_snap_put_u32(w, r->n_iov);
        for (unsigned k = 0; k < r->n_iov; k++) {
            vireo_snap_put_u64(w, r->iov_addr[k]);
            vireo_snap_put_u32(w, (uint32_t)r->iov[k].iov_len);
        }
    }
    return true;
}

static void gpu_discard(void *model, void *state)
{
    GpuLoad *l = state;

    g_hash_table_destroy(l->resources);
    g_free(l);
}

/* One output; its resource is checked once the resources are read. */
static void load_scanout(VireoSnapReader *r, GpuScanoutLoad *s)
{
    s->pref_width = (int)vireo_snap_get_u32(r);
    s->pref_height = (int)vireo_snap_get_u32(r);
    s->resource_id = vireo_snap_get_u32(r);
    s->x = vireo_snap_get_u32(r);
    s->y = vireo_snap_get_u32(r);
    s->width = vireo_snap_get_u32(r);
    s->height = vireo_snap_get_u32(r);
    s->cursor_set = vireo_snap_get_bool(r);
    s->cursor_visible = vireo_snap_get_bool(r);
    s->cursor_hot_x = (int)vireo_snap_get_u32(r);
    s->cursor_hot_y = (int)vireo_snap_get_u32(r);
    s->cursor_x = (int)vireo_snap_get_u32(r);
    s->cursor_y = (int)vireo_snap_get_u32(r);
    for (unsigned k = 0; s->cursor_set && k < G_N_ELEMENTS(s->cursor); k++) {
        s->cursor[k] = vireo_snap_get_u32(r);
    }
    if (vireo_snap_failed(r)) {
        return;
    }
    if (s->pref_width < 1 || s->pref_width > VIREO_VIRTIO_GPU_MAX_DIMENSION || s->pref_height < 1 ||
        s->pref_height > VIREO_VIRTIO_GPU_MAX_DIMENSION) {
        vireo_snap_fail(r, "an output prefers %d x %d pixels", s->pref_width, s->pref_height);
    } else if (s->cursor_hot_x < 0 || s->cursor_hot_x >= VIREO_CURSOR_SIZE || s->cursor_hot_y < 0 ||
               s->cursor_hot_y >= VIREO_CURSOR_SIZE) {
        vireo_snap_fail(r, "a cursor's hot spot (%d, %d) lies outside it", s->cursor_hot_x,
                        s->cursor_hot_y);
    }
}

/* One resource with its pixels and backing, checked as the commands that
 * made it check theirs; NULL after failing the reader. */
static GpuResource *load_resource(Gpu *g, VireoSnapReader *r, GpuLoad *l)
{
    uint32_t id = vireo_snap_get_u32(r);
    uint32_t gpu_format = vireo_snap_get_u32(r);
    uint32_t width = vireo_snap_get_u32(r);
    uint32_t height = vireo_snap_get_u32(r);
    const guint8 *pixels;
    VireoPixelFormat format;
    GpuResource *res;
    uint64_t bytes, lists, total = 0;
    uint32_t n;

    if (vireo_snap_failed(r)) {
        return NULL;
    }
    if (id == 0 || g_hash_table_contains(l->resources, GUINT_TO_POINTER(id))) {
        vireo_snap_fail(r, "resource %u is not a new resource id", id);
        return NULL;
    }
    if (!gpu_format_lookup(gpu_format, &format) || width == 0 || height == 0 ||
        width > VIREO_VIRTIO_GPU_MAX_DIMENSION || height > VIREO_VIRTIO_GPU_MAX_DIMENSION) {
        vireo_snap_fail(r, "resource %u (%u x %u, format %u) is not a 2D resource", id, width,
                        height, gpu_format);
        return NULL;
    }
    bytes = (uint64_t)width * height * 4;
    if (bytes + RESOURCE_OVERHEAD > VIREO_VIRTIO_GPU_MAX_HOST_MEMORY - l->host_bytes) {
        vireo_snap_fail(r, "the resources need more than %u MiB",
                        (unsigned)(VIREO_VIRTIO_GPU_MAX_HOST_MEMORY >> 20));
        return NULL;
    }
    pixels = vireo_snap_get_view(r, (gsize)bytes);
    n = vireo_snap_get_u32(r);
    if (vireo_snap_failed(r)) {
        return NULL;
    }
    if (n > VIREO_VIRTIO_GPU_MAX_BACKING_ENTRIES) {
        vireo_snap_fail(r, "resource %u has %u backing entries", id, n);
        return NULL;
    }
    lists = (uint64_t)n * (sizeof(struct iovec) + 2 * sizeof(uint64_t));
    if (lists > VIREO_VIRTIO_GPU_MAX_HOST_MEMORY - l->host_bytes - bytes - RESOURCE_OVERHEAD) {
        vireo_snap_fail(r, "the resources need more than %u MiB",
                        (unsigned)(VIREO_VIRTIO_GPU_MAX_HOST_MEMORY >> 20));
        return NULL;
    }
    /* The entries must all be in the section before anything is
     * allocated for them. */
    if (vireo_snap_reader_remaining(r) < (gsize)n * 12) {
        vireo_snap_fail(r, "it ends in the backing of resource %u", id);
        return NULL;
    }
    res = g_try_new0(GpuResource, 1);
    if (res != NULL) {
        res->pixels = g_try_malloc((gsize)bytes);
    }
    if (res == NULL || res->pixels == NULL) {
        g_free(res);
        vireo_snap_fail(r, "no memory for resource %u", id);
        return NULL;
    }
    memcpy(res->pixels, pixels, (gsize)bytes);
    res->id = id;
    res->gpu_format = gpu_format;
    res->has_format = true;
    res->format = format;
    res->width = width;
    res->height = height;
    res->stride = (size_t)width * 4;
    res->host_bytes = bytes + RESOURCE_OVERHEAD;
    if (n > 0) {
        res->iov = g_new(struct iovec, n);
        res->iov_end = g_new(uint64_t, n);
        res->iov_addr = g_new(uint64_t, n);
        res->n_iov = n;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t addr = vireo_snap_get_u64(r);
        uint32_t len = vireo_snap_get_u32(r);
        /* In RAM, as when attached; the pages themselves come with RAM
         * and are not looked at now. */
        guint8 *host = len > 0 ? vireo_bus_host_ptr(g->bus, addr, len, true) : NULL;

        if (host == NULL) {
            vireo_snap_fail(r,
                            "backing entry %u of resource %u (%u bytes at 0x%" G_GINT64_MODIFIER
                            "x) is not in RAM",
                            i, id, len, addr);
            break;
        }
        res->iov[i].iov_base = host;
        res->iov[i].iov_len = len;
        res->iov_addr[i] = addr;
        total += len;
        res->iov_end[i] = total;
    }
    if (!vireo_snap_failed(r) && n > 0 && total < (uint64_t)res->stride * height) {
        vireo_snap_fail(r, "the backing of resource %u is smaller than its image", id);
    }
    if (vireo_snap_failed(r)) {
        resource_free(res);
        return NULL;
    }
    res->backing_size = total;
    res->backing_bytes = lists;
    l->host_bytes += res->host_bytes + res->backing_bytes;
    return res;
}

/* Each output shows a resource that exists, a rectangle inside it. */
static void check_scanouts(Gpu *g, VireoSnapReader *r, GpuLoad *l)
{
    for (unsigned i = 0; i < g->n_scanouts && !vireo_snap_failed(r); i++) {
        const GpuScanoutLoad *s = &l->scanouts[i];
        const GpuResource *res =
            g_hash_table_lookup(l->resources, GUINT_TO_POINTER(s->resource_id));
        Rect rect = { s->x, s->y, s->width, s->height };

        if (s->resource_id == 0) {
            if (s->x != 0 || s->y != 0 || s->width != 0 || s->height != 0) {
                vireo_snap_fail(r, "output %u is off but shows a rectangle", i);
            }
        } else if (res == NULL) {
            vireo_snap_fail(r, "output %u shows resource %u, which does not exist", i,
                            s->resource_id);
        } else if (rect.width == 0 || rect.height == 0 ||
                   !rect_inside(rect, res->width, res->height)) {
            vireo_snap_fail(r, "output %u shows a rectangle outside resource %u", i, res->id);
        }
    }
}

static void *gpu_load(void *model, VireoSnapReader *r)
{
    Gpu *g = model;
    GpuLoad *l;
    uint32_t version = vireo_snap_get_u32(r);
    uint32_t n_scanouts = vireo_snap_get_u32(r);
    uint32_t events_read = vireo_snap_get_u32(r);
    uint32_t n_resources;

    if (vireo_snap_failed(r)) {
        return NULL;
    }
    if (version != GPU_STATE_VERSION) {
        vireo_snap_fail(r, "the display device's layout version %u is not %u", version,
                        GPU_STATE_VERSION);
        return NULL;
    }
    if (g->virgl != NULL) {
        vireo_snap_fail(r, "a display device in 3D mode takes no state");
        return NULL;
    }
    if (n_scanouts != g->n_scanouts) {
        vireo_snap_fail(r, "the display device had %u outputs, this one has %u", n_scanouts,
                        g->n_scanouts);
        return NULL;
    }
    if ((events_read & ~VIREO_VIRTIO_GPU_EVENT_DISPLAY) != 0) {
        vireo_snap_fail(r, "the display events 0x%x have unknown bits", events_read);
        return NULL;
    }
    l = g_new0(GpuLoad, 1);
    l->events_read = events_read;
    l->resources = g_hash_table_new_full(NULL, NULL, NULL, resource_free);
    for (unsigned i = 0; i < n_scanouts && !vireo_snap_failed(r); i++) {
        load_scanout(r, &l->scanouts[i]);
    }
    n_resources = vireo_snap_get_u32(r);
    for (uint32_t i = 0; i < n_resources && !vireo_snap_failed(r); i++) {
        GpuResource *res = load_resource(g, r, l);
        if (res != NULL) {
            g_hash_table_insert(l->resources, GUINT_TO_POINTER(res->id), res);
        }
    }
    check_scanouts(g, r, l);
    if (vireo_snap_failed(r)) {
        gpu_discard(model, l);
        return NULL;
    }
    return l;
}

/* Replaces everything the guest made, and shows the loaded outputs and
 * cursors, so that the window shows the restored picture at once. */
static void gpu_apply(void *model, void *state)
{
    Gpu *g = model;
    GpuLoad *l = state;

    g_hash_table_destroy(g->resources);
    g->resources = g_steal_pointer(&l->resources);
    g->host_bytes = l->host_bytes;
    g->bytes_3d = 0;
    g->events_read = l->events_read;
    /* The thread's state is the loaded one: no reset is due. */
    g->epoch = vireo_virtio_get_epoch_locked(g->dev);
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        GpuScanout *s = &g->scanouts[i];
        const GpuScanoutLoad *ls = &l->scanouts[i];
        GpuResource *res = gpu_resource_lookup(g, ls->resource_id);

        s->pref_width = ls->pref_width;
        s->pref_height = ls->pref_height;
        gpu_scanout_disable(g, s);
        if (res != NULL) {
            Rect rect = { ls->x, ls->y, ls->width, ls->height };

            s->resource_id = res->id;
            s->x = ls->x;
            s->y = ls->y;
            s->width = ls->width;
            s->height = ls->height;
            vireo_scanout_set_mode(s->scanout, (int)ls->width, (int)ls->height, res->format);
            publish_2d(s, res, rect);
        }
        s->cursor_set = ls->cursor_set;
        s->cursor_visible = ls->cursor_visible;
        s->cursor_hot_x = ls->cursor_hot_x;
        s->cursor_hot_y = ls->cursor_hot_y;
        s->cursor_x = ls->cursor_x;
        s->cursor_y = ls->cursor_y;
        memcpy(s->cursor, ls->cursor, sizeof s->cursor);
        vireo_scanout_set_cursor(s->scanout, s->cursor_set ? s->cursor : NULL, s->cursor_hot_x,
                                 s->cursor_hot_y);
        vireo_scanout_move_cursor(s->scanout, s->cursor_x, s->cursor_y, s->cursor_visible);
    }
    g_free(l);
}

static const VireoVirtioModelOps gpu_ops = {
    .name = "virtio-gpu",
    .device_id = VIREO_VIRTIO_ID_GPU,
    .n_queues = 2,
    .queue_size = VIREO_VIRTIO_GPU_QUEUE_SIZE,
    .config_size = VIREO_VIRTIO_GPU_CONFIG_SIZE,
    .get_features = gpu_get_features,
    .get_config = gpu_get_config,
    .set_config = gpu_set_config,
    .queue_notify = gpu_queue_notify,
    .reset = gpu_reset,
    .free = gpu_free,
    .pause = gpu_pause,
    .resume = gpu_resume,
    .save = gpu_save,
    .load = gpu_load,
    .apply = gpu_apply,
    .discard = gpu_discard,
};

/* A presenter asks for a size (on its own thread): it becomes the output's
 * preferred mode, and the driver hears of it through the display event. */
static void gpu_size_request(void *opaque, int width, int height)
{
    GpuScanout *s = opaque;
    Gpu *g = s->gpu;

    vireo_virtio_lock(g->dev);
    if (vireo_virtio_is_paused_locked(g->dev)) {
        /* No interrupt while paused: the request waits for the resume. */
        s->pending_width = width;
        s->pending_height = height;
    } else {
        set_preferred_locked(g, s, width, height);
    }
    vireo_virtio_unlock(g->dev);
}

void vireo_virtio_gpu_config_init(VireoVirtioGpuConfig *config)
{
    memset(config, 0, sizeof *config);
    config->n_scanouts = 1;
    config->width = VIREO_VIRTIO_GPU_DEFAULT_WIDTH;
    config->height = VIREO_VIRTIO_GPU_DEFAULT_HEIGHT;
}

VireoVirtio *vireo_virtio_gpu_new(VireoBus *bus, const VireoVirtioGpuConfig *config)
{
    Gpu *g = g_new0(Gpu, 1);
    int width = config->width > 0 ? config->width : VIREO_VIRTIO_GPU_DEFAULT_WIDTH;
    int height = config->height > 0 ? config->height : VIREO_VIRTIO_GPU_DEFAULT_HEIGHT;

    g->bus = bus;
    g->n_scanouts = CLAMP(config->n_scanouts, 1u, (unsigned)VIREO_VIRTIO_GPU_MAX_SCANOUTS);
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        GpuScanout *s = &g->scanouts[i];
        s->gpu = g;
        s->index = i;
        s->scanout = config->scanouts[i];
        if (s->scanout == NULL) {
            s->scanout = vireo_scanout_new();
            s->owned = true;
        }
        s->pref_width = MIN(width, VIREO_VIRTIO_GPU_MAX_DIMENSION);
        s->pref_height = MIN(height, VIREO_VIRTIO_GPU_MAX_DIMENSION);
    }
    g->resources = g_hash_table_new_full(NULL, NULL, NULL, resource_free);
    g_mutex_init(&g->wake_lock);
    g_cond_init(&g->wake_cond);
    g_cond_init(&g->park_cond);
    g->virgl_wanted = config->virgl;
    g->gl = config->gl;
    if (config->virgl && config->gl == NULL && config->gl_error != NULL) {
        g->virgl_reason = g_strdup(config->gl_error);
    }

    /* The thread starts virglrenderer first: the features depend on it. */
    g->thread = g_thread_new("virtio-gpu", gpu_thread, g);
    g_mutex_lock(&g->wake_lock);
    while (!g->started) {
        g_cond_wait(&g->wake_cond, &g->wake_lock);
    }
    g_mutex_unlock(&g->wake_lock);

    g->dev = vireo_virtio_new(bus, &gpu_ops, g);
    g->epoch = vireo_virtio_get_epoch_locked(g->dev); /* nobody else has it yet */
    for (unsigned i = 0; i < g->n_scanouts; i++) {
        vireo_scanout_set_size_func(g->scanouts[i].scanout, gpu_size_request, &g->scanouts[i]);
        if (g->virgl != NULL) {
            vireo_scanout_set_pixels_func(g->scanouts[i].scanout, gpu_pixels_wanted,
                                          &g->scanouts[i]);
        }
    }
    g_mutex_lock(&g->wake_lock);
    g->dev_set = true;
    g_cond_broadcast(&g->wake_cond);
    g_mutex_unlock(&g->wake_lock);
    return g->dev;
}

static Gpu *gpu_of(VireoVirtio *dev)
{
    return vireo_virtio_is_gpu(dev) ? vireo_virtio_get_model(dev) : NULL;
}

bool vireo_virtio_is_gpu(VireoVirtio *dev)
{
    return dev != NULL && vireo_virtio_get_model_ops(dev) == &gpu_ops;
}

unsigned vireo_virtio_gpu_get_n_scanouts(VireoVirtio *dev)
{
    Gpu *g = gpu_of(dev);
    return g != NULL ? g->n_scanouts : 0;
}

VireoScanout *vireo_virtio_gpu_get_scanout(VireoVirtio *dev, unsigned index)
{
    Gpu *g = gpu_of(dev);
    return g != NULL && index < g->n_scanouts ? g->scanouts[index].scanout : NULL;
}

VireoVirtioGpu3dStatus vireo_virtio_gpu_get_3d_status(VireoVirtio *dev, const char **reason)
{
    Gpu *g = gpu_of(dev);
    VireoVirtioGpu3dStatus status = VIREO_VIRTIO_GPU_3D_OFF;

    /* Decided before the device existed; fixed from then on. */
    if (g != NULL && g->virgl_wanted) {
        status = g->virgl != NULL ? VIREO_VIRTIO_GPU_3D_ACTIVE : VIREO_VIRTIO_GPU_3D_UNAVAILABLE;
    }
    if (reason != NULL) {
        *reason = status == VIREO_VIRTIO_GPU_3D_UNAVAILABLE ? g->virgl_reason : NULL;
    }
    return status;
}

/* ---- EDID ------------------------------------------------------------------ */

/* A 10-bit chromaticity coordinate. */
static unsigned chroma(double v)
{
    return (unsigned)(v * 1024.0 + 0.5) & 0x3ff;
}

/* An 18-byte display descriptor holding text (monitor name 0xfc, serial
 * 0xff): up to 13 characters, ended by a line feed and padded with
 * spaces. */
static void text_descriptor(guint8 *dst, guint8 tag, const char *text)
{
    guint8 d[18] = { 0 };
    size_t n = MIN(strlen(text), (size_t)13);

    d[3] = tag;
    for (size_t i = 0; i < 13; i++) {
        d[5 + i] = i < n ? (guint8)text[i] : i == n ? '\n' : ' ';
    }
    memcpy(dst, d, sizeof d);
}

/* The detailed timing of a width x height mode with reduced blanking (as
 * CVT's reduced-blanking timings): 160 pixels of horizontal blanking, at
 * least 460 us of vertical blanking, 60 Hz or less where the pixel clock
 * field (at most 655.35 MHz) needs it. A descriptor holds at most 4095 x
 * 4095; larger modes reach the guest through the display info. */
static void timing_descriptor(guint8 *d, int width, int height)
{
    unsigned w = (unsigned)CLAMP(width, 1, 4095), h = (unsigned)CLAMP(height, 1, 4095);
    unsigned hblank = 160, hfront = 48, hsync = 32;
    unsigned vfront = 3, vsync = 6, vblank;
    double refresh = 60.0, line_us;
    uint64_t htotal = w + hblank, vtotal, clock;
    unsigned hmm = (unsigned)(w * 25.4 / 96.0 + 0.5), vmm = (unsigned)(h * 25.4 / 96.0 + 0.5);

    /* Lines of blanking so that it lasts at least 460 us at 60 Hz. */
    line_us = (1e6 / refresh - 460.0) / h;
    vblank = (unsigned)(460.0 / line_us) + 1;
    vblank = MAX(vblank, vfront + vsync + 6);
    vtotal = h + vblank;
    clock = (uint64_t)(htotal * vtotal * refresh / 10000.0 + 0.5); /* 10 kHz units */
    if (clock > 65535) {
        clock = 65535;
    }
    memset(d, 0, 18);
    d[0] = (guint8)(clock & 0xff);
    d[1] = (guint8)(clock >> 8);
    d[2] = (guint8)(w & 0xff);
    d[3] = (guint8)(hblank & 0xff);
    d[4] = (guint8)(((w >> 8) << 4) | (hblank >> 8));
    d[5] = (guint8)(h & 0xff);
    d[6] = (guint8)(vblank & 0xff);
    d[7] = (guint8)(((h >> 8) << 4) | (vblank >> 8));
    d[8] = (guint8)(hfront & 0xff);
    d[9] = (guint8)(hsync & 0xff);
    d[10] = (guint8)(((vfront & 0xf) << 4) | (vsync & 0xf));
    d[11] =
        (guint8)(((hfront >> 8) << 6) | ((hsync >> 8) << 4) | ((vfront >> 4) << 2) | (vsync >> 4));
    d[12] = (guint8)(hmm & 0xff);
    d[13] = (guint8)(vmm & 0xff);
    d[14] = (guint8)(((hmm >> 8) << 4) | (vmm >> 8));
    d[17] = 0x1e; /* digital separate sync, +hsync, +vsync, not interlaced */
}

void vireo_virtio_gpu_build_edid(guint8 *edid, unsigned index, int width, int height)
{
    static const guint8 header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
    /* "VIR" in three 5-bit letters (A = 1). */
    const unsigned id = (('V' - '@') << 10) | (('I' - '@') << 5) | ('R' - '@');
    unsigned rx = chroma(0.640), ry = chroma(0.330), gx = chroma(0.300), gy = chroma(0.600);
    unsigned bx = chroma(0.150), by = chroma(0.060), wx = chroma(0.3127), wy = chroma(0.3290);
    unsigned w = (unsigned)MAX(width, 1), h = (unsigned)MAX(height, 1);
    char serial[16];
    guint8 sum = 0;

    memset(edid, 0, VIREO_VIRTIO_GPU_EDID_SIZE);
    memcpy(edid, header, sizeof header);
    edid[8] = (guint8)(id >> 8);
    edid[9] = (guint8)(id & 0xff);
    edid[10] = 0x01;                /* product code 1, little-endian */
    edid[12] = (guint8)(index + 1); /* serial number */
    edid[16] = 0;                   /* no week given */
    edid[17] = 2023 - 1990;         /* model year */
    edid[18] = 1;                   /* EDID 1.4 */
    edid[19] = 4;
    edid[20] = 0xa5; /* digital input, 8 bits per colour, DisplayPort */
    /* The image size in centimetres at 96 pixels per inch. */
    edid[21] = (guint8)CLAMP((w * 2.54 / 96.0) + 0.5, 1.0, 255.0);
    edid[22] = (guint8)CLAMP((h * 2.54 / 96.0) + 0.5, 1.0, 255.0);
    edid[23] = 120;  /* gamma 2.2 */
    edid[24] = 0x06; /* RGB 4:4:4, sRGB, the preferred timing is the native mode */
    /* sRGB primaries and white point. */
    edid[25] = (guint8)(((rx & 3) << 6) | ((ry & 3) << 4) | ((gx & 3) << 2) | (gy & 3));
    edid[26] = (guint8)(((bx & 3) << 6) | ((by & 3) << 4) | ((wx & 3) << 2) | (wy & 3));
    edid[27] = (guint8)(rx >> 2);
    edid[28] = (guint8)(ry >> 2);
    edid[29] = (guint8)(gx >> 2);
    edid[30] = (guint8)(gy >> 2);
    edid[31] = (guint8)(bx >> 2);
    edid[32] = (guint8)(by >> 2);
    edid[33] = (guint8)(wx >> 2);
    edid[34] = (guint8)(wy >> 2);
    /* Established timings: 640x480, 800x600 and 1024x768 at 60 Hz. */
    edid[35] = 0x21;
    edid[36] = 0x08;
    edid[37] = 0x00;
    for (int i = 38; i < 54; i++) {
        edid[i] = 0x01; /* no standard timings */
    }
    timing_descriptor(edid + 54, width, height);
    text_descriptor(edid + 72, 0xfc, "Vireo");
    g_snprintf(serial, sizeof serial, "VIREO-%u", index);
    text_descriptor(edid + 90, 0xff, serial);
    memset(edid + 108, 0, 18);
    edid[108 + 3] = 0x10; /* dummy descriptor */
    edid[126] = 0;        /* no extension blocks */
    for (int i = 0; i < 127; i++) {
        sum = (guint8)(sum + edid[i]);
    }
    edid[127] = (guint8)(0x100 - sum);
}
