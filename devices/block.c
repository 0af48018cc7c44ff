/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "block-priv.h"
#include "engine/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct VireoBlock {
    const VireoBlockOps *ops;
    void *opaque;
    char *name;
    uint64_t size;
    guint flags;
    VireoBlockFormat format;
};

VireoBlock *vireo_block_new(const VireoBlockOps *ops, void *opaque, const char *name, uint64_t size,
                            guint flags)
{
    VireoBlock *b = g_new0(VireoBlock, 1);

    b->ops = ops;
    b->opaque = opaque;
    b->name = g_strdup(name);
    b->size = size;
    b->flags = flags;
    if (ops->discard == NULL) {
        b->flags &= ~VIREO_BLOCK_DISCARD;
    }
    if (ops->write_zeroes == NULL) {
        b->flags &= ~VIREO_BLOCK_WRITE_ZEROES;
    }
    return b;
}

void vireo_block_free(VireoBlock *block)
{
    if (block == NULL) {
        return;
    }
    if (block->ops->close != NULL) {
        block->ops->close(block->opaque);
    }
    g_free(block->name);
    g_free(block);
}

const char *vireo_block_get_name(VireoBlock *block)
{
    return block->name;
}

uint64_t vireo_block_get_size(VireoBlock *block)
{
    return block->size;
}

guint vireo_block_get_flags(VireoBlock *block)
{
    return block->flags;
}

VireoBlockFormat vireo_block_get_format(VireoBlock *block)
{
    return block->format;
}

void vireo_block_set_format(VireoBlock *block, VireoBlockFormat format)
{
    block->format = format;
}

const char *vireo_block_format_name(VireoBlockFormat format)
{
    switch (format) {
    case VIREO_BLOCK_FORMAT_RAW: return "raw";
    case VIREO_BLOCK_FORMAT_QCOW2: return "qcow2";
    case VIREO_BLOCK_FORMAT_AUTO: break;
    }
    return "auto";
}

bool vireo_block_format_from_name(const char *name, VireoBlockFormat *format)
{
    if (g_strcmp0(name, "raw") == 0) {
        *format = VIREO_BLOCK_FORMAT_RAW;
        return true;
    }
    if (g_strcmp0(name, "qcow2") == 0) {
        *format = VIREO_BLOCK_FORMAT_QCOW2;
        return true;
    }
    return false;
}

int vireo_block_preadv(VireoBlock *block, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    return block->ops->preadv(block->opaque, iov, iovcnt, offset);
}

int vireo_block_pwritev(VireoBlock *block, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    if (block->flags & VIREO_BLOCK_READ_ONLY) {
        return -EROFS;
    }
    return block->ops->pwritev(block->opaque, iov, iovcnt, offset);
}

int vireo_block_flush(VireoBlock *block)
{
    return block->ops->flush != NULL ? block->ops->flush(block->opaque) : 0;
}

static bool set_lock(VireoBlock *block, short type, GError **error)
{
    struct flock lock = { .l_whence = SEEK_SET, .l_type = type };
    int fd, err;

    if ((block->flags & VIREO_BLOCK_READ_ONLY) || block->ops->lock_fd == NULL) {
        return true;
    }
    fd = block->ops->lock_fd(block->opaque);
    if (fd < 0) {
        return true;
    }
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) {
        err = errno;
        if (err == EAGAIN || err == EACCES) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                        "The disk image “%s” is in use by another program", block->name);
        } else {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot lock the disk image “%s”: %s",
                        block->name, g_strerror(err));
        }
        return false;
    }
    return true;
}

bool vireo_block_unlock(VireoBlock *block, GError **error)
{
    return set_lock(block, F_UNLCK, error);
}

bool vireo_block_relock(VireoBlock *block, GError **error)
{
    return set_lock(block, F_WRLCK, error);
}

int vireo_block_discard(VireoBlock *block, uint64_t offset, uint64_t len)
{
    if (!(block->flags & VIREO_BLOCK_DISCARD)) {
        return -EOPNOTSUPP;
    }
    return block->ops->discard(block->opaque, offset, len);
}

int vireo_block_write_zeroes(VireoBlock *block, uint64_t offset, uint64_t len)
{
    if (!(block->flags & VIREO_BLOCK_WRITE_ZEROES)) {
        return -EOPNOTSUPP;
    }
    return block->ops->write_zeroes(block->opaque, offset, len);
}

/* ---- Raw image files ---------------------------------------------------- */

typedef struct {
    int fd;
} RawFile;

#define MAX_IOV 64

/* preadv/pwritev until everything is transferred: short transfers advance
 * through the vector, at most MAX_IOV entries at a time; a read that reaches
 * the end of the file fills the rest with zeros. */
static int write_limit = -1;

void vireo_block_set_write_limit(int writes)
{
    g_atomic_int_set(&write_limit, writes);
}

int vireo_block_get_write_limit(void)
{
    return g_atomic_int_get(&write_limit);
}

static bool write_allowed(void)
{
    for (;;) {
        int left = g_atomic_int_get(&write_limit);

        if (left < 0) {
            return true;
        }
        if (left == 0) {
            return false;
        }
        if (g_atomic_int_compare_and_exchange(&write_limit, left, left - 1)) {
            return true;
        }
    }
}

int vireo_block_file_rw(int fd, const struct iovec *iov, int iovcnt, uint64_t offset, bool write)
{
    if (write && !write_allowed()) {
        return -EIO;
    }
    struct iovec local[MAX_IOV];
    int next = 0; /* the next entry of `iov` to take */
    int n = 0;    /* entries in `local` */

    for (;;) {
        ssize_t done;
        size_t left;
        int i;

        while (n < MAX_IOV && next < iovcnt) {
            if (iov[next].iov_len > 0) {
                local[n++] = iov[next];
            }
            next++;
        }
        if (n == 0) {
            return 0;
        }
        if (offset > (uint64_t)G_MAXINT64) {
            return -EINVAL;
        }
        done = write ? pwritev(fd, local, n, (off_t)offset) : preadv(fd, local, n, (off_t)offset);
        if (done < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (done == 0) {
            if (write) {
                return -EIO;
            }
            for (i = 0; i < n; i++) {
                memset(local[i].iov_base, 0, local[i].iov_len);
            }
            for (; next < iovcnt; next++) {
                memset(iov[next].iov_base, 0, iov[next].iov_len);
            }
            return 0;
        }
        offset += (uint64_t)done;
        left = (size_t)done;
        for (i = 0; i < n && left >= local[i].iov_len; i++) {
            left -= local[i].iov_len;
        }
        if (i < n) {
            local[i].iov_base = (guint8 *)local[i].iov_base + left;
            local[i].iov_len -= left;
        }
        memmove(local, local + i, (gsize)(n - i) * sizeof *local);
        n -= i;
    }
}

static int raw_preadv(void *opaque, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    RawFile *f = opaque;
    return vireo_block_file_rw(f->fd, iov, iovcnt, offset, false);
}

static int raw_pwritev(void *opaque, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    RawFile *f = opaque;
    return vireo_block_file_rw(f->fd, iov, iovcnt, offset, true);
}

int vireo_block_file_sync(int fd)
{
    while (fdatasync(fd) != 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

int vireo_block_file_extend(int fd, uint64_t size)
{
    if (!write_allowed()) {
        return -EIO;
    }
    if (size > (uint64_t)G_MAXINT64) {
        return -EFBIG;
    }
    while (ftruncate(fd, (off_t)size) != 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

static int raw_flush(void *opaque)
{
    RawFile *f = opaque;
    return vireo_block_file_sync(f->fd);
}

static int raw_fallocate(int fd, int mode, uint64_t offset, uint64_t len)
{
    if (offset > (uint64_t)G_MAXINT64 || len > (uint64_t)G_MAXINT64 - offset) {
        return -EINVAL;
    }
    while (fallocate(fd, mode, (off_t)offset, (off_t)len) != 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

static int raw_discard(void *opaque, uint64_t offset, uint64_t len)
{
    RawFile *f = opaque;
    return raw_fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
}

static int raw_write_zeroes(void *opaque, uint64_t offset, uint64_t len)
{
    RawFile *f = opaque;
    return raw_fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, len);
}

static void raw_close(void *opaque)
{
    RawFile *f = opaque;

    close(f->fd);
    g_free(f);
}

static int raw_lock_fd(void *opaque)
{
    return ((RawFile *)opaque)->fd;
}

static const VireoBlockOps raw_ops = {
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .close = raw_close,
    .lock_fd = raw_lock_fd,
};

/* Which of hole punching and range zeroing work on this file, tried on a
 * page past its end so that no data changes (with FALLOC_FL_KEEP_SIZE the
 * size does not change either). */
static guint probe_fallocate(int fd, uint64_t size)
{
    uint64_t probe = (size + 4095) & ~4095ull;
    guint flags = 0;

    if (raw_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, probe, 4096) == 0) {
        flags |= VIREO_BLOCK_DISCARD;
    }
    if (raw_fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, probe, 4096) == 0) {
        flags |= VIREO_BLOCK_WRITE_ZEROES;
        /* Give back what zeroing may have allocated past the end. */
        if (flags & VIREO_BLOCK_DISCARD) {
            raw_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, probe, 4096);
        }
    }
    return flags;
}

int vireo_block_open_file(const char *path, bool read_only, uint64_t *size, struct stat *st,
                          GError **error)
{
    struct flock lock = { .l_whence = SEEK_SET, .l_type = read_only ? F_RDLCK : F_WRLCK };
    off_t end;
    int fd, err;

    fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot open the disk image “%s”: %s", path,
                    g_strerror(err));
        return -1;
    }
    if (fstat(fd, st) != 0 || !(S_ISREG(st->st_mode) || S_ISBLK(st->st_mode))) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                    "The disk image “%s” is not a regular file or a block device", path);
        close(fd);
        return -1;
    }
    /* Two machines writing one image would corrupt it. The lock covers the
     * whole file, so it also conflicts with the byte-range locks QEMU takes. */
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) {
        err = errno;
        if (err == EAGAIN || err == EACCES) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                        "The disk image “%s” is in use by another program", path);
        } else {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot lock the disk image “%s”: %s",
                        path, g_strerror(err));
        }
        close(fd);
        return -1;
    }
    end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
        err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot find the size of “%s”: %s", path,
                    g_strerror(err));
        close(fd);
        return -1;
    }
    *size = (uint64_t)end;
    return fd;
}

static VireoBlock *raw_open(int fd, const char *path, const struct stat *st, uint64_t size,
                            bool read_only)
{
    g_autofree char *base = g_path_get_basename(path);
    guint flags = read_only ? VIREO_BLOCK_READ_ONLY : 0;
    VireoBlock *block;
    RawFile *f;

    if (!read_only && S_ISREG(st->st_mode)) {
        flags |= probe_fallocate(fd, size);
    }
    f = g_new0(RawFile, 1);
    f->fd = fd;
    block = vireo_block_new(&raw_ops, f, base, size, flags);
    block->format = VIREO_BLOCK_FORMAT_RAW;
    return block;
}

/* The first bytes of a file, short only at its end. */
static bool read_magic(int fd, guint8 *buf, gsize len, gsize *got)
{
    struct iovec iov = { buf, len };

    memset(buf, 0, len);
    if (vireo_block_file_rw(fd, &iov, 1, 0, false) != 0) {
        return false;
    }
    *got = len;
    return true;
}

VireoBlock *vireo_block_open_chain(const char *path, VireoBlockFormat format, bool read_only,
                                   const VireoBlockChain *below, GError **error)
{
    struct stat st;
    uint64_t size;
    guint8 magic[4];
    gsize got = 0;
    int fd, err;

    fd = vireo_block_open_file(path, read_only, &size, &st, error);
    if (fd < 0) {
        return NULL;
    }
    if (format == VIREO_BLOCK_FORMAT_AUTO) {
        if (!read_magic(fd, magic, sizeof magic, &got)) {
            err = errno;
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot read the disk image “%s”: %s",
                        path, g_strerror(err));
            close(fd);
            return NULL;
        }
        format = size >= sizeof magic && memcmp(magic, "QFI\xfb", 4) == 0 ? VIREO_BLOCK_FORMAT_QCOW2
                                                                          : VIREO_BLOCK_FORMAT_RAW;
    }
    if (format == VIREO_BLOCK_FORMAT_QCOW2) {
        return vireo_qcow2_open(fd, path, &st, size, read_only, below, error);
    }
    return raw_open(fd, path, &st, size, read_only);
}

bool vireo_block_probe(const char *path, VireoBlockFormat *format, uint64_t *size, GError **error)
{
    guint8 header[32];
    struct stat st;
    uint64_t file_size;
    gsize got = 0;
    int fd, err;

    fd = vireo_block_open_file(path, true, &file_size, &st, error);
    if (fd < 0) {
        return false;
    }
    if (!read_magic(fd, header, sizeof header, &got)) {
        err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot read the disk image “%s”: %s", path,
                    g_strerror(err));
        close(fd);
        return false;
    }
    close(fd);
    *format = VIREO_BLOCK_FORMAT_RAW;
    *size = file_size;
    if (file_size >= sizeof header && memcmp(header, "QFI\xfb", 4) == 0) {
        uint64_t v;

        *format = VIREO_BLOCK_FORMAT_QCOW2;
        memcpy(&v, header + 24, 8);
        *size = GUINT64_FROM_BE(v);
    }
    return true;
}

VireoBlock *vireo_block_open_format(const char *path, VireoBlockFormat format, bool read_only,
                                    GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    return vireo_block_open_chain(path, format, read_only, NULL, error);
}

VireoBlock *vireo_block_open(const char *path, bool read_only, GError **error)
{
    return vireo_block_open_format(path, VIREO_BLOCK_FORMAT_AUTO, read_only, error);
}

/* ---- Snapshots ----------------------------------------------------------- */

void vireo_block_snapshot_free(VireoBlockSnapshot *s)
{
    if (s == NULL) {
        return;
    }
    g_free(s->id);
    g_free(s->name);
    g_free(s);
}

bool vireo_block_supports_snapshots(VireoBlock *block)
{
    return block->ops->snapshot_list != NULL;
}

static bool no_snapshots(VireoBlock *block, GError **error)
{
    g_set_error(
        error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED,
        "The disk image “%s” is a %s image, which has no snapshots (qcow2 images have them)",
        block->name, block->format == VIREO_BLOCK_FORMAT_RAW ? "raw" : "plain");
    return false;
}

static bool writable_for_snapshots(VireoBlock *block, GError **error)
{
    if (block->flags & VIREO_BLOCK_READ_ONLY) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                    "The disk image “%s” is open read-only: its snapshots cannot change",
                    block->name);
        return false;
    }
    return true;
}

GPtrArray *vireo_block_snapshot_list(VireoBlock *block, GError **error)
{
    if (block->ops->snapshot_list == NULL) {
        no_snapshots(block, error);
        return NULL;
    }
    return block->ops->snapshot_list(block->opaque, error);
}

bool vireo_block_vmstate_write(VireoBlock *block, uint64_t pos, const void *data, gsize len,
                               GError **error)
{
    if (block->ops->vmstate_write == NULL) {
        return no_snapshots(block, error);
    }
    if (!writable_for_snapshots(block, error)) {
        return false;
    }
    return block->ops->vmstate_write(block->opaque, pos, data, len, error);
}

bool vireo_block_snapshot_create(VireoBlock *block, const char *name, uint64_t vm_state_size,
                                 uint64_t vm_clock_ns, GError **error)
{
    g_return_val_if_fail(name != NULL, false);
    if (block->ops->snapshot_create == NULL) {
        return no_snapshots(block, error);
    }
    if (!writable_for_snapshots(block, error)) {
        return false;
    }
    return block->ops->snapshot_create(block->opaque, name, vm_state_size, vm_clock_ns, error);
}

bool vireo_block_snapshot_read_vmstate(VireoBlock *block, const char *id_or_name, uint64_t pos,
                                       void *data, gsize len, GError **error)
{
    g_return_val_if_fail(id_or_name != NULL, false);
    if (block->ops->snapshot_read_vmstate == NULL) {
        return no_snapshots(block, error);
    }
    return block->ops->snapshot_read_vmstate(block->opaque, id_or_name, pos, data, len, error);
}

bool vireo_block_snapshot_goto(VireoBlock *block, const char *id_or_name, GError **error)
{
    g_return_val_if_fail(id_or_name != NULL, false);
    if (block->ops->snapshot_goto == NULL) {
        return no_snapshots(block, error);
    }
    if (!writable_for_snapshots(block, error)) {
        return false;
    }
    return block->ops->snapshot_goto(block->opaque, id_or_name, error);
}

bool vireo_block_snapshot_delete(VireoBlock *block, const char *id_or_name, GError **error)
{
    g_return_val_if_fail(id_or_name != NULL, false);
    if (block->ops->snapshot_delete == NULL) {
        return no_snapshots(block, error);
    }
    if (!writable_for_snapshots(block, error)) {
        return false;
    }
    return block->ops->snapshot_delete(block->opaque, id_or_name, error);
}
