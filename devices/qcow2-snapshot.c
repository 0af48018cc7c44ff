/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qcow2 internal snapshots: the snapshot table, a copy of the L1 table per
 * snapshot with the counts of what it references, copy-on-write of shared
 * clusters (qcow2.c), and the vm-state area QEMU keeps past the disk's end
 * in the active L1 table. docs/QCOW2.md says in which order each operation
 * writes, so that a crash leaves a usable image.
 */
#include "qcow2-priv.h"
#include "engine/error.h"

#include <errno.h>
#include <stdlib.h>

#define SNAPSHOT_HEADER 40
#define SNAPSHOT_EXTRA  24 /* vm_state_size (64 bits), disk_size, icount */
#define MAX_NAME_BYTES  1024

void qcow2_snapshot_free(Qcow2Snapshot *sn)
{
    if (sn == NULL) {
        return;
    }
    g_free(sn->id);
    g_free(sn->name);
    g_free(sn->extra);
    g_free(sn);
}

bool qcow2_fail(Qcow2 *q, int err, GError **error, const char *what)
{
    if (err == -EIO && q->corrupt_msg != NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "%s: the qcow2 image “%s” is damaged: %s", what, q->path, q->corrupt_msg);
    } else if (err == -ERANGE) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED,
                    "%s: the %u-bit refcounts of “%s” cannot count one more reference to its "
                    "clusters (convert it with qemu-img amend -o refcount_bits=16)",
                    what, 1u << q->refcount_order, q->path);
    } else if (err == -EFBIG) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED,
                    "%s: the qcow2 image “%s” would outgrow the format's table limits", what,
                    q->path);
    } else {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "%s: the qcow2 image “%s”: %s", what,
                    q->path, g_strerror(-err));
    }
    return false;
}

/* ---- The table ----------------------------------------------------------------------- */

static bool table_bad(Qcow2 *q, GError **error, uint32_t i, const char *why)
{
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                "The qcow2 image “%s” is damaged: snapshot %u %s", q->path, i, why);
    return false;
}

bool qcow2_snapshots_load(Qcow2 *q, uint32_t count, uint64_t offset, GError **error)
{
    uint64_t pos = offset;
    int ret;

    q->snapshots_offset = offset;
    q->snapshots_bytes = 0;
    if (count == 0) {
        return true;
    }
    if (offset == 0 || (offset & (q->cluster_size - 1)) || offset >= q->file_end) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The qcow2 image “%s” is damaged: its snapshot table at %#" G_GINT64_MODIFIER
                    "x is not a cluster inside the file",
                    q->path, offset);
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        guint8 h[SNAPSHOT_HEADER];
        g_autofree guint8 *rest = NULL;
        Qcow2Snapshot *sn;
        uint32_t id_len, name_len, extra, vm32;
        uint64_t l1_bytes, size;

        if (pos + SNAPSHOT_HEADER > q->file_end ||
            pos + SNAPSHOT_HEADER - offset > QCOW2_MAX_SNAPSHOT_TABLE) {
            return table_bad(q, error, i, "lies past the end of the file or the table's limit");
        }
        ret = qcow2_pread(q, pos, h, sizeof h);
        if (ret < 0) {
            return qcow2_fail(q, ret, error, "Cannot read the snapshot table");
        }
        id_len = qcow2_be16(h + 12);
        name_len = qcow2_be16(h + 14);
        extra = qcow2_be32(h + 36);
        if (extra > QCOW2_MAX_SNAPSHOT_EXTRA) {
            return table_bad(q, error, i, "has too much extra data");
        }
        size = SNAPSHOT_HEADER + (uint64_t)extra + id_len + name_len;
        if (pos + size > q->file_end || pos + size - offset > QCOW2_MAX_SNAPSHOT_TABLE) {
            return table_bad(q, error, i, "lies past the end of the file or the table's limit");
        }
        rest = g_malloc(size - SNAPSHOT_HEADER + 1);
        ret = qcow2_pread(q, pos + SNAPSHOT_HEADER, rest, size - SNAPSHOT_HEADER);
        if (ret < 0) {
            return qcow2_fail(q, ret, error, "Cannot read the snapshot table");
        }
        sn = g_new0(Qcow2Snapshot, 1);
        g_ptr_array_add(q->snapshots, sn);
        sn->l1_offset = qcow2_be64(h);
        sn->l1_size = qcow2_be32(h + 8);
        sn->date_sec = qcow2_be32(h + 16);
        sn->date_nsec = qcow2_be32(h + 20);
        sn->vm_clock_ns = qcow2_be64(h + 24);
        vm32 = qcow2_be32(h + 32);
        sn->vm_state_size = vm32;
        sn->disk_size = q->size;
        sn->icount = UINT64_MAX;
        sn->extra_size = extra;
        sn->extra = g_memdup2(rest, extra);
        if (extra >= 8) {
            sn->vm_state_size = qcow2_be64(rest);
        }
        if (extra >= 16) {
            sn->disk_size = qcow2_be64(rest + 8);
        }
        if (extra >= 24) {
            sn->icount = qcow2_be64(rest + 16);
        }
        sn->id = g_strndup((const char *)rest + extra, id_len);
        sn->name = g_strndup((const char *)rest + extra + id_len, name_len);
        if (strlen(sn->id) != id_len || strlen(sn->name) != name_len) {
            return table_bad(q, error, i, "has a zero byte in its id or name");
        }
        l1_bytes = (uint64_t)sn->l1_size * 8;
        if (l1_bytes > QCOW2_MAX_L1_BYTES) {
            return table_bad(q, error, i, "has an L1 table bigger than the format allows");
        }
        if (l1_bytes > 0 &&
            (sn->l1_offset == 0 || (sn->l1_offset & (q->cluster_size - 1)) ||
             sn->l1_offset > q->file_end || l1_bytes > q->file_end - sn->l1_offset)) {
            return table_bad(q, error, i, "has its L1 table outside the file");
        }
        if (l1_bytes > 0) {
            qcow2_metadata_add(q, sn->l1_offset,
                               (l1_bytes + q->cluster_size - 1) >> q->cluster_bits);
        }
        pos += (size + 7) & ~7ull;
    }
    q->snapshots_bytes = pos - offset;
    qcow2_metadata_add(q, offset, (q->snapshots_bytes + q->cluster_size - 1) >> q->cluster_bits);
    return true;
}

static GByteArray *snapshots_serialize(GPtrArray *list)
{
    GByteArray *out = g_byte_array_new();

    for (guint i = 0; i < list->len; i++) {
        Qcow2Snapshot *sn = g_ptr_array_index(list, i);
        uint32_t extra = MAX(sn->extra_size, SNAPSHOT_EXTRA);
        size_t id_len = strlen(sn->id), name_len = strlen(sn->name);
        size_t size = SNAPSHOT_HEADER + extra + id_len + name_len;
        size_t padded = (size + 7) & ~(size_t)7;
        guint old = out->len;
        guint8 *p;

        g_byte_array_set_size(out, old + (guint)padded);
        p = out->data + old;
        memset(p, 0, padded);
        qcow2_put_be64(p, sn->l1_offset);
        qcow2_put_be32(p + 8, sn->l1_size);
        qcow2_put_be16(p + 12, (uint16_t)id_len);
        qcow2_put_be16(p + 14, (uint16_t)name_len);
        qcow2_put_be32(p + 16, sn->date_sec);
        qcow2_put_be32(p + 20, sn->date_nsec);
        qcow2_put_be64(p + 24, sn->vm_clock_ns);
        qcow2_put_be32(p + 32, (uint32_t)MIN(sn->vm_state_size, UINT32_MAX));
        qcow2_put_be32(p + 36, extra);
        if (sn->extra_size > 0) {
            memcpy(p + SNAPSHOT_HEADER, sn->extra, sn->extra_size);
        }
        qcow2_put_be64(p + SNAPSHOT_HEADER, sn->vm_state_size);
        qcow2_put_be64(p + SNAPSHOT_HEADER + 8, sn->disk_size);
        qcow2_put_be64(p + SNAPSHOT_HEADER + 16, sn->icount);
        memcpy(p + SNAPSHOT_HEADER + extra, sn->id, id_len);
        memcpy(p + SNAPSHOT_HEADER + extra + id_len, sn->name, name_len);
    }
    return out;
}

/* Writes the table for `list` in new clusters (*offset; 0 for none). */
static int table_write(Qcow2 *q, GPtrArray *list, uint64_t *offset, uint64_t *bytes)
{
    g_autoptr(GByteArray) table = snapshots_serialize(list);
    uint64_t clusters = (table->len + q->cluster_size - 1) >> q->cluster_bits;
    g_autofree guint8 *buf = NULL;
    int ret;

    *offset = 0;
    *bytes = table->len;
    if (table->len == 0) {
        return 0;
    }
    if (table->len > QCOW2_MAX_SNAPSHOT_TABLE) {
        return -EFBIG;
    }
    ret = qcow2_alloc(q, clusters, offset);
    if (ret < 0) {
        return ret;
    }
    buf = g_malloc0(clusters << q->cluster_bits);
    memcpy(buf, table->data, table->len);
    ret = qcow2_pwrite(q, *offset, buf, clusters << q->cluster_bits);
    if (ret < 0) {
        qcow2_alloc_undo(q, *offset, clusters);
        return ret;
    }
    qcow2_metadata_add(q, *offset, clusters);
    return 0;
}

/* Points the header at a new table: one write of the count and offset. */
static int header_point(Qcow2 *q, uint32_t count, uint64_t offset)
{
    guint8 h[12];
    int ret;

    qcow2_put_be32(h, count);
    qcow2_put_be64(h + 4, offset);
    ret = qcow2_pwrite(q, QCOW2_HDR_SNAPSHOTS, h, sizeof h);
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    return ret;
}

/* The old table's clusters, once the header no longer points at them. */
static void release_table(Qcow2 *q, uint64_t offset, uint64_t bytes)
{
    uint64_t clusters = (bytes + q->cluster_size - 1) >> q->cluster_bits;

    for (uint64_t i = 0; i < clusters; i++) {
        qcow2_release(q, QCOW2_RELEASE_CLUSTER, offset + (i << q->cluster_bits));
    }
}

static Qcow2Snapshot *find(Qcow2 *q, const char *id_or_name, guint *index)
{
    for (guint pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < q->snapshots->len; i++) {
            Qcow2Snapshot *sn = g_ptr_array_index(q->snapshots, i);

            if (strcmp(pass == 0 ? sn->id : sn->name, id_or_name) == 0) {
                if (index != NULL) {
                    *index = i;
                }
                return sn;
            }
        }
    }
    return NULL;
}

static Qcow2Snapshot *find_or_fail(Qcow2 *q, const char *id_or_name, guint *index, GError **error)
{
    Qcow2Snapshot *sn = find(q, id_or_name, index);

    if (sn == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The disk image “%s” has no snapshot “%s”", q->path, id_or_name);
    }
    return sn;
}

/* ---- References -------------------------------------------------------------------- */

/* One update of a walk: stops (returning 1) once `limit` were made. */
typedef struct {
    int delta;
    uint64_t limit;
    uint64_t applied;
} Walk;

static int walk_one(Qcow2 *q, Walk *w, uint64_t cluster)
{
    uint64_t rc;
    int ret;

    if (w->applied == w->limit) {
        return 1;
    }
    if (w->delta > 0) {
        ret = qcow2_refcount_get(q, cluster, &rc);
        if (ret < 0) {
            return ret;
        }
        if (rc == 0) {
            return qcow2_corrupt(q, "cluster %" G_GUINT64_FORMAT " is referenced but not counted",
                                 cluster);
        }
    }
    ret = qcow2_refcount_add(q, cluster, w->delta, NULL);
    if (ret < 0) {
        return ret;
    }
    w->applied++;
    return 0;
}

/* Adds w->delta to the count of everything the L1 table references, as one
 * L1 table more or fewer referencing it: each L2 table, and each cluster
 * in it. */
static int walk_l1(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, Walk *w)
{
    g_autofree guint8 *l2 = g_malloc(q->cluster_size);
    int ret;

    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2_offset;

        ret = qcow2_l1_entry_check(q, l1[i], &l2_offset);
        if (ret < 0) {
            return ret;
        }
        if (l2_offset == 0) {
            continue;
        }
        ret = qcow2_l2_read(q, l2_offset, l2);
        if (ret < 0) {
            return ret;
        }
        for (uint64_t j = 0; j < (1ull << q->l2_bits); j++) {
            uint64_t e = qcow2_be64(l2 + j * 8);
            uint64_t offset, bytes, first, n;

            if (e & QCOW2_COMPRESSED) {
                qcow2_compressed_range(q, e, &offset, &bytes, &first, &n);
                for (uint64_t c = 0; c < n; c++) {
                    ret = walk_one(q, w, first + c);
                    if (ret != 0) {
                        return ret < 0 ? ret : 0;
                    }
                }
                continue;
            }
            if (e & QCOW2_L2_RESERVED) {
                return qcow2_corrupt(q, "an L2 entry has reserved bits set");
            }
            if ((e & QCOW2_OFFSET) != 0) {
                ret = walk_one(q, w, (e & QCOW2_OFFSET) >> q->cluster_bits);
                if (ret != 0) {
                    return ret < 0 ? ret : 0;
                }
            }
        }
        ret = walk_one(q, w, l2_offset >> q->cluster_bits);
        if (ret != 0) {
            return ret < 0 ? ret : 0;
        }
    }
    return 0;
}

/* Adds `delta`; on failure takes back what was added and returns the error. */
static int walk_l1_all(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, int delta)
{
    Walk w = { delta, UINT64_MAX, 0 };
    int ret = walk_l1(q, l1, l1_size, &w);

    if (ret < 0) {
        Walk back = { -delta, w.applied, 0 };
        (void)walk_l1(q, l1, l1_size, &back);
    }
    return ret;
}

/* The active tables' COPIED flags from the counts: set exactly where a
 * cluster is counted once. */
static int fix_copied(Qcow2 *q)
{
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t l2_offset, rc, want;
        Qcow2Slot *s;
        bool changed = false;
        int ret;

        ret = qcow2_l1_entry_check(q, q->l1[i], &l2_offset);
        if (ret < 0) {
            return ret;
        }
        if (l2_offset == 0) {
            continue;
        }
        ret = qcow2_refcount_get(q, l2_offset >> q->cluster_bits, &rc);
        if (ret < 0) {
            return ret;
        }
        want = rc == 1 ? l2_offset | QCOW2_COPIED : l2_offset;
        if (want != q->l1[i]) {
            q->l1[i] = want;
            if (q->l1_dirty_lo >= q->l1_dirty_hi) {
                q->l1_dirty_lo = i;
                q->l1_dirty_hi = i + 1;
            } else {
                q->l1_dirty_lo = MIN(q->l1_dirty_lo, i);
                q->l1_dirty_hi = MAX(q->l1_dirty_hi, i + 1);
            }
        }
        ret = qcow2_cache_get(q, &q->l2_cache, l2_offset, true, &s);
        if (ret < 0) {
            return ret;
        }
        s->pins++;
        for (uint64_t j = 0; j < (1ull << q->l2_bits); j++) {
            uint64_t e = qcow2_l2_entry(s, j);
            uint64_t host = e & QCOW2_OFFSET;

            if ((e & QCOW2_COMPRESSED) || host == 0) {
                continue;
            }
            ret = qcow2_refcount_get(q, host >> q->cluster_bits, &rc);
            if (ret < 0) {
                s->pins--;
                return ret;
            }
            want = rc == 1 ? e | QCOW2_COPIED : e & ~QCOW2_COPIED;
            if (want != e) {
                qcow2_set_l2_entry(s, j, want);
                changed = true;
            }
        }
        if (changed) {
            qcow2_cache_mark_dirty(&q->l2_cache, s);
        }
        s->pins--;
    }
    return 0;
}

static void l1_mark_all_dirty(Qcow2 *q)
{
    q->l1_dirty_lo = 0;
    q->l1_dirty_hi = q->l1_size;
}

/* A snapshot's L1 table, checked. */
static int read_snapshot_l1(Qcow2 *q, const Qcow2Snapshot *sn, uint64_t **out)
{
    uint64_t bytes = (uint64_t)sn->l1_size * 8;
    g_autofree guint8 *buf = g_malloc(MAX(bytes, 8));
    g_autofree uint64_t *l1 = g_new0(uint64_t, MAX(sn->l1_size, 1));
    int ret;

    ret = bytes > 0 ? qcow2_pread(q, sn->l1_offset, buf, bytes) : 0;
    if (ret < 0) {
        return ret;
    }
    for (uint32_t i = 0; i < sn->l1_size; i++) {
        uint64_t off;

        l1[i] = qcow2_be64(buf + (gsize)i * 8);
        ret = qcow2_l1_entry_check(q, l1[i], &off);
        if (ret < 0) {
            return ret;
        }
    }
    *out = g_steal_pointer(&l1);
    return 0;
}

/* Nothing more may be written after an operation failed halfway. */
static bool broken(Qcow2 *q, int err, GError **error, const char *what)
{
    if (q->corrupt_msg == NULL) {
        q->corrupt_msg =
            g_strdup_printf("%s failed halfway (%s); reopen the image", what, g_strerror(-err));
    }
    return qcow2_fail(q, err, error, what);
}

static bool refuse_damaged(Qcow2 *q, GError **error)
{
    if (q->corrupt_msg != NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The qcow2 image “%s” is damaged (%s): it is not written any more", q->path,
                    q->corrupt_msg);
        return false;
    }
    return true;
}

/* ---- The operations ------------------------------------------------------------------ */

GPtrArray *qcow2_snapshot_list(void *opaque, GError **error)
{
    Qcow2 *q = opaque;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_block_snapshot_free);

    g_mutex_lock(&q->lock);
    for (guint i = 0; i < q->snapshots->len; i++) {
        Qcow2Snapshot *sn = g_ptr_array_index(q->snapshots, i);
        VireoBlockSnapshot *s = g_new0(VireoBlockSnapshot, 1);

        s->id = g_strdup(sn->id);
        s->name = g_strdup(sn->name);
        s->vm_state_size = sn->vm_state_size;
        s->date_sec = sn->date_sec;
        s->date_nsec = sn->date_nsec;
        s->vm_clock_ns = sn->vm_clock_ns;
        s->disk_size = sn->disk_size;
        g_ptr_array_add(out, s);
    }
    g_mutex_unlock(&q->lock);
    return out;
}

static bool vmstate_range(Qcow2 *q, uint64_t disk_size, uint64_t pos, uint64_t len, uint64_t *start,
                          GError **error)
{
    uint64_t cover = qcow2_l1_coverage(q);
    uint64_t base = (disk_size / cover + (disk_size % cover != 0)) * cover;
    uint64_t max = (uint64_t)(QCOW2_MAX_L1_BYTES / 8) * cover;

    if (pos > max || len > max - pos || base > max - pos - len) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED,
                    "The machine state does not fit in the qcow2 image “%s”", q->path);
        return false;
    }
    *start = base + pos;
    return true;
}

bool qcow2_vmstate_write(void *opaque, uint64_t pos, const void *data, gsize len, GError **error)
{
    Qcow2 *q = opaque;
    struct iovec iov = { (void *)data, len };
    uint64_t start, needed;
    int ret;

    if (len == 0) {
        return true;
    }
    g_mutex_lock(&q->lock);
    if (!refuse_damaged(q, error) || !vmstate_range(q, q->size, pos, len, &start, error)) {
        g_mutex_unlock(&q->lock);
        return false;
    }
    needed = qcow2_l1_entries_for(q, start + len);
    ret = qcow2_l1_resize(q, (uint32_t)needed);
    if (ret == 0) {
        ret = qcow2_write(q, &iov, 1, start, len);
    }
    g_mutex_unlock(&q->lock);
    return ret == 0 || qcow2_fail(q, ret, error, "Cannot write the machine state");
}

bool qcow2_snapshot_read_vmstate(void *opaque, const char *id_or_name, uint64_t pos, void *data,
                                 gsize len, GError **error)
{
    Qcow2 *q = opaque;
    struct iovec iov = { data, len };
    Qcow2Snapshot *sn;
    uint64_t start;
    int ret = 0;

    g_mutex_lock(&q->lock);
    sn = find_or_fail(q, id_or_name, NULL, error);
    if (sn == NULL) {
        g_mutex_unlock(&q->lock);
        return false;
    }
    if (pos > sn->vm_state_size || len > sn->vm_state_size - pos) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The snapshot “%s” of “%s” has %" G_GUINT64_FORMAT " bytes of machine state, "
                    "not %" G_GUINT64_FORMAT,
                    id_or_name, q->path, sn->vm_state_size, (uint64_t)pos + len);
        g_mutex_unlock(&q->lock);
        return false;
    }
    if (!vmstate_range(q, sn->disk_size, pos, len, &start, error)) {
        g_mutex_unlock(&q->lock);
        return false;
    }
    if (q->sn_l1 == NULL || q->sn_l1_offset != sn->l1_offset || q->sn_l1_size != sn->l1_size) {
        g_clear_pointer(&q->sn_l1, g_free);
        ret = read_snapshot_l1(q, sn, &q->sn_l1);
        if (ret == 0) {
            q->sn_l1_offset = sn->l1_offset;
            q->sn_l1_size = sn->l1_size;
        }
    }
    if (ret == 0) {
        ret = qcow2_read(q, q->sn_l1, q->sn_l1_size, &iov, 1, 0, start, len);
    }
    g_mutex_unlock(&q->lock);
    return ret == 0 || qcow2_fail(q, ret, error, "Cannot read the snapshot's machine state");
}

/* QEMU's numbering: one more than the largest number in use. */
static char *next_id(Qcow2 *q)
{
    guint64 max = 0;

    for (guint i = 0; i < q->snapshots->len; i++) {
        Qcow2Snapshot *sn = g_ptr_array_index(q->snapshots, i);
        guint64 v;

        if (g_ascii_string_to_unsigned(sn->id, 10, 0, G_MAXUINT64 - 1, &v, NULL) && v > max) {
            max = v;
        }
    }
    return g_strdup_printf("%" G_GUINT64_FORMAT, max + 1);
}

static bool create_locked(Qcow2 *q, const char *name, uint64_t vm_state_size, uint64_t vm_clock_ns,
                          GError **error)
{
    g_autoptr(GPtrArray) list = NULL;
    g_autofree guint8 *buf = NULL;
    Qcow2Snapshot *sn;
    uint64_t l1_clusters, l1_offset = 0, table_offset, table_bytes, start;
    gint64 now = g_get_real_time();
    int ret;

    if (!refuse_damaged(q, error)) {
        return false;
    }
    if (name[0] == '\0' || strlen(name) > MAX_NAME_BYTES || !g_utf8_validate(name, -1, NULL)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "A snapshot name has 1 to %d bytes of UTF-8", MAX_NAME_BYTES);
        return false;
    }
    if (find(q, name, NULL) != NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The disk image “%s” already has a snapshot “%s”", q->path, name);
        return false;
    }
    if (q->snapshots->len >= QCOW2_MAX_SNAPSHOTS) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED,
                    "The disk image “%s” has %u snapshots, the most it can have", q->path,
                    QCOW2_MAX_SNAPSHOTS);
        return false;
    }
    if (vm_state_size > 0 && !vmstate_range(q, q->size, 0, vm_state_size, &start, error)) {
        return false;
    }

    /* 1. Everything in memory reaches the file: a clean start. */
    ret = qcow2_meta_writeback(q);
    if (ret < 0) {
        return qcow2_fail(q, ret, error, "Cannot take the snapshot");
    }
    /* 2. What the active L1 table references is counted once more. */
    ret = walk_l1_all(q, q->l1, q->l1_size, 1);
    if (ret < 0) {
        return qcow2_fail(q, ret, error, "Cannot take the snapshot");
    }
    /* 3. The snapshot's L1 table and the new snapshot table go to new
     * clusters that nothing points at yet. */
    l1_clusters = ((uint64_t)q->l1_size * 8 + q->cluster_size - 1) >> q->cluster_bits;
    if (l1_clusters > 0) {
        ret = qcow2_alloc(q, l1_clusters, &l1_offset);
        if (ret == 0) {
            buf = g_malloc0(l1_clusters << q->cluster_bits);
            for (uint32_t i = 0; i < q->l1_size; i++) {
                qcow2_put_be64(buf + (gsize)i * 8, q->l1[i] & ~QCOW2_COPIED);
            }
            ret = qcow2_pwrite(q, l1_offset, buf, l1_clusters << q->cluster_bits);
            if (ret < 0) {
                qcow2_alloc_undo(q, l1_offset, l1_clusters);
            }
        }
        if (ret < 0) {
            Walk back = { -1, UINT64_MAX, 0 };
            (void)walk_l1(q, q->l1, q->l1_size, &back);
            return qcow2_fail(q, ret, error, "Cannot take the snapshot");
        }
        qcow2_metadata_add(q, l1_offset, l1_clusters);
    }
    sn = g_new0(Qcow2Snapshot, 1);
    sn->l1_offset = l1_offset;
    sn->l1_size = q->l1_size;
    sn->id = next_id(q);
    sn->name = g_strdup(name);
    sn->date_sec = (uint32_t)(now / G_USEC_PER_SEC);
    sn->date_nsec = (uint32_t)(now % G_USEC_PER_SEC) * 1000;
    sn->vm_clock_ns = vm_clock_ns;
    sn->vm_state_size = vm_state_size;
    sn->disk_size = q->size;
    sn->icount = UINT64_MAX;
    list = g_ptr_array_new();
    for (guint i = 0; i < q->snapshots->len; i++) {
        g_ptr_array_add(list, g_ptr_array_index(q->snapshots, i));
    }
    g_ptr_array_add(list, sn);
    ret = table_write(q, list, &table_offset, &table_bytes);
    if (ret < 0) {
        Walk back = { -1, UINT64_MAX, 0 };

        (void)walk_l1(q, q->l1, q->l1_size, &back);
        if (l1_clusters > 0) {
            qcow2_alloc_undo(q, l1_offset, l1_clusters);
        }
        qcow2_snapshot_free(sn);
        return qcow2_fail(q, ret, error, "Cannot take the snapshot");
    }
    /* 4. Everything is shared now: no COPIED flag stays. The flags, the L1
     * entries and the counts go out back to back, then one fdatasync. */
    ret = fix_copied(q);
    if (ret == 0) {
        ret = qcow2_meta_write_all(q);
    }
    if (ret == 0) {
        ret = qcow2_sync(q);
        q->refcounts_unsynced = false;
    }
    /* 5. One write of the header makes the snapshot exist. */
    if (ret == 0) {
        ret = header_point(q, q->snapshots->len + 1, table_offset);
    }
    if (ret < 0) {
        qcow2_snapshot_free(sn);
        return broken(q, ret, error, "Taking the snapshot");
    }
    release_table(q, q->snapshots_offset, q->snapshots_bytes);
    g_ptr_array_add(q->snapshots, sn);
    q->snapshots_offset = table_offset;
    q->snapshots_bytes = table_bytes;

    /* 6. The active image lets go of its vm-state area: the snapshot keeps
     * it. */
    for (uint32_t i = (uint32_t)qcow2_l1_entries_for(q, q->size); i < q->l1_size; i++) {
        if ((q->l1[i] & QCOW2_OFFSET) != 0) {
            qcow2_release(q, QCOW2_RELEASE_L2_REF, q->l1[i] & QCOW2_OFFSET);
            q->l1[i] = 0;
            l1_mark_all_dirty(q);
        }
    }
    ret = qcow2_meta_writeback(q);
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    return ret == 0 || broken(q, ret, error, "Taking the snapshot");
}

bool qcow2_snapshot_create(void *opaque, const char *name, uint64_t vm_state_size,
                           uint64_t vm_clock_ns, GError **error)
{
    Qcow2 *q = opaque;
    bool ok;

    g_mutex_lock(&q->lock);
    ok = create_locked(q, name, vm_state_size, vm_clock_ns, error);
    g_mutex_unlock(&q->lock);
    return ok;
}

static bool goto_locked(Qcow2 *q, const char *id_or_name, GError **error)
{
    g_autofree uint64_t *sn_l1 = NULL;
    Qcow2Snapshot *sn;
    int ret;

    if (!refuse_damaged(q, error)) {
        return false;
    }
    sn = find_or_fail(q, id_or_name, NULL, error);
    if (sn == NULL) {
        return false;
    }
    if (sn->disk_size != q->size) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED,
                    "The snapshot “%s” of “%s” is of a disk of %" G_GUINT64_FORMAT " bytes, not "
                    "%" G_GUINT64_FORMAT ": Vireo does not resize disks",
                    id_or_name, q->path, sn->disk_size, q->size);
        return false;
    }
    ret = qcow2_meta_writeback(q);
    if (ret == 0) {
        ret = read_snapshot_l1(q, sn, &sn_l1);
    }
    if (ret == 0 && sn->l1_size > q->l1_size) {
        ret = qcow2_l1_resize(q, sn->l1_size);
    }
    /* 1. What the snapshot references is counted once more, for the
     * active L1 table that is to reference it too. */
    if (ret == 0) {
        ret = walk_l1_all(q, sn_l1, sn->l1_size, 1);
    }
    if (ret < 0) {
        return qcow2_fail(q, ret, error, "Cannot go to the snapshot");
    }
    /* 2. The active L1 table becomes the snapshot's; what it referenced
     * is counted down once the file has the new table. Everything it now
     * references is shared, so no COPIED flag stays. */
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t old = q->l1[i] & QCOW2_OFFSET;

        if (old != 0) {
            qcow2_release(q, QCOW2_RELEASE_L2_REF, old);
        }
        q->l1[i] = i < sn->l1_size ? sn_l1[i] & ~QCOW2_COPIED : 0;
    }
    l1_mark_all_dirty(q);
    q->cluster_buf_entry = 0;
    ret = fix_copied(q);
    /* 3. Counts, fdatasync, L2 flags, fdatasync, the L1 table, fdatasync,
     * then the old references counted down. */
    if (ret == 0) {
        ret = qcow2_meta_writeback(q);
    }
    if (ret == 0) {
        ret = fix_copied(q);
    }
    if (ret == 0) {
        ret = qcow2_meta_writeback(q);
    }
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    return ret == 0 || broken(q, ret, error, "Going to the snapshot");
}

bool qcow2_snapshot_goto(void *opaque, const char *id_or_name, GError **error)
{
    Qcow2 *q = opaque;
    bool ok;

    g_mutex_lock(&q->lock);
    ok = goto_locked(q, id_or_name, error);
    g_mutex_unlock(&q->lock);
    return ok;
}

static bool delete_locked(Qcow2 *q, const char *id_or_name, GError **error)
{
    g_autoptr(GPtrArray) list = NULL;
    g_autofree uint64_t *sn_l1 = NULL;
    uint64_t table_offset, table_bytes, l1_clusters, l1_offset;
    uint32_t l1_size;
    Qcow2Snapshot *sn;
    guint index;
    int ret;

    if (!refuse_damaged(q, error)) {
        return false;
    }
    sn = find_or_fail(q, id_or_name, &index, error);
    if (sn == NULL) {
        return false;
    }
    ret = qcow2_meta_writeback(q);
    if (ret == 0) {
        ret = read_snapshot_l1(q, sn, &sn_l1);
    }
    if (ret < 0) {
        return qcow2_fail(q, ret, error, "Cannot delete the snapshot");
    }
    /* 1. A table without it, in new clusters, counted and synced. */
    list = g_ptr_array_new();
    for (guint i = 0; i < q->snapshots->len; i++) {
        if (i != index) {
            g_ptr_array_add(list, g_ptr_array_index(q->snapshots, i));
        }
    }
    ret = table_write(q, list, &table_offset, &table_bytes);
    if (ret == 0) {
        ret = qcow2_write_refcounts(q);
    }
    if (ret == 0) {
        ret = qcow2_sync(q);
        q->refcounts_unsynced = false;
    }
    if (ret < 0) {
        if (table_bytes > 0 && table_offset != 0) {
            qcow2_alloc_undo(q, table_offset,
                             (table_bytes + q->cluster_size - 1) >> q->cluster_bits);
        }
        return qcow2_fail(q, ret, error, "Cannot delete the snapshot");
    }
    /* 2. One write of the header makes it gone. */
    ret = header_point(q, list->len, table_offset);
    if (ret < 0) {
        return broken(q, ret, error, "Deleting the snapshot");
    }
    release_table(q, q->snapshots_offset, q->snapshots_bytes);
    q->snapshots_offset = table_offset;
    q->snapshots_bytes = table_bytes;
    l1_size = sn->l1_size;
    l1_offset = sn->l1_offset;
    g_ptr_array_remove_index(q->snapshots, index); /* frees sn */
    g_clear_pointer(&q->sn_l1, g_free);

    /* 3. What it referenced is counted down and its L1 table given back;
     * the active tables' COPIED flags are set where counts fell to one.
     * Flags and counts go out back to back. */
    ret = walk_l1_all(q, sn_l1, l1_size, -1);
    l1_clusters = ((uint64_t)l1_size * 8 + q->cluster_size - 1) >> q->cluster_bits;
    for (uint64_t i = 0; ret == 0 && i < l1_clusters; i++) {
        ret = qcow2_refcount_add(q, (l1_offset >> q->cluster_bits) + i, -1, NULL);
    }
    q->cluster_buf_entry = 0;
    if (ret == 0) {
        ret = fix_copied(q);
    }
    if (ret == 0) {
        ret = qcow2_meta_write_all(q);
    }
    if (ret == 0) {
        ret = qcow2_meta_writeback(q);
    }
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    return ret == 0 || broken(q, ret, error, "Deleting the snapshot");
}

bool qcow2_snapshot_delete(void *opaque, const char *id_or_name, GError **error)
{
    Qcow2 *q = opaque;
    bool ok;

    g_mutex_lock(&q->lock);
    ok = delete_locked(q, id_or_name, error);
    g_mutex_unlock(&q->lock);
    return ok;
}
