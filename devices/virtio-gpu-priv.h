/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/virtio-gpu.h"

#include <string.h>
#include <sys/uio.h>

/* The state shared by virtio-gpu.c (queues, 2D resources, scanouts, cursor)
 * and virtio-gpu-virgl.c (3D). Private to devices/. Everything but the
 * fields marked "device lock" belongs to the device's thread. */

typedef struct Gpu Gpu;
typedef struct GpuVirgl GpuVirgl;

/* A resource: the host copy of a 2D image, or a handle of virglrenderer's. */
typedef struct {
    uint32_t id;
    bool is_3d;
    uint32_t gpu_format; /* VIREO_VIRTIO_GPU_FORMAT_* (virgl's format for 3D) */
    bool has_format;     /* gpu_format is one of the eight the scanout takes */
    VireoPixelFormat format;
    uint32_t width, height;
    size_t stride;
    guint8 *pixels;      /* 2D: stride x height bytes */
    uint64_t host_bytes; /* counted against VIREO_VIRTIO_GPU_MAX_HOST_MEMORY (2D) or
                            VIREO_VIRTIO_GPU_MAX_3D_MEMORY (3D) */
    /* The backing: host views of the guest's pages, in order, with the
     * running total of their lengths (iov_end[i] is where entry i ends). */
    struct iovec *iov;
    uint64_t *iov_end;
    uint64_t *iov_addr;
    unsigned n_iov;
    uint64_t backing_size;
    uint64_t backing_bytes; /* the lists' host memory, counted like host_bytes */
} GpuResource;

typedef struct {
    Gpu *gpu;
    unsigned index;
    VireoScanout *scanout;
    bool owned;
    /* What the guest set (device thread): the resource and the rectangle of
     * it that is shown. */
    uint32_t resource_id; /* 0: off */
    uint32_t x, y, width, height;
    bool texture;     /* shown as a GL texture (3D) */
    guint8 *readback; /* 3D: the pixels read back for presenters without the texture */
    size_t readback_size;
    /* The cursor as the guest set it (device thread), kept for snapshots:
     * the image (A8R8G8B8 words) when cursor_set, its hot spot, where it
     * is and whether it shows. */
    uint32_t cursor[VIREO_CURSOR_SIZE * VIREO_CURSOR_SIZE];
    bool cursor_set, cursor_visible;
    int cursor_hot_x, cursor_hot_y, cursor_x, cursor_y;
    /* The preferred mode (device lock). */
    int pref_width, pref_height;
    /* A size a presenter asked for while the device was paused (device
     * lock; 0: none), taken when it resumes. */
    int pending_width, pending_height;
} GpuScanout;

/* One command as read from the driver. */
typedef struct {
    const guint8 *data; /* the readable part, up to VIREO_VIRTIO_GPU_MAX_COMMAND */
    size_t len;
    uint32_t type, flags, ctx_id;
    uint64_t fence_id;
    guint8 ring_idx;
    GByteArray *payload; /* response data after the header */
} GpuCmd;

struct Gpu {
    VireoVirtio *dev;
    VireoBus *bus;
    unsigned n_scanouts;
    GpuScanout scanouts[VIREO_VIRTIO_GPU_MAX_SCANOUTS];
    uint32_t events_read; /* device lock */

    GMutex wake_lock;
    GCond wake_cond;
    bool kicked; /* wake_lock: a queue may have work */
    int quit;    /* atomic */
    GThread *thread;
    /* Pausing (wake_lock): the thread waits in gpu_park() while `paused`,
     * `parked` saying that it does. */
    GCond park_cond;
    bool paused, parked;

    uint32_t refresh; /* wake_lock: outputs whose pixels a new presenter needs */

    /* 3D: asked for, and why it could not start. */
    bool virgl_wanted;
    char *virgl_reason;
    VireoGlProvider *gl;
    bool started; /* wake_lock: the thread finished starting */
    bool dev_set; /* wake_lock: g->dev is set */

    uint64_t epoch; /* the device epoch the thread's state belongs to */
    unsigned next_queue;
    GHashTable *resources; /* id -> GpuResource */
    uint64_t host_bytes, bytes_3d;
    guint8 *cmd_buf;
    size_t cmd_cap;

    GpuVirgl *virgl; /* NULL: 2D only */
};

static inline uint32_t gpu_le32(const guint8 *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_LE(v);
}

static inline uint64_t gpu_le64(const guint8 *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_LE(v);
}

static inline void gpu_put32(guint8 *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static inline void gpu_put64(guint8 *p, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    memcpy(p, &v, 8);
}

GpuResource *gpu_resource_lookup(Gpu *g, uint32_t id);
bool gpu_format_lookup(uint32_t gpu_format, VireoPixelFormat *format);
/* A 64 x 64 image in `format` as host-endian A8R8G8B8 words. */
void gpu_pixels_to_argb(const guint8 *src, size_t stride, VireoPixelFormat format, uint32_t *argb);
void gpu_backing_clear(GpuResource *r);
/* Drops the backing and gives its lists' memory back to the limit. */
void gpu_backing_drop(Gpu *g, GpuResource *r);
/* Forgets the resource (its 3D part must be gone) and switches off the
 * outputs showing it. */
void gpu_resource_destroy(Gpu *g, GpuResource *r);
void gpu_scanout_disable(Gpu *g, GpuScanout *s);
/* Answers `c` on `chain` with `type` (and, for OK_* types with data, its
 * payload), echoing its fence. */
void gpu_respond(Gpu *g, VireoVirtioChain *chain, const GpuCmd *c, uint32_t type);
/* Wakes the device's thread. */
void gpu_kick(Gpu *g);

/* 3D: virtio-gpu-virgl.c. Everything runs on the device's thread, and
 * only when g->virgl is set (except gpu_virgl_init). */

/* Starts virglrenderer with contexts from `gl`; on failure returns false
 * and a translated reason (g_free it). */
bool gpu_virgl_init(Gpu *g, VireoGlProvider *gl, char **reason);
/* Stops virglrenderer; g->virgl is NULL afterwards. */
void gpu_virgl_fini(Gpu *g);
uint32_t gpu_virgl_num_capsets(Gpu *g);
/* The 3D commands (and capsets). */
uint32_t gpu_virgl_execute(Gpu *g, GpuCmd *c);
/* Keeps a fenced command's chain until virglrenderer retires a fence
 * created now, behind everything submitted before it. */
void gpu_virgl_hold(Gpu *g, VireoVirtioChain *chain, const GpuCmd *c, uint32_t type);
/* Polls virglrenderer and answers the commands whose fences retired;
 * whether it answered any. */
bool gpu_virgl_poll(Gpu *g);
bool gpu_virgl_fences_pending(Gpu *g);
/* Drops held commands, contexts and the 3D part of every resource. */
void gpu_virgl_reset(Gpu *g);
void gpu_virgl_resource_unref(Gpu *g, GpuResource *r);
uint32_t gpu_virgl_attach_backing(Gpu *g, GpuResource *r);
void gpu_virgl_detach_backing(Gpu *g, GpuResource *r);
uint32_t gpu_virgl_transfer_2d(Gpu *g, GpuResource *r, uint32_t x, uint32_t y, uint32_t w,
                               uint32_t h, uint64_t offset);
/* Shows part of a 3D resource on `s` (texture mode). */
uint32_t gpu_virgl_set_scanout(Gpu *g, GpuScanout *s, GpuResource *r, uint32_t x, uint32_t y,
                               uint32_t w, uint32_t h);
/* Publishes part (resource coordinates) of the 3D resource `s` shows. */
void gpu_virgl_flush(Gpu *g, GpuScanout *s, GpuResource *r, uint32_t x, uint32_t y, uint32_t w,
                     uint32_t h);
/* Publishes all of `s` as pixels (a presenter that needs them came). */
void gpu_virgl_refresh(Gpu *g, GpuScanout *s);
bool gpu_virgl_read_cursor(Gpu *g, GpuResource *r, uint32_t *argb);
