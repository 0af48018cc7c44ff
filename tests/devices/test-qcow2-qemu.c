/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qcow2 images moving both ways between Vireo and QEMU's tools: images
 * made by qemu-img and qemu-io read by Vireo (compared with qemu-img's own
 * raw conversion), images written by Vireo checked by qemu-img check and
 * compared with a raw image that got the same writes, and internal
 * snapshots made on one side used on the other. Exits 77 without qemu-img.
 */
#include "qcow2-util.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#define MiB (1024 * 1024)

typedef struct {
    char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->dir = tmp_dir();
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    rm_rf(f->dir);
    g_free(f->dir);
}

static char *path_in(Fixture *f, const char *name)
{
    return g_build_filename(f->dir, name, NULL);
}

/* Reads the qcow2 image through Vireo and compares every byte with
 * qemu-img's raw conversion of it. */
static void assert_reads_like_qemu(Fixture *f, const char *image)
{
    g_autofree char *ref = path_in(f, "reference.raw");
    g_autoptr(VireoBlock) b = NULL;
    g_autofree guint8 *got = NULL, *want = NULL;
    uint64_t size;

    /* Vireo's lock, even a reader's, keeps QEMU's tools out. */
    g_unlink(ref);
    RUN_OK("qemu-img", "convert", "-O", "raw", image, ref);
    b = open_or_die(image, VIREO_BLOCK_FORMAT_AUTO, true);
    size = vireo_block_get_size(b);
    g_assert_cmpint(vireo_block_get_format(b), ==, VIREO_BLOCK_FORMAT_QCOW2);
    got = block_read_all(b);
    want = file_read_all(ref, size);
    for (uint64_t i = 0; i < size; i++) {
        if (got[i] != want[i]) {
            g_error("%s: byte %" G_GUINT64_FORMAT " reads %#x, qemu-img says %#x", image, i, got[i],
                    want[i]);
        }
    }
    /* Odd pieces, across clusters, through a vector of several entries. */
    for (uint64_t off = 0; off + 200000 < size; off += size / 7 + 4097) {
        guint8 a[70000], c[130000];
        struct iovec iov[2] = { { a, sizeof a }, { c, sizeof c } };

        g_assert_cmpint(vireo_block_preadv(b, iov, 2, off), ==, 0);
        g_assert_cmpmem(a, sizeof a, want + off, sizeof a);
        g_assert_cmpmem(c, sizeof c, want + off + sizeof a, sizeof c);
    }
    g_unlink(ref);
}

/* A raw file of `size` bytes: random data in some stretches, patterns in
 * others, zeros elsewhere. */
static void make_raw(const char *path, uint64_t size, guint32 seed)
{
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *buf = g_malloc0(size);
    GRand *r = g_rand_new_with_seed(seed);

    for (uint64_t off = 0; off < size; off += 256 * 1024) {
        uint64_t n = MIN(96 * 1024, size - off);

        switch ((off / (256 * 1024)) % 3) {
        case 0: fill_random(r, buf + off, n); break;
        case 1: memset(buf + off, (int)(0x40 + off / (256 * 1024)), n); break;
        default: break;
        }
    }
    g_rand_free(r);
    g_assert_true(g_file_set_contents(path, (const char *)buf, (gssize)size, &error));
}

/* Turns the backing format extension into one nobody knows, so that the
 * backing file's format is detected. */
static void forget_backing_format(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    gsize len;
    bool found = false;

    g_assert_true(g_file_get_contents(path, &data, &len, &error));
    for (gsize i = 72; i + 4 <= MIN(len, 65536); i += 8) {
        if (memcmp(data + i, "\xe2\x79\x2a\xca", 4) == 0) {
            memcpy(data + i, "\x12\x34\x56\x78", 4);
            found = true;
            break;
        }
    }
    g_assert_true(found);
    g_assert_true(g_file_set_contents(path, data, (gssize)len, &error));
}

/* ---- Images QEMU made ------------------------------------------------------------ */

static void test_read_written(Fixture *f, gconstpointer data)
{
    const char *opts = data;
    g_autofree char *img = path_in(f, "img.qcow2");

    RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", "-o", opts, img, "16M");
    RUN_OK("qemu-io", "-c", "write -P 0x11 0 64k", "-c", "write -P 0x22 100k 300k", "-c",
           "write -z 1M 128k", "-c", "write -P 0x33 2M 1k", "-c", "write -P 0x44 3M 1M", "-c",
           "discard 3200k 64k", "-c", "write -z 3400k 64k", "-c", "write -c -P 0x55 10M 2M", "-c",
           "write -P 0x66 8380416 8192", img);
    assert_check_clean(img);
    assert_reads_like_qemu(f, img);
}

static void test_read_compressed(Fixture *f, gconstpointer data)
{
    const char *type = data;
    g_autofree char *src = path_in(f, "src.raw");
    g_autofree char *img = path_in(f, "img.qcow2");
    g_autofree char *opt = g_strdup_printf("compression_type=%s", type);
    g_autofree char *info = NULL;

    make_raw(src, 6 * MiB, 7);
    RUN_OK("qemu-img", "convert", "-c", "-O", "qcow2", "-o", opt, src, img);
    run_cmd(&info, "qemu-img", "info", img, NULL);
    g_assert_nonnull(strstr(info, type));
    assert_reads_like_qemu(f, img);
}

static void test_read_backing_chain(Fixture *f, gconstpointer data)
{
    g_autofree char *base = path_in(f, "base.raw");
    g_autofree char *mid = path_in(f, "mid.qcow2");
    g_autofree char *top = path_in(f, "top.qcow2");
    g_autofree char *v2 = path_in(f, "v2.qcow2");

    make_raw(base, 3 * MiB, 11);
    /* Relative names, resolved from the image's folder; the top image is
     * bigger than its backing files. */
    RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", mid, "4M");
    RUN_OK("qemu-io", "-c", "write -P 0x71 64k 64k", "-c", "write -P 0x72 1000k 10k", "-c",
           "write -z 2M 64k", "-c", "write -P 0x73 3700k 64k", mid);
    RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top, "6M");
    RUN_OK("qemu-io", "-c", "write -P 0x81 0 4k", "-c", "write -z 1000k 64k", "-c",
           "write -P 0x82 5M 64k", "-c", "discard 5M 64k", top);
    assert_reads_like_qemu(f, top);
    assert_reads_like_qemu(f, mid);
    /* A version 2 image over the chain, its backing format detected. */
    RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=0.10", "-b", "top.qcow2", "-F",
           "qcow2", v2, "6M");
    RUN_OK("qemu-io", "-c", "write -P 0x91 8k 100k", v2);
    assert_reads_like_qemu(f, v2);
    forget_backing_format(v2);
    assert_reads_like_qemu(f, v2);
}

static void test_read_preallocated(Fixture *f, gconstpointer data)
{
    g_autofree char *img = path_in(f, "img.qcow2");

    RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", img, "4M");
    /* Zeros written without unmapping keep the cluster allocated. */
    RUN_OK("qemu-io", "-c", "write -P 0x12 0 1M", "-c", "write -z 64k 128k", "-c",
           "write -z -u 512k 64k", img);
    assert_reads_like_qemu(f, img);
}

/* ---- Images Vireo made or wrote ---------------------------------------------------- */

static void test_create(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *img = path_in(f, "new.qcow2");
    g_autofree char *small = path_in(f, "small.qcow2");
    g_autofree char *info = NULL;
    g_autoptr(VireoBlock) b = NULL;
    guint8 buf[4096];

    g_assert_true(vireo_qcow2_create(img, 10ull << 30, NULL, &error));
    g_assert_no_error(error);
    assert_check_clean(img);
    g_assert_cmpint(run_cmd(&info, "qemu-img", "info", img, NULL), ==, 0);
    g_assert_nonnull(strstr(info, "virtual size: 10 GiB"));
    g_assert_nonnull(strstr(info, "cluster_size: 65536"));
    g_assert_nonnull(strstr(info, "compat: 1.1"));

    /* An existing file is not overwritten. */
    g_assert_false(vireo_qcow2_create(img, 1 << 20, NULL, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_clear_error(&error);

    b = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, false);
    g_assert_cmpint(vireo_block_get_format(b), ==, VIREO_BLOCK_FORMAT_QCOW2);
    g_assert_cmpuint(vireo_block_get_size(b), ==, 10ull << 30);
    g_assert_true(vireo_block_get_flags(b) & VIREO_BLOCK_DISCARD);
    g_assert_cmpint(block_read(b, buf, sizeof buf, (10ull << 30) - sizeof buf), ==, 0);
    for (gsize i = 0; i < sizeof buf; i++) {
        g_assert_cmpuint(buf[i], ==, 0);
    }
    memset(buf, 0xab, sizeof buf);
    g_assert_cmpint(block_write(b, buf, sizeof buf, 5ull << 30), ==, 0);
    g_clear_pointer(&b, vireo_block_free);
    assert_check_clean(img);
    RUN_OK("qemu-io", "-c", "read -P 0xab 5G 4k", "-c", "read -P 0 0 1M", img);

    /* Clusters of 512 bytes, a size that is not a whole number of them. */
    g_assert_true(vireo_qcow2_create_full(small, 1000000, NULL, 9, &error));
    g_assert_no_error(error);
    assert_check_clean(small);
    g_free(info);
    run_cmd(&info, "qemu-img", "info", small, NULL);
    g_assert_nonnull(strstr(info, "cluster_size: 512"));
}

/* Random writes, discards and zeroes through Vireo on `img` and the same
 * on the raw `ref`; then qemu-img check and compare. */
static void write_both(const char *img, const char *ref, guint32 seed, int ops)
{
    g_autoptr(VireoBlock) q = open_or_die(img, VIREO_BLOCK_FORMAT_QCOW2, false);
    g_autoptr(VireoBlock) r = open_or_die(ref, VIREO_BLOCK_FORMAT_RAW, false);
    uint64_t size = vireo_block_get_size(q);
    GRand *rand = g_rand_new_with_seed(seed);
    g_autofree guint8 *buf = g_malloc(1 * MiB);
    g_autofree guint8 *zero = g_malloc0(1 * MiB);
    g_autofree guint8 *a = g_malloc(1 * MiB);
    g_autofree guint8 *b = g_malloc(1 * MiB);

    g_assert_cmpuint(size, ==, vireo_block_get_size(r));
    for (int i = 0; i < ops; i++) {
        uint64_t len = g_rand_int_range(rand, 0, 4) == 0 ? 512 * g_rand_int_range(rand, 1, 2048)
                                                         : 512 * g_rand_int_range(rand, 1, 300);
        uint64_t off;
        int kind = g_rand_int_range(rand, 0, 10);

        len = MIN(len, size);
        off = 512 * (uint64_t)g_rand_double_range(rand, 0, (double)((size - len) / 512 + 1));
        if (g_getenv("QCOW2_TRACE") != NULL) {
            g_printerr("op %d kind %d off %" G_GUINT64_FORMAT " len %" G_GUINT64_FORMAT "\n", i,
                       kind, off, len);
        }
        if (kind < 6) {
            fill_random(rand, buf, len);
            g_assert_cmpint(block_write(q, buf, len, off), ==, 0);
            g_assert_cmpint(block_write(r, buf, len, off), ==, 0);
        } else if (kind < 8 && (vireo_block_get_flags(q) & VIREO_BLOCK_DISCARD)) {
            g_assert_cmpint(kind == 6 ? vireo_block_discard(q, off, len)
                                      : vireo_block_write_zeroes(q, off, len),
                            ==, 0);
            g_assert_cmpint(block_write(r, zero, len, off), ==, 0);
        } else if (kind == 8) {
            g_assert_cmpint(vireo_block_flush(q), ==, 0);
        } else {
            g_assert_cmpint(block_read(q, a, len, off), ==, 0);
            g_assert_cmpint(block_read(r, b, len, off), ==, 0);
            if (memcmp(a, b, len) != 0) {
                g_error("operation %d: %" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT " differ",
                        i, len, off);
            }
        }
    }
    g_rand_free(rand);
    g_clear_pointer(&q, vireo_block_free);
    g_clear_pointer(&r, vireo_block_free);
    assert_check_clean(img);
    assert_same(img, "qcow2", ref, "raw");
}

static void test_write(Fixture *f, gconstpointer data)
{
    const char *opts = data;
    g_autofree char *img = path_in(f, "img.qcow2");
    g_autofree char *ref = path_in(f, "ref.raw");
    g_autofree char *base = path_in(f, "base.raw");
    g_autofree char *src = path_in(f, "src.raw");
    g_autoptr(GError) error = NULL;

    if (strcmp(opts, "vireo") == 0) {
        g_assert_true(vireo_qcow2_create(img, 24 * MiB, NULL, &error));
    } else if (strcmp(opts, "vireo-backing") == 0) {
        make_raw(base, 20 * MiB, 3);
        g_assert_true(vireo_qcow2_create(img, 24 * MiB, "base.raw", &error));
        assert_check_clean(img);
    } else if (g_str_has_prefix(opts, "compressed")) {
        make_raw(src, 24 * MiB, 5);
        RUN_OK("qemu-img", "convert", "-c", "-O", "qcow2", "-o", opts + strlen("compressed,"), src,
               img);
    } else if (g_str_has_prefix(opts, "backing")) {
        make_raw(base, 20 * MiB, 3);
        RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "-o",
               opts + strlen("backing,"), img, "24M");
        RUN_OK("qemu-io", "-c", "write -P 0x11 1M 3M", "-c", "write -z 8M 1M", img);
    } else {
        RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", "-o", opts, img, "24M");
        RUN_OK("qemu-io", "-c", "write -P 0x11 1M 3M", "-c", "write -z 8M 1M", "-c",
               "write -c -P 0x22 12M 2M", img);
    }
    g_assert_no_error(error);
    RUN_OK("qemu-img", "convert", "-O", "raw", img, ref);
    write_both(img, ref, g_str_hash(opts), 400);
    /* And once more on the image as it is now. */
    write_both(img, ref, g_str_hash(opts) + 1, 200);
}

/* ---- Snapshots --------------------------------------------------------------------- */

/* The machine state: two stretches of patterns, written in odd pieces. */
#define VMSTATE_SIZE (3 * MiB + 12345)
#define VMSTATE_CUT  700001

static void write_vmstate(VireoBlock *b, guint8 first, guint8 second)
{
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *buf = g_malloc(VMSTATE_SIZE);
    uint64_t pos = 0;

    memset(buf, first, VMSTATE_CUT);
    memset(buf + VMSTATE_CUT, second, VMSTATE_SIZE - VMSTATE_CUT);
    while (pos < VMSTATE_SIZE) {
        gsize n = MIN(VMSTATE_SIZE - pos, 77777 + pos % 1000);
        g_assert_true(vireo_block_vmstate_write(b, pos, buf + pos, n, &error));
        g_assert_no_error(error);
        pos += n;
    }
}

static void copy_file(const char *from, const char *to)
{
    RUN_OK("cp", "--sparse=always", from, to);
}

static void test_snapshots_to_qemu(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *img = path_in(f, "img.qcow2");
    g_autofree char *copy = path_in(f, "copy.qcow2");
    g_autofree char *ref_a = path_in(f, "a.raw");
    g_autofree char *ref_b = path_in(f, "b.raw");
    g_autofree char *ref_c = path_in(f, "c.raw");
    g_autofree char *info = NULL, *out = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(VireoBlock) b = NULL;
    g_autofree guint8 *buf = g_malloc(VMSTATE_SIZE);
    VireoBlockSnapshot *s;

    g_assert_true(vireo_qcow2_create(img, 16 * MiB, NULL, &error));
    g_assert_no_error(error);
    b = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, false);
    g_assert_true(vireo_block_supports_snapshots(b));

    memset(buf, 0xa1, 2 * MiB);
    g_assert_cmpint(block_write(b, buf, 2 * MiB, 1 * MiB), ==, 0);
    write_vmstate(b, 0x5a, 0xa5);
    g_assert_true(vireo_block_snapshot_create(b, "first", VMSTATE_SIZE, 123456789, &error));
    g_assert_no_error(error);
    g_assert_false(vireo_block_snapshot_create(b, "first", 0, 0, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);

    memset(buf, 0xb2, 1 * MiB);
    g_assert_cmpint(block_write(b, buf, 1 * MiB, 2 * MiB + 512), ==, 0);
    g_assert_true(vireo_block_snapshot_create(b, "second", 0, 987, &error));
    g_assert_no_error(error);
    memset(buf, 0xc3, 64 * 1024);
    g_assert_cmpint(block_write(b, buf, 64 * 1024, 0), ==, 0);
    g_assert_cmpint(vireo_block_discard(b, 1 * MiB, 1 * MiB), ==, 0);

    list = vireo_block_snapshot_list(b, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 2);
    s = g_ptr_array_index(list, 0);
    g_assert_cmpstr(s->id, ==, "1");
    g_assert_cmpstr(s->name, ==, "first");
    g_assert_cmpuint(s->vm_state_size, ==, VMSTATE_SIZE);
    g_assert_cmpuint(s->vm_clock_ns, ==, 123456789);
    g_assert_cmpuint(s->disk_size, ==, 16 * MiB);
    g_assert_cmpint(s->date_sec, >, 1600000000);
    s = g_ptr_array_index(list, 1);
    g_assert_cmpstr(s->id, ==, "2");
    g_assert_cmpuint(s->vm_state_size, ==, 0);

    /* The machine state reads back through the snapshot's own table. */
    memset(buf, 0, VMSTATE_SIZE);
    g_assert_true(vireo_block_snapshot_read_vmstate(b, "first", 0, buf, VMSTATE_SIZE, &error));
    g_assert_no_error(error);
    for (gsize i = 0; i < VMSTATE_SIZE; i++) {
        g_assert_cmpuint(buf[i], ==, i < VMSTATE_CUT ? 0x5a : 0xa5);
    }
    g_assert_false(vireo_block_snapshot_read_vmstate(b, "1", VMSTATE_SIZE - 10, buf, 11, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_false(vireo_block_snapshot_read_vmstate(b, "nope", 0, buf, 1, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_clear_pointer(&b, vireo_block_free);

    assert_check_clean(img);
    g_assert_cmpint(run_cmd(&info, "qemu-img", "info", "--output=json", img, NULL), ==, 0);
    g_assert_nonnull(strstr(info, "\"name\": \"first\""));
    g_assert_nonnull(strstr(info, "\"name\": \"second\""));
    if (strstr(info, "\"vm-state-size\": 3158073") == NULL) {
        g_error("%s", info);
    }
    g_assert_nonnull(strstr(info, "\"vm-clock-nsec\": 123456789"));

    /* QEMU goes to each snapshot and finds the disk and the state. */
    {
        g_autoptr(VireoBlock) r = NULL;
        RUN_OK("qemu-img", "create", "-q", "-f", "raw", ref_a, "16M");
        r = open_or_die(ref_a, VIREO_BLOCK_FORMAT_RAW, false);
        memset(buf, 0xa1, 2 * MiB);
        g_assert_cmpint(block_write(r, buf, 2 * MiB, 1 * MiB), ==, 0);
    }
    copy_file(ref_a, ref_b);
    {
        g_autoptr(VireoBlock) r = open_or_die(ref_b, VIREO_BLOCK_FORMAT_RAW, false);
        memset(buf, 0xb2, 1 * MiB);
        g_assert_cmpint(block_write(r, buf, 1 * MiB, 2 * MiB + 512), ==, 0);
    }
    copy_file(ref_b, ref_c);
    {
        g_autoptr(VireoBlock) r = open_or_die(ref_c, VIREO_BLOCK_FORMAT_RAW, false);
        memset(buf, 0xc3, 64 * 1024);
        g_assert_cmpint(block_write(r, buf, 64 * 1024, 0), ==, 0);
        memset(buf, 0, 1 * MiB);
        g_assert_cmpint(block_write(r, buf, 1 * MiB, 1 * MiB), ==, 0);
    }
    assert_same(img, "qcow2", ref_c, "raw");
    copy_file(img, copy);
    RUN_OK("qemu-img", "snapshot", "-a", "first", copy);
    assert_check_clean(copy);
    assert_same(copy, "qcow2", ref_a, "raw");
    /* (qemu-io reads whole sectors of it.) */
    run_cmd(&out, "qemu-io", "-c", "read -b -P 0x5a 0 699904", "-c",
            "read -b -P 0xa5 700416 2457088", copy, NULL);
    g_assert_null(strstr(out, "failed"));
    if (strstr(out, "read 2457088/2457088") == NULL) {
        g_error("%s", out);
    }
    RUN_OK("qemu-img", "snapshot", "-a", "second", copy);
    assert_same(copy, "qcow2", ref_b, "raw");
    RUN_OK("qemu-img", "snapshot", "-d", "first", copy);
    RUN_OK("qemu-img", "snapshot", "-d", "second", copy);
    assert_check_clean(copy);
    assert_same(copy, "qcow2", ref_b, "raw");
}

static void test_snapshots_from_qemu(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *img = path_in(f, "img.qcow2");
    g_autofree char *ref = path_in(f, "ref.raw");
    g_autofree char *ref_a = path_in(f, "a.raw");
    g_autofree char *ref_b = path_in(f, "b.raw");
    g_autofree char *list_out = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(VireoBlock) b = NULL;
    guint8 buf[4096];

    RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", img, "8M");
    RUN_OK("qemu-io", "-c", "write -P 0x31 0 2M", "-c", "write -c -P 0x32 4M 256k", img);
    RUN_OK("qemu-img", "snapshot", "-c", "qa", img);
    RUN_OK("qemu-img", "convert", "-O", "raw", img, ref_a);
    RUN_OK("qemu-io", "-c", "write -P 0x33 1M 2M", "-c", "write -P 0x34 4100k 8k", "-c",
           "write -z 0 64k", img);
    RUN_OK("qemu-img", "snapshot", "-c", "qb", img);
    RUN_OK("qemu-img", "convert", "-O", "raw", img, ref_b);
    RUN_OK("qemu-io", "-c", "write -P 0x35 0 8M", img);

    b = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, false);
    list = vireo_block_snapshot_list(b, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 2);
    g_assert_cmpstr(((VireoBlockSnapshot *)g_ptr_array_index(list, 0))->name, ==, "qa");
    g_assert_cmpstr(((VireoBlockSnapshot *)g_ptr_array_index(list, 1))->id, ==, "2");

    g_assert_true(vireo_block_snapshot_goto(b, "qa", &error));
    g_assert_no_error(error);
    {
        g_autofree guint8 *got = block_read_all(b);
        g_autofree guint8 *want = file_read_all(ref_a, 8 * MiB);
        g_assert_cmpmem(got, 8 * MiB, want, 8 * MiB);
    }
    /* Writing after going back copies shared clusters; qb stays. */
    memset(buf, 0x36, sizeof buf);
    g_assert_cmpint(block_write(b, buf, sizeof buf, 4 * MiB + 1000), ==, 0);
    g_assert_true(vireo_block_snapshot_goto(b, "2", &error));
    g_assert_no_error(error);
    {
        g_autofree guint8 *got = block_read_all(b);
        g_autofree guint8 *want = file_read_all(ref_b, 8 * MiB);
        g_assert_cmpmem(got, 8 * MiB, want, 8 * MiB);
    }
    g_assert_true(vireo_block_snapshot_delete(b, "qa", &error));
    g_assert_no_error(error);
    g_assert_false(vireo_block_snapshot_delete(b, "qa", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_cmpint(block_write(b, buf, sizeof buf, 7 * MiB), ==, 0);
    g_clear_pointer(&b, vireo_block_free);

    assert_check_clean(img);
    run_cmd(&list_out, "qemu-img", "snapshot", "-l", img, NULL);
    g_assert_null(strstr(list_out, "qa"));
    g_assert_nonnull(strstr(list_out, "qb"));
    RUN_OK("qemu-img", "convert", "-O", "raw", img, ref);
    RUN_OK("qemu-img", "snapshot", "-a", "qb", img);
    assert_same(img, "qcow2", ref_b, "raw");
    assert_check_clean(img);
}

/* Counts that cannot go higher: a snapshot on an image with 1-bit refcounts
 * fails with a message and leaves the image as it was. */
static void test_refcount_overflow(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *img = path_in(f, "one-bit.qcow2");
    g_autofree char *ref = path_in(f, "ref.raw");
    g_autoptr(VireoBlock) b = NULL;
    g_autoptr(GPtrArray) list = NULL;
    guint8 buf[4096];

    RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", "-o", "refcount_bits=1", img, "4M");
    RUN_OK("qemu-io", "-c", "write -P 0x21 0 1M", img);
    RUN_OK("qemu-img", "convert", "-O", "raw", img, ref);
    b = open_or_die(img, VIREO_BLOCK_FORMAT_QCOW2, false);
    memset(buf, 0x22, sizeof buf);
    g_assert_true(vireo_block_vmstate_write(b, 0, buf, sizeof buf, &error));
    g_assert_false(vireo_block_snapshot_create(b, "too-many", sizeof buf, 0, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "cannot count"));
    g_clear_error(&error);
    list = vireo_block_snapshot_list(b, &error);
    g_assert_cmpuint(list->len, ==, 0);
    /* The image goes on working. */
    g_assert_cmpint(block_write(b, buf, sizeof buf, 2 * MiB), ==, 0);
    g_clear_pointer(&b, vireo_block_free);
    assert_check_clean(img);
    {
        g_autoptr(VireoBlock) r = open_or_die(ref, VIREO_BLOCK_FORMAT_RAW, false);
        g_assert_cmpint(block_write(r, buf, sizeof buf, 2 * MiB), ==, 0);
    }
    assert_same(img, "qcow2", ref, "raw");
}

/* Runs qemu-system-riscv64 on the image with monitor commands on its
 * standard input; its output. */
static char *qemu_monitor(const char *img, const char *commands, const char *loadvm)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *drive = g_strdup_printf("file=%s,if=none,id=d", img);
    const char *argv[] = { "qemu-system-riscv64",
                           "-M",
                           "virt",
                           "-display",
                           "none",
                           "-serial",
                           "null",
                           "-monitor",
                           "stdio",
                           "-S",
                           "-drive",
                           drive,
                           "-device",
                           "virtio-blk-device,drive=d",
                           loadvm ? "-loadvm" : NULL,
                           loadvm,
                           NULL };
    g_autoptr(GSubprocess) p =
        g_subprocess_newv(argv,
                          G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                              G_SUBPROCESS_FLAGS_STDERR_MERGE,
                          &error);
    char *out = NULL;

    g_assert_no_error(error);
    g_assert_true(g_subprocess_communicate_utf8(p, commands, NULL, &out, NULL, &error));
    g_assert_no_error(error);
    return out;
}

/* QEMU's own machine state: saved by QEMU's savevm, read by Vireo, written
 * by Vireo into a snapshot of another image, loaded by QEMU's loadvm
 * (which checks the stream, as garbage in its place shows). */
static void test_savevm_loadvm(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *img = path_in(f, "saved.qcow2");
    g_autofree char *copy = path_in(f, "copy.qcow2");
    g_autofree char *junk = path_in(f, "junk.qcow2");
    g_autofree char *out = NULL, *qemu = g_find_program_in_path("qemu-system-riscv64");
    g_autoptr(GPtrArray) list = NULL;
    g_autofree guint8 *state = NULL;
    VireoBlockSnapshot *s;
    VireoBlock *b;
    uint64_t size;

    if (qemu == NULL) {
        g_test_skip("qemu-system-riscv64 is not installed");
        return;
    }
    RUN_OK("qemu-img", "create", "-q", "-f", "qcow2", img, "64M");
    RUN_OK("qemu-io", "-c", "write -P 0x12 0 1M", img);
    g_free(qemu_monitor(img, "savevm qemu-state\nquit\n", NULL));

    b = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, true);
    list = vireo_block_snapshot_list(b, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 1);
    s = g_ptr_array_index(list, 0);
    g_assert_cmpstr(s->name, ==, "qemu-state");
    size = s->vm_state_size;
    g_assert_cmpuint(size, >, 4096);
    state = g_malloc(size);
    g_assert_true(vireo_block_snapshot_read_vmstate(b, "qemu-state", 0, state, size, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(state, 4, "QEVM", 4); /* QEMU's stream starts so */
    vireo_block_free(b);

    for (int garbage = 0; garbage < 2; garbage++) {
        const char *target = garbage ? junk : copy;

        g_assert_true(vireo_qcow2_create(target, 64 << 20, NULL, &error));
        g_assert_no_error(error);
        b = open_or_die(target, VIREO_BLOCK_FORMAT_QCOW2, false);
        if (garbage) {
            memset(state, 0x5a, size);
        }
        for (uint64_t pos = 0; pos < size; pos += 100003) {
            g_assert_true(
                vireo_block_vmstate_write(b, pos, state + pos, MIN(100003, size - pos), &error));
        }
        g_assert_true(vireo_block_snapshot_create(b, "vireo-state", size, 0, &error));
        g_assert_no_error(error);
        vireo_block_free(b);
        assert_check_clean(target);
        g_free(out);
        out = qemu_monitor(target, "info status\nquit\n", "vireo-state");
        g_test_message("%s", out);
        if (garbage) {
            g_assert_nonnull(strstr(out, "while loading VM state"));
        } else {
            g_assert_null(strstr(out, "Error"));
            g_assert_nonnull(strstr(out, "VM status: paused"));
        }
    }
}

int main(int argc, char **argv)
{
    static const char *const read_opts[] = {
        "compat=1.1",        "compat=0.10",           "refcount_bits=1",  "refcount_bits=2",
        "refcount_bits=8",   "refcount_bits=64",      "cluster_size=512", "cluster_size=2M",
        "lazy_refcounts=on", "compression_type=zstd",
    };
    static const char *const write_opts[] = {
        "vireo",
        "vireo-backing",
        "compat=1.1",
        "compat=0.10",
        "refcount_bits=1",
        "refcount_bits=64",
        "cluster_size=512,refcount_bits=64",
        "cluster_size=2M",
        "compressed,compression_type=zlib",
        "compressed,compression_type=zstd",
        "backing,compat=1.1",
        "backing,compat=0.10",
    };

    g_test_init(&argc, &argv, NULL);
    if (!have_qemu_img()) {
        g_print("qemu-img and qemu-io are not installed (package qemu-utils): skipped\n");
        return 77;
    }
    for (guint i = 0; i < G_N_ELEMENTS(read_opts); i++) {
        g_autofree char *name = g_strdup_printf("/qcow2/qemu/read/%s", read_opts[i]);
        g_test_add(name, Fixture, read_opts[i], fixture_setup, test_read_written, fixture_teardown);
    }
    g_test_add("/qcow2/qemu/read/compressed-zlib", Fixture, "zlib", fixture_setup,
               test_read_compressed, fixture_teardown);
    g_test_add("/qcow2/qemu/read/compressed-zstd", Fixture, "zstd", fixture_setup,
               test_read_compressed, fixture_teardown);
    g_test_add("/qcow2/qemu/read/backing-chain", Fixture, NULL, fixture_setup,
               test_read_backing_chain, fixture_teardown);
    g_test_add("/qcow2/qemu/read/preallocated", Fixture, NULL, fixture_setup,
               test_read_preallocated, fixture_teardown);
    g_test_add("/qcow2/qemu/create", Fixture, NULL, fixture_setup, test_create, fixture_teardown);
    for (guint i = 0; i < G_N_ELEMENTS(write_opts); i++) {
        g_autofree char *name = g_strdup_printf("/qcow2/qemu/write/%s", write_opts[i]);
        g_test_add(name, Fixture, write_opts[i], fixture_setup, test_write, fixture_teardown);
    }
    g_test_add("/qcow2/qemu/snapshots/to-qemu", Fixture, NULL, fixture_setup,
               test_snapshots_to_qemu, fixture_teardown);
    g_test_add("/qcow2/qemu/snapshots/from-qemu", Fixture, NULL, fixture_setup,
               test_snapshots_from_qemu, fixture_teardown);
    g_test_add("/qcow2/qemu/snapshots/refcount-overflow", Fixture, NULL, fixture_setup,
               test_refcount_overflow, fixture_teardown);
    g_test_add("/qcow2/qemu/snapshots/savevm-loadvm", Fixture, NULL, fixture_setup,
               test_savevm_loadvm, fixture_teardown);
    return g_test_run();
}
