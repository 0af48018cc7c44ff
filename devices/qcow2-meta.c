/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qcow2 metadata: the caches of L2 tables and refcount blocks, reference
 * counts, cluster allocation, the growth of the L1 and refcount tables, and
 * the order in which changed metadata reaches the file (docs/QCOW2.md,
 * "Crash safety").
 */
#include "qcow2-priv.h"

#include <errno.h>
#include <stdlib.h>

/* ---- Caches ------------------------------------------------------------------------ */

void qcow2_cache_init(Qcow2Cache *c, guint capacity, bool is_l2)
{
    c->slots = g_new0(Qcow2Slot, capacity);
    c->capacity = capacity;
    c->map = g_hash_table_new(g_int64_hash, g_int64_equal);
    g_queue_init(&c->lru);
    c->dirty = g_ptr_array_new();
    c->is_l2 = is_l2;
    for (guint i = 0; i < capacity; i++) {
        c->slots[i].link.data = &c->slots[i];
        g_queue_push_tail_link(&c->lru, &c->slots[i].link);
    }
}

void qcow2_cache_destroy(Qcow2Cache *c)
{
    if (c->slots == NULL) {
        return;
    }
    for (guint i = 0; i < c->capacity; i++) {
        g_free(c->slots[i].data);
    }
    g_free(c->slots);
    g_hash_table_destroy(c->map);
    g_ptr_array_free(c->dirty, TRUE);
    memset(c, 0, sizeof *c);
}

static void cache_touch(Qcow2Cache *c, Qcow2Slot *s)
{
    g_queue_unlink(&c->lru, &s->link);
    g_queue_push_head_link(&c->lru, &s->link);
}

Qcow2Slot *qcow2_cache_find(Qcow2Cache *c, uint64_t offset)
{
    return g_hash_table_lookup(c->map, &offset);
}

void qcow2_cache_mark_dirty(Qcow2Cache *c, Qcow2Slot *s)
{
    if (!s->dirty) {
        s->dirty = true;
        g_ptr_array_add(c->dirty, s);
    }
}

void qcow2_cache_forget(Qcow2Cache *c, uint64_t offset)
{
    Qcow2Slot *s = qcow2_cache_find(c, offset);

    if (s == NULL) {
        return;
    }
    g_hash_table_remove(c->map, &s->offset);
    if (s->dirty) {
        g_ptr_array_remove_fast(c->dirty, s);
        s->dirty = false;
    }
    s->offset = 0;
    g_queue_unlink(&c->lru, &s->link);
    g_queue_push_tail_link(&c->lru, &s->link);
}

static void note_written(Qcow2 *q, uint64_t end)
{
    if (end > q->file_end) {
        q->file_end = end;
    }
}

static int write_slot(Qcow2 *q, Qcow2Cache *c, Qcow2Slot *s)
{
    int ret = qcow2_pwrite(q, s->offset, s->data, q->cluster_size);

    if (ret == 0) {
        s->dirty = false;
        note_written(q, s->offset + q->cluster_size);
    }
    return ret;
}

int qcow2_cache_get(Qcow2 *q, Qcow2Cache *c, uint64_t offset, bool load, Qcow2Slot **out)
{
    Qcow2Slot *s = qcow2_cache_find(c, offset);
    GList *l;
    int ret;

    if (s != NULL) {
        if (!load) {
            /* A cluster allocated anew: whatever was cached is stale. */
            memset(s->data, 0, q->cluster_size);
        }
        cache_touch(c, s);
        *out = s;
        return 0;
    }
    for (l = c->lru.tail; l != NULL; l = l->prev) {
        s = l->data;
        if (s->pins == 0) {
            break;
        }
    }
    if (l == NULL) {
        return -ENOMEM;
    }
    if (s->dirty) {
        if (c->is_l2) {
            /* An L2 table reaches the file only after the refcounts of
             * what it points at: everything goes, in order. */
            if (q->in_writeback) {
                return qcow2_corrupt(q, "an L2 table was evicted while metadata was written");
            }
            ret = qcow2_meta_writeback(q);
        } else {
            /* Counts may reach the file early: they never fall below the
             * references the file holds. */
            ret = write_slot(q, c, s);
            if (ret == 0) {
                g_ptr_array_remove_fast(c->dirty, s);
                q->refcounts_unsynced = true;
            }
        }
        if (ret < 0) {
            return ret;
        }
    }
    if (s->offset != 0) {
        g_hash_table_remove(c->map, &s->offset);
        s->offset = 0;
    }
    if (s->data == NULL) {
        s->data = g_malloc(q->cluster_size);
    }
    if (load) {
        ret = qcow2_pread(q, offset, s->data, q->cluster_size);
        if (ret < 0) {
            return ret;
        }
    } else {
        memset(s->data, 0, q->cluster_size);
    }
    s->offset = offset;
    g_hash_table_insert(c->map, &s->offset, s);
    cache_touch(c, s);
    *out = s;
    return 0;
}

static gint slot_by_offset(gconstpointer a, gconstpointer b)
{
    const Qcow2Slot *x = *(Qcow2Slot *const *)a;
    const Qcow2Slot *y = *(Qcow2Slot *const *)b;

    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Writes every dirty slot, in file order. */
static int cache_write_dirty(Qcow2 *q, Qcow2Cache *c, bool *wrote)
{
    int ret = 0;

    *wrote = c->dirty->len > 0;
    g_ptr_array_sort(c->dirty, slot_by_offset);
    while (c->dirty->len > 0) {
        Qcow2Slot *s = g_ptr_array_index(c->dirty, c->dirty->len - 1);

        ret = write_slot(q, c, s);
        if (ret < 0) {
            return ret;
        }
        g_ptr_array_remove_index(c->dirty, c->dirty->len - 1);
    }
    return 0;
}

/* ---- Metadata clusters --------------------------------------------------------------- */

bool qcow2_is_metadata(Qcow2 *q, uint64_t cluster)
{
    return g_hash_table_contains(q->metadata, &cluster);
}

void qcow2_metadata_add(Qcow2 *q, uint64_t offset, uint64_t clusters)
{
    for (uint64_t i = 0; i < clusters; i++) {
        uint64_t *key = g_new(uint64_t, 1);

        *key = (offset >> q->cluster_bits) + i;
        g_hash_table_add(q->metadata, key);
    }
}

void qcow2_metadata_remove(Qcow2 *q, uint64_t offset, uint64_t clusters)
{
    for (uint64_t i = 0; i < clusters; i++) {
        uint64_t key = (offset >> q->cluster_bits) + i;
        g_hash_table_remove(q->metadata, &key);
    }
}

/* ---- Reference counts ------------------------------------------------------------------ */

static uint64_t rb_entry_get(const guint8 *b, uint32_t order, uint64_t i)
{
    switch (order) {
    case 0:
    case 1:
    case 2: {
        uint64_t bit = i << order;
        return (b[bit >> 3] >> (bit & 7)) & ((1u << (1u << order)) - 1);
    }
    case 3: return b[i];
    case 4: return qcow2_be16(b + 2 * i);
    case 5: return qcow2_be32(b + 4 * i);
    default: return qcow2_be64(b + 8 * i);
    }
}

static void rb_entry_set(guint8 *b, uint32_t order, uint64_t i, uint64_t v)
{
    switch (order) {
    case 0:
    case 1:
    case 2: {
        uint64_t bit = i << order;
        guint8 mask = (guint8)(((1u << (1u << order)) - 1) << (bit & 7));
        b[bit >> 3] = (guint8)((b[bit >> 3] & ~mask) | ((v << (bit & 7)) & mask));
        break;
    }
    case 3: b[i] = (guint8)v; break;
    case 4: qcow2_put_be16(b + 2 * i, (uint16_t)v); break;
    case 5: qcow2_put_be32(b + 4 * i, (uint32_t)v); break;
    default: qcow2_put_be64(b + 8 * i, v); break;
    }
}

static void rt_mark_dirty(Qcow2 *q, uint64_t index)
{
    if (q->rt_dirty_lo >= q->rt_dirty_hi) {
        q->rt_dirty_lo = index;
        q->rt_dirty_hi = index + 1;
    } else {
        q->rt_dirty_lo = MIN(q->rt_dirty_lo, index);
        q->rt_dirty_hi = MAX(q->rt_dirty_hi, index + 1);
    }
}

int qcow2_refcount_get(Qcow2 *q, uint64_t cluster, uint64_t *refcount)
{
    uint64_t index = cluster >> q->rb_bits;
    Qcow2Slot *s;
    int ret;

    if (index >= q->rt_entries || q->rt[index] == 0) {
        *refcount = 0;
        return 0;
    }
    ret = qcow2_cache_get(q, &q->rb_cache, q->rt[index], true, &s);
    if (ret < 0) {
        return ret;
    }
    *refcount = rb_entry_get(s->data, q->refcount_order, cluster & ((1ull << q->rb_bits) - 1));
    return 0;
}

/* A bigger refcount table, so that it has an entry for refcount block
 * `index`: written with new refcount blocks for itself where the ranges
 * from `index` on start (they are free, having no refcount block), then
 * the header points at it; the old table is given back. */
static int rt_grow(Qcow2 *q, uint64_t index)
{
    uint64_t per_block = 1ull << q->rb_bits; /* clusters one block counts */
    uint64_t entries_per_cluster = q->cluster_size / 8;
    uint64_t blocks = 1, table_clusters, entries, first, old_offset = q->rt_offset;
    uint32_t old_clusters = q->rt_clusters;
    g_autofree guint8 *buf = NULL;
    g_autofree uint64_t *rt = NULL;
    guint8 header[12];
    int ret;

    /* The new table points at every block: those still in memory go first. */
    ret = qcow2_write_refcounts(q);
    if (ret == 0 && q->refcounts_unsynced) {
        ret = qcow2_sync(q);
        q->refcounts_unsynced = false;
    }
    if (ret < 0) {
        return ret;
    }
    for (;;) {
        entries = MAX(index + blocks, q->rt_entries + q->rt_entries / 2);
        table_clusters = (entries + entries_per_cluster - 1) / entries_per_cluster;
        if (blocks * per_block >= blocks + table_clusters) {
            break;
        }
        blocks++;
    }
    entries = table_clusters * entries_per_cluster;
    first = index * per_block;
    if (table_clusters * q->cluster_size > QCOW2_MAX_REFTABLE_BYTES ||
        ((first + blocks + table_clusters) << q->cluster_bits) > QCOW2_MAX_HOST_OFFSET) {
        return -EFBIG;
    }

    /* The blocks count themselves and the table. */
    buf = g_malloc0(q->cluster_size);
    for (uint64_t b = 0; b < blocks; b++) {
        memset(buf, 0, q->cluster_size);
        for (uint64_t c = 0; c < blocks + table_clusters; c++) {
            if (c / per_block == b) {
                rb_entry_set(buf, q->refcount_order, c % per_block, 1);
            }
        }
        ret = qcow2_pwrite(q, (first + b) << q->cluster_bits, buf, q->cluster_size);
        if (ret < 0) {
            return ret;
        }
    }
    rt = g_new0(uint64_t, entries);
    memcpy(rt, q->rt, q->rt_entries * sizeof *rt);
    for (uint64_t b = 0; b < blocks; b++) {
        rt[index + b] = (first + b) << q->cluster_bits;
    }
    {
        g_autofree guint8 *table = g_malloc0(table_clusters * q->cluster_size);

        for (uint64_t i = 0; i < entries; i++) {
            qcow2_put_be64(table + i * 8, rt[i]);
        }
        ret = qcow2_pwrite(q, (first + blocks) << q->cluster_bits, table,
                           table_clusters * q->cluster_size);
    }
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    if (ret < 0) {
        return ret;
    }
    note_written(q, (first + blocks + table_clusters) << q->cluster_bits);
    q->alloc_end = MAX(q->alloc_end, (first + blocks + table_clusters) << q->cluster_bits);
    qcow2_put_be64(header, (first + blocks) << q->cluster_bits);
    qcow2_put_be32(header + 8, (uint32_t)table_clusters);
    ret = qcow2_pwrite(q, QCOW2_HDR_REFTABLE, header, sizeof header);
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    if (ret < 0) {
        return ret;
    }
    g_free(q->rt);
    q->rt = g_steal_pointer(&rt);
    q->rt_entries = entries;
    q->rt_offset = (first + blocks) << q->cluster_bits;
    q->rt_clusters = (uint32_t)table_clusters;
    q->rt_dirty_lo = q->rt_dirty_hi = 0;
    qcow2_metadata_add(q, first << q->cluster_bits, blocks + table_clusters);
    for (uint32_t i = 0; i < old_clusters; i++) {
        qcow2_release(q, QCOW2_RELEASE_CLUSTER, old_offset + ((uint64_t)i << q->cluster_bits));
    }
    return 0;
}

/* Makes sure a refcount block counts `cluster`; a new one is put in the
 * first cluster of the range it counts (free, as nothing counted it), and
 * *created says so. */
static int rb_ensure(Qcow2 *q, uint64_t cluster, bool *created)
{
    uint64_t index = cluster >> q->rb_bits;
    uint64_t first = index << q->rb_bits;
    Qcow2Slot *s;
    int ret;

    *created = false;
    if (index >= q->rt_entries) {
        if (index > q->rt_entries + 1024) {
            return qcow2_corrupt(q, "a cluster far past the refcount table was to be counted");
        }
        ret = rt_grow(q, index);
        *created = true;
        return ret;
    }
    if (q->rt[index] != 0) {
        return 0;
    }
    if (qcow2_is_metadata(q, first)) {
        return qcow2_corrupt(q, "cluster %" G_GUINT64_FORMAT " holds metadata but is not counted",
                             first);
    }
    ret = qcow2_cache_get(q, &q->rb_cache, first << q->cluster_bits, false, &s);
    if (ret < 0) {
        return ret;
    }
    rb_entry_set(s->data, q->refcount_order, 0, 1);
    qcow2_cache_mark_dirty(&q->rb_cache, s);
    q->rt[index] = first << q->cluster_bits;
    rt_mark_dirty(q, index);
    qcow2_metadata_add(q, first << q->cluster_bits, 1);
    *created = true;
    return 0;
}

/* A cluster nobody references any more: out of the caches and the set of
 * metadata, and free for the allocator. */
static void cluster_freed(Qcow2 *q, uint64_t cluster)
{
    uint64_t offset = cluster << q->cluster_bits;

    qcow2_cache_forget(&q->l2_cache, offset);
    qcow2_cache_forget(&q->rb_cache, offset);
    qcow2_metadata_remove(q, offset, 1);
    if (cluster < q->free_hint) {
        q->free_hint = cluster;
    }
}

int qcow2_refcount_add(Qcow2 *q, uint64_t cluster, int delta, uint64_t *after)
{
    uint64_t index = cluster >> q->rb_bits;
    uint64_t cur, next;
    Qcow2Slot *s;
    bool created;
    int ret;

    if (delta > 0) {
        ret = rb_ensure(q, cluster, &created);
        if (ret < 0) {
            return ret;
        }
    }
    if (index >= q->rt_entries || q->rt[index] == 0) {
        return qcow2_corrupt(q, "the refcount of cluster %" G_GUINT64_FORMAT " would drop below 0",
                             cluster);
    }
    ret = qcow2_cache_get(q, &q->rb_cache, q->rt[index], true, &s);
    if (ret < 0) {
        return ret;
    }
    cur = rb_entry_get(s->data, q->refcount_order, cluster & ((1ull << q->rb_bits) - 1));
    if (delta < 0 && cur < (uint64_t) - (int64_t)delta) {
        return qcow2_corrupt(q, "the refcount of cluster %" G_GUINT64_FORMAT " would drop below 0",
                             cluster);
    }
    if (delta > 0 && q->refcount_max - cur < (uint64_t)delta) {
        return -ERANGE;
    }
    next = delta < 0 ? cur - (uint64_t) - (int64_t)delta : cur + (uint64_t)delta;
    rb_entry_set(s->data, q->refcount_order, cluster & ((1ull << q->rb_bits) - 1), next);
    qcow2_cache_mark_dirty(&q->rb_cache, s);
    if (next == 0) {
        cluster_freed(q, cluster);
    }
    if (after != NULL) {
        *after = next;
    }
    return 0;
}

int qcow2_alloc(Qcow2 *q, uint64_t n, uint64_t *offset)
{
    uint64_t max = QCOW2_MAX_HOST_OFFSET >> q->cluster_bits;

    for (;;) {
        uint64_t start = 0, run = 0, first_free = UINT64_MAX, c;
        bool created = false;
        int ret;

        for (c = q->free_hint; run < n; c++) {
            uint64_t rc;

            if (c >= max) {
                return -ENOSPC;
            }
            ret = qcow2_refcount_get(q, c, &rc);
            if (ret < 0) {
                return ret;
            }
            if (rc == 0 && qcow2_is_metadata(q, c)) {
                return qcow2_corrupt(q,
                                     "cluster %" G_GUINT64_FORMAT " holds metadata but is not "
                                     "counted",
                                     c);
            }
            if (rc != 0) {
                run = 0;
                continue;
            }
            if (first_free == UINT64_MAX) {
                first_free = c;
            }
            if (run == 0) {
                start = c;
            }
            run++;
        }
        /* Every range of the run needs its refcount block; a new one takes
         * the first cluster of its range, which may be in the run. */
        for (uint64_t r = start >> q->rb_bits; r <= (start + n - 1) >> q->rb_bits; r++) {
            bool made;

            ret = rb_ensure(q, MAX(r << q->rb_bits, start), &made);
            if (ret < 0) {
                return ret;
            }
            created |= made;
        }
        if (created) {
            continue;
        }
        for (c = start; c < start + n; c++) {
            ret = qcow2_refcount_add(q, c, 1, NULL);
            if (ret < 0) {
                return ret;
            }
        }
        if (first_free == start) {
            q->free_hint = start + n;
        } else {
            q->free_hint = first_free;
        }
        *offset = start << q->cluster_bits;
        q->alloc_end = MAX(q->alloc_end, (start + n) << q->cluster_bits);
        return 0;
    }
}

void qcow2_alloc_undo(Qcow2 *q, uint64_t offset, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        (void)qcow2_refcount_add(q, (offset >> q->cluster_bits) + i, -1, NULL);
    }
}

void qcow2_release(Qcow2 *q, Qcow2ReleaseKind kind, uint64_t value)
{
    Qcow2Release r = { value, kind };

    g_array_append_val(q->releases, r);
}

void qcow2_compressed_range(const Qcow2 *q, uint64_t entry, uint64_t *offset, uint64_t *bytes,
                            uint64_t *first, uint64_t *n)
{
    unsigned shift = 62 - (q->cluster_bits - 8);
    uint64_t off = entry & ((1ull << shift) - 1);
    uint64_t sectors = ((entry >> shift) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
    uint64_t start = off & ~511ull;
    uint64_t end = start + sectors * 512;

    *offset = off;
    *bytes = sectors * 512 - (off & 511);
    *first = start >> q->cluster_bits;
    *n = ((end - 1) >> q->cluster_bits) - *first + 1;
}

int qcow2_l1_entry_check(Qcow2 *q, uint64_t entry, uint64_t *offset)
{
    uint64_t o = entry & QCOW2_OFFSET;

    if (entry & QCOW2_L1_RESERVED) {
        return qcow2_corrupt(q, "the L1 entry %#" G_GINT64_MODIFIER "x has reserved bits set",
                             entry);
    }
    if (o != 0 && o + q->cluster_size > qcow2_known_end(q)) {
        return qcow2_corrupt(q,
                             "an L2 table at %#" G_GINT64_MODIFIER "x lies past the end of "
                             "the file",
                             o);
    }
    *offset = o;
    return 0;
}

int qcow2_l2_read(Qcow2 *q, uint64_t offset, guint8 *buf)
{
    Qcow2Slot *s = qcow2_cache_find(&q->l2_cache, offset);

    if (s != NULL) {
        memcpy(buf, s->data, q->cluster_size);
        return 0;
    }
    return qcow2_pread(q, offset, buf, q->cluster_size);
}

/* ---- Writing metadata back ------------------------------------------------------------- */

int qcow2_write_refcounts(Qcow2 *q)
{
    bool wrote;
    int ret = cache_write_dirty(q, &q->rb_cache, &wrote);

    if (ret < 0) {
        return ret;
    }
    q->refcounts_unsynced |= wrote;
    if (q->rt_dirty_lo < q->rt_dirty_hi) {
        uint64_t n = q->rt_dirty_hi - q->rt_dirty_lo;
        g_autofree guint8 *buf = g_malloc(n * 8);

        /* New blocks reach the file before the entries pointing at them. */
        if (q->refcounts_unsynced) {
            ret = qcow2_sync(q);
            if (ret < 0) {
                return ret;
            }
        }
        for (uint64_t i = 0; i < n; i++) {
            qcow2_put_be64(buf + i * 8, q->rt[q->rt_dirty_lo + i]);
        }
        ret = qcow2_pwrite(q, q->rt_offset + q->rt_dirty_lo * 8, buf, n * 8);
        if (ret < 0) {
            return ret;
        }
        q->rt_dirty_lo = q->rt_dirty_hi = 0;
        q->refcounts_unsynced = true;
    }
    return 0;
}

static int write_l1(Qcow2 *q, bool *wrote)
{
    uint32_t n = q->l1_dirty_hi - q->l1_dirty_lo;
    g_autofree guint8 *buf = NULL;
    int ret;

    *wrote = false;
    if (q->l1_dirty_lo >= q->l1_dirty_hi) {
        return 0;
    }
    buf = g_malloc((gsize)n * 8);
    for (uint32_t i = 0; i < n; i++) {
        qcow2_put_be64(buf + (gsize)i * 8, q->l1[q->l1_dirty_lo + i]);
    }
    ret = qcow2_pwrite(q, q->l1_offset + (uint64_t)q->l1_dirty_lo * 8, buf, (gsize)n * 8);
    if (ret < 0) {
        return ret;
    }
    q->l1_dirty_lo = q->l1_dirty_hi = 0;
    *wrote = true;
    return 0;
}

/* Counts down what the file no longer references. */
static int apply_releases(Qcow2 *q)
{
    GArray *list = q->releases;
    g_autofree guint8 *l2 = NULL;
    int first_error = 0;

    q->releases = g_array_new(FALSE, FALSE, sizeof(Qcow2Release));
    for (guint i = 0; i < list->len; i++) {
        Qcow2Release *r = &g_array_index(list, Qcow2Release, i);
        uint64_t offset, bytes, first, n;
        int ret = 0;

        switch (r->kind) {
        case QCOW2_RELEASE_CLUSTER:
            ret = qcow2_refcount_add(q, r->value >> q->cluster_bits, -1, NULL);
            break;
        case QCOW2_RELEASE_COMPRESSED:
            qcow2_compressed_range(q, r->value, &offset, &bytes, &first, &n);
            q->cluster_buf_entry = 0;
            for (uint64_t c = 0; c < n && ret == 0; c++) {
                ret = qcow2_refcount_add(q, first + c, -1, NULL);
            }
            break;
        case QCOW2_RELEASE_L2_REF:
            if (l2 == NULL) {
                l2 = g_malloc(q->cluster_size);
            }
            ret = qcow2_l2_read(q, r->value, l2);
            for (uint64_t j = 0; ret == 0 && j < (1ull << q->l2_bits); j++) {
                uint64_t e = qcow2_be64(l2 + j * 8);

                if (e & QCOW2_COMPRESSED) {
                    qcow2_compressed_range(q, e, &offset, &bytes, &first, &n);
                    q->cluster_buf_entry = 0;
                    for (uint64_t c = 0; c < n && ret == 0; c++) {
                        ret = qcow2_refcount_add(q, first + c, -1, NULL);
                    }
                } else if ((e & QCOW2_OFFSET) != 0) {
                    ret = qcow2_refcount_add(q, (e & QCOW2_OFFSET) >> q->cluster_bits, -1, NULL);
                }
            }
            if (ret == 0) {
                ret = qcow2_refcount_add(q, r->value >> q->cluster_bits, -1, NULL);
            }
            break;
        }
        if (ret < 0 && first_error == 0) {
            first_error = ret;
        }
    }
    g_array_free(list, TRUE);
    return first_error;
}

int qcow2_meta_writeback(Qcow2 *q)
{
    bool wrote_l2 = false, wrote_l1 = false;
    int ret;

    if (q->read_only || q->in_writeback) {
        return 0;
    }
    q->in_writeback = true;
    ret = qcow2_write_refcounts(q);
    if (ret == 0 && q->refcounts_unsynced &&
        (q->l2_cache.dirty->len > 0 || q->l1_dirty_lo < q->l1_dirty_hi)) {
        ret = qcow2_sync(q);
        q->refcounts_unsynced = ret < 0;
    }
    if (ret == 0) {
        ret = cache_write_dirty(q, &q->l2_cache, &wrote_l2);
    }
    if (ret == 0 && wrote_l2 && q->l1_dirty_lo < q->l1_dirty_hi) {
        ret = qcow2_sync(q);
    }
    if (ret == 0) {
        ret = write_l1(q, &wrote_l1);
    }
    if (ret == 0 && (wrote_l2 || wrote_l1)) {
        ret = qcow2_sync(q);
    }
    /* The file holds no reference to what was released: count it down, and
     * write the counts now so that a crash before the next flush leaks
     * nothing. */
    if (ret == 0 && q->releases->len > 0) {
        ret = apply_releases(q);
        if (ret == 0) {
            ret = qcow2_write_refcounts(q);
        }
    }
    q->in_writeback = false;
    return ret;
}

int qcow2_meta_write_all(Qcow2 *q)
{
    bool wrote;
    int ret;

    q->in_writeback = true;
    ret = cache_write_dirty(q, &q->l2_cache, &wrote);
    if (ret == 0) {
        ret = write_l1(q, &wrote);
    }
    if (ret == 0) {
        ret = qcow2_write_refcounts(q);
    }
    q->in_writeback = false;
    return ret;
}

/* ---- The L1 table's size ------------------------------------------------------------------ */

int qcow2_l1_resize(Qcow2 *q, uint32_t new_size)
{
    uint64_t bytes = (uint64_t)new_size * 8;
    uint64_t clusters = (bytes + q->cluster_size - 1) >> q->cluster_bits;
    uint64_t old_clusters = ((uint64_t)q->l1_size * 8 + q->cluster_size - 1) >> q->cluster_bits;
    uint64_t old_offset = q->l1_offset, offset;
    g_autofree guint8 *buf = NULL;
    guint8 header[12];
    int ret;

    if (new_size <= q->l1_size) {
        return 0;
    }
    if (bytes > QCOW2_MAX_L1_BYTES) {
        return -EFBIG;
    }
    ret = qcow2_meta_writeback(q);
    if (ret < 0) {
        return ret;
    }
    ret = qcow2_alloc(q, clusters, &offset);
    if (ret < 0) {
        return ret;
    }
    ret = qcow2_write_refcounts(q);
    buf = g_malloc0(clusters << q->cluster_bits);
    for (uint32_t i = 0; i < q->l1_size; i++) {
        qcow2_put_be64(buf + (gsize)i * 8, q->l1[i]);
    }
    if (ret == 0) {
        ret = qcow2_pwrite(q, offset, buf, clusters << q->cluster_bits);
    }
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    if (ret < 0) {
        qcow2_alloc_undo(q, offset, clusters);
        return ret;
    }
    q->refcounts_unsynced = false;
    note_written(q, offset + (clusters << q->cluster_bits));
    qcow2_put_be32(header, new_size);
    qcow2_put_be64(header + 4, offset);
    ret = qcow2_pwrite(q, QCOW2_HDR_L1_SIZE, header, sizeof header);
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    if (ret < 0) {
        return ret;
    }
    q->l1 = g_renew(uint64_t, q->l1, new_size);
    memset(q->l1 + q->l1_size, 0, (gsize)(new_size - q->l1_size) * sizeof *q->l1);
    q->l1_size = new_size;
    q->l1_offset = offset;
    qcow2_metadata_add(q, offset, clusters);
    for (uint64_t i = 0; i < old_clusters; i++) {
        qcow2_release(q, QCOW2_RELEASE_CLUSTER, old_offset + (i << q->cluster_bits));
    }
    return qcow2_meta_writeback(q);
}
