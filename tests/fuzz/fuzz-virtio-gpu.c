/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-gpu's commands (devices/virtio-gpu.c, 2D) from a hostile driver:
 * the input is a list of control and cursor queue commands whose fields it
 * chooses (resource ids, formats and sizes, rectangles that overflow,
 * backing entries inside RAM, across its end and outside it, transfer
 * offsets, scanout indexes, truncated commands, short response buffers,
 * fences, unknown and 3D commands), interleaved with the host's side
 * (display size requests, a presenter taking frames) and resets. The
 * device runs on its own thread behind the real virtio-mmio transport;
 * tests/devices/gpu-driver.h plays the guest.
 *
 * The target keeps what the driver knows of the device (its resources,
 * their backing, what each output shows, the preferred modes) and checks
 * every response against it: the type the rules of docs/VIRTIO.md give,
 * the fence echoed, the used length, the display info and the EDID; and
 * every frame a presenter takes against what the outputs should show. A
 * command that gets no response within five seconds is a finding.
 *
 * Input: a list of operations, each a byte choosing the command (below),
 * a byte of flags (bit 0 fenced, bit 1 on the other queue, bit 2 cut
 * short, bits 3-5 the response buffer's size, bit 6 split into two
 * buffers, bit 7 send now) and the command's fields. Commands go in
 * batches on one queue; a batch is sent when asked, when full, or before
 * one on the other queue.
 */
#include "config.h"

#define T_RAM_SIZE (4ull << 20)
#include "gpu-driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>

#define N_SCANOUTS   2
#define MAX_BATCH    16
#define MAX_ENTRIES  16
#define WAIT_MS      5000
#define BACKING_SIZE (T_RAM_BASE + T_RAM_SIZE - GD_BACKING)
#define PREF_W       640
#define PREF_H       480
#define HOST_LIMIT   VIREO_VIRTIO_GPU_MAX_HOST_MEMORY
#define OVERHEAD     256 /* bytes a 2D resource counts besides its pixels */
#define LIST_BYTES   (sizeof(struct iovec) + 2 * sizeof(uint64_t)) /* per backing entry */

/* Request sizes (virtio 1.2, 5.7.6), header included. */
#define HDR          VIREO_VIRTIO_GPU_HDR_SIZE
#define SZ_CREATE    (HDR + 16)
#define SZ_ID        (HDR + 8)
#define SZ_RECT_ID   (HDR + 24)
#define SZ_TRANSFER  (HDR + 32)
#define SZ_CURSOR    (HDR + 32)
#define SZ_EDID      (HDR + 8)
#define SZ_DISPLAY   (HDR + VIREO_VIRTIO_GPU_SPEC_MAX_SCANOUTS * 24)
#define SZ_EDID_RESP (HDR + 8 + 1024)

typedef struct {
    uint32_t w, h;
    uint64_t backing; /* bytes, 0: none */
    unsigned entries;
} Res;

typedef struct {
    uint32_t rid; /* 0: off */
    uint32_t x, y, w, h;
} Out;

/* A command of the batch being built. */
typedef struct {
    unsigned slot;
    uint16_t head;
    uint32_t cmd_type, flags, ctx_id;
    uint64_t fence_id;
    uint32_t expect; /* the response type */
    size_t resp_len;
    bool used;
} Sent;

typedef struct {
    const uint8_t *p;
    size_t left;
} Input;

static struct {
    GpuDriver d;
    VireoVirtio *dev;
    int presenter[N_SCANOUTS];
    Input in;
    bool edid;
    GHashTable *res; /* id -> Res */
    uint64_t host_bytes;
    Out out[N_SCANOUTS];
    int pref_w[N_SCANOUTS], pref_h[N_SCANOUTS];
    bool event; /* VIRTIO_GPU_EVENT_DISPLAY is pending */
    Sent batch[MAX_BATCH];
    unsigned n_batch, batch_queue;
    uint16_t seen[2];
} G;

static void fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("fuzz-virtio-gpu: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* ---- input -------------------------------------------------------------- */

static uint8_t in8(void)
{
    if (G.in.left == 0) {
        return 0;
    }
    G.in.left--;
    return *G.in.p++;
}

/* Little-endian numbers. */
static uint16_t in16(void)
{
    uint16_t lo = in8();
    return (uint16_t)(lo | in8() << 8);
}

static uint32_t in32(void)
{
    uint32_t lo = in16();
    return lo | (uint32_t)in16() << 16;
}

static uint64_t in64(void)
{
    uint64_t lo = in32();
    return lo | (uint64_t)in32() << 32;
}

/* Mostly the few ids a driver uses, sometimes anything. */
static uint32_t in_id(void)
{
    uint8_t v = in8();
    return v < 0xf0 ? v % 5u : in32();
}

/* A width or height: small, the cursor's, up to 1024, or a limit. */
static uint32_t in_dim(void)
{
    static const uint32_t edges[8] = { 0,
                                       1,
                                       63,
                                       65,
                                       VIREO_VIRTIO_GPU_MAX_DIMENSION,
                                       VIREO_VIRTIO_GPU_MAX_DIMENSION + 1,
                                       0x80000000u,
                                       0xffffffffu };
    uint8_t v = in8();

    switch (v >> 6) {
    case 0: return 1 + v % 64u;
    case 1: return VIREO_CURSOR_SIZE;
    case 2: return 1 + in16() % 1024u;
    default: return edges[v & 7];
    }
}

/* A rectangle's coordinate or size: small, or one that overflows. */
static uint32_t in_coord(void)
{
    static const uint32_t edges[4] = { 0xffffffffu, 0x80000000u, 0xfffffff0u,
                                       VIREO_VIRTIO_GPU_MAX_DIMENSION };
    uint8_t v = in8();

    if (v < 0xc0) {
        return v % 80u;
    }
    return v < 0xfc ? edges[v & 3] : in32();
}

static uint32_t in_format(void)
{
    static const uint32_t formats[10] = {
        VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
        VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
        VIREO_VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM,
        VIREO_VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
        VIREO_VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
        VIREO_VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
        VIREO_VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM,
        VIREO_VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
        0,
        5, /* not one of them */
    };
    uint8_t v = in8();
    return v < 250 ? formats[v % 10] : in32();
}

static uint64_t get64le(const guint8 *p)
{
    return get32le(p) | (uint64_t)get32le(p + 4) << 32;
}

/* ---- what the driver knows ---------------------------------------------- */

static bool in_ram(uint64_t addr, uint64_t len)
{
    return addr >= T_RAM_BASE && addr - T_RAM_BASE <= T_RAM_SIZE &&
           len <= T_RAM_SIZE - (addr - T_RAM_BASE);
}

static bool rect_inside(uint32_t x, uint32_t y, uint32_t w, uint32_t h, const Res *r)
{
    return (uint64_t)x + w <= r->w && (uint64_t)y + h <= r->h;
}

static Res *res_get(uint32_t id)
{
    return id == 0 ? NULL : g_hash_table_lookup(G.res, GUINT_TO_POINTER(id));
}

static bool known_format(uint32_t f)
{
    switch (f) {
    case VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
    case VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
    case VIREO_VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
    case VIREO_VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
    case VIREO_VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
    case VIREO_VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
    case VIREO_VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
    case VIREO_VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM: return true;
    default: return false;
    }
}

static void model_reset(void)
{
    g_hash_table_remove_all(G.res);
    G.host_bytes = 0;
    memset(G.out, 0, sizeof G.out);
    G.event = false;
}

/* ---- the rules: each command's response, and what it changes ------------ */

static uint32_t do_create(const guint8 *p, size_t len)
{
    uint32_t id, format, w, h;
    uint64_t bytes;
    Res *r;

    if (len < SZ_CREATE) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    id = get32le(p + HDR);
    format = get32le(p + HDR + 4);
    w = get32le(p + HDR + 8);
    h = get32le(p + HDR + 12);
    if (id == 0 || res_get(id) != NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!known_format(format) || w == 0 || h == 0 || w > VIREO_VIRTIO_GPU_MAX_DIMENSION ||
        h > VIREO_VIRTIO_GPU_MAX_DIMENSION) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    bytes = (uint64_t)w * h * 4 + OVERHEAD;
    if (bytes > HOST_LIMIT - G.host_bytes) {
        return VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    r = g_new0(Res, 1);
    r->w = w;
    r->h = h;
    g_hash_table_insert(G.res, GUINT_TO_POINTER(id), r);
    G.host_bytes += bytes;
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static void drop_backing(Res *r)
{
    G.host_bytes -= (uint64_t)r->entries * LIST_BYTES;
    r->entries = 0;
    r->backing = 0;
}

static uint32_t do_unref(const guint8 *p, size_t len)
{
    uint32_t id;
    Res *r;

    if (len < SZ_ID) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    id = get32le(p + HDR);
    if ((r = res_get(id)) == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    drop_backing(r);
    G.host_bytes -= (uint64_t)r->w * r->h * 4 + OVERHEAD;
    for (unsigned i = 0; i < N_SCANOUTS; i++) {
        if (G.out[i].rid == id) {
            memset(&G.out[i], 0, sizeof G.out[i]);
        }
    }
    g_hash_table_remove(G.res, GUINT_TO_POINTER(id));
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_set_scanout(const guint8 *p, size_t len)
{
    uint32_t x, y, w, h, index, id;
    Res *r;

    if (len < SZ_RECT_ID) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    x = get32le(p + HDR);
    y = get32le(p + HDR + 4);
    w = get32le(p + HDR + 8);
    h = get32le(p + HDR + 12);
    index = get32le(p + HDR + 16);
    id = get32le(p + HDR + 20);
    if (index >= N_SCANOUTS) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    if (id == 0) {
        memset(&G.out[index], 0, sizeof G.out[index]);
        return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
    }
    if ((r = res_get(id)) == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (w == 0 || h == 0 || !rect_inside(x, y, w, h, r)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    G.out[index] = (Out){ id, x, y, w, h };
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_flush(const guint8 *p, size_t len)
{
    Res *r;

    if (len < SZ_RECT_ID) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if ((r = res_get(get32le(p + HDR + 16))) == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(get32le(p + HDR), get32le(p + HDR + 4), get32le(p + HDR + 8),
                     get32le(p + HDR + 12), r)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_transfer(const guint8 *p, size_t len)
{
    uint32_t x, y, w, h;
    uint64_t offset, need;
    Res *r;

    if (len < SZ_TRANSFER) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    x = get32le(p + HDR);
    y = get32le(p + HDR + 4);
    w = get32le(p + HDR + 8);
    h = get32le(p + HDR + 12);
    offset = get32le(p + HDR + 16) | (uint64_t)get32le(p + HDR + 20) << 32;
    if ((r = res_get(get32le(p + HDR + 24))) == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(x, y, w, h, r)) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (r->backing == 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (w == 0 || h == 0) {
        return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
    }
    /* Row i of the rectangle starts at offset + i * stride. */
    need = (uint64_t)(h - 1) * r->w * 4 + (uint64_t)w * 4;
    if (need > r->backing || offset > r->backing - need) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_attach(const guint8 *p, size_t len)
{
    uint32_t n;
    uint64_t total = 0;
    Res *r;

    if (len < SZ_ID) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    r = res_get(get32le(p + HDR));
    n = get32le(p + HDR + 4);
    if (r == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (n == 0 || n > VIREO_VIRTIO_GPU_MAX_BACKING_ENTRIES) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if ((len - SZ_ID) / 16 < n) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC; /* the entries are not all there */
    }
    if (r->backing != 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if ((uint64_t)n * LIST_BYTES > HOST_LIMIT - G.host_bytes) {
        return VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < n; i++) {
        const guint8 *e = p + SZ_ID + 16 * i;
        uint64_t addr = get32le(e) | (uint64_t)get32le(e + 4) << 32;
        uint32_t l = get32le(e + 8);
        if (l == 0 || !in_ram(addr, l)) {
            return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        total += l;
    }
    if (total < (uint64_t)r->w * 4 * r->h) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    r->backing = total;
    r->entries = n;
    G.host_bytes += (uint64_t)n * LIST_BYTES;
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_detach(const guint8 *p, size_t len)
{
    Res *r;

    if (len < SZ_ID) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if ((r = res_get(get32le(p + HDR))) == NULL) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (r->backing == 0) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    drop_backing(r);
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t do_cursor(uint32_t type, const guint8 *p, size_t len)
{
    uint32_t id;
    Res *r;

    if (len < SZ_CURSOR) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (get32le(p + HDR) >= N_SCANOUTS) {
        return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    id = get32le(p + HDR + 16);
    if (type == VIREO_VIRTIO_GPU_CMD_UPDATE_CURSOR && id != 0) {
        if ((r = res_get(id)) == NULL) {
            return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
        }
        if (r->w != VIREO_CURSOR_SIZE || r->h != VIREO_CURSOR_SIZE ||
            get32le(p + HDR + 20) >= VIREO_CURSOR_SIZE ||
            get32le(p + HDR + 24) >= VIREO_CURSOR_SIZE) {
            return VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
    }
    return VIREO_VIRTIO_GPU_RESP_OK_NODATA;
}

/* The response to the command `p` (`len` bytes) on `queue`, applying what
 * it does. */
static uint32_t predict(unsigned queue, const guint8 *p, size_t len)
{
    uint32_t type;

    if (len < HDR) {
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    type = get32le(p);
    if (queue == VIREO_VIRTIO_GPU_CURSORQ) {
        if (type == VIREO_VIRTIO_GPU_CMD_UPDATE_CURSOR ||
            type == VIREO_VIRTIO_GPU_CMD_MOVE_CURSOR) {
            return do_cursor(type, p, len);
        }
        return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    switch (type) {
    case VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO: return VIREO_VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
    case VIREO_VIRTIO_GPU_CMD_GET_EDID:
        if (!G.edid || len < SZ_EDID) {
            return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
        return get32le(p + HDR) >= N_SCANOUTS ? VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
                                              : VIREO_VIRTIO_GPU_RESP_OK_EDID;
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: return do_create(p, len);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_UNREF: return do_unref(p, len);
    case VIREO_VIRTIO_GPU_CMD_SET_SCANOUT: return do_set_scanout(p, len);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_FLUSH: return do_flush(p, len);
    case VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: return do_transfer(p, len);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: return do_attach(p, len);
    case VIREO_VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: return do_detach(p, len);
    default: return VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC; /* 3D, capsets, cursor commands here */
    }
}

/* ---- checking what came back -------------------------------------------- */

static void check_display_info(const guint8 *p)
{
    uint32_t x = 0;

    for (unsigned i = 0; i < VIREO_VIRTIO_GPU_SPEC_MAX_SCANOUTS; i++) {
        const guint8 *m = p + HDR + 24 * i;
        uint32_t want[6] = { 0 };

        if (i < N_SCANOUTS) {
            want[0] = x;
            want[2] = (uint32_t)G.pref_w[i];
            want[3] = (uint32_t)G.pref_h[i];
            want[4] = 1;
            x += (uint32_t)G.pref_w[i];
        }
        for (unsigned k = 0; k < 6; k++) {
            if (get32le(m + 4 * k) != want[k]) {
                fail("display info of output %u, field %u: %u, not %u", i, k, get32le(m + 4 * k),
                     want[k]);
            }
        }
    }
}

static void check_edid(const guint8 *p)
{
    static const guint8 header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
    const guint8 *edid = p + HDR + 8;
    guint8 sum = 0;

    if (get32le(p + HDR) != VIREO_VIRTIO_GPU_EDID_SIZE || memcmp(edid, header, 8) != 0) {
        fail("an EDID of %u bytes, or without its header", get32le(p + HDR));
    }
    for (unsigned i = 0; i < VIREO_VIRTIO_GPU_EDID_SIZE; i++) {
        sum = (guint8)(sum + edid[i]);
    }
    if (sum != 0) {
        fail("the EDID's checksum is off by %u", sum);
    }
}

static void check_response(const Sent *s, uint32_t used_len)
{
    const guint8 *resp = gd_resp(&G.d, s->slot);
    guint8 want[HDR] = { 0 };
    size_t full = HDR;

    put32le(want, s->expect);
    if (s->flags & VIREO_VIRTIO_GPU_FLAG_FENCE) {
        put32le(want + 4, VIREO_VIRTIO_GPU_FLAG_FENCE);
        put64le(want + 8, s->fence_id);
        put32le(want + 16, s->ctx_id);
    }
    if (s->expect == VIREO_VIRTIO_GPU_RESP_OK_DISPLAY_INFO) {
        full = SZ_DISPLAY;
    } else if (s->expect == VIREO_VIRTIO_GPU_RESP_OK_EDID) {
        full = SZ_EDID_RESP;
    }
    if (s->resp_len < HDR) {
        full = s->resp_len; /* the header does not fit: no payload either */
    }
    if (used_len != MIN(full, s->resp_len)) {
        fail("command %#x: %u bytes written into a response buffer of %zu (expected %zu)",
             s->cmd_type, used_len, s->resp_len, MIN(full, s->resp_len));
    }
    if (memcmp(resp, want, MIN((size_t)HDR, s->resp_len)) != 0) {
        fail("command %#x: response %#x flags %#x fence %" G_GINT64_MODIFIER "x ctx %u, expected "
             "%#x",
             s->cmd_type, get32le(resp), get32le(resp + 4), get64le(resp + 8), get32le(resp + 16),
             s->expect);
    }
    if (s->expect == VIREO_VIRTIO_GPU_RESP_OK_DISPLAY_INFO && s->resp_len >= SZ_DISPLAY) {
        check_display_info(resp);
    }
    if (s->expect == VIREO_VIRTIO_GPU_RESP_OK_EDID && s->resp_len >= SZ_EDID_RESP) {
        check_edid(resp);
    }
}

/* A presenter's view of each output matches what the driver set. */
static void check_frames(void)
{
    for (unsigned i = 0; i < N_SCANOUTS; i++) {
        VireoScanout *scanout = vireo_virtio_gpu_get_scanout(G.dev, i);
        VireoScanoutFrame frame;
        const Out *o = &G.out[i];

        if (!vireo_scanout_acquire(scanout, G.presenter[i], &frame)) {
            continue;
        }
        if ((frame.pixels != NULL) != (o->rid != 0) ||
            (o->rid != 0 && ((uint32_t)frame.width != o->w || (uint32_t)frame.height != o->h))) {
            fail("output %u shows %dx%d (%s), the driver set %ux%u of resource %u", i, frame.width,
                 frame.height, frame.pixels != NULL ? "on" : "off", o->w, o->h, o->rid);
        }
        vireo_scanout_release(scanout, G.presenter[i]);
    }
}

/* Sends the batch and checks every response. */
static void send_batch(void)
{
    Harness *h = &G.d.h;
    TestQueue *q = &G.d.q[G.batch_queue];
    uint16_t idx;

    if (G.n_batch == 0) {
        return;
    }
    drv_kick(h, q);
    if (!drv_wait_until(h, q, q->avail_idx, false, WAIT_MS)) {
        fail("%u of %u commands answered in %d ms", (uint16_t)(used_idx(h, q) - G.seen[q->index]),
             G.n_batch, WAIT_MS);
    }
    idx = used_idx(h, q);
    while (G.seen[q->index] != idx) {
        uint32_t id, len;
        unsigned k;

        used_elem(h, q, G.seen[q->index]++, &id, &len);
        for (k = 0; k < G.n_batch && (G.batch[k].used || G.batch[k].head != id); k++) {}
        if (k == G.n_batch) {
            fail("a used element for descriptor %u, which is no command of the batch", id);
        }
        G.batch[k].used = true;
        check_response(&G.batch[k], len);
    }
    G.n_batch = 0;
    check_frames();
}

/* ---- building commands ---------------------------------------------------- */

/* Backing entries: where each lies, chosen by the input. */
static void put_entries(GdCmd *c, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t b = in8();
        uint16_t a = in16(), l = in16();
        uint64_t addr;
        uint32_t len;

        switch (b & 7) {
        case 0:
        case 1:
        case 2:
        case 3: addr = GD_BACKING + ((uint64_t)a << 4) % BACKING_SIZE; break;
        case 4: addr = T_RAM_BASE + T_RAM_SIZE - a; break;     /* at the end of RAM */
        case 5: addr = T_RAM_BASE - 0x1000 + a; break;         /* from below RAM */
        case 6: addr = T_RAM_BASE + ((uint64_t)a << 4); break; /* over the rings and commands */
        default: addr = UINT64_MAX - a; break;
        }
        switch (b >> 6) {
        case 0: len = l % 4097u; break;
        case 1: len = 4096; break;
        case 2: len = (uint32_t)l << 4; break;
        default: len = in32(); break;
        }
        gd_u64(c, addr);
        gd_u32(c, len);
        gd_u32(c, 0);
    }
}

static void put_rect(GdCmd *c)
{
    gd_u32(c, in_coord());
    gd_u32(c, in_coord());
    gd_u32(c, in_coord());
    gd_u32(c, in_coord());
}

static void build(GdCmd *c, unsigned what)
{
    switch (what) {
    case 0: gd_begin(c, VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO); break;
    case 1:
        gd_begin(c, VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
        gd_u32(c, in_id());
        gd_u32(c, in_format());
        gd_u32(c, in_dim());
        gd_u32(c, in_dim());
        break;
    case 2:
    case 7:
        gd_begin(c, what == 2 ? VIREO_VIRTIO_GPU_CMD_RESOURCE_UNREF
                              : VIREO_VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING);
        gd_u32(c, in_id());
        gd_u32(c, 0);
        break;
    case 3:
        gd_begin(c, VIREO_VIRTIO_GPU_CMD_SET_SCANOUT);
        put_rect(c);
        gd_u32(c, in8() % 3u); /* the third does not exist */
        gd_u32(c, in_id());
        break;
    case 4:
        gd_begin(c, VIREO_VIRTIO_GPU_CMD_RESOURCE_FLUSH);
        put_rect(c);
        gd_u32(c, in_id());
        gd_u32(c, 0);
        break;
    case 5: {
        uint8_t o = in8();
        gd_begin(c, VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D);
        put_rect(c);
        gd_u64(c, o < 0xc0 ? (uint64_t)in16() * (o % 8 + 1) : in64());
        gd_u32(c, in_id());
        gd_u32(c, 0);
        break;
    }
    case 6: {
        unsigned n = in8() % (MAX_ENTRIES + 1);
        uint8_t nr = in8();
        gd_begin(c, VIREO_VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
        gd_u32(c, in_id());
        /* The count the command claims: the entries there, or not. */
        gd_u32(c, nr < 0xe0 ? n : nr < 0xf0 ? n + 1 + nr % 4u : in32());
        put_entries(c, n);
        break;
    }
    case 8:
        gd_begin(c, VIREO_VIRTIO_GPU_CMD_GET_EDID);
        gd_u32(c, in8() % 3u);
        gd_u32(c, 0);
        break;
    case 9:
    case 10:
        gd_begin(c, what == 9 ? VIREO_VIRTIO_GPU_CMD_GET_CAPSET_INFO
                              : VIREO_VIRTIO_GPU_CMD_GET_CAPSET);
        gd_u32(c, in8());
        gd_u32(c, in8());
        break;
    case 11:
    case 12: {
        uint32_t scanout = in8() % 3u, x = in_coord(), y = in_coord(), id = in_id();
        uint32_t hot_x = in8() % 70u, hot_y = in8() % 70u;
        gd_cursor_cmd(
            c, what == 11 ? VIREO_VIRTIO_GPU_CMD_UPDATE_CURSOR : VIREO_VIRTIO_GPU_CMD_MOVE_CURSOR,
            scanout, (int32_t)x, (int32_t)y, id, hot_x, hot_y);
        break;
    }
    case 13:
        /* 3D commands, refused without VIRTIO_GPU_F_VIRGL. */
        gd_begin(c, VIREO_VIRTIO_GPU_CMD_CTX_CREATE + in8() % 8u);
        gd_u32(c, in32());
        gd_u32(c, in32());
        break;
    default: {
        /* Anything: a type and bytes after the header. */
        unsigned n = in8() % 64;
        gd_begin(c, in8() < 0x80 ? 0x100u + in8() : in32());
        for (unsigned i = 0; i < n; i++) {
            uint8_t v = in8();
            gd_bytes(c, &v, 1);
        }
        break;
    }
    }
}

static const size_t resp_sizes[8] = { HDR, 64, SZ_DISPLAY, SZ_EDID_RESP, 0, 8, HDR - 1, 4096 };

/* Op: a command (see the top). */
static void op_command(unsigned what)
{
    uint8_t flags = in8();
    unsigned queue =
        (what == 11 || what == 12) ? VIREO_VIRTIO_GPU_CURSORQ : VIREO_VIRTIO_GPU_CONTROLQ;
    size_t resp_len = resp_sizes[(flags >> 3) & 7];
    size_t len, split = 0;
    GdCmd c;
    Sent *s;
    TestBuf bufs[3];
    unsigned n = 0, slot;
    uint64_t cmd_addr, resp_addr;

    if (flags & 2) {
        queue ^= 1;
    }
    build(&c, what);
    if (flags & 1) {
        uint64_t fence = in64();
        gd_fence(&c, fence, in8());
    }
    len = c.len;
    if (flags & 4) {
        len = in8() % (c.len + 1); /* cut short */
    }
    if (flags & 0x40) {
        split = in8() % (len + 1);
    }
    if (len == 0 && resp_len == 0) {
        resp_len = HDR; /* a chain needs a buffer */
    }
    if (G.n_batch > 0 && G.batch_queue != queue) {
        send_batch();
    }
    G.batch_queue = queue;
    slot = G.d.next_slot++ % GD_SLOTS;
    cmd_addr = GD_CMDS + (uint64_t)slot * GD_SLOT_SIZE;
    resp_addr = GD_RESPS + (uint64_t)slot * GD_SLOT_SIZE;
    memcpy(gpa(&G.d.h, cmd_addr), c.buf, len);
    memset(gpa(&G.d.h, resp_addr), 0xee, GD_SLOT_SIZE);
    if (split > 0 && split < len) {
        bufs[n++] = (TestBuf){ cmd_addr, (uint32_t)split, false };
        bufs[n++] = (TestBuf){ cmd_addr + split, (uint32_t)(len - split), false };
    } else if (len > 0) {
        bufs[n++] = (TestBuf){ cmd_addr, (uint32_t)len, false };
    }
    if (resp_len > 0) {
        bufs[n++] = (TestBuf){ resp_addr, (uint32_t)resp_len, true };
    }
    s = &G.batch[G.n_batch++];
    *s = (Sent){
        .slot = slot,
        .head = drv_add(&G.d.h, &G.d.q[queue], bufs, n),
        .cmd_type = len >= 4 ? get32le(c.buf) : 0,
        .flags = len >= HDR ? get32le(c.buf + 4) : 0,
        .fence_id = get64le(c.buf + 8),
        .ctx_id = get32le(c.buf + 16),
        .expect = predict(queue, c.buf, len),
        .resp_len = resp_len,
    };
    if ((flags & 0x80) || G.n_batch == MAX_BATCH) {
        send_batch();
    }
}

/* ---- the device's life --------------------------------------------------- */

static void start(void)
{
    uint64_t features = G.edid ? 1ull << VIREO_VIRTIO_GPU_F_EDID : 0;

    reg_write(&G.d.h, VIREO_VIRTIO_MMIO_STATUS, 0);
    model_reset();
    gd_start(&G.d, features);
    G.seen[0] = G.seen[1] = 0;
    G.n_batch = 0;
}

/* Op: the host's side, or a reset: a size request for an output, frames
 * taken, events_read and events_clear, a reset. */
static void op_host(void)
{
    uint8_t what = in8();

    send_batch();
    switch (what % 4) {
    case 0: {
        unsigned i = (what >> 2) % N_SCANOUTS;
        int w = (int16_t)in16(), h = (int16_t)in16();
        vireo_scanout_request_size(vireo_virtio_gpu_get_scanout(G.dev, i), w, h);
        w = MIN(w, VIREO_SCANOUT_MAX_SIZE);
        h = MIN(h, VIREO_SCANOUT_MAX_SIZE);
        if (w > 0 && h > 0 && (w != G.pref_w[i] || h != G.pref_h[i])) {
            G.pref_w[i] = w;
            G.pref_h[i] = h;
            G.event = true;
        }
        break;
    }
    case 1: check_frames(); break;
    case 2: {
        uint32_t clear = in32();
        if ((uint32_t)cfg_read(&G.d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_READ, 4) !=
            (G.event ? VIREO_VIRTIO_GPU_EVENT_DISPLAY : 0)) {
            fail("events_read is %#x", (uint32_t)cfg_read(&G.d.h, 0, 4));
        }
        cfg_write(&G.d.h, VIREO_VIRTIO_GPU_CFG_EVENTS_CLEAR, 4, clear);
        if (clear & VIREO_VIRTIO_GPU_EVENT_DISPLAY) {
            G.event = false;
        }
        break;
    }
    default:
        G.edid = (what >> 2) & 1;
        start();
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (G.dev == NULL) {
        VireoVirtioGpuConfig config;

        harness_init(&G.d.h);
        vireo_virtio_gpu_config_init(&config);
        config.n_scanouts = N_SCANOUTS;
        config.width = PREF_W;
        config.height = PREF_H;
        G.dev = vireo_virtio_gpu_new(G.d.h.bus, &config);
        harness_attach(&G.d.h, G.dev);
        for (unsigned i = 0; i < N_SCANOUTS; i++) {
            G.presenter[i] =
                vireo_scanout_attach(vireo_virtio_gpu_get_scanout(G.dev, i), NULL, NULL);
        }
        G.res = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    }
    G.in = (Input){ data, size };
    /* The preferred modes go back to the device's own with every input:
     * a new size request per output. */
    for (unsigned i = 0; i < N_SCANOUTS; i++) {
        vireo_scanout_request_size(vireo_virtio_gpu_get_scanout(G.dev, i), PREF_W, PREF_H);
        G.pref_w[i] = PREF_W;
        G.pref_h[i] = PREF_H;
    }
    G.edid = true;
    start();
    while (G.in.left > 0) {
        uint8_t op = in8();
        if (op % 17 == 16) {
            op_host();
        } else {
            op_command(op % 17);
        }
    }
    send_batch();
    /* A reset leaves nothing behind: the outputs are off and a plain
     * command works. */
    start();
    op_command(0); /* flags 0 (input exhausted): GET_DISPLAY_INFO, 24-byte response */
    send_batch();
    for (unsigned i = 0; i < N_SCANOUTS; i++) {
        VireoScanoutFrame frame;
        VireoScanout *scanout = vireo_virtio_gpu_get_scanout(G.dev, i);
        if (vireo_scanout_acquire(scanout, G.presenter[i], &frame)) {
            if (frame.pixels != NULL) {
                fail("output %u is on after a reset", i);
            }
            vireo_scanout_release(scanout, G.presenter[i]);
        }
    }
    reg_write(&G.d.h, VIREO_VIRTIO_MMIO_STATUS, 0);
    return 0;
}
