/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qcow2 disk images (version 3, and version 2 as older tools make them):
 * the header and its extensions, every table checked before use, reads
 * through the L1 and L2 tables (backing files, zero and compressed
 * clusters), writes with copy-on-write, and new images. docs/QCOW2.md.
 */
#include "qcow2-priv.h"
#include "engine/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <stdarg.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_RUN_IOV  64 /* vector entries of one pwritev/preadv */
#define MAX_RUN_UPD  64 /* clusters of one write run */
#define L2_CACHE_MAX (32u << 20)
#define RB_CACHE_MAX (8u << 20)

int qcow2_corrupt(Qcow2 *q, const char *format, ...)
{
    va_list ap;

    if (q->corrupt_msg == NULL) {
        va_start(ap, format);
        q->corrupt_msg = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_debug("qcow2 image %s: %s", q->path, q->corrupt_msg);
    }
    return -EIO;
}

int qcow2_pread(Qcow2 *q, uint64_t offset, void *buf, gsize len)
{
    struct iovec iov = { buf, len };
    return vireo_block_file_rw(q->fd, &iov, 1, offset, false);
}

int qcow2_pwrite(Qcow2 *q, uint64_t offset, const void *buf, gsize len)
{
    struct iovec iov = { (void *)buf, len };
    int ret = vireo_block_file_rw(q->fd, &iov, 1, offset, true);

    if (ret == 0 && offset + len > q->file_end) {
        q->file_end = offset + len;
    }
    return ret;
}

int qcow2_sync(Qcow2 *q)
{
    return vireo_block_file_sync(q->fd);
}

/* ---- I/O vectors ------------------------------------------------------------------- */

/* The bytes [skip, skip + len) of a vector as at most `max` entries of
 * `out`; how many, or -1 when they do not fit. */
static int iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t len,
                     struct iovec *out, int max)
{
    int n = 0;

    for (int i = 0; i < iovcnt && len > 0; i++) {
        size_t take;

        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        if (n == max) {
            return -1;
        }
        take = MIN(iov[i].iov_len - skip, len);
        out[n].iov_base = (guint8 *)iov[i].iov_base + skip;
        out[n].iov_len = take;
        n++;
        len -= take;
        skip = 0;
    }
    return n;
}

/* Moves bytes between a buffer and the vector's bytes [skip, skip + len);
 * buf NULL fills the vector with zeros. */
static void iov_copy(const struct iovec *iov, int iovcnt, size_t skip, size_t len, guint8 *buf,
                     bool to_iov)
{
    for (int i = 0; i < iovcnt && len > 0; i++) {
        size_t take;

        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        take = MIN(iov[i].iov_len - skip, len);
        if (!to_iov) {
            memcpy(buf, (guint8 *)iov[i].iov_base + skip, take);
        } else if (buf == NULL) {
            memset((guint8 *)iov[i].iov_base + skip, 0, take);
        } else {
            memcpy((guint8 *)iov[i].iov_base + skip, buf, take);
        }
        if (buf != NULL) {
            buf += take;
        }
        len -= take;
        skip = 0;
    }
}

/* preadv/pwritev of the vector's bytes [skip, skip + len) at `host`. */
static int file_io(Qcow2 *q, const struct iovec *iov, int iovcnt, size_t skip, size_t len,
                   uint64_t host, bool write)
{
    while (len > 0) {
        struct iovec part[MAX_RUN_IOV];
        size_t chunk = len;
        int n, ret;

        n = iov_slice(iov, iovcnt, skip, chunk, part, MAX_RUN_IOV);
        while (n < 0) {
            chunk /= 2;
            n = iov_slice(iov, iovcnt, skip, chunk, part, MAX_RUN_IOV);
        }
        ret = vireo_block_file_rw(q->fd, part, n, host, write);
        if (ret < 0) {
            return ret;
        }
        if (write && host + chunk > q->file_end) {
            q->file_end = host + chunk;
        }
        skip += chunk;
        host += chunk;
        len -= chunk;
    }
    return 0;
}

/* ---- Clusters ------------------------------------------------------------------------ */

typedef enum {
    CLUSTER_UNALLOCATED, /* the backing file's data, or zeros */
    CLUSTER_ZERO,        /* zeros; `host` may still hold a cluster */
    CLUSTER_NORMAL,      /* data at `host` */
    CLUSTER_COMPRESSED,
} ClusterType;

/* What an L2 entry says; -EIO for an entry that cannot be right. */
static int classify(Qcow2 *q, uint64_t entry, ClusterType *type, uint64_t *host)
{
    *host = 0;
    if (entry & QCOW2_COMPRESSED) {
        uint64_t offset, bytes, first, n;

        if (entry & QCOW2_COPIED) {
            return qcow2_corrupt(q, "a compressed cluster is marked as not shared");
        }
        qcow2_compressed_range(q, entry, &offset, &bytes, &first, &n);
        if (offset + bytes > QCOW2_MAX_HOST_OFFSET || offset < q->cluster_size) {
            return qcow2_corrupt(q, "a compressed cluster lies outside the file");
        }
        *type = CLUSTER_COMPRESSED;
        return 0;
    }
    if (entry & QCOW2_L2_RESERVED) {
        return qcow2_corrupt(q, "the L2 entry %#" G_GINT64_MODIFIER "x has reserved bits set",
                             entry);
    }
    *host = entry & QCOW2_OFFSET;
    if (entry & QCOW2_ZERO) {
        *type = CLUSTER_ZERO;
    } else if (*host != 0) {
        *type = CLUSTER_NORMAL;
    } else if (entry & QCOW2_COPIED) {
        return qcow2_corrupt(q, "a data cluster is at offset 0, over the header");
    } else {
        *type = CLUSTER_UNALLOCATED;
    }
    return 0;
}

/* The L2 entry of guest cluster `cluster` through the L1 table `l1`, read
 * only: 0 where no L2 table is. */
static int l2_lookup(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, uint64_t cluster,
                     uint64_t *entry)
{
    uint64_t l1_index = cluster >> q->l2_bits;
    uint64_t l2_offset;
    Qcow2Slot *s;
    int ret;

    *entry = 0;
    if (l1_index >= l1_size) {
        return 0;
    }
    ret = qcow2_l1_entry_check(q, l1[l1_index], &l2_offset);
    if (ret < 0 || l2_offset == 0) {
        return ret;
    }
    ret = qcow2_cache_get(q, &q->l2_cache, l2_offset, true, &s);
    if (ret < 0) {
        return ret;
    }
    *entry = qcow2_l2_entry(s, cluster & ((1ull << q->l2_bits) - 1));
    return 0;
}

static int decompress(Qcow2 *q, uint64_t entry)
{
    uint64_t offset, bytes, first, n;
    int ret;

    if (q->cluster_buf_entry == entry && entry != 0) {
        return 0;
    }
    q->cluster_buf_entry = 0;
    qcow2_compressed_range(q, entry, &offset, &bytes, &first, &n);
    if (q->compressed_buf == NULL) {
        q->compressed_buf = g_malloc(2 * q->cluster_size + 512);
    }
    if (q->cluster_buf == NULL) {
        q->cluster_buf = g_malloc(q->cluster_size);
    }
    g_assert(bytes <= 2 * q->cluster_size + 512);
    ret = qcow2_pread(q, offset, q->compressed_buf, bytes);
    if (ret < 0) {
        return ret;
    }
    if (q->compression_type == 0) {
        z_stream z = { 0 };
        int zr;

        if (inflateInit2(&z, -15) != Z_OK) {
            return -ENOMEM;
        }
        z.next_in = q->compressed_buf;
        z.avail_in = (uInt)bytes;
        z.next_out = q->cluster_buf;
        z.avail_out = (uInt)q->cluster_size;
        zr = inflate(&z, Z_FINISH);
        inflateEnd(&z);
        if (z.avail_out != 0 || (zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK)) {
            return qcow2_corrupt(q, "a compressed cluster (deflate) does not decompress");
        }
    } else {
        ZSTD_inBuffer in = { q->compressed_buf, bytes, 0 };
        ZSTD_outBuffer out = { q->cluster_buf, q->cluster_size, 0 };

        if (q->zstd == NULL) {
            q->zstd = ZSTD_createDCtx();
            if (q->zstd == NULL) {
                return -ENOMEM;
            }
            /* A frame may ask for a window of up to 2 GiB; a cluster needs
             * at most its own size. */
            ZSTD_DCtx_setParameter(q->zstd, ZSTD_d_windowLogMax, 22);
        }
        ZSTD_DCtx_reset(q->zstd, ZSTD_reset_session_only);
        while (out.pos < out.size) {
            size_t zr = ZSTD_decompressStream(q->zstd, &out, &in);

            if (ZSTD_isError(zr)) {
                return qcow2_corrupt(q, "a compressed cluster (zstd) does not decompress: %s",
                                     ZSTD_getErrorName(zr));
            }
            if (in.pos == in.size && out.pos < out.size) {
                break;
            }
        }
        if (out.pos != out.size) {
            return qcow2_corrupt(q, "a compressed cluster (zstd) is too short");
        }
    }
    q->cluster_buf_entry = entry;
    return 0;
}

/* Guest bytes [offset, offset + len) that come from the backing file. */
static int backing_read(Qcow2 *q, const struct iovec *iov, int iovcnt, size_t skip, uint64_t offset,
                        uint64_t len)
{
    uint64_t have = 0;

    if (q->backing != NULL && offset < q->backing_size) {
        have = MIN(len, q->backing_size - offset);
    }
    if (have > 0) {
        struct iovec part[MAX_RUN_IOV];
        uint64_t done = 0;

        while (done < have) {
            uint64_t chunk = have - done;
            int n, ret;

            n = iov_slice(iov, iovcnt, skip + done, chunk, part, MAX_RUN_IOV);
            while (n < 0) {
                chunk /= 2;
                n = iov_slice(iov, iovcnt, skip + done, chunk, part, MAX_RUN_IOV);
            }
            ret = vireo_block_preadv(q->backing, part, n, offset + done);
            if (ret < 0) {
                return ret;
            }
            done += chunk;
        }
    }
    if (have < len) {
        iov_copy(iov, iovcnt, skip + have, len - have, NULL, true);
    }
    return 0;
}

int qcow2_read(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, const struct iovec *iov, int iovcnt,
               size_t skip, uint64_t offset, uint64_t len)
{
    uint64_t run_host = 0, run_len = 0, run_done = 0, done = 0;
    int ret;

    while (done < len) {
        uint64_t pos = offset + done;
        uint64_t in = pos & (q->cluster_size - 1);
        uint64_t n = MIN(q->cluster_size - in, len - done);
        uint64_t entry, host;
        ClusterType type;

        ret = l2_lookup(q, l1, l1_size, pos >> q->cluster_bits, &entry);
        if (ret == 0) {
            ret = classify(q, entry, &type, &host);
        }
        if (ret < 0) {
            return ret;
        }
        if (type == CLUSTER_NORMAL && run_len > 0 && run_host + run_len == host + in) {
            run_len += n;
            done += n;
            continue;
        }
        if (run_len > 0) {
            ret = file_io(q, iov, iovcnt, skip + run_done, run_len, run_host, false);
            if (ret < 0) {
                return ret;
            }
            run_len = 0;
        }
        switch (type) {
        case CLUSTER_NORMAL:
            run_host = host + in;
            run_len = n;
            run_done = done;
            break;
        case CLUSTER_ZERO: iov_copy(iov, iovcnt, skip + done, n, NULL, true); break;
        case CLUSTER_UNALLOCATED: ret = backing_read(q, iov, iovcnt, skip + done, pos, n); break;
        case CLUSTER_COMPRESSED:
            ret = decompress(q, entry);
            if (ret == 0) {
                iov_copy(iov, iovcnt, skip + done, n, q->cluster_buf + in, true);
            }
            break;
        }
        if (ret < 0) {
            return ret;
        }
        done += n;
    }
    if (run_len > 0) {
        return file_io(q, iov, iovcnt, skip + run_done, run_len, run_host, false);
    }
    return 0;
}

/* ---- Writing ----------------------------------------------------------------------------- */

/* An L2 table the active L1 table may change: allocated where there was
 * none, copied where a snapshot shares it. The slot comes back pinned. */
static int l2_for_write(Qcow2 *q, uint64_t l1_index, Qcow2Slot **out)
{
    uint64_t entry, l2_offset, rc, fresh;
    Qcow2Slot *src, *dst;
    int ret;

    if (l1_index >= q->l1_size) {
        return -EINVAL;
    }
    entry = q->l1[l1_index];
    ret = qcow2_l1_entry_check(q, entry, &l2_offset);
    if (ret < 0) {
        return ret;
    }
    if (l2_offset != 0) {
        ret = qcow2_refcount_get(q, l2_offset >> q->cluster_bits, &rc);
        if (ret < 0) {
            return ret;
        }
        if (rc == 0) {
            return qcow2_corrupt(q, "the L2 table at %#" G_GINT64_MODIFIER "x has a refcount of 0",
                                 l2_offset);
        }
        if (rc == 1) {
            ret = qcow2_cache_get(q, &q->l2_cache, l2_offset, true, out);
            if (ret < 0) {
                return ret;
            }
            if (!(entry & QCOW2_COPIED)) {
                q->l1[l1_index] = entry | QCOW2_COPIED;
                goto l1_dirty;
            }
            (*out)->pins++;
            return 0;
        }
    }
    ret = qcow2_alloc(q, 1, &fresh);
    if (ret < 0) {
        return ret;
    }
    if (l2_offset == 0) {
        ret = qcow2_cache_get(q, &q->l2_cache, fresh, false, &dst);
        if (ret < 0) {
            qcow2_alloc_undo(q, fresh, 1);
            return ret;
        }
    } else {
        /* Shared with a snapshot: this L1 table gets its own copy. The
         * clusters it points at keep their counts (one L2 table fewer and
         * one more reference them); they stay shared. */
        ret = qcow2_cache_get(q, &q->l2_cache, l2_offset, true, &src);
        if (ret < 0) {
            qcow2_alloc_undo(q, fresh, 1);
            return ret;
        }
        src->pins++;
        ret = qcow2_cache_get(q, &q->l2_cache, fresh, false, &dst);
        src->pins--;
        if (ret < 0) {
            qcow2_alloc_undo(q, fresh, 1);
            return ret;
        }
        for (uint64_t i = 0; i < (1ull << q->l2_bits); i++) {
            qcow2_set_l2_entry(dst, i, qcow2_l2_entry(src, i) & ~QCOW2_COPIED);
        }
        qcow2_release(q, QCOW2_RELEASE_CLUSTER, l2_offset);
    }
    qcow2_cache_mark_dirty(&q->l2_cache, dst);
    qcow2_metadata_add(q, fresh, 1);
    q->l1[l1_index] = fresh | QCOW2_COPIED;
    *out = dst;
l1_dirty:
    if (q->l1_dirty_lo >= q->l1_dirty_hi) {
        q->l1_dirty_lo = (uint32_t)l1_index;
        q->l1_dirty_hi = (uint32_t)l1_index + 1;
    } else {
        q->l1_dirty_lo = MIN(q->l1_dirty_lo, (uint32_t)l1_index);
        q->l1_dirty_hi = MAX(q->l1_dirty_hi, (uint32_t)l1_index + 1);
    }
    (*out)->pins++;
    return 0;
}

/* Drops the reference an L2 entry held, once the file no longer has it. */
static void release_entry(Qcow2 *q, uint64_t entry)
{
    if (entry & QCOW2_COMPRESSED) {
        qcow2_release(q, QCOW2_RELEASE_COMPRESSED, entry);
    } else if ((entry & QCOW2_OFFSET) != 0) {
        qcow2_release(q, QCOW2_RELEASE_CLUSTER, entry & QCOW2_OFFSET);
    }
}

/* Consecutive pieces of a write that land next to each other in the file,
 * written with one pwritev; the L2 entries of the clusters allocated for
 * them change once their data is there. */
typedef struct {
    uint64_t host; /* where the run starts in the file */
    uint64_t len;
    size_t skip;  /* where in the caller's vector */
    uint64_t end; /* the end of its last cluster, when fresh clusters may end past the file */
    struct {
        Qcow2Slot *slot;
        uint64_t index;
        uint64_t entry; /* the new one */
        uint64_t old;
    } upd[MAX_RUN_UPD];
    guint n_upd;
} WriteRun;

static void run_finish(Qcow2 *q, WriteRun *run, bool ok)
{
    for (guint i = 0; i < run->n_upd; i++) {
        Qcow2Slot *s = run->upd[i].slot;

        if (ok) {
            qcow2_set_l2_entry(s, run->upd[i].index, run->upd[i].entry);
            qcow2_cache_mark_dirty(&q->l2_cache, s);
            release_entry(q, run->upd[i].old);
        } else {
            qcow2_alloc_undo(q, run->upd[i].entry & QCOW2_OFFSET, 1);
        }
        s->pins--;
    }
    run->n_upd = 0;
    run->len = 0;
    run->end = 0;
}

static int run_flush(Qcow2 *q, WriteRun *run, const struct iovec *iov, int iovcnt)
{
    int ret = 0;

    if (run->len > 0) {
        ret = file_io(q, iov, iovcnt, run->skip, run->len, run->host, true);
    }
    /* A fresh cluster written only in part ends inside the file, so that
     * it reads as zeros everywhere else. */
    if (ret == 0 && run->end > q->file_end) {
        ret = vireo_block_file_extend(q->fd, run->end);
        if (ret == 0) {
            q->file_end = run->end;
        }
    }
    run_finish(q, run, ret == 0);
    return ret;
}

/* The old content of a cluster [0, cluster_size) into `buf`, for a write
 * that covers only part of it. */
static int cluster_old_content(Qcow2 *q, ClusterType type, uint64_t entry, uint64_t host,
                               uint64_t guest, guint8 *buf)
{
    struct iovec iov = { buf, q->cluster_size };
    int ret;

    switch (type) {
    case CLUSTER_NORMAL: return qcow2_pread(q, host, buf, q->cluster_size);
    case CLUSTER_ZERO: memset(buf, 0, q->cluster_size); return 0;
    case CLUSTER_UNALLOCATED: return backing_read(q, &iov, 1, 0, guest, q->cluster_size);
    case CLUSTER_COMPRESSED:
        ret = decompress(q, entry);
        if (ret == 0) {
            memcpy(buf, q->cluster_buf, q->cluster_size);
        }
        return ret;
    }
    return -EINVAL;
}

/* Whether the cluster's old content is all zeros without reading it. */
static bool old_is_zero(Qcow2 *q, ClusterType type, uint64_t guest)
{
    return type == CLUSTER_ZERO ||
           (type == CLUSTER_UNALLOCATED && (q->backing == NULL || guest >= q->backing_size));
}

int qcow2_write(Qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len)
{
    WriteRun run = { 0 };
    uint64_t done = 0;
    int ret = 0;

    while (done < len) {
        uint64_t pos = offset + done;
        uint64_t cluster = pos >> q->cluster_bits;
        uint64_t in = pos & (q->cluster_size - 1);
        uint64_t n = MIN(q->cluster_size - in, len - done);
        uint64_t entry, host, rc, fresh, target;
        ClusterType type;
        Qcow2Slot *slot;
        bool sparse;

        /* Data that only this image holds is written in place. */
        ret = l2_lookup(q, q->l1, q->l1_size, cluster, &entry);
        if (ret == 0) {
            ret = classify(q, entry, &type, &host);
        }
        if (ret < 0) {
            break;
        }
        if (type == CLUSTER_NORMAL && (entry & QCOW2_COPIED) &&
            (q->l1[cluster >> q->l2_bits] & QCOW2_COPIED)) {
            ret = qcow2_refcount_get(q, host >> q->cluster_bits, &rc);
            if (ret < 0) {
                break;
            }
            if (rc == 0 || qcow2_is_metadata(q, host >> q->cluster_bits)) {
                ret = qcow2_corrupt(q,
                                    "a data cluster at %#" G_GINT64_MODIFIER "x is free or holds "
                                    "metadata",
                                    host);
                break;
            }
            if (rc == 1) {
                target = host + in;
                if (run.len == 0 || run.host + run.len != target || run.n_upd == MAX_RUN_UPD) {
                    ret = run_flush(q, &run, iov, iovcnt);
                    if (ret < 0) {
                        break;
                    }
                    run.host = target;
                    run.skip = done;
                }
                run.len += n;
                done += n;
                continue;
            }
        }

        /* Elsewhere the data goes to a new cluster. */
        ret = l2_for_write(q, cluster >> q->l2_bits, &slot);
        if (ret < 0) {
            break;
        }
        entry = qcow2_l2_entry(slot, cluster & ((1ull << q->l2_bits) - 1));
        ret = classify(q, entry, &type, &host);
        if (ret == 0) {
            ret = qcow2_alloc(q, 1, &fresh);
        }
        if (ret < 0) {
            slot->pins--;
            break;
        }
        sparse = old_is_zero(q, type, pos - in) && fresh >= q->file_end;
        if (n == q->cluster_size || sparse) {
            target = fresh + in;
            if (run.len == 0 || run.host + run.len != target || run.n_upd == MAX_RUN_UPD) {
                ret = run_flush(q, &run, iov, iovcnt);
                if (ret < 0) {
                    qcow2_alloc_undo(q, fresh, 1);
                    slot->pins--;
                    break;
                }
                run.host = target;
                run.skip = done;
            }
            run.len += n;
            if (n < q->cluster_size) {
                run.end = MAX(run.end, fresh + q->cluster_size);
            }
        } else {
            /* Part of a cluster: the rest comes from what was there. */
            ret = run_flush(q, &run, iov, iovcnt);
            if (ret == 0) {
                if (q->bounce_buf == NULL) {
                    q->bounce_buf = g_malloc(q->cluster_size);
                }
                ret = cluster_old_content(q, type, entry, host, pos - in, q->bounce_buf);
            }
            if (ret == 0) {
                iov_copy(iov, iovcnt, done, n, q->bounce_buf + in, false);
                ret = qcow2_pwrite(q, fresh, q->bounce_buf, q->cluster_size);
            }
            if (ret < 0) {
                qcow2_alloc_undo(q, fresh, 1);
                slot->pins--;
                break;
            }
        }
        run.upd[run.n_upd].slot = slot;
        run.upd[run.n_upd].index = cluster & ((1ull << q->l2_bits) - 1);
        run.upd[run.n_upd].entry = fresh | QCOW2_COPIED;
        run.upd[run.n_upd].old = entry;
        run.n_upd++;
        if (run.len == 0) {
            run_finish(q, &run, true);
        }
        done += n;
    }
    if (ret == 0) {
        ret = run_flush(q, &run, iov, iovcnt);
    } else {
        run_finish(q, &run, false);
    }
    return ret;
}

/* Zeros written as data, a cluster at a time. */
static int write_zeros(Qcow2 *q, uint64_t offset, uint64_t len)
{
    if (q->zero_buf == NULL) {
        q->zero_buf = g_malloc0(q->cluster_size);
    }
    while (len > 0) {
        uint64_t n = MIN(len, q->cluster_size - (offset & (q->cluster_size - 1)));
        struct iovec iov = { q->zero_buf, (size_t)n };
        int ret = qcow2_write(q, &iov, 1, offset, n);

        if (ret < 0) {
            return ret;
        }
        offset += n;
        len -= n;
    }
    return 0;
}

/* Zeros over [offset, offset + len): whole clusters become zero clusters
 * (unallocated when `discard` and nothing shows through from a backing
 * file), the clusters they held given back; parts of clusters are written. */
static int zero_range(Qcow2 *q, uint64_t offset, uint64_t len, bool discard)
{
    uint64_t mask = q->cluster_size - 1;
    uint64_t first = (offset + mask) & ~mask;
    uint64_t end = offset + len;
    uint64_t last = end & ~mask;
    int ret;

    if (first >= last) {
        return write_zeros(q, offset, len);
    }
    if (first > offset) {
        ret = write_zeros(q, offset, first - offset);
        if (ret < 0) {
            return ret;
        }
    }
    for (uint64_t pos = first; pos < last; pos += q->cluster_size) {
        uint64_t cluster = pos >> q->cluster_bits;
        uint64_t l1_index = cluster >> q->l2_bits;
        uint64_t index = cluster & ((1ull << q->l2_bits) - 1);
        uint64_t entry, host, target;
        ClusterType type;
        Qcow2Slot *slot;
        bool shows_backing = q->backing != NULL && pos < q->backing_size;

        /* Without an L2 table and a backing file below, it reads as zeros. */
        if (l1_index < q->l1_size && (q->l1[l1_index] & QCOW2_OFFSET) == 0 && !shows_backing &&
            (q->backing == NULL ||
             ((l1_index << q->l2_bits) << q->cluster_bits) >= q->backing_size)) {
            pos = (((l1_index + 1) << q->l2_bits) << q->cluster_bits) - q->cluster_size;
            if (pos >= last) {
                break;
            }
            continue;
        }
        ret = l2_lookup(q, q->l1, q->l1_size, cluster, &entry);
        if (ret == 0) {
            ret = classify(q, entry, &type, &host);
        }
        if (ret < 0) {
            return ret;
        }
        if ((type == CLUSTER_ZERO && host == 0) ||
            (type == CLUSTER_UNALLOCATED && !shows_backing)) {
            continue;
        }
        if (q->version >= 3) {
            target = discard && !shows_backing ? 0 : QCOW2_ZERO;
        } else if (!shows_backing) {
            target = 0;
        } else {
            ret = write_zeros(q, pos, q->cluster_size);
            if (ret < 0) {
                return ret;
            }
            continue;
        }
        ret = l2_for_write(q, l1_index, &slot);
        if (ret < 0) {
            return ret;
        }
        entry = qcow2_l2_entry(slot, index);
        qcow2_set_l2_entry(slot, index, target);
        qcow2_cache_mark_dirty(&q->l2_cache, slot);
        slot->pins--;
        release_entry(q, entry);
    }
    if (last < end) {
        return write_zeros(q, last, end - last);
    }
    return 0;
}

/* ---- The ops table ----------------------------------------------------------------------- */

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
    size_t total = 0;

    for (int i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    return total;
}

static bool in_disk(Qcow2 *q, uint64_t offset, uint64_t len)
{
    return offset <= q->size && len <= q->size - offset;
}

static int q_preadv(void *opaque, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    Qcow2 *q = opaque;
    size_t len = iov_total(iov, iovcnt);
    int ret;

    if (!in_disk(q, offset, len)) {
        return -EINVAL;
    }
    g_mutex_lock(&q->lock);
    ret = qcow2_read(q, q->l1, q->l1_size, iov, iovcnt, 0, offset, len);
    g_mutex_unlock(&q->lock);
    return ret;
}

static int q_pwritev(void *opaque, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    Qcow2 *q = opaque;
    size_t len = iov_total(iov, iovcnt);
    int ret;

    if (!in_disk(q, offset, len)) {
        return -EINVAL;
    }
    if (q->read_only) {
        return -EROFS;
    }
    g_mutex_lock(&q->lock);
    ret = q->corrupt_msg != NULL ? -EIO : qcow2_write(q, iov, iovcnt, offset, len);
    g_mutex_unlock(&q->lock);
    return ret;
}

static int q_flush(void *opaque)
{
    Qcow2 *q = opaque;
    int ret;

    if (q->read_only) {
        return 0;
    }
    g_mutex_lock(&q->lock);
    ret = qcow2_meta_writeback(q);
    if (ret == 0) {
        ret = qcow2_sync(q);
    }
    g_mutex_unlock(&q->lock);
    return ret;
}

static int q_zero(Qcow2 *q, uint64_t offset, uint64_t len, bool discard)
{
    int ret;

    if (!in_disk(q, offset, len)) {
        return -EINVAL;
    }
    if (q->read_only) {
        return -EROFS;
    }
    g_mutex_lock(&q->lock);
    ret = q->corrupt_msg != NULL ? -EIO : zero_range(q, offset, len, discard);
    g_mutex_unlock(&q->lock);
    return ret;
}

static int q_discard(void *opaque, uint64_t offset, uint64_t len)
{
    return q_zero(opaque, offset, len, true);
}

static int q_write_zeroes(void *opaque, uint64_t offset, uint64_t len)
{
    return q_zero(opaque, offset, len, false);
}

static void q_free(Qcow2 *q)
{
    if (q->fd >= 0) {
        close(q->fd);
    }
    qcow2_cache_destroy(&q->l2_cache);
    qcow2_cache_destroy(&q->rb_cache);
    if (q->releases != NULL) {
        g_array_free(q->releases, TRUE);
    }
    if (q->metadata != NULL) {
        g_hash_table_destroy(q->metadata);
    }
    if (q->snapshots != NULL) {
        g_ptr_array_free(q->snapshots, TRUE);
    }
    vireo_block_free(q->backing);
    if (q->zstd != NULL) {
        ZSTD_freeDCtx(q->zstd);
    }
    g_free(q->l1);
    g_free(q->rt);
    g_free(q->sn_l1);
    g_free(q->path);
    g_free(q->name);
    g_free(q->backing_name);
    g_free(q->cluster_buf);
    g_free(q->compressed_buf);
    g_free(q->zero_buf);
    g_free(q->bounce_buf);
    g_free(q->corrupt_msg);
    g_mutex_clear(&q->lock);
    g_free(q);
}

static void q_close(void *opaque)
{
    Qcow2 *q = opaque;

    if (!q->read_only) {
        g_mutex_lock(&q->lock);
        if (qcow2_meta_writeback(q) == 0) {
            qcow2_sync(q);
        }
        g_mutex_unlock(&q->lock);
    }
    q_free(q);
}

static int q_lock_fd(void *opaque)
{
    return ((Qcow2 *)opaque)->fd;
}

static const VireoBlockOps qcow2_ops = {
    .preadv = q_preadv,
    .pwritev = q_pwritev,
    .flush = q_flush,
    .discard = q_discard,
    .write_zeroes = q_write_zeroes,
    .close = q_close,
    .snapshot_list = qcow2_snapshot_list,
    .vmstate_write = qcow2_vmstate_write,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_read_vmstate = qcow2_snapshot_read_vmstate,
    .snapshot_goto = qcow2_snapshot_goto,
    .snapshot_delete = qcow2_snapshot_delete,
    .lock_fd = q_lock_fd,
};

/* ---- Opening ------------------------------------------------------------------------------ */

static bool bad(GError **error, const Qcow2 *q, const char *format, ...) G_GNUC_PRINTF(3, 4);

static bool bad(GError **error, const Qcow2 *q, const char *format, ...)
{
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, format);
    why = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT, "The qcow2 image “%s” is damaged: %s",
                q->path, why);
    return false;
}

static bool unsupported(GError **error, const Qcow2 *q, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static bool unsupported(GError **error, const Qcow2 *q, const char *format, ...)
{
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, format);
    why = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED, "The qcow2 image “%s” %s", q->path,
                why);
    return false;
}

static bool io_failed(GError **error, const Qcow2 *q, int err)
{
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot read the qcow2 image “%s”: %s", q->path,
                g_strerror(-err));
    return false;
}

/* Whether [a, a + alen) and [b, b + blen) overlap. */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen > 0 && blen > 0 && a < b + blen && b < a + alen;
}

/* A table of `bytes` at `offset`: cluster-aligned, after the header and
 * inside the file. */
static bool table_ok(Qcow2 *q, const char *what, uint64_t offset, uint64_t bytes, GError **error)
{
    if (bytes == 0) {
        return true;
    }
    if (offset & (q->cluster_size - 1)) {
        return bad(error, q, "the %s at %#" G_GINT64_MODIFIER "x is not aligned to a cluster", what,
                   offset);
    }
    if (offset == 0) {
        return bad(error, q, "the %s overlaps the header", what);
    }
    if (offset > q->file_end || bytes > q->file_end - offset) {
        return bad(error, q,
                   "the %s (%" G_GUINT64_FORMAT " bytes at %#" G_GINT64_MODIFIER "x) lies past "
                   "the end of the file (%" G_GUINT64_FORMAT " bytes): the file is truncated",
                   what, bytes, offset, q->file_end);
    }
    return true;
}

/* The name of an incompatible feature bit, from the image's feature name
 * table when it has one. */
static char *feature_name(const guint8 *table, uint32_t len, int bit)
{
    for (uint32_t i = 0; i + 48 <= len; i += 48) {
        if (table[i] == 0 && table[i + 1] == bit) {
            g_autofree char *name = g_strndup((const char *)table + i + 2, 46);
            if (g_utf8_validate(name, -1, NULL) && name[0] != '\0') {
                return g_strdup_printf("“%s” (incompatible feature bit %d)", name, bit);
            }
        }
    }
    return g_strdup_printf("incompatible feature bit %d", bit);
}

typedef struct {
    uint64_t backing_offset;
    uint32_t backing_size;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    char *backing_format;
} Header;

static bool read_extensions(Qcow2 *q, const guint8 *cluster, Header *h, GError **error)
{
    uint64_t end = q->cluster_size;
    uint64_t pos = q->header_length;
    const guint8 *features = NULL;
    uint32_t features_len = 0;
    uint64_t unknown;

    if (h->backing_offset != 0 && h->backing_offset < end) {
        end = h->backing_offset;
    }
    while (pos + 8 <= end) {
        uint32_t type = qcow2_be32(cluster + pos);
        uint32_t len = qcow2_be32(cluster + pos + 4);

        pos += 8;
        if (type == QCOW2_EXT_END) {
            break;
        }
        if (len > end - pos) {
            return bad(error, q, "a header extension (%#x) runs past the header's cluster", type);
        }
        switch (type) {
        case QCOW2_EXT_BACKING_FORMAT:
            if (len == 0 || len > 16) {
                return bad(error, q, "the backing file format has %u bytes", len);
            }
            g_free(h->backing_format);
            h->backing_format = g_strndup((const char *)cluster + pos, len);
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            features = cluster + pos;
            features_len = len;
            break;
        default: break; /* bitmaps, encryption, data file, unknown: ignored */
        }
        pos += ((uint64_t)len + 7) & ~7ull;
    }

    unknown = q->incompatible &
              ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DATA_FILE |
                QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_EXTL2);
    if (unknown != 0) {
        g_autofree char *name = feature_name(features, features_len, g_bit_nth_lsf(unknown, -1));
        return unsupported(error, q, "uses %s, which Vireo does not know", name);
    }
    return true;
}

static bool read_header(Qcow2 *q, Header *h, GError **error)
{
    guint8 fixed[QCOW2_HDR_V3_MIN_LENGTH + 8] = { 0 };
    g_autofree guint8 *cluster = NULL;
    uint64_t l1_needed;
    int ret;

    if (q->file_end < QCOW2_HDR_V2_LENGTH) {
        return bad(error, q, "the file has %" G_GUINT64_FORMAT " bytes, less than a header",
                   q->file_end);
    }
    ret = qcow2_pread(q, 0, fixed, sizeof fixed);
    if (ret < 0) {
        return io_failed(error, q, ret);
    }
    if (qcow2_be32(fixed) != QCOW2_MAGIC) {
        return bad(error, q, "it does not start with the qcow2 magic");
    }
    q->version = qcow2_be32(fixed + 4);
    if (q->version < 2) {
        return unsupported(error, q,
                           "is a qcow version %u image, which Vireo does not read (convert it: "
                           "qemu-img convert -O qcow2)",
                           q->version);
    }
    if (q->version > 3) {
        return unsupported(error, q, "has version %u; Vireo reads versions 2 and 3", q->version);
    }
    h->backing_offset = qcow2_be64(fixed + 8);
    h->backing_size = qcow2_be32(fixed + 16);
    q->cluster_bits = qcow2_be32(fixed + 20);
    q->size = qcow2_be64(fixed + 24);
    if (q->cluster_bits < 9 || q->cluster_bits > 21) {
        return bad(error, q, "its cluster size is 2^%u bytes (512 bytes to 2 MiB are valid)",
                   q->cluster_bits);
    }
    q->cluster_size = 1ull << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    if (qcow2_be32(fixed + 32) != 0) {
        return unsupported(error, q, "is encrypted, which Vireo does not support");
    }
    q->l1_size = qcow2_be32(fixed + 36);
    q->l1_offset = qcow2_be64(fixed + 40);
    q->rt_offset = qcow2_be64(fixed + 48);
    q->rt_clusters = qcow2_be32(fixed + 56);
    h->nb_snapshots = qcow2_be32(fixed + 60);
    h->snapshots_offset = qcow2_be64(fixed + 64);
    if (q->version == 2) {
        q->refcount_order = 4;
        q->header_length = QCOW2_HDR_V2_LENGTH;
    } else {
        q->incompatible = qcow2_be64(fixed + 72);
        q->compatible = qcow2_be64(fixed + 80);
        q->autoclear = qcow2_be64(fixed + 88);
        q->refcount_order = qcow2_be32(fixed + 96);
        q->header_length = qcow2_be32(fixed + 100);
        if (q->header_length < QCOW2_HDR_V3_MIN_LENGTH || q->header_length % 8 != 0 ||
            q->header_length > q->cluster_size) {
            return bad(error, q, "its header length is %u bytes", q->header_length);
        }
        if (q->header_length > QCOW2_HDR_V3_MIN_LENGTH) {
            q->compression_type = fixed[104];
        }
    }
    if (q->refcount_order > 6) {
        return bad(error, q, "its refcounts have 2^%u bits (at most 64 are valid)",
                   q->refcount_order);
    }
    q->rb_bits = q->cluster_bits + 3 - q->refcount_order;
    q->refcount_max = q->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << q->refcount_order)) - 1;

    /* What is refused before anything else is read. */
    if (q->incompatible & QCOW2_INCOMPAT_DATA_FILE) {
        return unsupported(error, q,
                           "keeps its data in an external data file, which Vireo does not "
                           "support");
    }
    if (q->incompatible & QCOW2_INCOMPAT_EXTL2) {
        return unsupported(error, q,
                           "has extended L2 entries (subclusters), which Vireo does not support; "
                           "convert it: qemu-img convert -O qcow2");
    }
    if (((q->incompatible & QCOW2_INCOMPAT_COMPRESSION) != 0) != (q->compression_type != 0)) {
        return bad(error, q, "its compression type (%u) and its feature bits disagree",
                   q->compression_type);
    }
    if (q->compression_type > 1) {
        return unsupported(error, q, "compresses with method %u (zlib and zstd are supported)",
                           q->compression_type);
    }

    cluster = g_malloc0(q->cluster_size);
    ret = qcow2_pread(q, 0, cluster, q->cluster_size);
    if (ret < 0) {
        return io_failed(error, q, ret);
    }
    if (!read_extensions(q, cluster, h, error)) {
        return false;
    }
    if (!q->read_only && (q->incompatible & QCOW2_INCOMPAT_CORRUPT)) {
        return bad(error, q,
                   "it is marked corrupt; open it read-only, or repair it with "
                   "qemu-img check -r all");
    }
    if (!q->read_only && (q->incompatible & QCOW2_INCOMPAT_DIRTY)) {
        return unsupported(error, q,
                           "was not closed cleanly by a program using lazy refcounts, so its "
                           "refcounts need repair before it is written: qemu-img check -r all");
    }

    /* The backing file's name. */
    if (h->backing_offset != 0) {
        if (h->backing_size == 0 || h->backing_size > QCOW2_MAX_BACKING_NAME ||
            h->backing_offset > q->cluster_size ||
            h->backing_size > q->cluster_size - h->backing_offset) {
            return bad(error, q,
                       "its backing file name (%u bytes at %" G_GUINT64_FORMAT ") is "
                       "not in the header's cluster",
                       h->backing_size, h->backing_offset);
        }
        q->backing_name = g_strndup((const char *)cluster + h->backing_offset, h->backing_size);
        if (strlen(q->backing_name) != h->backing_size) {
            return bad(error, q, "its backing file name holds a zero byte");
        }
    }

    /* The tables. */
    l1_needed = qcow2_l1_entries_for(q, q->size);
    if (q->size > (uint64_t)G_MAXINT64 || l1_needed > QCOW2_MAX_L1_BYTES / 8) {
        return unsupported(error, q,
                           "has a virtual size of %" G_GUINT64_FORMAT " bytes, more than "
                           "the format's L1 table limit allows",
                           q->size);
    }
    if (q->l1_size < l1_needed) {
        return bad(error, q,
                   "its L1 table has %u entries, fewer than its size needs (%" G_GUINT64_FORMAT ")",
                   q->l1_size, l1_needed);
    }
    if (q->l1_size > QCOW2_MAX_L1_BYTES / 8) {
        return bad(error, q, "its L1 table has %u entries (at most %u are valid)", q->l1_size,
                   QCOW2_MAX_L1_BYTES / 8);
    }
    if (!table_ok(q, "L1 table", q->l1_offset, (uint64_t)q->l1_size * 8, error)) {
        return false;
    }
    if (q->rt_clusters == 0 ||
        (uint64_t)q->rt_clusters * q->cluster_size > QCOW2_MAX_REFTABLE_BYTES) {
        return bad(error, q, "its refcount table has %u clusters", q->rt_clusters);
    }
    if (!table_ok(q, "refcount table", q->rt_offset, (uint64_t)q->rt_clusters * q->cluster_size,
                  error)) {
        return false;
    }
    if (overlap(q->l1_offset, (uint64_t)q->l1_size * 8, q->rt_offset,
                (uint64_t)q->rt_clusters * q->cluster_size)) {
        return bad(error, q, "its L1 table and its refcount table overlap");
    }
    if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        return bad(error, q, "it claims %u snapshots (at most %u are valid)", h->nb_snapshots,
                   QCOW2_MAX_SNAPSHOTS);
    }
    return true;
}

static bool load_tables(Qcow2 *q, GError **error)
{
    uint64_t rt_bytes = (uint64_t)q->rt_clusters * q->cluster_size;
    uint64_t l1_bytes = (uint64_t)q->l1_size * 8;
    g_autofree guint8 *buf = NULL;
    int ret;

    buf = g_malloc(MAX(rt_bytes, l1_bytes) + 8);
    ret = qcow2_pread(q, q->rt_offset, buf, rt_bytes);
    if (ret < 0) {
        return io_failed(error, q, ret);
    }
    q->rt_entries = rt_bytes / 8;
    q->rt = g_new(uint64_t, q->rt_entries);
    qcow2_metadata_add(q, 0, 1);
    qcow2_metadata_add(q, q->rt_offset, q->rt_clusters);
    for (uint64_t i = 0; i < q->rt_entries; i++) {
        uint64_t e = qcow2_be64(buf + i * 8);

        q->rt[i] = e;
        if (e == 0) {
            continue;
        }
        if ((e & QCOW2_RT_RESERVED) || e >= QCOW2_MAX_HOST_OFFSET ||
            e + q->cluster_size > q->file_end) {
            return bad(error, q,
                       "refcount block %" G_GUINT64_FORMAT " is at %#" G_GINT64_MODIFIER
                       "x, not a cluster inside the file",
                       i, e);
        }
        if (overlap(e, q->cluster_size, q->rt_offset, rt_bytes) ||
            overlap(e, q->cluster_size, q->l1_offset, l1_bytes)) {
            return bad(error, q, "refcount block %" G_GUINT64_FORMAT " overlaps a table", i);
        }
        if (qcow2_is_metadata(q, e >> q->cluster_bits)) {
            return bad(error, q, "refcount block %" G_GUINT64_FORMAT " is used twice", i);
        }
        qcow2_metadata_add(q, e, 1);
    }

    q->l1 = g_new0(uint64_t, MAX(q->l1_size, 1));
    if (l1_bytes > 0) {
        ret = qcow2_pread(q, q->l1_offset, buf, l1_bytes);
        if (ret < 0) {
            return io_failed(error, q, ret);
        }
        qcow2_metadata_add(q, q->l1_offset, (l1_bytes + q->cluster_size - 1) >> q->cluster_bits);
    }
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t e = qcow2_be64(buf + (gsize)i * 8);
        uint64_t off = e & QCOW2_OFFSET;

        q->l1[i] = e;
        if (e & QCOW2_L1_RESERVED) {
            return bad(error, q, "L1 entry %u (%#" G_GINT64_MODIFIER "x) has reserved bits set", i,
                       e);
        }
        if (off == 0) {
            continue;
        }
        if (off + q->cluster_size > q->file_end) {
            return bad(error, q, "the L2 table of L1 entry %u lies past the end of the file", i);
        }
        if (overlap(off, q->cluster_size, q->rt_offset, rt_bytes) ||
            overlap(off, q->cluster_size, q->l1_offset, l1_bytes)) {
            return bad(error, q, "the L2 table of L1 entry %u overlaps a table", i);
        }
        qcow2_metadata_add(q, off, 1);
    }
    return true;
}

static bool open_backing(Qcow2 *q, const Header *h, const VireoBlockChain *chain, GError **error)
{
    VireoBlockFormat format = VIREO_BLOCK_FORMAT_AUTO;
    g_autofree char *path = NULL;
    g_autoptr(GError) local = NULL;

    if (q->backing_name == NULL) {
        return true;
    }
    if (chain->depth + 1 >= VIREO_BLOCK_MAX_CHAIN) {
        return unsupported(error, q, "is at the end of a chain of more than %d backing files",
                           VIREO_BLOCK_MAX_CHAIN);
    }
    if (h->backing_format != NULL && !vireo_block_format_from_name(h->backing_format, &format)) {
        return unsupported(error, q,
                           "has a backing file in the format “%s” (raw and qcow2 are "
                           "supported)",
                           h->backing_format);
    }
    if (g_path_is_absolute(q->backing_name)) {
        path = g_strdup(q->backing_name);
    } else {
        g_autofree char *dir = g_path_get_dirname(q->path);
        path = g_build_filename(dir, q->backing_name, NULL);
    }
    q->backing = vireo_block_open_chain(path, format, true, chain, &local);
    if (q->backing == NULL) {
        if (chain->depth > 0) {
            g_propagate_error(error, g_steal_pointer(&local));
        } else {
            g_set_error(error, VIREO_ERROR, local->code,
                        "The backing file of “%s” cannot be used: %s", q->path, local->message);
        }
        return false;
    }
    q->backing_size = vireo_block_get_size(q->backing);
    return true;
}

/* Caches big enough for the whole disk, within limits. */
static void init_caches(Qcow2 *q)
{
    uint64_t l2_tables = qcow2_l1_entries_for(q, q->size) + 4;
    uint64_t rb_blocks = (q->file_end >> (q->cluster_bits + q->rb_bits)) + 4;
    uint64_t l2_max = MAX(L2_CACHE_MAX >> q->cluster_bits, 16);
    uint64_t rb_max = MAX(RB_CACHE_MAX >> q->cluster_bits, 16);

    qcow2_cache_init(&q->l2_cache, (guint)MAX(MIN(l2_tables, l2_max), 16), true);
    qcow2_cache_init(&q->rb_cache, (guint)MAX(MIN(rb_blocks * 2, rb_max), 16), false);
}

VireoBlock *vireo_qcow2_open(int fd, const char *path, const struct stat *st, uint64_t size,
                             bool read_only, const VireoBlockChain *below, GError **error)
{
    Qcow2 *q = g_new0(Qcow2, 1);
    VireoBlockChain chain = { below, below != NULL ? below->depth + 1 : 0, st->st_dev, st->st_ino };
    Header h = { 0 };
    VireoBlock *block;
    guint flags;

    g_mutex_init(&q->lock);
    q->fd = fd;
    q->path = g_strdup(path);
    q->name = g_path_get_basename(path);
    q->read_only = read_only;
    q->file_end = size;
    q->releases = g_array_new(FALSE, FALSE, sizeof(Qcow2Release));
    q->metadata = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    q->snapshots = g_ptr_array_new_with_free_func((GDestroyNotify)qcow2_snapshot_free);

    for (const VireoBlockChain *c = below; c != NULL; c = c->above) {
        if (c->dev == st->st_dev && c->ino == st->st_ino) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The backing chain loops: “%s” is its own backing file, directly or "
                        "through others",
                        path);
            goto fail;
        }
    }
    if (!read_header(q, &h, error) || !load_tables(q, error)) {
        goto fail;
    }
    init_caches(q);
    if (!qcow2_snapshots_load(q, h.nb_snapshots, h.snapshots_offset, error) ||
        !open_backing(q, &h, &chain, error)) {
        goto fail;
    }
    /* Auto-clear features (bitmaps) describe data this back end does not
     * keep up to date: they go, as the format asks of a writer that does
     * not know them. */
    if (!read_only && q->autoclear != 0) {
        guint8 zero[8] = { 0 };
        int ret = qcow2_pwrite(q, QCOW2_HDR_AUTOCLEAR, zero, sizeof zero);

        if (ret == 0) {
            ret = qcow2_sync(q);
        }
        if (ret < 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot write the qcow2 image “%s”: %s",
                        path, g_strerror(-ret));
            goto fail;
        }
        q->autoclear = 0;
    }
    g_free(h.backing_format);

    flags = read_only ? VIREO_BLOCK_READ_ONLY : 0;
    if (!read_only && (q->version >= 3 || q->backing == NULL)) {
        flags |= VIREO_BLOCK_DISCARD | VIREO_BLOCK_WRITE_ZEROES;
    }
    block = vireo_block_new(&qcow2_ops, q, q->name, q->size, flags);
    vireo_block_set_format(block, VIREO_BLOCK_FORMAT_QCOW2);
    return block;

fail:
    g_free(h.backing_format);
    q_free(q);
    return NULL;
}

/* ---- New images --------------------------------------------------------------------------- */

bool vireo_qcow2_create_full(const char *path, uint64_t size, const char *backing_file,
                             guint cluster_bits, GError **error)
{
    g_autofree guint8 *image = NULL;
    const char *backing_format = NULL;
    uint64_t cs, l2_cover, l1_size, l1_clusters, per_block, blocks, rt_clusters, total;
    uint64_t pos;
    struct flock lock = { .l_whence = SEEK_SET, .l_type = F_WRLCK };
    struct iovec iov;
    int fd, ret, err;

    g_return_val_if_fail(path != NULL, false);
    if (cluster_bits == 0) {
        cluster_bits = 16;
    }
    if (cluster_bits < 9 || cluster_bits > 21) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "A qcow2 cluster has 2^9 to 2^21 bytes, not 2^%u", cluster_bits);
        return false;
    }
    if (backing_file != NULL) {
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *full = g_path_is_absolute(backing_file)
                                    ? g_strdup(backing_file)
                                    : g_build_filename(dir, backing_file, NULL);

        if (strlen(backing_file) == 0 || strlen(backing_file) > QCOW2_MAX_BACKING_NAME) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "A backing file name has 1 to %u bytes", QCOW2_MAX_BACKING_NAME);
            return false;
        }
        VireoBlockFormat format;
        uint64_t backing_size;

        if (!vireo_block_probe(full, &format, &backing_size, error)) {
            return false;
        }
        backing_format = vireo_block_format_name(format);
        if (size == 0) {
            size = backing_size;
        }
    }
    /* Whole sectors, as the disk models see them. */
    if (size > (1ull << 56) - 512) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "A disk of %" G_GUINT64_FORMAT " bytes is too big", size);
        return false;
    }
    size = (size + 511) & ~511ull;

    cs = 1ull << cluster_bits;
    l2_cover = cs << (cluster_bits - 3);
    l1_size = size / l2_cover + (size % l2_cover != 0);
    if (l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "A disk of %" G_GUINT64_FORMAT " bytes needs bigger clusters", size);
        return false;
    }
    l1_clusters = (l1_size * 8 + cs - 1) / cs;
    /* Layout: the header, the refcount table, its blocks, the L1 table; the
     * blocks count every one of these clusters. */
    per_block = cs * 8 / 16;
    blocks = 1;
    for (;;) {
        rt_clusters = (blocks * 8 + cs - 1) / cs;
        total = 1 + rt_clusters + blocks + l1_clusters;
        if (blocks * per_block >= total) {
            break;
        }
        blocks++;
    }
    image = g_malloc0(total * cs);
    qcow2_put_be32(image, QCOW2_MAGIC);
    qcow2_put_be32(image + 4, 3);
    qcow2_put_be32(image + 20, cluster_bits);
    qcow2_put_be64(image + 24, size);
    qcow2_put_be32(image + 36, (uint32_t)l1_size);
    qcow2_put_be64(image + 40, (1 + rt_clusters + blocks) * cs);
    qcow2_put_be64(image + 48, cs);
    qcow2_put_be32(image + 56, (uint32_t)rt_clusters);
    qcow2_put_be32(image + 96, 4);
    qcow2_put_be32(image + 100, 112);
    pos = 112;
    if (backing_format != NULL) {
        qcow2_put_be32(image + pos, QCOW2_EXT_BACKING_FORMAT);
        qcow2_put_be32(image + pos + 4, (uint32_t)strlen(backing_format));
        memcpy(image + pos + 8, backing_format, strlen(backing_format));
        pos += 8 + ((strlen(backing_format) + 7) & ~7ul);
    }
    pos += 8; /* the end of the extensions */
    if (backing_file != NULL) {
        if (pos + strlen(backing_file) > cs) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "The backing file name does not fit in a cluster");
            return false;
        }
        qcow2_put_be64(image + 8, pos);
        qcow2_put_be32(image + 16, (uint32_t)strlen(backing_file));
        memcpy(image + pos, backing_file, strlen(backing_file));
    }
    for (uint64_t b = 0; b < blocks; b++) {
        qcow2_put_be64(image + cs + b * 8, (1 + rt_clusters + b) * cs);
    }
    for (uint64_t c = 0; c < total; c++) {
        qcow2_put_be16(image + (1 + rt_clusters + c / per_block) * cs + (c % per_block) * 2, 1);
    }

    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot create the disk image “%s”: %s",
                    path, g_strerror(err));
        return false;
    }
    /* Nobody uses the image before it is whole. */
    (void)fcntl(fd, F_OFD_SETLK, &lock);
    iov = (struct iovec){ image, total * cs };
    ret = vireo_block_file_rw(fd, &iov, 1, 0, true);
    if (ret == 0) {
        ret = vireo_block_file_sync(fd);
    }
    close(fd);
    if (ret < 0) {
        g_unlink(path);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot write the disk image “%s”: %s",
                    path, g_strerror(-ret));
        return false;
    }
    return true;
}

bool vireo_qcow2_create(const char *path, uint64_t size, const char *backing_file, GError **error)
{
    return vireo_qcow2_create_full(path, size, backing_file, 0, error);
}
