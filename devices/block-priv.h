/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the block back ends (block.c, qcow2*.c) share inside devices/. */

#include "devices/block.h"

#include <sys/stat.h>

/* The images a backing file is opened below: how deep it is, and the files
 * (device and inode) above it, so that a chain that loops is refused. */
#define VIREO_BLOCK_MAX_CHAIN 32

typedef struct VireoBlockChain {
    const struct VireoBlockChain *above; /* NULL for the image the user opened */
    unsigned depth;                      /* 0 for the image the user opened */
    dev_t dev;
    ino_t ino;
} VireoBlockChain;

/* Opens `path` and locks it as vireo_block_open() documents; returns the
 * descriptor, its size and its stat, or -1 with `error` set. */
int vireo_block_open_file(const char *path, bool read_only, uint64_t *size, struct stat *st,
                          GError **error);
/* vireo_block_open_format() for a backing file below `below` (NULL: the top). */
VireoBlock *vireo_block_open_chain(const char *path, VireoBlockFormat format, bool read_only,
                                   const VireoBlockChain *below, GError **error);
void vireo_block_set_format(VireoBlock *block, VireoBlockFormat format);
/* An image file's format (qcow2 by its magic, else raw) and virtual size,
 * without opening its backing files. */
bool vireo_block_probe(const char *path, VireoBlockFormat *format, uint64_t *size, GError **error);

/* pread/pwrite of a vector until everything moved (a read past the end of
 * the file reads zeros); 0 or a negative errno value. */
int vireo_block_file_rw(int fd, const struct iovec *iov, int iovcnt, uint64_t offset, bool write);
/* fdatasync; 0 or a negative errno value. */
int vireo_block_file_sync(int fd);
/* ftruncate to a bigger size; 0 or a negative errno value. */
int vireo_block_file_extend(int fd, uint64_t size);

/* For tests: how many more writes to image files (vireo_block_file_rw,
 * vireo_block_file_extend) succeed before every later one fails with EIO,
 * as if the process had been killed there; -1, the default, for no limit.
 * The getter says how many are left. */
void vireo_block_set_write_limit(int writes);
int vireo_block_get_write_limit(void);

/* qcow2.c: the image on the open, locked `fd` (which it takes over, also on
 * failure), of `size` bytes, below `below` when it is a backing file. */
VireoBlock *vireo_qcow2_open(int fd, const char *path, const struct stat *st, uint64_t size,
                             bool read_only, const VireoBlockChain *below, GError **error);
