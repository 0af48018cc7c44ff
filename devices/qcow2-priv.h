/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The qcow2 back end's state, shared by qcow2.c (header, reads and writes),
 * qcow2-meta.c (metadata caches, reference counts, allocation and the order
 * in which metadata reaches the disk) and qcow2-snapshot.c (internal
 * snapshots). docs/QCOW2.md describes the design.
 */

#include "block-priv.h"

#include <string.h>
#include <zstd.h>

/* ---- The format ----------------------------------------------------------- */

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

/* Header fields the back end rewrites, by their byte offset. */
#define QCOW2_HDR_L1_SIZE       36 /* l1_size (4), then l1_table_offset (8) */
#define QCOW2_HDR_REFTABLE      48 /* refcount_table_offset (8), _clusters (4) */
#define QCOW2_HDR_SNAPSHOTS     60 /* nb_snapshots (4), then snapshots_offset (8) */
#define QCOW2_HDR_AUTOCLEAR     88
#define QCOW2_HDR_V2_LENGTH     72
#define QCOW2_HDR_V3_MIN_LENGTH 104

#define QCOW2_INCOMPAT_DIRTY        (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT      (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE    (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION  (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2        (1ull << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

#define QCOW2_EXT_END            0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE  0x6803f857u
#define QCOW2_EXT_DATA_FILE      0x44415441u

#define QCOW2_COPIED      (1ull << 63)          /* L1 and L2: refcount is exactly one */
#define QCOW2_COMPRESSED  (1ull << 62)          /* L2 */
#define QCOW2_ZERO        (1ull << 0)           /* L2, standard clusters: reads as zeros */
#define QCOW2_OFFSET      0x00fffffffffffe00ull /* bits 9 to 55: a host offset */
#define QCOW2_L1_RESERVED 0x7f000000000001ffull
#define QCOW2_L2_RESERVED 0x3f000000000001feull
#define QCOW2_RT_RESERVED 0x00000000000001ffull

/* Limits, as QEMU has them: past these an image is refused, not read. */
#define QCOW2_MAX_L1_BYTES       (32u << 20)
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)
#define QCOW2_MAX_SNAPSHOTS      65536u
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024u
#define QCOW2_MAX_SNAPSHOT_TABLE (64u << 20)
#define QCOW2_MAX_BACKING_NAME   1023u
#define QCOW2_MAX_HOST_OFFSET    (1ull << 56)

/* ---- Metadata caches -------------------------------------------------------- */

/* One cached cluster of metadata (an L2 table or a refcount block). */
typedef struct {
    uint64_t offset; /* in the file; 0: the slot is free */
    guint8 *data;    /* one cluster, as in the file */
    GList link;      /* in the cache's LRU queue, most recent first */
    guint pins;      /* users holding `data`: not evicted */
    bool dirty;      /* newer than the file */
} Qcow2Slot;

typedef struct {
    Qcow2Slot *slots; /* capacity of them, their data allocated on first use */
    guint capacity;
    GHashTable *map; /* &slot->offset -> slot */
    GQueue lru;
    GPtrArray *dirty; /* slots with `dirty` set */
    bool is_l2;       /* evicting a dirty L2 table writes every metadata first */
} Qcow2Cache;

/* What a cluster that lost a reference in memory gives back once the file
 * no longer has that reference (qcow2_meta_writeback()). */
typedef enum {
    QCOW2_RELEASE_CLUSTER,    /* value: a host offset; one reference */
    QCOW2_RELEASE_COMPRESSED, /* value: a compressed L2 entry; its host clusters */
    QCOW2_RELEASE_L2_REF,     /* value: an L2 table's offset; one L1 reference to it,
                               * and so one reference to everything in it */
} Qcow2ReleaseKind;

typedef struct {
    uint64_t value;
    Qcow2ReleaseKind kind;
} Qcow2Release;

/* ---- Snapshots --------------------------------------------------------------- */

typedef struct {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id;
    char *name;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_ns;
    uint64_t vm_state_size;
    uint64_t disk_size;
    uint64_t icount; /* (uint64_t)-1 when none */
    guint8 *extra;   /* the extra data as read, kept past the fields known */
    uint32_t extra_size;
} Qcow2Snapshot;

/* ---- The image ----------------------------------------------------------------- */

typedef struct {
    GMutex lock;
    int fd;
    char *path; /* as opened, for messages */
    char *name; /* its base name */
    bool read_only;
    uint64_t file_end;       /* the file's size as far as this back end knows it */
    uint64_t alloc_end;      /* the end of the clusters allocated so far, written or not */
    bool refcounts_unsynced; /* refcount metadata written since the last fdatasync */

    /* The header. */
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t l2_bits; /* log2 of the entries in an L2 table */
    uint64_t size;    /* the virtual disk's */
    uint64_t incompatible;
    uint64_t compatible;
    uint64_t autoclear;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type; /* 0: zlib (deflate), 1: zstd */

    /* The active L1 table, in host order. */
    uint64_t *l1;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint32_t l1_dirty_lo, l1_dirty_hi; /* entries [lo, hi) newer than the file */

    /* The refcount table, in host order. */
    uint64_t *rt;
    uint64_t rt_entries;
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint64_t rt_dirty_lo, rt_dirty_hi;
    uint32_t rb_bits;      /* log2 of the entries in a refcount block */
    uint64_t refcount_max; /* the largest count an entry holds */

    Qcow2Cache l2_cache;
    Qcow2Cache rb_cache;
    GArray *releases;     /* Qcow2Release waiting for the next writeback */
    uint64_t free_hint;   /* no free cluster below this one */
    GHashTable *metadata; /* cluster indices (guint64 *) holding metadata */
    bool in_writeback;

    /* Snapshots. */
    GPtrArray *snapshots; /* Qcow2Snapshot *, in the table's order */
    uint64_t snapshots_offset;
    uint64_t snapshots_bytes;
    uint64_t *sn_l1; /* one snapshot's L1 table, read for its vm-state */
    uint32_t sn_l1_size;
    uint64_t sn_l1_offset;

    /* The backing file, read-only. */
    VireoBlock *backing;
    uint64_t backing_size;
    char *backing_name;

    /* Compressed clusters: the last one decompressed, and buffers. */
    guint8 *cluster_buf;        /* one cluster: decompressed data */
    uint64_t cluster_buf_entry; /* the L2 entry it holds; 0: none */
    guint8 *compressed_buf;     /* compressed bytes */
    guint8 *zero_buf;           /* one cluster of zeros */
    guint8 *bounce_buf;         /* one cluster, for copy-on-write */
    ZSTD_DCtx *zstd;

    char *corrupt_msg; /* the first inconsistency found while working */
} Qcow2;

static inline uint64_t qcow2_be64(const guint8 *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_BE(v);
}

static inline void qcow2_put_be64(guint8 *p, uint64_t v)
{
    v = GUINT64_TO_BE(v);
    memcpy(p, &v, 8);
}

static inline uint32_t qcow2_be32(const guint8 *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_BE(v);
}

static inline void qcow2_put_be32(guint8 *p, uint32_t v)
{
    v = GUINT32_TO_BE(v);
    memcpy(p, &v, 4);
}

static inline uint16_t qcow2_be16(const guint8 *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return GUINT16_FROM_BE(v);
}

static inline void qcow2_put_be16(guint8 *p, uint16_t v)
{
    v = GUINT16_TO_BE(v);
    memcpy(p, &v, 2);
}

static inline uint64_t qcow2_l2_entry(const Qcow2Slot *slot, uint64_t index)
{
    return qcow2_be64(slot->data + index * 8);
}

static inline void qcow2_set_l2_entry(Qcow2Slot *slot, uint64_t index, uint64_t entry)
{
    qcow2_put_be64(slot->data + index * 8, entry);
}

/* Bytes of the virtual disk one L1 entry covers. */
static inline uint64_t qcow2_l1_coverage(const Qcow2 *q)
{
    return q->cluster_size << q->l2_bits;
}

/* L1 entries that cover `bytes` of the virtual disk. */
static inline uint64_t qcow2_l1_entries_for(const Qcow2 *q, uint64_t bytes)
{
    uint64_t cover = qcow2_l1_coverage(q);
    return bytes / cover + (bytes % cover != 0);
}

/* Where the vm-state area starts: the first L1 entry past the disk. */
static inline uint64_t qcow2_vmstate_offset(const Qcow2 *q)
{
    return qcow2_l1_entries_for(q, q->size) * qcow2_l1_coverage(q);
}

/* Where clusters may lie: inside the file, or allocated and not yet written. */
static inline uint64_t qcow2_known_end(const Qcow2 *q)
{
    return MAX(q->file_end, q->alloc_end);
}

/* Records the first inconsistency found in the image (a message for
 * people) and returns -EIO. */
int qcow2_corrupt(Qcow2 *q, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* pread/pwrite of a whole buffer (a read past the end reads zeros). */
int qcow2_pread(Qcow2 *q, uint64_t offset, void *buf, gsize len);
int qcow2_pwrite(Qcow2 *q, uint64_t offset, const void *buf, gsize len);
int qcow2_sync(Qcow2 *q);

/* ---- qcow2-meta.c ---------------------------------------------------------------- */

void qcow2_cache_init(Qcow2Cache *c, guint capacity, bool is_l2);
void qcow2_cache_destroy(Qcow2Cache *c);
/* The slot holding the cluster at `offset`, loaded from the file (`load`) or
 * zero-filled for a cluster just allocated. */
int qcow2_cache_get(Qcow2 *q, Qcow2Cache *c, uint64_t offset, bool load, Qcow2Slot **slot);
Qcow2Slot *qcow2_cache_find(Qcow2Cache *c, uint64_t offset);
void qcow2_cache_mark_dirty(Qcow2Cache *c, Qcow2Slot *slot);
/* Drops the cluster at `offset` from the cache, dirty or not (it was freed). */
void qcow2_cache_forget(Qcow2Cache *c, uint64_t offset);

bool qcow2_is_metadata(Qcow2 *q, uint64_t cluster);
void qcow2_metadata_add(Qcow2 *q, uint64_t offset, uint64_t clusters);
void qcow2_metadata_remove(Qcow2 *q, uint64_t offset, uint64_t clusters);

/* The reference count of the cluster at index `cluster`. */
int qcow2_refcount_get(Qcow2 *q, uint64_t cluster, uint64_t *refcount);
/* Adds `delta` to it (the new count in *after, may be NULL): -ERANGE when it
 * would overflow, -EIO (with qcow2_corrupt()) below zero. */
int qcow2_refcount_add(Qcow2 *q, uint64_t cluster, int delta, uint64_t *after);
/* `n` free contiguous clusters, now counted once; their offset in *offset. */
int qcow2_alloc(Qcow2 *q, uint64_t n, uint64_t *offset);
/* Gives back a cluster allocated but never referenced. */
void qcow2_alloc_undo(Qcow2 *q, uint64_t offset, uint64_t n);
/* A reference dropped in memory, given back at the next writeback. */
void qcow2_release(Qcow2 *q, Qcow2ReleaseKind kind, uint64_t value);
/* The host clusters a compressed L2 entry occupies: [*first, *first + *n). */
void qcow2_compressed_range(const Qcow2 *q, uint64_t entry, uint64_t *offset, uint64_t *bytes,
                            uint64_t *first, uint64_t *n);

/* Brings every metadata change to the file in the order that keeps it
 * consistent at every step: refcounts, fdatasync, L2 tables, fdatasync, the
 * L1 table, fdatasync; then the references dropped are counted down. */
int qcow2_meta_writeback(Qcow2 *q);
/* Writes the dirty refcount blocks, refcount table entries, L2 tables and
 * L1 entries without syncing in between (for snapshots, whose steps keep
 * their own order). */
int qcow2_meta_write_all(Qcow2 *q);
/* Writes the dirty refcount blocks (and table entries). */
int qcow2_write_refcounts(Qcow2 *q);
/* Writes the whole L1 table at a new place of `new_size` entries and points
 * the header at it. */
int qcow2_l1_resize(Qcow2 *q, uint32_t new_size);
/* Reads the L2 table at `offset` into `buf`, from the cache when it is there. */
int qcow2_l2_read(Qcow2 *q, uint64_t offset, guint8 *buf);
/* Checks an L1 entry; its L2 table's offset in *offset (0: none). */
int qcow2_l1_entry_check(Qcow2 *q, uint64_t entry, uint64_t *offset);

/* ---- qcow2.c --------------------------------------------------------------------- */

/* Reads guest bytes [offset, offset + len) through the L1 table `l1` into
 * the vector from byte `skip` on. */
int qcow2_read(Qcow2 *q, const uint64_t *l1, uint32_t l1_size, const struct iovec *iov, int iovcnt,
               size_t skip, uint64_t offset, uint64_t len);
/* Writes through the active L1 table; `offset + len` must lie within it. */
int qcow2_write(Qcow2 *q, const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len);

/* ---- qcow2-snapshot.c ------------------------------------------------------------ */

void qcow2_snapshot_free(Qcow2Snapshot *sn);
bool qcow2_snapshots_load(Qcow2 *q, uint32_t count, uint64_t offset, GError **error);
/* Error with the message of an errno value, or of the inconsistency found. */
bool qcow2_fail(Qcow2 *q, int err, GError **error, const char *what);

GPtrArray *qcow2_snapshot_list(void *opaque, GError **error);
bool qcow2_vmstate_write(void *opaque, uint64_t pos, const void *data, gsize len, GError **error);
bool qcow2_snapshot_create(void *opaque, const char *name, uint64_t vm_state_size,
                           uint64_t vm_clock_ns, GError **error);
bool qcow2_snapshot_read_vmstate(void *opaque, const char *id_or_name, uint64_t pos, void *data,
                                 gsize len, GError **error);
bool qcow2_snapshot_goto(void *opaque, const char *id_or_name, GError **error);
bool qcow2_snapshot_delete(void *opaque, const char *id_or_name, GError **error);
