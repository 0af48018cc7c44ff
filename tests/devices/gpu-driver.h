/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * A small virtio-gpu driver for tests and benchmarks, on top of
 * virtio-driver.h: it builds each command in guest RAM, makes it available
 * with a response buffer on the control or cursor queue, kicks, waits for
 * the used ring and hands back the response.
 */

#include "devices/virtio-gpu.h"
#include "virtio-driver.h"

#define GD_QUEUE_SIZE 64
/* Guest memory: one command and one response slot per descriptor pair,
 * then a large area for long commands, then room for backing pages. */
#define GD_CMDS      (T_DATA)            /* 32 slots of 4 KiB */
#define GD_RESPS     (T_DATA + 0x20000)  /* 32 slots of 4 KiB */
#define GD_BIG_CMD   (T_DATA + 0x40000)  /* 1 MiB */
#define GD_BIG_RESP  (T_DATA + 0x140000) /* its response */
#define GD_BACKING   (T_DATA + 0x200000) /* backing pages from here */
#define GD_SLOT_SIZE 0x1000u
#define GD_SLOTS     32

typedef struct {
    Harness h;
    TestQueue q[2];
    unsigned next_slot;
} GpuDriver;

/* A command under construction: the header, then little-endian fields. */
typedef struct {
    guint8 buf[GD_SLOT_SIZE];
    size_t len;
} GdCmd;

static inline void gd_begin(GdCmd *c, uint32_t type)
{
    memset(c, 0, sizeof *c);
    put32le(c->buf, type);
    c->len = VIREO_VIRTIO_GPU_HDR_SIZE;
}

static inline void gd_fence(GdCmd *c, uint64_t fence_id, uint32_t ctx_id)
{
    put32le(c->buf + 4, VIREO_VIRTIO_GPU_FLAG_FENCE);
    put64le(c->buf + 8, fence_id);
    put32le(c->buf + 16, ctx_id);
}

static inline void gd_ctx(GdCmd *c, uint32_t ctx_id)
{
    put32le(c->buf + 16, ctx_id);
}

static inline void gd_u32(GdCmd *c, uint32_t v)
{
    g_assert_cmpuint(c->len + 4, <=, sizeof c->buf);
    put32le(c->buf + c->len, v);
    c->len += 4;
}

static inline void gd_u64(GdCmd *c, uint64_t v)
{
    g_assert_cmpuint(c->len + 8, <=, sizeof c->buf);
    put64le(c->buf + c->len, v);
    c->len += 8;
}

static inline void gd_bytes(GdCmd *c, const void *data, size_t len)
{
    g_assert_cmpuint(c->len + len, <=, sizeof c->buf);
    memcpy(c->buf + c->len, data, len);
    c->len += len;
}

/* Negotiates `features` (transport bits added), sets up both queues. */
static inline void gd_start(GpuDriver *d, uint64_t features)
{
    drv_start(&d->h, (1ull << VIREO_VIRTIO_F_VERSION_1) | features, d->q, 2, GD_QUEUE_SIZE);
    d->next_slot = 0;
}

/* Makes a command at `cmd_addr` (len bytes) available on `queue` with a
 * response buffer of `resp_len` bytes at `resp_addr`, without kicking. */
static inline void gd_post_at(GpuDriver *d, unsigned queue, uint64_t cmd_addr, size_t len,
                              uint64_t resp_addr, size_t resp_len)
{
    TestBuf bufs[2] = {
        { cmd_addr, (uint32_t)len, false },
        { resp_addr, (uint32_t)resp_len, true },
    };

    drv_add(&d->h, &d->q[queue], bufs, resp_len > 0 ? 2 : 1);
}

/* Copies `c` into the next slot and makes it available; returns the slot,
 * whose response is at GD_RESPS + slot * GD_SLOT_SIZE. */
static inline unsigned gd_post(GpuDriver *d, unsigned queue, const GdCmd *c, size_t len,
                               size_t resp_len)
{
    unsigned slot = d->next_slot++ % GD_SLOTS;
    uint64_t cmd = GD_CMDS + (uint64_t)slot * GD_SLOT_SIZE;
    uint64_t resp = GD_RESPS + (uint64_t)slot * GD_SLOT_SIZE;

    memcpy(gpa(&d->h, cmd), c->buf, len);
    memset(gpa(&d->h, resp), 0xee, GD_SLOT_SIZE);
    gd_post_at(d, queue, cmd, len, resp, resp_len);
    return slot;
}

static inline guint8 *gd_resp(GpuDriver *d, unsigned slot)
{
    return gpa(&d->h, GD_RESPS + (uint64_t)slot * GD_SLOT_SIZE);
}

/* Kicks `queue` and waits until the device used `n` more chains. */
static inline void gd_kick_wait(GpuDriver *d, unsigned queue, uint16_t n)
{
    uint16_t target = (uint16_t)(used_idx(&d->h, &d->q[queue]) + n);

    drv_kick(&d->h, &d->q[queue]);
    g_assert_true(drv_wait_used(&d->h, &d->q[queue], target));
}

/* Sends `len` bytes of `c` with a response buffer of `resp_len` bytes,
 * waits, and returns the response type; the response is at *resp. */
static inline uint32_t gd_call_len(GpuDriver *d, unsigned queue, const GdCmd *c, size_t len,
                                   size_t resp_len, guint8 **resp)
{
    unsigned slot = gd_post(d, queue, c, len, resp_len);

    gd_kick_wait(d, queue, 1);
    if (resp != NULL) {
        *resp = gd_resp(d, slot);
    }
    return get32le(gd_resp(d, slot));
}

static inline uint32_t gd_call(GpuDriver *d, const GdCmd *c)
{
    return gd_call_len(d, VIREO_VIRTIO_GPU_CONTROLQ, c, c->len, 64, NULL);
}

static inline uint32_t gd_call_cursor(GpuDriver *d, const GdCmd *c)
{
    return gd_call_len(d, VIREO_VIRTIO_GPU_CURSORQ, c, c->len, 64, NULL);
}

/* ---- Commands ---------------------------------------------------------- */

static inline uint32_t gd_create_2d(GpuDriver *d, uint32_t id, uint32_t format, uint32_t w,
                                    uint32_t h)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
    gd_u32(&c, id);
    gd_u32(&c, format);
    gd_u32(&c, w);
    gd_u32(&c, h);
    return gd_call(d, &c);
}

static inline uint32_t gd_unref(GpuDriver *d, uint32_t id)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_UNREF);
    gd_u32(&c, id);
    gd_u32(&c, 0);
    return gd_call(d, &c);
}

/* One backing entry. */
typedef struct {
    uint64_t addr;
    uint32_t len;
} GdEntry;

/* ATTACH_BACKING with `n` entries, declaring `nr` of them. */
static inline uint32_t gd_attach_n(GpuDriver *d, uint32_t id, const GdEntry *e, unsigned n,
                                   uint32_t nr)
{
    size_t len = VIREO_VIRTIO_GPU_HDR_SIZE + 8 + 16 * (size_t)n;
    guint8 *cmd = gpa(&d->h, GD_BIG_CMD);
    uint64_t resp = GD_BIG_RESP;

    g_assert_cmpuint(len, <=, 1u << 20);
    memset(cmd, 0, len);
    put32le(cmd, VIREO_VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
    put32le(cmd + 24, id);
    put32le(cmd + 28, nr);
    for (unsigned i = 0; i < n; i++) {
        put64le(cmd + 32 + 16 * i, e[i].addr);
        put32le(cmd + 40 + 16 * i, e[i].len);
    }
    memset(gpa(&d->h, resp), 0xee, 64);
    gd_post_at(d, VIREO_VIRTIO_GPU_CONTROLQ, GD_BIG_CMD, len, resp, 64);
    gd_kick_wait(d, VIREO_VIRTIO_GPU_CONTROLQ, 1);
    return get32le(gpa(&d->h, resp));
}

static inline uint32_t gd_attach(GpuDriver *d, uint32_t id, const GdEntry *e, unsigned n)
{
    return gd_attach_n(d, id, e, n, n);
}

static inline uint32_t gd_detach(GpuDriver *d, uint32_t id)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING);
    gd_u32(&c, id);
    gd_u32(&c, 0);
    return gd_call(d, &c);
}

static inline void gd_rect(GdCmd *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    gd_u32(c, x);
    gd_u32(c, y);
    gd_u32(c, w);
    gd_u32(c, h);
}

static inline uint32_t gd_transfer_2d(GpuDriver *d, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
                                      uint32_t h, uint64_t offset)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D);
    gd_rect(&c, x, y, w, h);
    gd_u64(&c, offset);
    gd_u32(&c, id);
    gd_u32(&c, 0);
    return gd_call(d, &c);
}

static inline uint32_t gd_set_scanout(GpuDriver *d, uint32_t scanout, uint32_t id, uint32_t x,
                                      uint32_t y, uint32_t w, uint32_t h)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_SET_SCANOUT);
    gd_rect(&c, x, y, w, h);
    gd_u32(&c, scanout);
    gd_u32(&c, id);
    return gd_call(d, &c);
}

static inline uint32_t gd_flush(GpuDriver *d, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
                                uint32_t h)
{
    GdCmd c;

    gd_begin(&c, VIREO_VIRTIO_GPU_CMD_RESOURCE_FLUSH);
    gd_rect(&c, x, y, w, h);
    gd_u32(&c, id);
    gd_u32(&c, 0);
    return gd_call(d, &c);
}

static inline void gd_cursor_cmd(GdCmd *c, uint32_t type, uint32_t scanout, int32_t x, int32_t y,
                                 uint32_t id, uint32_t hot_x, uint32_t hot_y)
{
    gd_begin(c, type);
    gd_u32(c, scanout);
    gd_u32(c, (uint32_t)x);
    gd_u32(c, (uint32_t)y);
    gd_u32(c, 0);
    gd_u32(c, id);
    gd_u32(c, hot_x);
    gd_u32(c, hot_y);
    gd_u32(c, 0);
}

static inline uint32_t gd_update_cursor(GpuDriver *d, uint32_t scanout, int32_t x, int32_t y,
                                        uint32_t id, uint32_t hot_x, uint32_t hot_y)
{
    GdCmd c;

    gd_cursor_cmd(&c, VIREO_VIRTIO_GPU_CMD_UPDATE_CURSOR, scanout, x, y, id, hot_x, hot_y);
    return gd_call_cursor(d, &c);
}

static inline uint32_t gd_move_cursor(GpuDriver *d, uint32_t scanout, int32_t x, int32_t y)
{
    GdCmd c;

    gd_cursor_cmd(&c, VIREO_VIRTIO_GPU_CMD_MOVE_CURSOR, scanout, x, y, 0, 0, 0);
    return gd_call_cursor(d, &c);
}

/* A 2D resource of w x h backed by contiguous guest pages at `backing`
 * (rows w * 4 bytes apart) and holding what is there: create, attach,
 * transfer all. */
static inline void gd_resource_2d(GpuDriver *d, uint32_t id, uint32_t format, uint32_t w,
                                  uint32_t h, uint64_t backing)
{
    GdEntry e = { backing, w * h * 4 };

    g_assert_cmphex(gd_create_2d(d, id, format, w, h), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_attach(d, id, &e, 1), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
    g_assert_cmphex(gd_transfer_2d(d, id, 0, 0, w, h, 0), ==, VIREO_VIRTIO_GPU_RESP_OK_NODATA);
}
