/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * qcow2 images through VireoBlock without outside tools: random reads,
 * writes, discards, zeroes and snapshot operations against a model of the
 * disk in memory (and, where qemu-img is installed, its check of the
 * result); hostile images, each of which must fail with a clear error and
 * never crash; formats, locks and the snapshot API on raw images.
 */
#include "block-priv.h"
#include "qcow2-crash.h"

#include <fcntl.h>
#include <unistd.h>

#define MiB (1024 * 1024)

/* A call that must succeed; its error's message otherwise. */
#define CHECK(call)               \
    do {                          \
        bool ok_ = (call);        \
        g_assert_no_error(error); \
        g_assert_true(ok_);       \
    } while (0)

/* ---- Editing image files ------------------------------------------------------------- */

typedef struct {
    char *path;
    guint8 *data;
    gsize len;
} Image;

static Image image_load(const char *path)
{
    g_autoptr(GError) error = NULL;
    Image im = { g_strdup(path), NULL, 0 };

    g_assert_true(g_file_get_contents(path, (char **)&im.data, &im.len, &error));
    return im;
}

static void image_save(Image *im)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(im->path, (const char *)im->data, (gssize)im->len, &error));
}

static void image_clear(Image *im)
{
    g_free(im->path);
    g_free(im->data);
}

static uint64_t get64(const guint8 *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_BE(v);
}

static void put64(guint8 *p, uint64_t v)
{
    v = GUINT64_TO_BE(v);
    memcpy(p, &v, 8);
}

static void put32(guint8 *p, uint32_t v)
{
    v = GUINT32_TO_BE(v);
    memcpy(p, &v, 4);
}

static void put16(guint8 *p, uint16_t v)
{
    v = GUINT16_TO_BE(v);
    memcpy(p, &v, 2);
}

/* ---- The model ------------------------------------------------------------------------ */

typedef struct {
    char *name;
    guint8 *disk;
    guint8 *vm;
    gsize vm_len;
} ModelSnap;

static void model_snap_free(gpointer p)
{
    ModelSnap *s = p;

    g_free(s->name);
    g_free(s->disk);
    g_free(s->vm);
    g_free(s);
}

typedef struct {
    const char *name;
    guint cluster_bits;
    uint64_t size;
    uint64_t backing_size; /* 0: none */
    int ops;
} Variant;

static void assert_disk(VireoBlock *b, const guint8 *model, uint64_t size)
{
    g_autofree guint8 *got = block_read_all(b);

    for (uint64_t i = 0; i < size; i++) {
        if (got[i] != model[i]) {
            g_error("byte %" G_GUINT64_FORMAT " is %#x, the model says %#x", i, got[i], model[i]);
        }
    }
}

static void test_differential(gconstpointer data)
{
    const Variant *v = data;
    g_autofree char *dir = tmp_dir_in_memory();
    g_autofree char *img = g_build_filename(dir, "disk.qcow2", NULL);
    g_autofree char *base = g_build_filename(dir, "base.raw", NULL);
    g_autofree char *ref = g_build_filename(dir, "model.raw", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) snaps = g_ptr_array_new_with_free_func(model_snap_free);
    g_autofree guint8 *model = g_malloc0(v->size);
    g_autofree guint8 *buf = g_malloc(2 * MiB);
    GRand *r = g_rand_new_with_seed(g_str_hash(v->name));
    VireoBlock *b;
    int next_name = 0;

    if (v->backing_size > 0) {
        g_autofree guint8 *bdata = g_malloc(v->backing_size);

        fill_random(r, bdata, v->backing_size);
        g_assert_true(
            g_file_set_contents(base, (const char *)bdata, (gssize)v->backing_size, &error));
        memcpy(model, bdata, v->backing_size);
    }
    g_assert_true(vireo_qcow2_create_full(img, v->size, v->backing_size > 0 ? "base.raw" : NULL,
                                          v->cluster_bits, &error));
    g_assert_no_error(error);
    b = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, false);

    for (int i = 0; i < v->ops; i++) {
        int kind = g_rand_int_range(r, 0, 100);
        uint64_t len = g_rand_int_range(r, 0, 3) == 0 ? g_rand_int_range(r, 1, 2 * MiB)
                                                      : g_rand_int_range(r, 1, 70000);
        uint64_t off;

        if (g_rand_boolean(r)) {
            len = (len + 511) & ~511ull;
        }
        len = MIN(len, v->size);
        off = (uint64_t)g_rand_double_range(r, 0, (double)(v->size - len + 1));
        if (g_rand_boolean(r)) {
            off &= ~511ull;
        }
        if (kind < 40) {
            fill_random(r, buf, len);
            g_assert_cmpint(block_write(b, buf, len, off), ==, 0);
            memcpy(model + off, buf, len);
        } else if (kind < 52) {
            g_assert_cmpint(block_read(b, buf, len, off), ==, 0);
            if (memcmp(buf, model + off, len) != 0) {
                g_error("%s, operation %d: %" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT
                        " differ from the model",
                        v->name, i, len, off);
            }
        } else if (kind < 58) {
            g_assert_cmpint(vireo_block_discard(b, off, len), ==, 0);
            memset(model + off, 0, len);
        } else if (kind < 64) {
            g_assert_cmpint(vireo_block_write_zeroes(b, off, len), ==, 0);
            memset(model + off, 0, len);
        } else if (kind < 68) {
            g_assert_cmpint(vireo_block_flush(b), ==, 0);
        } else if (kind < 74 && snaps->len < 6) {
            ModelSnap *s = g_new0(ModelSnap, 1);
            gsize pos = 0;

            s->name = g_strdup_printf("snap-%d", next_name++);
            s->disk = g_memdup2(model, v->size);
            s->vm_len = g_rand_boolean(r) ? 0 : (gsize)g_rand_int_range(r, 1, 3 * MiB);
            s->vm = g_malloc(s->vm_len + 1);
            fill_random(r, s->vm, s->vm_len);
            while (pos < s->vm_len) {
                gsize want = (gsize)g_rand_int_range(r, 1, 300000);
                gsize n = MIN(s->vm_len - pos, want);
                CHECK(vireo_block_vmstate_write(b, pos, s->vm + pos, n, &error));
                pos += n;
            }
            CHECK(vireo_block_snapshot_create(b, s->name, s->vm_len, (uint64_t)i, &error));
            g_ptr_array_add(snaps, s);
        } else if (kind < 78 && snaps->len > 0) {
            ModelSnap *s = g_ptr_array_index(snaps, g_rand_int_range(r, 0, (gint32)snaps->len));

            CHECK(vireo_block_snapshot_goto(b, s->name, &error));
            memcpy(model, s->disk, v->size);
        } else if (kind < 81 && snaps->len > 0) {
            guint k = (guint)g_rand_int_range(r, 0, (gint32)snaps->len);
            ModelSnap *s = g_ptr_array_index(snaps, k);

            CHECK(vireo_block_snapshot_delete(b, s->name, &error));
            g_ptr_array_remove_index(snaps, k);
        } else if (kind < 88 && snaps->len > 0) {
            ModelSnap *s = g_ptr_array_index(snaps, g_rand_int_range(r, 0, (gint32)snaps->len));
            gsize pos, n, want;

            if (s->vm_len == 0) {
                continue;
            }
            pos = (gsize)g_rand_int_range(r, 0, (gint32)s->vm_len);
            want = (gsize)g_rand_int_range(r, 1, 2 * MiB);
            n = MIN(s->vm_len - pos, want);
            CHECK(vireo_block_snapshot_read_vmstate(b, s->name, pos, buf, n, &error));
            g_assert_cmpmem(buf, n, s->vm + pos, n);
        } else if (kind < 92) {
            vireo_block_free(b);
            b = open_or_die(img, VIREO_BLOCK_FORMAT_QCOW2, false);
        } else if (kind < 94) {
            assert_disk(b, model, v->size);
        }
    }
    assert_disk(b, model, v->size);
    {
        g_autoptr(GPtrArray) list = vireo_block_snapshot_list(b, &error);

        g_assert_no_error(error);
        g_assert_cmpuint(list->len, ==, snaps->len);
        for (guint i = 0; i < list->len; i++) {
            VireoBlockSnapshot *s = g_ptr_array_index(list, i);
            ModelSnap *m = g_ptr_array_index(snaps, i);

            g_assert_cmpstr(s->name, ==, m->name);
            g_assert_cmpuint(s->vm_state_size, ==, m->vm_len);
            g_assert_cmpuint(s->disk_size, ==, v->size);
        }
    }
    vireo_block_free(b);
    g_rand_free(r);

    if (have_qemu_img()) {
        g_assert_true(g_file_set_contents(ref, (const char *)model, (gssize)v->size, &error));
        assert_check_clean(img);
        assert_same(img, "qcow2", ref, "raw");
        for (guint i = 0; i < snaps->len; i++) {
            ModelSnap *s = g_ptr_array_index(snaps, i);

            g_assert_true(g_file_set_contents(ref, (const char *)s->disk, (gssize)v->size, &error));
            RUN_OK("qemu-img", "snapshot", "-a", s->name, img);
            assert_same(img, "qcow2", ref, "raw");
        }
        assert_check_clean(img);
    }
    rm_rf(dir);
}

/* ---- Hostile images --------------------------------------------------------------------- */

/* A fresh 4 MiB image (64 KiB clusters: header, refcount table, refcount
 * block, L1 table) with data in its first cluster, loaded for editing. */
static Image fresh_image(const char *dir, const char *name, bool with_data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(dir, name, NULL);

    g_unlink(path);
    g_assert_true(vireo_qcow2_create(path, 4 * MiB, NULL, &error));
    if (with_data) {
        g_autoptr(VireoBlock) b = open_or_die(path, VIREO_BLOCK_FORMAT_QCOW2, false);
        guint8 buf[4096];

        memset(buf, 0x5c, sizeof buf);
        g_assert_cmpint(block_write(b, buf, sizeof buf, 0), ==, 0);
    }
    return image_load(path);
}

/* Opening fails with `code` and a message holding `words`. */
static void assert_refused(const char *path, bool read_only, int code, const char *words)
{
    g_autoptr(GError) error = NULL;
    VireoBlock *b = vireo_block_open_format(path, VIREO_BLOCK_FORMAT_QCOW2, read_only, &error);

    if (b != NULL) {
        g_error("%s opened (%s)", path, words);
    }
    g_assert_error(error, VIREO_ERROR, code);
    if (strstr(error->message, words) == NULL) {
        g_error("“%s” does not say “%s”", error->message, words);
    }
    g_test_message("refused: %s", error->message);
}

typedef void (*Edit)(Image *im);

static void e_magic(Image *im)
{
    im->data[3] = 0;
}
static void e_version1(Image *im)
{
    put32(im->data + 4, 1);
}
static void e_version4(Image *im)
{
    put32(im->data + 4, 4);
}
static void e_cluster_small(Image *im)
{
    put32(im->data + 20, 8);
}
static void e_cluster_big(Image *im)
{
    put32(im->data + 20, 30);
}
static void e_size_huge(Image *im)
{
    put64(im->data + 24, 1ull << 62);
}
static void e_l1_small(Image *im)
{
    put64(im->data + 24, 8ull << 30);
}
static void e_l1_huge(Image *im)
{
    put32(im->data + 36, 0x7fffffff);
}
static void e_l1_unaligned(Image *im)
{
    put64(im->data + 40, get64(im->data + 40) + 8);
}
static void e_l1_past_end(Image *im)
{
    put64(im->data + 40, 1ull << 40);
}
static void e_l1_on_header(Image *im)
{
    put64(im->data + 40, 0);
}
static void e_rt_past_end(Image *im)
{
    put64(im->data + 48, 64ull << 20);
}
static void e_rt_zero_clusters(Image *im)
{
    put32(im->data + 56, 0);
}
static void e_rt_huge(Image *im)
{
    put32(im->data + 56, 1u << 30);
}
static void e_rt_overlaps_l1(Image *im)
{
    put64(im->data + 48, get64(im->data + 40));
}
static void e_refcount_order(Image *im)
{
    put32(im->data + 96, 7);
}
static void e_header_length(Image *im)
{
    put32(im->data + 100, 100);
}
static void e_header_length_big(Image *im)
{
    put32(im->data + 100, 1u << 20);
}
static void e_unknown_feature(Image *im)
{
    /* Bit 9, named in a feature name table after the header. */
    im->data[78] |= 0x02;
    put32(im->data + 112, 0x6803f857);
    put32(im->data + 116, 48);
    im->data[120] = 0;
    im->data[121] = 9;
    memcpy(im->data + 122, "time travel", 11);
    put32(im->data + 168, 0);
    put32(im->data + 172, 0);
}
static void e_data_file(Image *im)
{
    im->data[79] |= 0x04;
}
static void e_extended_l2(Image *im)
{
    im->data[79] |= 0x10;
}
static void e_encrypted(Image *im)
{
    put32(im->data + 32, 2);
}
static void e_compression_unknown(Image *im)
{
    im->data[79] |= 0x08;
    im->data[104] = 7;
}
static void e_compression_disagrees(Image *im)
{
    im->data[104] = 1;
}
static void e_extension_long(Image *im)
{
    put32(im->data + 112, 0x12345678);
    put32(im->data + 116, 1u << 20);
}
static void e_backing_offset(Image *im)
{
    put64(im->data + 8, 1ull << 20);
    put32(im->data + 16, 10);
}
static void e_backing_long(Image *im)
{
    put64(im->data + 8, 512);
    put32(im->data + 16, 4000);
}
static void e_backing_nul(Image *im)
{
    put64(im->data + 8, 512);
    put32(im->data + 16, 4);
    memcpy(im->data + 512, "a\0bc", 4);
}
static void e_backing_missing(Image *im)
{
    put64(im->data + 8, 512);
    put32(im->data + 16, 11);
    memcpy(im->data + 512, "missing.img", 11);
}
static void e_backing_format(Image *im)
{
    put64(im->data + 8, 512);
    put32(im->data + 16, 8);
    memcpy(im->data + 512, "base.raw", 8);
    put32(im->data + 112, 0xe2792aca);
    put32(im->data + 116, 4);
    memcpy(im->data + 120, "vmdk", 4);
    put32(im->data + 128, 0);
}
static void e_snapshots_many(Image *im)
{
    put32(im->data + 60, 1u << 20);
    put64(im->data + 64, 0x10000);
}
static void e_snapshots_past_end(Image *im)
{
    put32(im->data + 60, 2);
    put64(im->data + 64, 1ull << 30);
}
static void e_snapshot_l1_past_end(Image *im)
{
    /* A table in the refcount block's spare room: one entry whose L1
     * table lies far past the end of the file. */
    uint64_t at = (im->len + 65535) & ~65535ull;

    im->data = g_realloc(im->data, at + 65536);
    memset(im->data + im->len, 0, at + 65536 - im->len);
    im->len = at + 65536;
    put32(im->data + 60, 1);
    put64(im->data + 64, at);
    put64(im->data + at, 1ull << 40);
    put32(im->data + at + 8, 1);
    put16(im->data + at + 12, 1);
    put16(im->data + at + 14, 1);
    put32(im->data + at + 36, 0);
    memcpy(im->data + at + 40, "1x", 2);
}
static void e_l1_entry_reserved(Image *im)
{
    uint64_t l1 = get64(im->data + 40);
    im->data[l1 + 7] |= 0x04;
}
static void e_l1_entry_past_end(Image *im)
{
    uint64_t l1 = get64(im->data + 40);
    put64(im->data + l1, (1ull << 40) | (1ull << 63));
}
static void e_refblock_past_end(Image *im)
{
    uint64_t rt = get64(im->data + 48);
    put64(im->data + rt + 8, 1ull << 40);
}
static void e_truncated(Image *im)
{
    im->len = get64(im->data + 40) + 4;
}
static void e_truncated_header(Image *im)
{
    im->len = 50;
}

static const struct {
    const char *name;
    Edit edit;
    bool read_only;
    int code;
    const char *words;
} hostile[] = {
    { "magic", e_magic, true, VIREO_ERROR_FORMAT, "magic" },
    { "version-1", e_version1, true, VIREO_ERROR_UNSUPPORTED, "version 1" },
    { "version-4", e_version4, true, VIREO_ERROR_UNSUPPORTED, "version 4" },
    { "cluster-small", e_cluster_small, true, VIREO_ERROR_FORMAT, "cluster size" },
    { "cluster-big", e_cluster_big, true, VIREO_ERROR_FORMAT, "cluster size" },
    { "size-huge", e_size_huge, true, VIREO_ERROR_UNSUPPORTED, "virtual size" },
    { "l1-too-small", e_l1_small, true, VIREO_ERROR_FORMAT, "fewer than its size needs" },
    { "l1-huge", e_l1_huge, true, VIREO_ERROR_FORMAT, "L1 table has" },
    { "l1-unaligned", e_l1_unaligned, true, VIREO_ERROR_FORMAT, "not aligned" },
    { "l1-past-end", e_l1_past_end, true, VIREO_ERROR_FORMAT, "truncated" },
    { "l1-on-header", e_l1_on_header, true, VIREO_ERROR_FORMAT, "overlaps the header" },
    { "refcount-table-past-end", e_rt_past_end, true, VIREO_ERROR_FORMAT, "truncated" },
    { "refcount-table-empty", e_rt_zero_clusters, true, VIREO_ERROR_FORMAT, "0 clusters" },
    { "refcount-table-huge", e_rt_huge, true, VIREO_ERROR_FORMAT, "refcount table has" },
    { "refcount-table-on-l1", e_rt_overlaps_l1, true, VIREO_ERROR_FORMAT, "overlap" },
    { "refcount-order", e_refcount_order, true, VIREO_ERROR_FORMAT, "2^7 bits" },
    { "header-length", e_header_length, true, VIREO_ERROR_FORMAT, "header length" },
    { "header-length-big", e_header_length_big, true, VIREO_ERROR_FORMAT, "header length" },
    { "unknown-feature", e_unknown_feature, true, VIREO_ERROR_UNSUPPORTED, "“time travel”" },
    { "external-data-file", e_data_file, true, VIREO_ERROR_UNSUPPORTED, "external data file" },
    { "extended-l2", e_extended_l2, true, VIREO_ERROR_UNSUPPORTED, "extended L2" },
    { "encrypted", e_encrypted, true, VIREO_ERROR_UNSUPPORTED, "encrypted" },
    { "compression-unknown", e_compression_unknown, true, VIREO_ERROR_UNSUPPORTED, "method 7" },
    { "compression-disagrees", e_compression_disagrees, true, VIREO_ERROR_FORMAT, "disagree" },
    { "extension-too-long", e_extension_long, true, VIREO_ERROR_FORMAT, "extension" },
    { "backing-name-offset", e_backing_offset, true, VIREO_ERROR_FORMAT, "backing file name" },
    { "backing-name-long", e_backing_long, true, VIREO_ERROR_FORMAT, "backing file name" },
    { "backing-name-nul", e_backing_nul, true, VIREO_ERROR_FORMAT, "zero byte" },
    { "backing-missing", e_backing_missing, true, VIREO_ERROR_IO, "missing.img" },
    { "backing-format", e_backing_format, true, VIREO_ERROR_UNSUPPORTED, "“vmdk”" },
    { "snapshots-many", e_snapshots_many, true, VIREO_ERROR_FORMAT, "snapshots" },
    { "snapshots-past-end", e_snapshots_past_end, true, VIREO_ERROR_FORMAT, "snapshot table" },
    { "snapshot-l1-past-end", e_snapshot_l1_past_end, true, VIREO_ERROR_FORMAT, "L1 table" },
    { "l1-entry-reserved", e_l1_entry_reserved, true, VIREO_ERROR_FORMAT, "reserved bits" },
    { "l2-past-end", e_l1_entry_past_end, true, VIREO_ERROR_FORMAT, "past the end" },
    { "refcount-block-past-end", e_refblock_past_end, true, VIREO_ERROR_FORMAT, "refcount block" },
    { "truncated", e_truncated, true, VIREO_ERROR_FORMAT, "truncated" },
    { "truncated-header", e_truncated_header, true, VIREO_ERROR_FORMAT, "less than a header" },
};

static void test_hostile(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autofree char *dir = tmp_dir();
    g_autofree char *base = g_build_filename(dir, "base.raw", NULL);
    Image im = fresh_image(dir, "bad.qcow2", true);

    g_assert_true(g_file_set_contents(base, "", 0, NULL));
    hostile[i].edit(&im);
    image_save(&im);
    assert_refused(im.path, hostile[i].read_only, hostile[i].code, hostile[i].words);
    assert_refused(im.path, false, hostile[i].code, "");
    image_clear(&im);
    rm_rf(dir);
}

/* An image marked corrupt or dirty: read-only use is fine, writing is not. */
static void test_marked(void)
{
    g_autofree char *dir = tmp_dir();
    Image im = fresh_image(dir, "marked.qcow2", true);
    guint8 buf[4096];

    for (int bit = 0; bit < 2; bit++) {
        g_autoptr(VireoBlock) b = NULL;

        im.data[79] = (guint8)(1u << bit);
        image_save(&im);
        b = open_or_die(im.path, VIREO_BLOCK_FORMAT_QCOW2, true);
        g_assert_cmpint(block_read(b, buf, sizeof buf, 0), ==, 0);
        g_assert_cmpuint(buf[100], ==, 0x5c);
        g_clear_pointer(&b, vireo_block_free);
        assert_refused(im.path, false, bit == 0 ? VIREO_ERROR_UNSUPPORTED : VIREO_ERROR_FORMAT,
                       bit == 0 ? "lazy refcounts" : "marked corrupt");
    }
    image_clear(&im);
    rm_rf(dir);
}

/* L2 entries that point where they must not: I/O fails, nothing crashes,
 * and the image is not written any more. */
static void test_bad_entries(void)
{
    g_autofree char *dir = tmp_dir();
    Image im = fresh_image(dir, "entries.qcow2", true);
    uint64_t l1 = get64(im.data + 40);
    uint64_t l2 = get64(im.data + l1) & 0x00fffffffffffe00ull;
    static const uint64_t entries[] = {
        (1ull << 63) | 0x30000,                        /* data over the L1 table, "not shared" */
        (1ull << 63) | 0x10000 | 0x100,                /* reserved bits */
        (1ull << 62) | 0x123,                          /* compressed, over the header */
        (1ull << 62) | 0x40000,                        /* compressed, garbage */
        (1ull << 62) | (0xffull << 54) | (1ull << 40), /* compressed, past the end */
    };

    g_assert_cmpuint(l2, !=, 0);
    for (guint i = 0; i < G_N_ELEMENTS(entries); i++) {
        g_autoptr(VireoBlock) b = NULL;
        guint8 buf[65536];
        int rr, wr;

        put64(im.data + l2, entries[i]);
        image_save(&im);
        b = open_or_die(im.path, VIREO_BLOCK_FORMAT_QCOW2, false);
        rr = block_read(b, buf, sizeof buf, 0);
        wr = block_write(b, buf, 512, 100);
        g_test_message("entry %#" G_GINT64_MODIFIER "x: read %d, write %d", entries[i], rr, wr);
        if (i == 0) {
            g_assert_cmpint(wr, ==, -EIO);
        } else {
            g_assert_cmpint(rr, ==, -EIO);
            g_assert_cmpint(wr, ==, -EIO);
        }
        /* Other clusters still read; writes stay refused. */
        g_assert_cmpint(block_read(b, buf, 4096, 1 * MiB), ==, 0);
        g_assert_cmpint(block_write(b, buf, 512, 2 * MiB), ==, -EIO);
    }
    image_clear(&im);
    rm_rf(dir);
}

static void test_backing_loops(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = tmp_dir();
    g_autofree char *a = g_build_filename(dir, "a.qcow2", NULL);
    g_autofree char *b = g_build_filename(dir, "b.qcow2", NULL);
    g_autofree char *c = g_build_filename(dir, "c.qcow2", NULL);
    g_autofree char *selg = g_build_filename(dir, "selg.qcow2", NULL);
    g_autofree char *self = g_build_filename(dir, "self.qcow2", NULL);
    g_autofree char *prev = NULL;
    Image im;

    /* a -> b -> a */
    g_assert_true(vireo_qcow2_create(b, 1 * MiB, NULL, &error));
    g_assert_true(vireo_qcow2_create(a, 1 * MiB, "b.qcow2", &error));
    g_assert_true(vireo_qcow2_create(c, 1 * MiB, "a.qcow2", &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_rename(c, b), ==, 0);
    assert_refused(a, true, VIREO_ERROR_FORMAT, "loops");

    /* An image that is its own backing file. */
    g_assert_true(vireo_qcow2_create(selg, 1 * MiB, NULL, &error));
    g_assert_true(vireo_qcow2_create(self, 1 * MiB, "selg.qcow2", &error));
    g_assert_no_error(error);
    im = image_load(self);
    memcpy(im.data + get64(im.data + 8), "self.qcow2", 10);
    image_save(&im);
    image_clear(&im);
    assert_refused(self, true, VIREO_ERROR_FORMAT, "loops");

    /* A chain longer than the limit. */
    prev = g_strdup("chain-0.qcow2");
    {
        g_autofree char *first = g_build_filename(dir, prev, NULL);
        g_assert_true(vireo_qcow2_create(first, 1 * MiB, NULL, &error));
    }
    for (int i = 1; i <= 40; i++) {
        g_autofree char *name = g_strdup_printf("chain-%d.qcow2", i);
        g_autofree char *path = g_build_filename(dir, name, NULL);

        g_assert_true(vireo_qcow2_create(path, 1 * MiB, prev, &error));
        g_assert_no_error(error);
        g_free(prev);
        prev = g_steal_pointer(&name);
        if (i == 20) {
            VireoBlock *ok = open_or_die(path, VIREO_BLOCK_FORMAT_AUTO, true);
            vireo_block_free(ok);
        }
        if (i == 40) {
            assert_refused(path, true, VIREO_ERROR_UNSUPPORTED, "chain");
        }
    }
    rm_rf(dir);
}

/* ---- A crash after every write ------------------------------------------------------------ */

static void append_line(void *ctx, const char *line)
{
    g_string_append(ctx, line);
}

/* Runs the crash workload with writes cut off after `limit` of them (-1:
 * none); the journal it kept, and the writes it made in *used. */
static char *cut_run(const char *img, bool snapshots, int ops, int limit, int *used)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *why = NULL;
    GString *journal = g_string_new(NULL);
    CrashWorkload *w = g_new0(CrashWorkload, 1);
    GRand *r = g_rand_new_with_seed(snapshots ? 77 : 78);
    VireoBlock *b;

    g_unlink(img);
    g_assert_true(vireo_qcow2_create(img, CRASH_DISK_SIZE, NULL, &error));
    g_assert_no_error(error);
    b = open_or_die(img, VIREO_BLOCK_FORMAT_QCOW2, false);
    w->note = append_line;
    w->ctx = journal;
    w->tag = "cut";
    int start = limit < 0 ? G_MAXINT : limit;

    vireo_block_set_write_limit(start);
    if (!crash_workload_run(w, b, r, snapshots, ops, &why)) {
        g_assert_cmpint(limit, >=, 0);
    }
    vireo_block_free(b);
    *used = start - vireo_block_get_write_limit();
    vireo_block_set_write_limit(-1);
    if (w->snaps != NULL) {
        g_ptr_array_free(w->snaps, TRUE);
    }
    g_free(w);
    g_rand_free(r);
    return g_string_free(journal, FALSE);
}

/* The image as the file holds it after the process died at each write of a
 * workload in turn: qemu-img check accepts it (leaked clusters aside), the
 * data flushed is there, the snapshots taken are there. */
static void test_crash_points(gconstpointer data)
{
    bool snapshots = GPOINTER_TO_INT(data);
    g_autofree char *dir = tmp_dir_in_memory();
    g_autofree char *img = g_build_filename(dir, "cut.qcow2", NULL);
    g_autofree uint64_t *zeros = g_new0(uint64_t, CRASH_BLOCKS);
    g_autofree uint64_t *now = g_new0(uint64_t, CRASH_BLOCKS);
    g_autofree char *all = NULL;
    CrashStats st = { 0 };
    int total, step, points = 0;

    all = cut_run(img, snapshots, snapshots ? 32 : 50, -1, &total);
    g_assert_cmpint(total, >, 20);
    step = MAX(1, total / 70);
    for (int n = 0; n <= total; n += step) {
        g_autofree char *journal = NULL;
        CrashReplay *r = crash_replay_new(zeros);
        int used;

        journal = cut_run(img, snapshots, snapshots ? 32 : 50, n, &used);
        g_assert_cmpint(used, ==, n);
        g_assert_true(g_str_has_prefix(all, journal));
        crash_replay(r, journal);
        if (have_qemu_img()) {
            crash_check_image(img, snapshots, &st);
        }
        crash_check_blocks(img, r, now);
        if (snapshots) {
            crash_check_snapshots(dir, img, r, (guint32)n, &st);
        }
        crash_replay_free(r);
        points++;
    }
    g_test_message("%d crash points of %d writes: qemu-img check clean %d, leaks %d, COPIED "
                   "flags behind %d; %d snapshots gone to and compared",
                   points, total, st.clean, st.leaks, st.flag_window, st.snapshots_checked);
    rm_rf(dir);
}

/* ---- Formats, locks, raw images ------------------------------------------------------------ */

static void test_formats_and_locks(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = tmp_dir();
    g_autofree char *img = g_build_filename(dir, "disk.qcow2", NULL);
    g_autofree char *raw = g_build_filename(dir, "disk.raw", NULL);
    g_autofree char *top1 = g_build_filename(dir, "top1.qcow2", NULL);
    g_autofree char *top2 = g_build_filename(dir, "top2.qcow2", NULL);
    g_autofree char *empty = g_build_filename(dir, "empty", NULL);
    VireoBlock *a, *b, *r;
    VireoBlockFormat fmt;
    guint8 buf[512];

    g_assert_true(vireo_qcow2_create(img, 2 * MiB, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(raw, "hello", 5, &error));
    g_assert_true(g_file_set_contents(empty, "", 0, &error));

    g_assert_cmpstr(vireo_block_format_name(VIREO_BLOCK_FORMAT_QCOW2), ==, "qcow2");
    g_assert_cmpstr(vireo_block_format_name(VIREO_BLOCK_FORMAT_RAW), ==, "raw");
    g_assert_true(vireo_block_format_from_name("qcow2", &fmt));
    g_assert_cmpint(fmt, ==, VIREO_BLOCK_FORMAT_QCOW2);
    g_assert_false(vireo_block_format_from_name("vmdk", &fmt));

    /* Detection, and a format forced on the file. */
    a = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, true);
    g_assert_cmpint(vireo_block_get_format(a), ==, VIREO_BLOCK_FORMAT_QCOW2);
    g_assert_cmpuint(vireo_block_get_size(a), ==, 2 * MiB);
    vireo_block_free(a);
    a = open_or_die(img, VIREO_BLOCK_FORMAT_RAW, true);
    g_assert_cmpint(vireo_block_get_format(a), ==, VIREO_BLOCK_FORMAT_RAW);
    g_assert_cmpuint(vireo_block_get_size(a), ==, 4 * 65536);
    vireo_block_free(a);
    a = vireo_block_open(raw, true, &error);
    g_assert_no_error(error);
    g_assert_cmpint(vireo_block_get_format(a), ==, VIREO_BLOCK_FORMAT_RAW);
    vireo_block_free(a);
    a = open_or_die(empty, VIREO_BLOCK_FORMAT_AUTO, true);
    g_assert_cmpint(vireo_block_get_format(a), ==, VIREO_BLOCK_FORMAT_RAW);
    vireo_block_free(a);
    assert_refused(raw, true, VIREO_ERROR_FORMAT, "less than a header");

    /* Locks: one writer, or any number of readers. */
    a = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, false);
    g_assert_null(vireo_block_open(img, false, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "in use"));
    g_clear_error(&error);
    g_assert_null(vireo_block_open(img, true, &error));
    g_clear_error(&error);
    vireo_block_free(a);

    /* Migration's switch-over, on qcow2 and raw: the lock given up lets
     * another writer in; taking it back fails while that one holds it. */
    for (unsigned i = 0; i < 2; i++) {
        const char *path = i == 0 ? img : raw;
        a = open_or_die(path, VIREO_BLOCK_FORMAT_AUTO, false);
        g_assert_true(vireo_block_unlock(a, &error));
        g_assert_no_error(error);
        b = open_or_die(path, VIREO_BLOCK_FORMAT_AUTO, false);
        g_assert_false(vireo_block_relock(a, &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "in use"));
        g_clear_error(&error);
        vireo_block_free(b);
        g_assert_true(vireo_block_relock(a, &error));
        g_assert_no_error(error);
        g_assert_null(vireo_block_open(path, false, &error));
        g_assert_nonnull(strstr(error->message, "in use"));
        g_clear_error(&error);
        vireo_block_free(a);
    }

    /* Two images on one backing file, which is opened read-only by both;
     * while they are open it cannot be opened for writing. */
    g_assert_true(vireo_qcow2_create(top1, 0, "disk.qcow2", &error));
    g_assert_true(vireo_qcow2_create(top2, 0, "disk.qcow2", &error));
    g_assert_no_error(error);
    a = open_or_die(top1, VIREO_BLOCK_FORMAT_AUTO, false);
    b = open_or_die(top2, VIREO_BLOCK_FORMAT_AUTO, false);
    g_assert_cmpuint(vireo_block_get_size(a), ==, 2 * MiB);
    g_assert_null(vireo_block_open(img, false, &error));
    g_assert_nonnull(strstr(error->message, "in use"));
    g_clear_error(&error);
    vireo_block_free(a);
    vireo_block_free(b);

    /* Read-only qcow2: no writes, no snapshot changes. */
    a = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, true);
    memset(buf, 1, sizeof buf);
    g_assert_cmpint(block_write(a, buf, sizeof buf, 0), ==, -EROFS);
    g_assert_false(vireo_block_snapshot_create(a, "x", 0, 0, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_clear_error(&error);
    g_assert_false(vireo_block_vmstate_write(a, 0, buf, sizeof buf, &error));
    g_clear_error(&error);
    vireo_block_free(a);

    /* Raw images have no snapshots. */
    r = open_or_die(raw, VIREO_BLOCK_FORMAT_RAW, false);
    g_assert_false(vireo_block_supports_snapshots(r));
    g_assert_null(vireo_block_snapshot_list(r, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "raw"));
    g_clear_error(&error);
    g_assert_false(vireo_block_snapshot_create(r, "x", 0, 0, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_false(vireo_block_snapshot_goto(r, "x", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_false(vireo_block_snapshot_delete(r, "x", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_false(vireo_block_vmstate_write(r, 0, buf, 1, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_false(vireo_block_snapshot_read_vmstate(r, "x", 0, buf, 1, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    vireo_block_free(r);

    /* Bad arguments to creation. */
    g_assert_false(vireo_qcow2_create_full(top1, 1 * MiB, NULL, 30, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_false(vireo_qcow2_create(top1, 1 * MiB, "nothing-here.img", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_clear_error(&error);
    g_assert_false(vireo_qcow2_create(top1, 1ull << 62, NULL, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    rm_rf(dir);
}

/* Snapshot API errors on a qcow2 image. */
static void test_snapshot_errors(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = tmp_dir();
    g_autofree char *img = g_build_filename(dir, "disk.qcow2", NULL);
    g_autoptr(VireoBlock) b = NULL;
    g_autofree char *long_name = g_strnfill(2000, 'n');
    guint8 buf[16];

    g_assert_true(vireo_qcow2_create(img, 2 * MiB, NULL, &error));
    b = open_or_die(img, VIREO_BLOCK_FORMAT_AUTO, false);
    g_assert_false(vireo_block_snapshot_create(b, "", 0, 0, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_false(vireo_block_snapshot_create(b, long_name, 0, 0, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_false(vireo_block_snapshot_create(b, "big", 1ull << 62, 0, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_false(vireo_block_vmstate_write(b, G_MAXUINT64 - 4, buf, sizeof buf, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_false(vireo_block_snapshot_goto(b, "none", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    CHECK(vireo_block_snapshot_create(b, "one", 0, 0, &error));
    g_assert_false(vireo_block_snapshot_read_vmstate(b, "one", 0, buf, 1, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    /* By id or by name. */
    g_assert_true(vireo_block_snapshot_goto(b, "1", &error));
    CHECK(vireo_block_snapshot_delete(b, "one", &error));
    rm_rf(dir);
}

int main(int argc, char **argv)
{
    static const Variant variants[] = {
        { "64k", 16, 8 * MiB, 0, 500 },
        { "512", 9, 3 * MiB, 0, 300 },
        { "2m", 21, 16 * MiB, 0, 200 },
        { "64k-backing", 16, 8 * MiB, 5 * MiB + 1000, 500 },
        { "4k-backing", 12, 6 * MiB, 6 * MiB, 400 },
    };

    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(variants); i++) {
        g_autofree char *name = g_strdup_printf("/qcow2/differential/%s", variants[i].name);
        g_test_add_data_func(name, &variants[i], test_differential);
    }
    for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
        g_autofree char *name = g_strdup_printf("/qcow2/hostile/%s", hostile[i].name);
        g_test_add_data_func(name, GUINT_TO_POINTER(i), test_hostile);
    }
    g_test_add_func("/qcow2/hostile/marked", test_marked);
    g_test_add_func("/qcow2/hostile/bad-entries", test_bad_entries);
    g_test_add_func("/qcow2/hostile/backing-loops", test_backing_loops);
    g_test_add_data_func("/qcow2/crash-points/io", GINT_TO_POINTER(0), test_crash_points);
    g_test_add_data_func("/qcow2/crash-points/snapshots", GINT_TO_POINTER(1), test_crash_points);
    g_test_add_func("/qcow2/formats-and-locks", test_formats_and_locks);
    g_test_add_func("/qcow2/snapshot-errors", test_snapshot_errors);
    return g_test_run();
}
