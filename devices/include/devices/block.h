/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

G_BEGIN_DECLS

/*
 * A block back end: what a disk model (virtio-blk) reads and writes, behind
 * an ops table so that formats other than raw files can be added. Calls may
 * block (they run on the disk model's worker thread, never on a vCPU) and
 * come from one thread at a time.
 */
typedef struct VireoBlock VireoBlock;

/* Capabilities. */
#define VIREO_BLOCK_READ_ONLY    (1u << 0)
#define VIREO_BLOCK_DISCARD      (1u << 1) /* discard deallocates; the range reads as zeros */
#define VIREO_BLOCK_WRITE_ZEROES (1u << 2) /* a range is zeroed without writing data */

/* An internal snapshot of a disk image, as `qemu-img snapshot -l` lists it. */
typedef struct {
    char *id; /* "1", "2", ... as QEMU numbers them */
    char *name;
    uint64_t vm_state_size; /* bytes of machine state saved with it (0: disk only) */
    gint64 date_sec;        /* wall-clock time of creation */
    guint32 date_nsec;
    uint64_t vm_clock_ns; /* the guest clock at creation */
    uint64_t disk_size;   /* the virtual disk size when it was taken */
} VireoBlockSnapshot;

void vireo_block_snapshot_free(VireoBlockSnapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoBlockSnapshot, vireo_block_snapshot_free)

/* Every function returns 0 or a negative errno value. preadv and pwritev
 * transfer everything (a read past the end of the data reads zeros). The
 * snapshot functions are optional (NULL: the format has no snapshots); they
 * report errors through `error` and are called while no other call runs. */
typedef struct {
    int (*preadv)(void *opaque, const struct iovec *iov, int iovcnt, uint64_t offset);
    int (*pwritev)(void *opaque, const struct iovec *iov, int iovcnt, uint64_t offset);
    int (*flush)(void *opaque);                                       /* to stable storage */
    int (*discard)(void *opaque, uint64_t offset, uint64_t len);      /* optional */
    int (*write_zeroes)(void *opaque, uint64_t offset, uint64_t len); /* optional */
    void (*close)(void *opaque);
    GPtrArray *(*snapshot_list)(void *opaque, GError **error);
    bool (*vmstate_write)(void *opaque, uint64_t pos, const void *data, gsize len, GError **error);
    bool (*snapshot_create)(void *opaque, const char *name, uint64_t vm_state_size,
                            uint64_t vm_clock_ns, GError **error);
    bool (*snapshot_read_vmstate)(void *opaque, const char *id_or_name, uint64_t pos, void *data,
                                  gsize len, GError **error);
    bool (*snapshot_goto)(void *opaque, const char *id_or_name, GError **error);
    bool (*snapshot_delete)(void *opaque, const char *id_or_name, GError **error);
    /* The descriptor of the image file that holds its lock (optional: -1 or
     * NULL for a back end without one). */
    int (*lock_fd)(void *opaque);
} VireoBlockOps;

/* Image file formats. */
typedef enum {
    VIREO_BLOCK_FORMAT_AUTO, /* detect: qcow2 by its magic, else raw */
    VIREO_BLOCK_FORMAT_RAW,
    VIREO_BLOCK_FORMAT_QCOW2,
} VireoBlockFormat;

/* A back end of `size` bytes with the capabilities in `flags`; `name`
 * appears in messages and is the disk's default identifier. */
VireoBlock *vireo_block_new(const VireoBlockOps *ops, void *opaque, const char *name, uint64_t size,
                            guint flags);
/* An image file (or block device) in `format` (docs/QCOW2.md for qcow2).
 * It is locked against other writers (readers, for a writable image), QEMU
 * included; the backing files of a qcow2 image are opened read-only and
 * locked the same way. A raw image offers discard and write-zeroes when the
 * host file system supports hole punching and range zeroing on it; a qcow2
 * image offers both (they make zero clusters) unless it is a version 2
 * image on a backing file. */
VireoBlock *vireo_block_open_format(const char *path, VireoBlockFormat format, bool read_only,
                                    GError **error);
/* The same with VIREO_BLOCK_FORMAT_AUTO. */
VireoBlock *vireo_block_open(const char *path, bool read_only, GError **error);
void vireo_block_free(VireoBlock *block);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoBlock, vireo_block_free)

void vireo_block_free(VireoBlock *block);

const char *vireo_block_get_name(VireoBlock *block);
uint64_t vireo_block_get_size(VireoBlock *block);
guint vireo_block_get_flags(VireoBlock *block);
/* The format of an image opened from a file (never AUTO); AUTO for a block
 * made with vireo_block_new(). */
VireoBlockFormat vireo_block_get_format(VireoBlock *block);
/* "raw", "qcow2", or "auto". */
const char *vireo_block_format_name(VireoBlockFormat format);
/* "raw" or "qcow2" into *format; false for anything else. */
bool vireo_block_format_from_name(const char *name, VireoBlockFormat *format);

int vireo_block_preadv(VireoBlock *block, const struct iovec *iov, int iovcnt, uint64_t offset);
int vireo_block_pwritev(VireoBlock *block, const struct iovec *iov, int iovcnt, uint64_t offset);
int vireo_block_flush(VireoBlock *block);
/* Live migration's switch-over (docs/MIGRATION.md): gives up the lock of a
 * writable image file, so that another process may open it for writing, and
 * takes it back. Nothing may be written between the two. A block without a
 * file, or a read-only one (whose read lock other readers share), does
 * nothing. Taking the lock back fails, as opening would, when another
 * program holds it now. */
bool vireo_block_unlock(VireoBlock *block, GError **error);
bool vireo_block_relock(VireoBlock *block, GError **error);
int vireo_block_discard(VireoBlock *block, uint64_t offset, uint64_t len);
int vireo_block_write_zeroes(VireoBlock *block, uint64_t offset, uint64_t len);

/*
 * Internal snapshots (qcow2 images; a raw image fails them all with
 * VIREO_ERROR_UNSUPPORTED). A snapshot holds the disk as it was and,
 * optionally, machine state, kept as QEMU keeps it: in a vm-state area
 * past the end of the disk, so that `qemu-img snapshot` and QEMU's savevm and
 * loadvm see the same snapshots.
 *
 * These are called from any one thread while the disk's I/O is idle (the
 * machine paused and its disk model quiesced), never while a preadv, pwritev,
 * flush, discard or write-zeroes call runs. Creating, reverting to and
 * deleting a snapshot are crash safe: the image stays usable after a crash
 * at any point (docs/QCOW2.md says what qemu-img check may report then).
 */
bool vireo_block_supports_snapshots(VireoBlock *block);
/* The snapshots, oldest first (an array of VireoBlockSnapshot * that owns
 * them). */
GPtrArray *vireo_block_snapshot_list(VireoBlock *block, GError **error);
/* Writes machine state into the active image's vm-state area (after the
 * disk's end, as QEMU does), at byte `pos`. */
bool vireo_block_vmstate_write(VireoBlock *block, uint64_t pos, const void *data, gsize len,
                               GError **error);
/* Takes a snapshot of the disk as it is now together with the vm-state area
 * written since the last snapshot (vm_state_size bytes of it; 0: none); the
 * active image's vm-state area is then released. A name already taken
 * fails. */
bool vireo_block_snapshot_create(VireoBlock *block, const char *name, uint64_t vm_state_size,
                                 uint64_t vm_clock_ns, GError **error);
/* Reads the machine state saved with a snapshot (found by id or name),
 * through that snapshot's own L1 table, without changing the active image. */
bool vireo_block_snapshot_read_vmstate(VireoBlock *block, const char *id_or_name, uint64_t pos,
                                       void *data, gsize len, GError **error);
/* Reverts the disk to the snapshot (found by id or name); the snapshot
 * stays. */
bool vireo_block_snapshot_goto(VireoBlock *block, const char *id_or_name, GError **error);
bool vireo_block_snapshot_delete(VireoBlock *block, const char *id_or_name, GError **error);

/* Creates an empty qcow2 version 3 image of `size` bytes with 64 KiB
 * clusters, optionally on a backing file (kept as given: a relative name is
 * relative to the image's folder; its format is detected and recorded; a
 * size of 0 takes the backing file's). An existing file is refused. */
bool vireo_qcow2_create(const char *path, uint64_t size, const char *backing_file, GError **error);
/* The same with 1 << cluster_bits byte clusters (9 to 21; 0: 16, that is
 * 64 KiB). */
bool vireo_qcow2_create_full(const char *path, uint64_t size, const char *backing_file,
                             guint cluster_bits, GError **error);

G_END_DECLS
