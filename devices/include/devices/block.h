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

/* Every function returns 0 or a negative errno value. preadv and pwritev
 * transfer everything (a read past the end of the data reads zeros). */
typedef struct {
    int (*preadv)(void *opaque, const struct iovec *iov, int iovcnt, uint64_t offset);
    int (*pwritev)(void *opaque, const struct iovec *iov, int iovcnt, uint64_t offset);
    int (*flush)(void *opaque);                                       /* to stable storage */
    int (*discard)(void *opaque, uint64_t offset, uint64_t len);      /* optional */
    int (*write_zeroes)(void *opaque, uint64_t offset, uint64_t len); /* optional */
    void (*close)(void *opaque);
} VireoBlockOps;

/* A back end of `size` bytes with the capabilities in `flags`; `name`
 * appears in messages and is the disk's default identifier. */
VireoBlock *vireo_block_new(const VireoBlockOps *ops, void *opaque, const char *name, uint64_t size,
                            guint flags);
/* A raw image file (or block device). It is locked against other writers
 * (readers, for a writable image); discard and write-zeroes are offered when
 * the host file system supports hole punching and range zeroing on it. */
VireoBlock *vireo_block_open(const char *path, bool read_only, GError **error);
void vireo_block_free(VireoBlock *block);

const char *vireo_block_get_name(VireoBlock *block);
uint64_t vireo_block_get_size(VireoBlock *block);
guint vireo_block_get_flags(VireoBlock *block);

int vireo_block_preadv(VireoBlock *block, const struct iovec *iov, int iovcnt, uint64_t offset);
int vireo_block_pwritev(VireoBlock *block, const struct iovec *iov, int iovcnt, uint64_t offset);
int vireo_block_flush(VireoBlock *block);
int vireo_block_discard(VireoBlock *block, uint64_t offset, uint64_t len);
int vireo_block_write_zeroes(VireoBlock *block, uint64_t offset, uint64_t len);

G_END_DECLS
