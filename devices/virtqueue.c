/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "virtio-priv.h"

#include <stdatomic.h>
#include <string.h>

/*
 * Split virtqueues (virtio 1.2, 2.7). Everything the driver wrote is checked
 * before the device relies on it:
 *
 *   - the three areas: aligned (16, 2 and 4 bytes), wholly in guest RAM, the
 *     queue size a power of two no larger than QueueNumMax;
 *   - the available index: at most one queue size ahead of the device;
 *   - heads and `next` fields: below the size of their table;
 *   - chains: at most as many descriptors as their table has (so a loop ends
 *     as an error), no zero-length buffer, every buffer wholly in RAM, no
 *     readable buffer after a writable one;
 *   - indirect tables: only with VIRTIO_F_INDIRECT_DESC, only as the one
 *     descriptor of a chain, a whole number of descriptors, at most
 *     VIREO_VIRTQ_MAX_INDIRECT of them, in RAM, not nested.
 *
 * A violation puts the device in DEVICE_NEEDS_RESET (virtio.c). The guest
 * can change its memory at any time, so every field is read once into a local
 * copy and only the copy is used.
 */

#define DESC_SIZE   16
#define DESC_ALIGN  16
#define AVAIL_ALIGN 2
#define USED_ALIGN  4
#define USED_ELEM   8
#define AVAIL_FLAGS 0
#define AVAIL_IDX   2
#define AVAIL_RING  4
#define USED_FLAGS  0
#define USED_IDX    2
#define USED_RING   4

typedef struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} Desc;

static uint64_t avail_size(uint16_t num)
{
    return AVAIL_RING + 2ull * num + 2; /* flags, idx, ring, used_event */
}

static uint64_t used_size(uint16_t num)
{
    return USED_RING + (uint64_t)USED_ELEM * num + 2; /* flags, idx, ring, avail_event */
}

/* 16-bit fields of the rings: the areas were checked to be aligned, and RAM
 * is mapped page-aligned, so the host addresses are aligned too. */
static uint16_t load16(const guint8 *p)
{
    uint16_t v = __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED);
    return GUINT16_FROM_LE(v);
}

static void store16(guint8 *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)(void *)p, GUINT16_TO_LE(v), __ATOMIC_RELAXED);
}

static void read_desc(const guint8 *table, uint32_t index, Desc *d)
{
    guint8 raw[DESC_SIZE];
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;

    memcpy(raw, table + (gsize)index * DESC_SIZE, DESC_SIZE);
    memcpy(&addr, raw, 8);
    memcpy(&len, raw + 8, 4);
    memcpy(&flags, raw + 12, 2);
    memcpy(&next, raw + 14, 2);
    d->addr = GUINT64_FROM_LE(addr);
    d->len = GUINT32_FROM_LE(len);
    d->flags = GUINT16_FROM_LE(flags);
    d->next = GUINT16_FROM_LE(next);
}

static bool has_feature(VireoVirtio *dev, unsigned bit)
{
    return (dev->driver_features >> bit) & 1;
}

void vireo_virtq_init(VireoVirtq *q, uint16_t max)
{
    memset(q, 0, sizeof *q);
    q->max = max;
    q->num = max;
}

void vireo_virtq_disable(VireoVirtq *q)
{
    q->generation++;
    q->ready = false;
    q->desc = q->avail = NULL;
    q->used = NULL;
    q->last_avail = q->used_idx = q->signalled_used = 0;
    q->signalled_valid = q->pushed = false;
}

void vireo_virtq_reset(VireoVirtq *q)
{
    uint64_t generation = q->generation;

    vireo_virtq_init(q, q->max);
    q->generation = generation + 1;
}

/* Checks the size and the areas of `q` and sets its host views; the reason
 * they are unusable, or NULL. Reads nothing from guest memory. */
static const char *map_areas(VireoVirtio *dev, VireoVirtq *q)
{
    uint16_t num = q->num;

    if (num == 0 || (num & (num - 1)) != 0 || num > q->max) {
        return "queue size is not a power of two up to QueueNumMax";
    }
    if (q->desc_addr % DESC_ALIGN != 0 || q->avail_addr % AVAIL_ALIGN != 0 ||
        q->used_addr % USED_ALIGN != 0) {
        return "queue area not aligned";
    }
    q->desc = vireo_bus_host_ptr(dev->bus, q->desc_addr, (uint64_t)DESC_SIZE * num, true);
    q->avail = vireo_bus_host_ptr(dev->bus, q->avail_addr, avail_size(num), true);
    q->used = vireo_bus_host_ptr(dev->bus, q->used_addr, used_size(num), true);
    if (q->desc == NULL || q->avail == NULL || q->used == NULL) {
        return "queue area outside guest RAM";
    }
    return NULL;
}

const char *vireo_virtq_enable(VireoVirtio *dev, VireoVirtq *q)
{
    const char *error = map_areas(dev, q);

    if (error != NULL) {
        vireo_virtq_disable(q);
        return error;
    }
    q->ready = true;
    q->generation++;
    q->last_avail = q->used_idx = q->signalled_used = 0;
    q->signalled_valid = q->pushed = false;
    return NULL;
}

/* ---- Snapshots ---------------------------------------------------------- */

void vireo_virtq_save(const VireoVirtq *q, uint16_t held, VireoSnapWriter *w)
{
    vireo_snap_put_u16(w, q->max);
    vireo_snap_put_u16(w, q->num);
    vireo_snap_put_bool(w, q->ready);
    vireo_snap_put_u64(w, q->desc_addr);
    vireo_snap_put_u64(w, q->avail_addr);
    vireo_snap_put_u64(w, q->used_addr);
    vireo_snap_put_u16(w, (uint16_t)(q->last_avail - held));
    vireo_snap_put_u16(w, q->used_idx);
    vireo_snap_put_u16(w, q->signalled_used);
    vireo_snap_put_bool(w, q->signalled_valid);
    vireo_snap_put_bool(w, q->pushed);
}

bool vireo_virtq_load(VireoVirtio *dev, const VireoVirtq *q, VireoSnapReader *r, VireoVirtq *out)
{
    uint16_t max = vireo_snap_get_u16(r);
    const char *error;

    vireo_virtq_init(out, q->max);
    out->num = vireo_snap_get_u16(r);
    out->ready = vireo_snap_get_bool(r);
    out->desc_addr = vireo_snap_get_u64(r);
    out->avail_addr = vireo_snap_get_u64(r);
    out->used_addr = vireo_snap_get_u64(r);
    out->last_avail = vireo_snap_get_u16(r);
    out->used_idx = vireo_snap_get_u16(r);
    out->signalled_used = vireo_snap_get_u16(r);
    out->signalled_valid = vireo_snap_get_bool(r);
    out->pushed = vireo_snap_get_bool(r);
    if (vireo_snap_failed(r)) {
        return false;
    }
    if (max != q->max) {
        vireo_snap_fail(r, "a queue has %u entries at most, not %u", max, q->max);
        return false;
    }
    if (!out->ready) {
        /* A disabled queue keeps only what the driver wrote. */
        if (out->last_avail != 0 || out->used_idx != 0 || out->signalled_used != 0 ||
            out->signalled_valid || out->pushed) {
            vireo_snap_fail(r, "a disabled queue has ring positions");
            return false;
        }
        return true;
    }
    error = map_areas(dev, out);
    if (error != NULL) {
        vireo_snap_fail(r, "an enabled queue is unusable: %s", error);
        return false;
    }
    /* The device cannot have taken more chains than the ring holds
     * without returning them. */
    if ((uint16_t)(out->last_avail - out->used_idx) > out->num) {
        vireo_snap_fail(r, "a queue of %u entries has %u chains in flight", out->num,
                        (uint16_t)(out->last_avail - out->used_idx));
        return false;
    }
    return true;
}

/* ---- Chains ------------------------------------------------------------- */

static void chain_append(VireoVirtioChain *c, unsigned *capacity, const VireoVirtioBuf *buf)
{
    unsigned n = c->n_out + c->n_in;

    if (n == *capacity) {
        *capacity = *capacity == 0 ? 8 : *capacity * 2;
        c->bufs = g_renew(VireoVirtioBuf, c->bufs, *capacity);
    }
    c->bufs[n] = *buf;
}

/* Follows the chain from `head`; the reason it is malformed, or NULL. */
static const char *walk_chain(VireoVirtio *dev, VireoVirtq *q, uint16_t head, VireoVirtioChain *c)
{
    const guint8 *table = q->desc;
    uint32_t table_size = q->num; /* entries of the table being walked */
    uint32_t count = 0;
    uint32_t index = head;
    bool indirect = false;
    unsigned capacity = 0;

    for (;;) {
        VireoVirtioBuf buf;
        Desc d;

        if (index >= table_size) {
            return indirect ? "indirect descriptor index out of range"
                            : "descriptor index out of range";
        }
        /* A table of n entries holds no chain longer than n; a longer walk
         * went round a loop. */
        if (++count > table_size) {
            return indirect ? "indirect chain longer than its table"
                            : "descriptor chain longer than the queue";
        }
        read_desc(table, index, &d);
        if (d.flags & VIREO_VIRTQ_DESC_F_INDIRECT) {
            if (!has_feature(dev, VIREO_VIRTIO_F_INDIRECT_DESC)) {
                return "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
            }
            if (indirect) {
                return "nested indirect table";
            }
            if (count != 1 || (d.flags & VIREO_VIRTQ_DESC_F_NEXT)) {
                return "indirect descriptor inside a chain";
            }
            if (d.len == 0 || d.len % DESC_SIZE != 0 ||
                d.len / DESC_SIZE > VIREO_VIRTQ_MAX_INDIRECT) {
                return "bad indirect table length";
            }
            table = vireo_bus_host_ptr(dev->bus, d.addr, d.len, true);
            if (table == NULL) {
                return "indirect table outside guest RAM";
            }
            table_size = d.len / DESC_SIZE;
            indirect = true;
            count = 0;
            index = 0;
            continue;
        }
        if (d.len == 0) {
            return "zero-length buffer";
        }
        buf.addr = d.addr;
        buf.len = d.len;
        buf.host = vireo_bus_host_ptr(dev->bus, d.addr, d.len, true);
        if (buf.host == NULL) {
            return "buffer outside guest RAM";
        }
        if (d.flags & VIREO_VIRTQ_DESC_F_WRITE) {
            chain_append(c, &capacity, &buf);
            c->n_in++;
            c->in_len += d.len;
        } else {
            if (c->n_in > 0) {
                return "device-readable buffer after a device-writable one";
            }
            chain_append(c, &capacity, &buf);
            c->n_out++;
            c->out_len += d.len;
        }
        if (!(d.flags & VIREO_VIRTQ_DESC_F_NEXT)) {
            return NULL;
        }
        index = d.next;
    }
}

void vireo_virtio_chain_clear(VireoVirtioChain *chain)
{
    g_free(chain->bufs);
    memset(chain, 0, sizeof *chain);
}

/* avail_event: the available index at which the device wants the next
 * notification (with VIRTIO_F_EVENT_IDX). */
static void set_avail_event(VireoVirtio *dev, VireoVirtq *q, uint16_t value)
{
    uint64_t off = USED_RING + (uint64_t)USED_ELEM * q->num;

    store16(q->used + off, value);
    vireo_bus_note_ram_write(dev->bus, q->used_addr + off, 2);
}

/* How many entries the driver made available: false when the index ran
 * further ahead than the queue size. */
static bool avail_pending(VireoVirtio *dev, VireoVirtq *q, uint16_t *pending)
{
    uint16_t idx = load16(q->avail + AVAIL_IDX);

    /* The ring entries and descriptors are read after the index. */
    atomic_thread_fence(memory_order_acquire);
    *pending = (uint16_t)(idx - q->last_avail);
    if (*pending > q->num) {
        vireo_virtio_set_needs_reset_locked(dev, "available index too far ahead");
        return false;
    }
    return true;
}

bool vireo_virtio_pop_locked(VireoVirtio *dev, unsigned index, VireoVirtioChain *chain)
{
    VireoVirtq *q = index < dev->ops->n_queues ? &dev->queues[index] : NULL;
    bool event_idx = has_feature(dev, VIREO_VIRTIO_F_EVENT_IDX);
    const char *error;
    uint16_t pending, head;

    memset(chain, 0, sizeof *chain);
    if (q == NULL || !q->ready || !vireo_virtio_is_running_locked(dev) || dev->paused) {
        return false;
    }
    if (!avail_pending(dev, q, &pending)) {
        return false;
    }
    if (pending == 0) {
        if (!event_idx) {
            return false;
        }
        /* Ask to be notified of the next entry, then look again: the driver
         * may have added one before it could see the request. */
        set_avail_event(dev, q, q->last_avail);
        atomic_thread_fence(memory_order_seq_cst);
        if (!avail_pending(dev, q, &pending) || pending == 0) {
            return false;
        }
    }
    head = load16(q->avail + AVAIL_RING + 2u * (q->last_avail & (q->num - 1)));
    error = head < q->num ? walk_chain(dev, q, head, chain) : "descriptor index out of range";
    if (error != NULL) {
        vireo_virtio_chain_clear(chain);
        vireo_virtio_set_needs_reset_locked(dev, error);
        return false;
    }
    q->last_avail++;
    if (event_idx) {
        set_avail_event(dev, q, q->last_avail);
    }
    chain->queue = index;
    chain->head = head;
    chain->epoch = dev->epoch;
    chain->generation = q->generation;
    return true;
}

bool vireo_virtio_chain_is_current_locked(VireoVirtio *dev, const VireoVirtioChain *chain)
{
    const VireoVirtq *q;

    if (chain->bufs == NULL || chain->epoch != dev->epoch || chain->queue >= dev->ops->n_queues ||
        !vireo_virtio_is_running_locked(dev)) {
        return false;
    }
    /* The driver may have disabled the queue and enabled it again since:
     * the chain is no longer its. */
    q = &dev->queues[chain->queue];
    return q->ready && q->generation == chain->generation;
}

void vireo_virtio_push_locked(VireoVirtio *dev, VireoVirtioChain *chain, uint32_t written)
{
    VireoVirtq *q;
    uint64_t off;
    guint8 elem[USED_ELEM];
    uint32_t id, len;

    if (!vireo_virtio_chain_is_current_locked(dev, chain)) {
        vireo_virtio_chain_clear(chain);
        return;
    }
    q = &dev->queues[chain->queue];
    id = GUINT32_TO_LE((uint32_t)chain->head);
    len = GUINT32_TO_LE((uint32_t)MIN((uint64_t)written, chain->in_len));
    memcpy(elem, &id, 4);
    memcpy(elem + 4, &len, 4);
    off = USED_RING + (uint64_t)USED_ELEM * (q->used_idx & (q->num - 1));
    memcpy(q->used + off, elem, sizeof elem);
    vireo_bus_note_ram_write(dev->bus, q->used_addr + off, sizeof elem);
    /* The element is visible before the index that publishes it. */
    atomic_thread_fence(memory_order_release);
    q->used_idx++;
    store16(q->used + USED_IDX, q->used_idx);
    vireo_bus_note_ram_write(dev->bus, q->used_addr + USED_IDX, 2);
    q->pushed = true;
    vireo_virtio_chain_clear(chain);
}

/* vring_need_event() of the specification (2.7.10): whether the used index
 * moving from `old` to `new` passed `event`. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

void vireo_virtio_notify_locked(VireoVirtio *dev, unsigned index)
{
    VireoVirtq *q = index < dev->ops->n_queues ? &dev->queues[index] : NULL;
    bool notify;

    if (q == NULL || !q->ready || !q->pushed || !vireo_virtio_is_running_locked(dev)) {
        return;
    }
    q->pushed = false;
    /* The used index is published before the driver's fields are read. */
    atomic_thread_fence(memory_order_seq_cst);
    if (has_feature(dev, VIREO_VIRTIO_F_EVENT_IDX)) {
        uint16_t used_event = load16(q->avail + AVAIL_RING + 2u * q->num);
        uint16_t old_idx = q->signalled_used;
        bool valid = q->signalled_valid;

        q->signalled_used = q->used_idx;
        q->signalled_valid = true;
        notify = !valid || need_event(used_event, q->used_idx, old_idx);
    } else {
        notify = !(load16(q->avail + AVAIL_FLAGS) & VIREO_VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    if (notify) {
        vireo_virtio_raise_isr_locked(dev, VIREO_VIRTIO_ISR_QUEUE);
    }
}

/* ---- Copying in and out of chains -------------------------------------- */

gsize vireo_virtio_chain_read_locked(VireoVirtio *dev, const VireoVirtioChain *chain,
                                     uint64_t offset, void *data, gsize len)
{
    guint8 *out = data;
    gsize done = 0;

    if (!vireo_virtio_chain_is_current_locked(dev, chain)) {
        return 0;
    }
    for (unsigned i = 0; i < chain->n_out && done < len; i++) {
        const VireoVirtioBuf *b = &chain->bufs[i];
        gsize n;

        if (offset >= b->len) {
            offset -= b->len;
            continue;
        }
        n = MIN(len - done, (gsize)(b->len - offset));
        memcpy(out + done, b->host + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}

gsize vireo_virtio_chain_write_locked(VireoVirtio *dev, const VireoVirtioChain *chain,
                                      uint64_t offset, const void *data, gsize len)
{
    const guint8 *in = data;
    gsize done = 0;

    if (!vireo_virtio_chain_is_current_locked(dev, chain)) {
        return 0;
    }
    for (unsigned i = chain->n_out; i < chain->n_out + chain->n_in && done < len; i++) {
        const VireoVirtioBuf *b = &chain->bufs[i];
        gsize n;

        if (offset >= b->len) {
            offset -= b->len;
            continue;
        }
        n = MIN(len - done, (gsize)(b->len - offset));
        memcpy(b->host + offset, in + done, n);
        vireo_bus_note_ram_write(dev->bus, b->addr + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}
