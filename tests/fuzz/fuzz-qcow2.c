/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qcow2 images (devices/qcow2*.c) as a file a user could be handed: the
 * input is the image file, written to a folder in memory beside a small raw
 * file "base.raw" that it may name as its backing file. An image that opens
 * is read (its start and its end, its snapshots' machine state), then
 * opened for writing and written, discarded, zeroed, flushed, and given a
 * snapshot that is gone to and deleted. A refusal must have a message; data
 * written must read back; nothing may crash or leak.
 */
#include "config.h"

#include "devices/block.h"

#include <glib/gstdio.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PROBE (64 * 1024)

static char *dir, *image;

static void cleanup(void)
{
    g_autofree char *base = g_build_filename(dir, "base.raw", NULL);

    g_unlink(image);
    g_unlink(base);
    g_rmdir(dir);
}

static void setup(void)
{
    g_autofree char *base = NULL;
    g_autofree guint8 *data = g_malloc(PROBE);

    dir = g_strdup("/dev/shm/vireo-fuzz-qcow2-XXXXXX");
    if (g_mkdtemp(dir) == NULL) {
        g_free(dir);
        dir = g_dir_make_tmp("vireo-fuzz-qcow2-XXXXXX", NULL);
        if (dir == NULL) {
            abort();
        }
    }
    image = g_build_filename(dir, "image.qcow2", NULL);
    base = g_build_filename(dir, "base.raw", NULL);
    for (gsize i = 0; i < PROBE; i++) {
        data[i] = (guint8)(i * 13 + 7);
    }
    if (!g_file_set_contents(base, (const char *)data, PROBE, NULL)) {
        abort();
    }
    atexit(cleanup);
}

static void must_fail_with_message(GError *error)
{
    if (error == NULL || error->message == NULL || error->message[0] == '\0') {
        abort();
    }
}

static void reads(VireoBlock *b, guint8 *buf)
{
    uint64_t size = vireo_block_get_size(b);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;
    struct iovec iov[2] = { { buf, 5000 }, { buf + 5000, PROBE - 5000 } };

    (void)vireo_block_preadv(b, iov, 2, 0);
    if (size > PROBE) {
        (void)vireo_block_preadv(b, iov, 2, size - PROBE);
    }
    list = vireo_block_snapshot_list(b, &error);
    if (list == NULL) {
        must_fail_with_message(error);
        return;
    }
    for (guint i = 0; i < list->len && i < 8; i++) {
        VireoBlockSnapshot *s = g_ptr_array_index(list, i);
        gsize n = (gsize)MIN(s->vm_state_size, (uint64_t)PROBE);

        if (!vireo_block_snapshot_read_vmstate(b, s->id, 0, buf, n, &error)) {
            must_fail_with_message(error);
            g_clear_error(&error);
        }
    }
}

static void write_and_check(VireoBlock *b, guint8 *buf, guint8 *back, uint64_t offset, gsize len)
{
    uint64_t size = vireo_block_get_size(b);

    if (size < len || offset > size - len) {
        return;
    }
    for (gsize i = 0; i < len; i++) {
        buf[i] = (guint8)(offset + i * 3);
    }
    if (vireo_block_pwritev(b, &(struct iovec){ buf, len }, 1, offset) == 0 &&
        vireo_block_preadv(b, &(struct iovec){ back, len }, 1, offset) == 0 &&
        memcmp(buf, back, len) != 0) {
        g_printerr("data written at %" G_GUINT64_FORMAT " does not read back\n", offset);
        abort();
    }
}

static void writes(VireoBlock *b, guint8 *buf, guint8 *back)
{
    uint64_t size = vireo_block_get_size(b);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;

    write_and_check(b, buf, back, 512, 3000);
    write_and_check(b, buf, back, size / 2 & ~511ull, 70000);
    write_and_check(b, buf, back, size - MIN(size, 4096), 4096);
    (void)vireo_block_discard(b, 0, MIN(size, 200000));
    (void)vireo_block_write_zeroes(b, size / 3, MIN(size - size / 3, 150000));
    (void)vireo_block_flush(b);

    /* The vm-state area lies past the disk: only for disks that are not huge. */
    if (size < (1ull << 40)) {
        memset(buf, 0x5a, 4096);
        if (!vireo_block_vmstate_write(b, 100, buf, 4096, &error)) {
            must_fail_with_message(error);
            g_clear_error(&error);
        }
    }
    if (!vireo_block_snapshot_create(b, "fuzz", 4196, 1, &error)) {
        must_fail_with_message(error);
        g_clear_error(&error);
    }
    write_and_check(b, buf, back, 1024, 8192);
    list = vireo_block_snapshot_list(b, &error);
    if (list != NULL && list->len > 0) {
        VireoBlockSnapshot *s = g_ptr_array_index(list, 0);

        if (!vireo_block_snapshot_goto(b, s->id, &error)) {
            must_fail_with_message(error);
            g_clear_error(&error);
        }
        write_and_check(b, buf, back, 0, 512);
        if (!vireo_block_snapshot_delete(b, s->name, &error)) {
            must_fail_with_message(error);
            g_clear_error(&error);
        }
    }
    (void)vireo_block_flush(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree guint8 *buf = g_malloc(PROBE + 70000);
    g_autofree guint8 *back = g_malloc(PROBE + 70000);
    g_autoptr(GError) error = NULL;
    VireoBlock *b;

    if (dir == NULL) {
        setup();
    }
    if (!g_file_set_contents(image, (const char *)data, (gssize)size, NULL)) {
        abort();
    }
    b = vireo_block_open_format(image, VIREO_BLOCK_FORMAT_QCOW2, true, &error);
    if (b == NULL) {
        must_fail_with_message(error);
        return 0;
    }
    reads(b, buf);
    vireo_block_free(b);

    b = vireo_block_open_format(image, VIREO_BLOCK_FORMAT_QCOW2, false, &error);
    if (b == NULL) {
        must_fail_with_message(error);
        return 0;
    }
    writes(b, buf, back);
    reads(b, buf);
    vireo_block_free(b);
    return 0;
}
