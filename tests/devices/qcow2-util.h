/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the qcow2 tests share: temporary folders, running qemu-img and
 * qemu-io, and reading and writing whole images through VireoBlock. */

#include "devices/block.h"
#include "engine/error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

static inline char *tmp_dir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("vireo-qcow2-XXXXXX", &error);

    g_assert_no_error(error);
    return dir;
}

/* A folder in memory (/dev/shm) where there is one: fdatasync costs nothing
 * there, for tests that sync a lot and do not measure it. */
static inline char *tmp_dir_in_memory(void)
{
    g_autofree char *tmpl = g_build_filename("/dev/shm", "vireo-qcow2-XXXXXX", NULL);

    if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && g_mkdtemp(tmpl) != NULL) {
        return g_steal_pointer(&tmpl);
    }
    return tmp_dir();
}

static inline void rm_rf(const char *dir)
{
    const char *argv[] = { "rm", "-rf", dir, NULL };

    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                 NULL);
}

/* Runs a command (NULL-terminated arguments); its exit status, with its
 * output in *out (may be NULL). */
static inline int run_argv(char **out, const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *sout = NULL, *serr = NULL;
    int status = -1;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &sout, &serr,
                      &status, &error)) {
        g_error("cannot run %s: %s", argv[0], error->message);
    }
    if (out != NULL) {
        *out = g_strconcat(sout, serr, NULL);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline int run_cmd(char **out, const char *first, ...) G_GNUC_NULL_TERMINATED;

static inline int run_cmd(char **out, const char *first, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    va_list ap;
    const char *a;

    g_ptr_array_add(argv, (char *)first);
    va_start(ap, first);
    while ((a = va_arg(ap, const char *)) != NULL) {
        g_ptr_array_add(argv, (char *)a);
    }
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    return run_argv(out, (const char *const *)argv->pdata);
}

/* Runs a command that must succeed. */
#define RUN_OK(...)                                                       \
    do {                                                                  \
        g_autofree char *run_out_ = NULL;                                 \
        int run_rc_ = run_cmd(&run_out_, __VA_ARGS__, NULL);              \
        if (run_rc_ != 0) {                                               \
            g_test_message("command failed (%d): %s", run_rc_, run_out_); \
        }                                                                 \
        g_assert_cmpint(run_rc_, ==, 0);                                  \
    } while (0)

/* qemu-img check: 0 (clean), 2 (errors), 3 (leaks only). */
static inline int qemu_check(const char *path, char **out)
{
    return run_cmd(out, "qemu-img", "check", "-f", "qcow2", path, NULL);
}

static inline void assert_check_clean(const char *path)
{
    g_autofree char *out = NULL;
    int rc = qemu_check(path, &out);

    if (rc != 0) {
        g_test_message("qemu-img check %s: %d\n%s", path, rc, out);
    }
    g_assert_cmpint(rc, ==, 0);
}

/* qemu-img compare of two images with their formats: 0 when the guest
 * sees the same bytes. */
static inline void assert_same(const char *a, const char *afmt, const char *b, const char *bfmt)
{
    g_autofree char *out = NULL;
    int rc = run_cmd(&out, "qemu-img", "compare", "-f", afmt, "-F", bfmt, a, b, NULL);

    if (rc != 0) {
        g_test_message("qemu-img compare %s %s: %d\n%s", a, b, rc, out);
    }
    g_assert_cmpint(rc, ==, 0);
}

static inline VireoBlock *open_or_die(const char *path, VireoBlockFormat format, bool read_only)
{
    g_autoptr(GError) error = NULL;
    VireoBlock *b = vireo_block_open_format(path, format, read_only, &error);

    g_assert_no_error(error);
    g_assert_nonnull(b);
    return b;
}

static inline int block_read(VireoBlock *b, void *buf, gsize len, uint64_t offset)
{
    struct iovec iov = { buf, len };
    return vireo_block_preadv(b, &iov, 1, offset);
}

static inline int block_write(VireoBlock *b, const void *buf, gsize len, uint64_t offset)
{
    struct iovec iov = { (void *)buf, len };
    return vireo_block_pwritev(b, &iov, 1, offset);
}

/* The whole disk as the guest sees it. */
static inline guint8 *block_read_all(VireoBlock *b)
{
    uint64_t size = vireo_block_get_size(b);
    guint8 *buf = g_malloc(size + 1);

    g_assert_cmpint(block_read(b, buf, size, 0), ==, 0);
    return buf;
}

/* A raw file's contents, zero-extended to `size` bytes. */
static inline guint8 *file_read_all(const char *path, uint64_t size)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;
    guint8 *buf = g_malloc0(size + 1);

    g_assert_true(g_file_get_contents(path, &data, &len, &error));
    memcpy(buf, data, MIN(len, size));
    return buf;
}

static inline void fill_random(GRand *r, guint8 *buf, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        buf[i] = (guint8)g_rand_int(r);
    }
}

static inline bool have_qemu_img(void)
{
    g_autofree char *a = g_find_program_in_path("qemu-img");
    g_autofree char *b = g_find_program_in_path("qemu-io");
    return a != NULL && b != NULL;
}
