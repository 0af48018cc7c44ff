/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virtio-blk.h"

#include <errno.h>
#include <string.h>

#define SECTOR      512u
#define HEADER_SIZE 16 /* type, reserved, sector */
#define SEGMENT     16 /* sector, num_sectors, flags */
#define DWZ_UNMAP   1u

typedef struct {
    VireoVirtio *dev;
    VireoBlock *block;
    uint64_t capacity; /* sectors */
    guint flags;       /* the back end's capabilities */
    char id[VIREO_VIRTIO_BLK_ID_BYTES];
    guint8 *bounce;
    GThread *thread;
    GCond cond;
    bool kicked; /* the request queue may have work */
    bool quit;
    bool busy;  /* the worker holds a request */
    GCond idle; /* signalled when it is done with it */
} Blk;

static uint64_t blk_get_features(void *model)
{
    Blk *b = model;
    uint64_t f = (1ull << VIREO_VIRTIO_BLK_F_SEG_MAX) | (1ull << VIREO_VIRTIO_BLK_F_BLK_SIZE) |
                 (1ull << VIREO_VIRTIO_BLK_F_FLUSH);

    if (b->flags & VIREO_BLOCK_READ_ONLY) {
        f |= 1ull << VIREO_VIRTIO_BLK_F_RO;
    } else {
        if (b->flags & VIREO_BLOCK_DISCARD) {
            f |= 1ull << VIREO_VIRTIO_BLK_F_DISCARD;
        }
        if (b->flags & VIREO_BLOCK_WRITE_ZEROES) {
            f |= 1ull << VIREO_VIRTIO_BLK_F_WRITE_ZEROES;
        }
    }
    return f;
}

static void put32(guint8 *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static void blk_get_config(void *model, guint8 *config)
{
    Blk *b = model;
    uint64_t capacity = GUINT64_TO_LE(b->capacity);

    memset(config, 0, VIREO_VIRTIO_BLK_CONFIG_SIZE);
    memcpy(config + VIREO_VIRTIO_BLK_CFG_CAPACITY, &capacity, 8);
    put32(config + VIREO_VIRTIO_BLK_CFG_SEG_MAX, VIREO_VIRTIO_BLK_SEG_MAX);
    put32(config + VIREO_VIRTIO_BLK_CFG_BLK_SIZE, SECTOR);
    if (!(b->flags & VIREO_BLOCK_READ_ONLY) && (b->flags & VIREO_BLOCK_DISCARD)) {
        put32(config + VIREO_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, VIREO_VIRTIO_BLK_MAX_DWZ_SECT);
        put32(config + VIREO_VIRTIO_BLK_CFG_MAX_DISCARD_SEG, VIREO_VIRTIO_BLK_MAX_DWZ_SEG);
        put32(config + VIREO_VIRTIO_BLK_CFG_DISCARD_ALIGNMENT, 4096 / SECTOR);
    }
    if (!(b->flags & VIREO_BLOCK_READ_ONLY) && (b->flags & VIREO_BLOCK_WRITE_ZEROES)) {
        put32(config + VIREO_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS,
              VIREO_VIRTIO_BLK_MAX_DWZ_SECT);
        put32(config + VIREO_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG, VIREO_VIRTIO_BLK_MAX_DWZ_SEG);
        config[VIREO_VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP] =
            (b->flags & VIREO_BLOCK_DISCARD) ? 1 : 0;
    }
}

/* Called on a vCPU thread: only wakes the worker. */
static void blk_queue_notify(void *model, unsigned queue)
{
    Blk *b = model;

    b->kicked = true;
    g_cond_signal(&b->cond);
}

/* Whatever the worker is doing belongs to the old epoch: it notices when it
 * takes the lock again. */
static void blk_reset(void *model)
{
    Blk *b = model;
    b->kicked = false;
}

/* ---- Requests, on the worker thread ------------------------------------ */

/* What became of a request. */
typedef enum {
    DONE,    /* status set: write it and push the chain */
    DROPPED, /* the device was reset meanwhile: forget the chain */
} Outcome;

static bool sectors_ok(Blk *b, uint64_t sector, uint64_t n)
{
    return sector <= b->capacity && n <= b->capacity - sector;
}

static bool has_feature(Blk *b, unsigned bit)
{
    return (vireo_virtio_get_features_locked(b->dev) >> bit) & 1;
}

/* IN: sectors into the writable part, in front of the status byte. */
static Outcome blk_read(Blk *b, VireoVirtioChain *c, uint64_t sector, guint8 *status,
                        uint64_t *written)
{
    uint64_t len = c->in_len - 1;

    if (len % SECTOR != 0 || !sectors_ok(b, sector, len / SECTOR)) {
        *status = VIREO_VIRTIO_BLK_S_IOERR;
        return DONE;
    }
    for (uint64_t done = 0; done < len;) {
        gsize n = (gsize)MIN(len - done, (uint64_t)VIREO_VIRTIO_BLK_CHUNK);
        struct iovec iov = { b->bounce, n };
        int err;

        vireo_virtio_unlock(b->dev);
        err = vireo_block_preadv(b->block, &iov, 1, sector * SECTOR + done);
        vireo_virtio_lock(b->dev);
        if (!vireo_virtio_chain_is_current_locked(b->dev, c)) {
            return DROPPED;
        }
        if (err < 0) {
            *status = VIREO_VIRTIO_BLK_S_IOERR;
            return DONE;
        }
        vireo_virtio_chain_write_locked(b->dev, c, done, b->bounce, n);
        done += n;
        *written = done;
    }
    *status = VIREO_VIRTIO_BLK_S_OK;
    return DONE;
}

/* OUT: the readable part after the header onto the disk. */
static Outcome blk_write(Blk *b, VireoVirtioChain *c, uint64_t sector, guint8 *status)
{
    uint64_t len = c->out_len - HEADER_SIZE;

    if ((b->flags & VIREO_BLOCK_READ_ONLY) || len % SECTOR != 0 ||
        !sectors_ok(b, sector, len / SECTOR)) {
        *status = VIREO_VIRTIO_BLK_S_IOERR;
        return DONE;
    }
    for (uint64_t done = 0; done < len;) {
        gsize n = (gsize)MIN(len - done, (uint64_t)VIREO_VIRTIO_BLK_CHUNK);
        struct iovec iov = { b->bounce, n };
        int err;

        if (vireo_virtio_chain_read_locked(b->dev, c, HEADER_SIZE + done, b->bounce, n) != n) {
            return DROPPED;
        }
        vireo_virtio_unlock(b->dev);
        err = vireo_block_pwritev(b->block, &iov, 1, sector * SECTOR + done);
        vireo_virtio_lock(b->dev);
        if (!vireo_virtio_chain_is_current_locked(b->dev, c)) {
            return DROPPED;
        }
        if (err < 0) {
            *status = VIREO_VIRTIO_BLK_S_IOERR;
            return DONE;
        }
        done += n;
    }
    *status = VIREO_VIRTIO_BLK_S_OK;
    return DONE;
}

static Outcome blk_flush(Blk *b, VireoVirtioChain *c, guint8 *status)
{
    int err;

    vireo_virtio_unlock(b->dev);
    err = vireo_block_flush(b->block);
    vireo_virtio_lock(b->dev);
    if (!vireo_virtio_chain_is_current_locked(b->dev, c)) {
        return DROPPED;
    }
    *status = err < 0 ? VIREO_VIRTIO_BLK_S_IOERR : VIREO_VIRTIO_BLK_S_OK;
    return DONE;
}

/* DISCARD and WRITE_ZEROES: a list of segments after the header. */
static Outcome blk_discard_zeroes(Blk *b, VireoVirtioChain *c, uint32_t type, guint8 *status)
{
    bool discard = type == VIREO_VIRTIO_BLK_T_DISCARD;
    guint8 raw[VIREO_VIRTIO_BLK_MAX_DWZ_SEG * SEGMENT];
    uint64_t len = c->out_len - HEADER_SIZE;
    unsigned n = (unsigned)(len / SEGMENT);
    int err = 0;

    if (!has_feature(b, discard ? VIREO_VIRTIO_BLK_F_DISCARD : VIREO_VIRTIO_BLK_F_WRITE_ZEROES)) {
        *status = VIREO_VIRTIO_BLK_S_UNSUPP;
        return DONE;
    }
    if (len == 0 || len % SEGMENT != 0 || len > sizeof raw) {
        *status = VIREO_VIRTIO_BLK_S_IOERR;
        return DONE;
    }
    vireo_virtio_chain_read_locked(b->dev, c, HEADER_SIZE, raw, (gsize)len);
    /* Unknown flags, and unmap on a discard, are unsupported; a range off
     * the disk is an error. Nothing is done unless every segment is fine. */
    for (unsigned i = 0; i < n; i++) {
        uint64_t sector;
        uint32_t count, flags;

        memcpy(&sector, raw + i * SEGMENT, 8);
        memcpy(&count, raw + i * SEGMENT + 8, 4);
        memcpy(&flags, raw + i * SEGMENT + 12, 4);
        sector = GUINT64_FROM_LE(sector);
        count = GUINT32_FROM_LE(count);
        flags = GUINT32_FROM_LE(flags);
        if ((flags & ~DWZ_UNMAP) != 0 || (discard && (flags & DWZ_UNMAP))) {
            *status = VIREO_VIRTIO_BLK_S_UNSUPP;
            return DONE;
        }
        if (count > VIREO_VIRTIO_BLK_MAX_DWZ_SECT || !sectors_ok(b, sector, count)) {
            *status = VIREO_VIRTIO_BLK_S_IOERR;
            return DONE;
        }
    }
    vireo_virtio_unlock(b->dev);
    for (unsigned i = 0; i < n && err == 0; i++) {
        uint64_t sector;
        uint32_t count, flags;

        memcpy(&sector, raw + i * SEGMENT, 8);
        memcpy(&count, raw + i * SEGMENT + 8, 4);
        memcpy(&flags, raw + i * SEGMENT + 12, 4);
        sector = GUINT64_FROM_LE(sector);
        count = GUINT32_FROM_LE(count);
        flags = GUINT32_FROM_LE(flags);
        if (count == 0) {
            continue;
        }
        /* Hole punching reads back as zeros, so it serves discard and an
         * unmapping write-zeroes; otherwise the range is zeroed in place. */
        if (discard || ((flags & DWZ_UNMAP) && (b->flags & VIREO_BLOCK_DISCARD))) {
            err = vireo_block_discard(b->block, sector * SECTOR, (uint64_t)count * SECTOR);
        } else {
            err = vireo_block_write_zeroes(b->block, sector * SECTOR, (uint64_t)count * SECTOR);
        }
    }
    vireo_virtio_lock(b->dev);
    if (!vireo_virtio_chain_is_current_locked(b->dev, c)) {
        return DROPPED;
    }
    *status = err < 0 ? VIREO_VIRTIO_BLK_S_IOERR : VIREO_VIRTIO_BLK_S_OK;
    return DONE;
}

/* Serves one request; the lock is held on entry and on return. */
static void blk_handle(Blk *b, VireoVirtioChain *c)
{
    guint8 header[HEADER_SIZE];
    guint8 status = VIREO_VIRTIO_BLK_S_IOERR;
    uint64_t written = 0; /* bytes written in front of the status byte */
    uint32_t type;
    uint64_t sector;
    Outcome outcome = DONE;

    /* The status byte is the last writable byte; without one, nothing can
     * be reported. */
    if (c->in_len == 0) {
        vireo_virtio_chain_clear(c);
        vireo_virtio_set_needs_reset_locked(b->dev, "block request without a status byte");
        return;
    }
    if (vireo_virtio_chain_read_locked(b->dev, c, 0, header, HEADER_SIZE) == HEADER_SIZE) {
        memcpy(&type, header, 4);
        memcpy(&sector, header + 8, 8);
        type = GUINT32_FROM_LE(type);
        sector = GUINT64_FROM_LE(sector);
        switch (type) {
        case VIREO_VIRTIO_BLK_T_IN: outcome = blk_read(b, c, sector, &status, &written); break;
        case VIREO_VIRTIO_BLK_T_OUT: outcome = blk_write(b, c, sector, &status); break;
        case VIREO_VIRTIO_BLK_T_FLUSH: outcome = blk_flush(b, c, &status); break;
        case VIREO_VIRTIO_BLK_T_GET_ID:
            written = MIN(c->in_len - 1, (uint64_t)VIREO_VIRTIO_BLK_ID_BYTES);
            vireo_virtio_chain_write_locked(b->dev, c, 0, b->id, (gsize)written);
            status = VIREO_VIRTIO_BLK_S_OK;
            break;
        case VIREO_VIRTIO_BLK_T_DISCARD:
        case VIREO_VIRTIO_BLK_T_WRITE_ZEROES:
            outcome = blk_discard_zeroes(b, c, type, &status);
            break;
        default: status = VIREO_VIRTIO_BLK_S_UNSUPP; break;
        }
    }
    if (outcome == DROPPED) {
        vireo_virtio_chain_clear(c);
        return;
    }
    vireo_virtio_chain_write_locked(b->dev, c, c->in_len - 1, &status, 1);
    vireo_virtio_push_locked(b->dev, c, (uint32_t)MIN(written + 1, (uint64_t)G_MAXUINT32));
    vireo_virtio_notify_locked(b->dev, 0);
}

static gpointer blk_worker(gpointer data)
{
    Blk *b = data;
    VireoVirtioChain chain;

    vireo_virtio_lock(b->dev);
    while (!b->quit) {
        if (b->kicked && vireo_virtio_pop_locked(b->dev, 0, &chain)) {
            b->busy = true;
            blk_handle(b, &chain);
            b->busy = false;
            g_cond_broadcast(&b->idle);
            continue;
        }
        /* While paused nothing is taken; what the driver queued waits. */
        if (!vireo_virtio_is_paused_locked(b->dev)) {
            b->kicked = false;
        }
        vireo_virtio_wait_locked(b->dev, &b->cond);
    }
    vireo_virtio_unlock(b->dev);
    return NULL;
}

/* The device takes no request any more: let the worker finish the one it
 * has (as a drained block layer would), so that every request taken is
 * complete and nothing touches guest memory until resume. */
static void blk_pause(void *model)
{
    Blk *b = model;

    vireo_virtio_lock(b->dev);
    while (b->busy) {
        vireo_virtio_wait_locked(b->dev, &b->idle);
    }
    vireo_virtio_unlock(b->dev);
}

/* The disk's contents are the image's, saved apart from the machine. The
 * device keeps only its size, so that the state goes to the same disk. */
#define BLK_STATE_VERSION 1

typedef struct {
    uint64_t capacity; /* checked to be this disk's */
} BlkLoad;

static bool blk_save(void *model, VireoSnapWriter *w, GError **error)
{
    Blk *b = model;

    vireo_snap_put_u32(w, BLK_STATE_VERSION);
    vireo_snap_put_u64(w, b->capacity);
    return true;
}

static void *blk_load(void *model, VireoSnapReader *r)
{
    Blk *b = model;
    uint32_t version = vireo_snap_get_u32(r);
    uint64_t capacity = vireo_snap_get_u64(r);
    BlkLoad *load;

    if (vireo_snap_failed(r)) {
        return NULL;
    }
    if (version != BLK_STATE_VERSION) {
        vireo_snap_fail(r, "the disk's layout version %u is not %u", version, BLK_STATE_VERSION);
        return NULL;
    }
    if (capacity != b->capacity) {
        vireo_snap_fail(r,
                        "the saved disk had %" G_GUINT64_FORMAT " sectors, this one has "
                        "%" G_GUINT64_FORMAT,
                        capacity, b->capacity);
        return NULL;
    }
    load = g_new0(BlkLoad, 1);
    load->capacity = capacity;
    return load;
}

/* Nothing was in flight (the device was paused); the worker looks at the
 * queue when the device resumes. */
static void blk_apply(void *model, void *state)
{
    Blk *b = model;

    b->kicked = false;
    g_free(state);
}

static void blk_discard(void *model, void *state)
{
    g_free(state);
}

static void blk_free(void *model)
{
    Blk *b = model;

    vireo_virtio_lock(b->dev);
    b->quit = true;
    g_cond_signal(&b->cond);
    vireo_virtio_unlock(b->dev);
    g_thread_join(b->thread);
    g_cond_clear(&b->cond);
    g_cond_clear(&b->idle);
    vireo_block_free(b->block);
    g_free(b->bounce);
    g_free(b);
}

static const VireoVirtioModelOps blk_ops = {
    .name = "virtio-blk",
    .device_id = VIREO_VIRTIO_ID_BLOCK,
    .n_queues = 1,
    .queue_size = VIREO_VIRTIO_BLK_QUEUE_SIZE,
    .config_size = VIREO_VIRTIO_BLK_CONFIG_SIZE,
    .get_features = blk_get_features,
    .get_config = blk_get_config,
    .queue_notify = blk_queue_notify,
    .reset = blk_reset,
    .free = blk_free,
    .pause = blk_pause,
    .save = blk_save,
    .load = blk_load,
    .apply = blk_apply,
    .discard = blk_discard,
};

VireoVirtio *vireo_virtio_blk_new(VireoBus *bus, VireoBlock *block)
{
    Blk *b = g_new0(Blk, 1);
    const char *name = vireo_block_get_name(block);

    b->block = block;
    b->capacity = vireo_block_get_size(block) / SECTOR;
    b->flags = vireo_block_get_flags(block);
    /* The identifier: the image's name, NUL-padded to 20 bytes. */
    memcpy(b->id, name, MIN(strlen(name), sizeof b->id));
    b->bounce = g_malloc(VIREO_VIRTIO_BLK_CHUNK);
    g_cond_init(&b->cond);
    g_cond_init(&b->idle);
    b->dev = vireo_virtio_new(bus, &blk_ops, b);
    b->thread = g_thread_new("virtio-blk", blk_worker, b);
    return b->dev;
}
