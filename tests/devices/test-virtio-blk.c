/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-blk through the virtio-mmio registers, on a real raw image in a
 * temporary directory and on an in-memory back end that can hold a request
 * in the middle of its I/O.
 */
#include "devices/virtio-blk.h"
#include "engine/error.h"
#include "snap-driver.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#define IMAGE_SIZE (2u << 20)
#define CAPACITY   (IMAGE_SIZE / 512)
#define T_HDR      0x80010000ull
#define T_STATUS   0x80010200ull
#define T_DATA2    0x80400000ull

static guint8 pattern(uint64_t offset)
{
    return (guint8)(offset * 7 + (offset >> 9) * 13);
}

typedef struct {
    Harness h;
    char *dir, *path;
    TestQueue q;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *image = g_malloc(IMAGE_SIZE);

    for (uint64_t i = 0; i < IMAGE_SIZE; i++) {
        image[i] = pattern(i);
    }
    f->dir = g_dir_make_tmp("vireo-blk-XXXXXX", &error);
    g_assert_no_error(error);
    f->path = g_build_filename(f->dir, "disk.img", NULL);
    g_assert_true(g_file_set_contents(f->path, (const char *)image, IMAGE_SIZE, &error));
    harness_init(&f->h);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    if (f->h.dev != NULL) {
        harness_clear(&f->h);
    } else {
        vireo_bus_free(f->h.bus);
        irq_probe_clear(&f->h.irq);
    }
    g_unlink(f->path);
    g_rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
}

static void attach_image(Fixture *f, bool read_only)
{
    g_autoptr(GError) error = NULL;
    VireoBlock *block = vireo_block_open(f->path, read_only, &error);

    g_assert_no_error(error);
    harness_attach(&f->h, vireo_virtio_blk_new(f->h.bus, block));
}

static uint64_t blk_features(Fixture *f)
{
    return device_features(&f->h);
}

static void start(Fixture *f)
{
    drv_start(&f->h, blk_features(f), &f->q, 1, 16);
}

/* Makes a request available: the header, `n` data buffers, the status byte
 * (set to 0xee first); returns the head. */
static uint16_t submit(Fixture *f, uint32_t type, uint64_t sector, const TestBuf *data, unsigned n)
{
    TestBuf bufs[20];
    guint8 *hdr = gpa(&f->h, T_HDR);

    g_assert_cmpuint(n + 2, <=, G_N_ELEMENTS(bufs));
    put32le(hdr, type);
    put32le(hdr + 4, 0);
    put64le(hdr + 8, sector);
    bufs[0] = (TestBuf){ T_HDR, 16, false };
    if (n > 0) {
        memcpy(bufs + 1, data, n * sizeof *data);
    }
    bufs[n + 1] = (TestBuf){ T_STATUS, 1, true };
    *gpa(&f->h, T_STATUS) = 0xee;
    return drv_add(&f->h, &f->q, bufs, n + 2);
}

/* Submits one request, waits for it and returns its status byte; `used_len`
 * (optional) gets the length the device reported. */
static guint8 request(Fixture *f, uint32_t type, uint64_t sector, const TestBuf *data, unsigned n,
                      uint32_t *used_len)
{
    uint16_t head = submit(f, type, sector, data, n);
    uint16_t target = f->q.avail_idx;
    uint32_t id, len;

    drv_kick(&f->h, &f->q);
    g_assert_true(drv_wait_used(&f->h, &f->q, target));
    used_elem(&f->h, &f->q, (uint16_t)(target - 1), &id, &len);
    g_assert_cmpuint(id, ==, head);
    if (used_len != NULL) {
        *used_len = len;
    }
    return *gpa(&f->h, T_STATUS);
}

static void read_file(Fixture *f, uint64_t offset, guint8 *buf, gsize len)
{
    int fd = open(f->path, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, (off_t)offset), ==, (gssize)len);
    close(fd);
}

static void assert_pattern(const guint8 *buf, uint64_t offset, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (buf[i] != pattern(offset + i)) {
            g_error("byte %" G_GSIZE_FORMAT " of a read at %" G_GUINT64_FORMAT ": %u, not %u", i,
                    offset, buf[i], pattern(offset + i));
        }
    }
}

static bool all_zero(const guint8 *buf, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (buf[i] != 0) {
            return false;
        }
    }
    return true;
}

/* ---- Configuration -------------------------------------------------------- */

static void test_config(Fixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    uint64_t features;

    attach_image(f, false);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_DEVICE_ID), ==, VIREO_VIRTIO_ID_BLOCK);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, 0);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 256);
    features = blk_features(f);
    g_assert_true(features & (1ull << VIREO_VIRTIO_F_VERSION_1));
    g_assert_true(features & (1ull << VIREO_VIRTIO_F_INDIRECT_DESC));
    g_assert_true(features & (1ull << VIREO_VIRTIO_F_EVENT_IDX));
    g_assert_true(features & (1ull << VIREO_VIRTIO_BLK_F_FLUSH));
    g_assert_true(features & (1ull << VIREO_VIRTIO_BLK_F_SEG_MAX));
    g_assert_true(features & (1ull << VIREO_VIRTIO_BLK_F_BLK_SIZE));
    g_assert_false(features & (1ull << VIREO_VIRTIO_BLK_F_RO));
    /* The capacity in 512-byte sectors, read whole and in halves. */
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_CAPACITY, 8), ==, CAPACITY);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_CAPACITY, 4), ==, CAPACITY);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_CAPACITY + 4, 4), ==, 0);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_CAPACITY + 1, 1), ==, CAPACITY >> 8);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_SEG_MAX, 4), ==, 254);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_BLK_SIZE, 4), ==, 512);
    if (features & (1ull << VIREO_VIRTIO_BLK_F_DISCARD)) {
        g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4), ==,
                         VIREO_VIRTIO_BLK_MAX_DWZ_SEG);
        g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, 4), ==,
                         VIREO_VIRTIO_BLK_MAX_DWZ_SECT);
    }
    if (features & (1ull << VIREO_VIRTIO_BLK_F_WRITE_ZEROES)) {
        g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG, 4), ==,
                         VIREO_VIRTIO_BLK_MAX_DWZ_SEG);
    }
    /* Past the configuration: zeros; the driver cannot change it. */
    g_assert_cmpuint(cfg_read(h, 0x200, 4), ==, 0);
    g_assert_true(vireo_bus_write(h->bus, T_MMIO + VIREO_VIRTIO_MMIO_CONFIG, 4, 0));
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_CAPACITY, 8), ==, CAPACITY);
}

/* ---- Reads and writes -------------------------------------------------- */

static void test_read(Fixture *f, gconstpointer data)
{
    TestBuf bufs[2] = { { T_DATA, 512, true }, { T_DATA + 0x1000, 512, true } };
    uint32_t len;

    attach_image(f, false);
    start(f);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, 3, bufs, 2, &len), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    g_assert_cmpuint(len, ==, 1025);
    assert_pattern(gpa(&f->h, T_DATA), 3 * 512, 512);
    assert_pattern(gpa(&f->h, T_DATA + 0x1000), 4 * 512, 512);
    g_assert_true(isr(&f->h) & VIREO_VIRTIO_ISR_QUEUE);
    g_assert_true(irq_probe_level(&f->h.irq));
    /* The last sector, and nothing at the very end. */
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, CAPACITY - 1, bufs, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    assert_pattern(gpa(&f->h, T_DATA), IMAGE_SIZE - 512, 512);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, CAPACITY, NULL, 0, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
}

/* A read larger than the device's bounce buffer, in one buffer. */
static void test_read_large(Fixture *f, gconstpointer data)
{
    TestBuf b = { T_DATA, IMAGE_SIZE - 4096, true };

    attach_image(f, false);
    start(f);
    g_assert_cmpuint(b.len, >, 4 * VIREO_VIRTIO_BLK_CHUNK);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, 8, &b, 1, NULL), ==, VIREO_VIRTIO_BLK_S_OK);
    assert_pattern(gpa(&f->h, T_DATA), 4096, b.len);
}

/* The layout Linux uses with indirect descriptors. */
static void test_read_indirect(Fixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    const uint16_t N = VIREO_VIRTQ_DESC_F_NEXT, W = VIREO_VIRTQ_DESC_F_WRITE;

    attach_image(f, false);
    start(f);
    put32le(gpa(h, T_HDR), VIREO_VIRTIO_BLK_T_IN);
    put64le(gpa(h, T_HDR + 8), 100);
    *gpa(h, T_STATUS) = 0xee;
    drv_put_desc(h, T_INDIRECT, 0, T_HDR, 16, N, 1);
    drv_put_desc(h, T_INDIRECT, 1, T_DATA, 1024, W | N, 2);
    drv_put_desc(h, T_INDIRECT, 2, T_STATUS, 1, W, 0);
    drv_put_desc(h, f->q.desc, 0, T_INDIRECT, 48, VIREO_VIRTQ_DESC_F_INDIRECT, 0);
    drv_publish(h, &f->q, 0);
    drv_kick(h, &f->q);
    g_assert_true(drv_wait_used(h, &f->q, 1));
    g_assert_cmpuint(*gpa(h, T_STATUS), ==, VIREO_VIRTIO_BLK_S_OK);
    assert_pattern(gpa(h, T_DATA), 100 * 512, 1024);
}

static void test_write(Fixture *f, gconstpointer data)
{
    TestBuf bufs[2] = { { T_DATA, 1024, false }, { T_DATA + 0x1000, 512, false } };
    guint8 got[2048];

    attach_image(f, false);
    start(f);
    memset(gpa(&f->h, T_DATA), 0xc3, 1024);
    memset(gpa(&f->h, T_DATA + 0x1000), 0x3c, 512);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_OUT, 10, bufs, 2, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    /* The bytes are in the file; the sectors around are untouched. */
    read_file(f, 9 * 512, got, sizeof got);
    assert_pattern(got, 9 * 512, 512);
    for (unsigned i = 512; i < 1536; i++) {
        g_assert_cmpuint(got[i], ==, 0xc3);
    }
    for (unsigned i = 1536; i < 2048; i++) {
        g_assert_cmpuint(got[i], ==, 0x3c);
    }
    read_file(f, 13 * 512, got, 512);
    assert_pattern(got, 13 * 512, 512);
    /* And read back through the device. */
    g_assert_cmpuint(
        request(f, VIREO_VIRTIO_BLK_T_IN, 12, (TestBuf[]){ { T_DATA2, 512, true } }, 1, NULL), ==,
        VIREO_VIRTIO_BLK_S_OK);
    g_assert_cmpuint(gpa(&f->h, T_DATA2)[0], ==, 0x3c);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
}

static void test_get_id(Fixture *f, gconstpointer data)
{
    TestBuf b = { T_DATA, 20, true };
    uint32_t len;

    attach_image(f, false);
    start(f);
    memset(gpa(&f->h, T_DATA), 0xff, 20);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_GET_ID, 0, &b, 1, &len), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    g_assert_cmpuint(len, ==, 21);
    g_assert_cmpmem(gpa(&f->h, T_DATA), 20, "disk.img\0\0\0\0\0\0\0\0\0\0\0\0", 20);
}

/* Sectors off the disk, lengths that are not whole sectors, headers that
 * are too short and unknown requests. */
static void test_bad_requests(Fixture *f, gconstpointer data)
{
    TestBuf in2 = { T_DATA, 1024, true };
    TestBuf out1 = { T_DATA, 512, false };
    TestBuf odd = { T_DATA, 100, true };
    guint8 before[512], after[512];

    attach_image(f, false);
    start(f);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, CAPACITY - 1, &in2, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, CAPACITY + 1, NULL, 0, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, 1ull << 60, &in2, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, G_MAXUINT64, &in2, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    read_file(f, IMAGE_SIZE - 512, before, 512);
    memset(gpa(&f->h, T_DATA), 0x77, 512);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_OUT, CAPACITY, &out1, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_OUT, G_MAXUINT64 / 256, &out1, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    read_file(f, IMAGE_SIZE - 512, after, 512);
    g_assert_cmpmem(before, 512, after, 512);
    {
        GStatBuf st;
        g_assert_cmpint(g_stat(f->path, &st), ==, 0);
        g_assert_cmpint(st.st_size, ==, IMAGE_SIZE);
    }
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, 0, &odd, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(request(f, 99, 0, NULL, 0, NULL), ==, VIREO_VIRTIO_BLK_S_UNSUPP);
    /* A header of 8 bytes. */
    {
        TestBuf bufs[2] = { { T_HDR, 8, false }, { T_STATUS, 1, true } };
        drv_add(&f->h, &f->q, bufs, 2);
        drv_kick(&f->h, &f->q);
        g_assert_true(drv_wait_used(&f->h, &f->q, f->q.avail_idx));
        g_assert_cmpuint(*gpa(&f->h, T_STATUS), ==, VIREO_VIRTIO_BLK_S_IOERR);
    }
    /* The device still works. */
    g_assert_false(status(&f->h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, 0, &in2, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
}

/* A request without a writable byte for its status cannot be answered. */
static void test_no_status_byte(Fixture *f, gconstpointer data)
{
    TestBuf hdr = { T_HDR, 16, false };

    attach_image(f, false);
    start(f);
    put32le(gpa(&f->h, T_HDR), VIREO_VIRTIO_BLK_T_IN);
    drv_add(&f->h, &f->q, &hdr, 1);
    drv_kick(&f->h, &f->q);
    {
        gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (!(status(&f->h) & VIREO_VIRTIO_STATUS_NEEDS_RESET) && g_get_monotonic_time() < end) {
            g_usleep(200);
        }
    }
    g_assert_true(status(&f->h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
    g_assert_cmpstr(vireo_virtio_get_error(f->h.dev), ==, "block request without a status byte");
    g_assert_true(isr(&f->h) & VIREO_VIRTIO_ISR_CONFIG);
    g_assert_cmpuint(used_idx(&f->h, &f->q), ==, 0);
}

/* A malformed chain on the block device: a buffer outside RAM. */
static void test_malformed_chain(Fixture *f, gconstpointer data)
{
    TestBuf bad = { 0x1000, 512, true };

    attach_image(f, false);
    start(f);
    submit(f, VIREO_VIRTIO_BLK_T_IN, 0, &bad, 1);
    drv_kick(&f->h, &f->q);
    {
        gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (!(status(&f->h) & VIREO_VIRTIO_STATUS_NEEDS_RESET) && g_get_monotonic_time() < end) {
            g_usleep(200);
        }
    }
    g_assert_cmpstr(vireo_virtio_get_error(f->h.dev), ==, "buffer outside guest RAM");
    g_assert_cmpuint(*gpa(&f->h, T_STATUS), ==, 0xee);
    /* After a reset it works again. */
    start(f);
    g_assert_cmpuint(
        request(f, VIREO_VIRTIO_BLK_T_IN, 0, (TestBuf[]){ { T_DATA, 512, true } }, 1, NULL), ==,
        VIREO_VIRTIO_BLK_S_OK);
}

/* Many requests in flight at once, made available before one notification. */
static void test_many(Fixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    const unsigned n = 5; /* 5 requests of 3 descriptors in a 16-entry queue */

    attach_image(f, false);
    start(f);
    for (unsigned i = 0; i < n; i++) {
        uint64_t hdr = T_HDR + 0x20 * i;
        TestBuf bufs[3] = {
            { hdr, 16, false },
            { T_DATA + 0x1000 * i, 512, true },
            { T_STATUS + i, 1, true },
        };
        put32le(gpa(h, hdr), VIREO_VIRTIO_BLK_T_IN);
        put64le(gpa(h, hdr + 8), 20 + i);
        *gpa(h, T_STATUS + i) = 0xee;
        drv_add(h, &f->q, bufs, 3);
    }
    drv_kick(h, &f->q);
    g_assert_true(drv_wait_used(h, &f->q, (uint16_t)n));
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(*gpa(h, T_STATUS + i), ==, VIREO_VIRTIO_BLK_S_OK);
        assert_pattern(gpa(h, T_DATA + 0x1000 * i), (20 + i) * 512, 512);
    }
}

/* ---- Discard and write zeroes ------------------------------------------- */

static void put_segment(Harness *h, uint64_t addr, uint64_t sector, uint32_t n, uint32_t flags)
{
    put64le(gpa(h, addr), sector);
    put32le(gpa(h, addr + 8), n);
    put32le(gpa(h, addr + 12), flags);
}

static void test_discard_write_zeroes(Fixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    TestBuf seg = { T_DATA, 16, false };
    TestBuf segs2 = { T_DATA, 32, false };
    guint8 got[8 * 512];
    uint64_t features;

    attach_image(f, false);
    features = blk_features(f);
    if (!(features & (1ull << VIREO_VIRTIO_BLK_F_DISCARD)) ||
        !(features & (1ull << VIREO_VIRTIO_BLK_F_WRITE_ZEROES))) {
        /* Only where the host file system allows. */
        g_test_skip("the temporary directory's file system lacks hole punching or zeroing");
        return;
    }
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP, 1), ==, 1);
    start(f);

    /* Discard 8 sectors at 16: they read back as zeros. */
    put_segment(h, T_DATA, 16, 8, 0);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    read_file(f, 16 * 512, got, sizeof got);
    g_assert_true(all_zero(got, sizeof got));
    read_file(f, 24 * 512, got, 512);
    assert_pattern(got, 24 * 512, 512);

    /* Write zeroes, with and without unmap, two segments in one request. */
    put_segment(h, T_DATA, 32, 8, 0);
    put_segment(h, T_DATA + 16, 48, 8, 1);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_WRITE_ZEROES, 0, &segs2, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    read_file(f, 32 * 512, got, sizeof got);
    g_assert_true(all_zero(got, sizeof got));
    read_file(f, 48 * 512, got, sizeof got);
    g_assert_true(all_zero(got, sizeof got));
    read_file(f, 40 * 512, got, sizeof got);
    assert_pattern(got, 40 * 512, sizeof got);
    /* Through the device as well. */
    g_assert_cmpuint(
        request(f, VIREO_VIRTIO_BLK_T_IN, 32, (TestBuf[]){ { T_DATA2, 4096, true } }, 1, NULL), ==,
        VIREO_VIRTIO_BLK_S_OK);
    g_assert_true(all_zero(gpa(h, T_DATA2), 4096));

    /* Unmap on a discard, or an unknown flag: unsupported, nothing done. */
    put_segment(h, T_DATA, 60, 1, 1);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_UNSUPP);
    put_segment(h, T_DATA, 60, 1, 2);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_UNSUPP);
    read_file(f, 60 * 512, got, 512);
    assert_pattern(got, 60 * 512, 512);
    /* Off the disk, or too long: an error, nothing done (the first segment
     * is fine and stays untouched too). */
    put_segment(h, T_DATA, 60, 1, 0);
    put_segment(h, T_DATA + 16, CAPACITY - 1, 2, 0);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_DISCARD, 0, &segs2, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    read_file(f, 60 * 512, got, 512);
    assert_pattern(got, 60 * 512, 512);
    put_segment(h, T_DATA, 0, VIREO_VIRTIO_BLK_MAX_DWZ_SECT + 1, 0);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    /* Segments that are not whole, or too many of them. */
    g_assert_cmpuint(
        request(f, VIREO_VIRTIO_BLK_T_DISCARD, 0, (TestBuf[]){ { T_DATA, 20, false } }, 1, NULL),
        ==, VIREO_VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(
        request(f, VIREO_VIRTIO_BLK_T_DISCARD, 0,
                (TestBuf[]){ { T_DATA, 16 * (VIREO_VIRTIO_BLK_MAX_DWZ_SEG + 1), false } }, 1, NULL),
        ==, VIREO_VIRTIO_BLK_S_IOERR);

    /* Without the feature negotiated: unsupported. */
    drv_start(h, 1ull << VIREO_VIRTIO_F_VERSION_1, &f->q, 1, 16);
    put_segment(h, T_DATA, 60, 1, 0);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_UNSUPP);
    read_file(f, 60 * 512, got, 512);
    assert_pattern(got, 60 * 512, 512);
}

/* ---- Read-only images ------------------------------------------------------ */

static void test_read_only(Fixture *f, gconstpointer data)
{
    TestBuf out1 = { T_DATA, 512, false };
    TestBuf in1 = { T_DATA2, 512, true };
    guint8 got[512];
    uint64_t features;

    attach_image(f, true);
    features = blk_features(f);
    g_assert_true(features & (1ull << VIREO_VIRTIO_BLK_F_RO));
    g_assert_false(features & (1ull << VIREO_VIRTIO_BLK_F_DISCARD));
    g_assert_false(features & (1ull << VIREO_VIRTIO_BLK_F_WRITE_ZEROES));
    start(f);
    memset(gpa(&f->h, T_DATA), 0x11, 512);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_OUT, 0, &out1, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    read_file(f, 0, got, 512);
    assert_pattern(got, 0, 512);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, 0, &in1, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    assert_pattern(gpa(&f->h, T_DATA2), 0, 512);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    put_segment(&f->h, T_DATA, 0, 1, 0);
    g_assert_cmpuint(
        request(f, VIREO_VIRTIO_BLK_T_DISCARD, 0, (TestBuf[]){ { T_DATA, 16, false } }, 1, NULL),
        ==, VIREO_VIRTIO_BLK_S_UNSUPP);
}

/* ---- Opening images ------------------------------------------------------- */

static void test_open_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *missing = g_build_filename(f->dir, "missing.img", NULL);
    VireoBlock *a, *b;

    g_assert_null(vireo_block_open(missing, false, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, missing));
    g_clear_error(&error);
    g_assert_null(vireo_block_open(f->dir, true, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, f->dir));
    g_clear_error(&error);

    /* A writable image is locked against a second user; read-only users
     * share. */
    a = vireo_block_open(f->path, false, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(vireo_block_get_size(a), ==, IMAGE_SIZE);
    g_assert_cmpstr(vireo_block_get_name(a), ==, "disk.img");
    g_assert_null(vireo_block_open(f->path, false, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "in use"));
    g_clear_error(&error);
    g_assert_null(vireo_block_open(f->path, true, &error));
    g_clear_error(&error);
    vireo_block_free(a);
    a = vireo_block_open(f->path, true, &error);
    g_assert_no_error(error);
    b = vireo_block_open(f->path, true, &error);
    g_assert_no_error(error);
    g_assert_true(vireo_block_get_flags(b) & VIREO_BLOCK_READ_ONLY);
    vireo_block_free(a);
    vireo_block_free(b);
}

/* ---- A back end in memory that can hold a read --------------------------- */

typedef struct {
    GMutex lock;
    GCond cond;
    bool hold;    /* reads wait until this is cleared */
    bool waiting; /* a read is being held */
    int reads;    /* reads finished */
    int flushes;
    int fail; /* errno every call returns, or 0 */
    guint8 data[64 * 512];
} Memory;

static int mem_rw(Memory *m, const struct iovec *iov, int n, uint64_t offset, bool write)
{
    int err = 0;

    g_mutex_lock(&m->lock);
    while (!write && m->hold) {
        m->waiting = true;
        g_cond_broadcast(&m->cond);
        g_cond_wait(&m->cond, &m->lock);
    }
    m->waiting = false;
    for (int i = 0; i < n && m->fail == 0; i++) {
        g_assert_cmpuint(offset + iov[i].iov_len, <=, sizeof m->data);
        if (write) {
            memcpy(m->data + offset, iov[i].iov_base, iov[i].iov_len);
        } else {
            memcpy(iov[i].iov_base, m->data + offset, iov[i].iov_len);
        }
        offset += iov[i].iov_len;
    }
    err = -m->fail;
    if (!write) {
        m->reads++;
    }
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
    return err;
}

static int mem_preadv(void *opaque, const struct iovec *iov, int n, uint64_t offset)
{
    return mem_rw(opaque, iov, n, offset, false);
}

static int mem_pwritev(void *opaque, const struct iovec *iov, int n, uint64_t offset)
{
    return mem_rw(opaque, iov, n, offset, true);
}

static int mem_flush(void *opaque)
{
    Memory *m = opaque;
    int err;

    g_mutex_lock(&m->lock);
    m->flushes++;
    err = -m->fail;
    g_mutex_unlock(&m->lock);
    return err;
}

static const VireoBlockOps mem_ops = {
    .preadv = mem_preadv,
    .pwritev = mem_pwritev,
    .flush = mem_flush,
};

typedef struct {
    Fixture f;
    Memory mem;
} MemFixture;

static void mem_setup(MemFixture *mf, gconstpointer data)
{
    Memory *m = &mf->mem;

    fixture_setup(&mf->f, data);
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    for (unsigned i = 0; i < sizeof m->data; i++) {
        m->data[i] = pattern(i);
    }
    harness_attach(&mf->f.h, vireo_virtio_blk_new(mf->f.h.bus, vireo_block_new(&mem_ops, m, "mem",
                                                                               sizeof m->data, 0)));
}

static void mem_teardown(MemFixture *mf, gconstpointer data)
{
    /* Let a held read finish so that the device's thread can stop. */
    g_mutex_lock(&mf->mem.lock);
    mf->mem.hold = false;
    g_cond_broadcast(&mf->mem.cond);
    g_mutex_unlock(&mf->mem.lock);
    fixture_teardown(&mf->f, data);
    g_mutex_clear(&mf->mem.lock);
    g_cond_clear(&mf->mem.cond);
}

static void test_flush_and_errors(MemFixture *mf, gconstpointer data)
{
    Fixture *f = &mf->f;
    TestBuf in1 = { T_DATA, 512, true };

    start(f);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
    g_assert_cmpint(mf->mem.flushes, ==, 1);
    g_mutex_lock(&mf->mem.lock);
    mf->mem.fail = EIO;
    g_mutex_unlock(&mf->mem.lock);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_IN, 0, &in1, 1, NULL), ==,
                     VIREO_VIRTIO_BLK_S_IOERR);
    /* No discard without a back end for it. */
    g_assert_false(blk_features(f) & (1ull << VIREO_VIRTIO_BLK_F_DISCARD));
}

static bool wait_for(Memory *m, bool *flag, int *count, int want)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    bool ok = true;

    g_mutex_lock(&m->lock);
    while (flag != NULL ? !*flag : *count < want) {
        if (!g_cond_wait_until(&m->cond, &m->lock, end)) {
            ok = false;
            break;
        }
    }
    g_mutex_unlock(&m->lock);
    return ok;
}

/* The driver resets the device while the worker is in the middle of a read:
 * the reset does not wait for it, and the read's data, status and used entry
 * never reach guest memory. */
static void test_reset_during_io(MemFixture *mf, gconstpointer data)
{
    Fixture *f = &mf->f;
    Harness *h = &f->h;
    TestBuf in1 = { T_DATA, 512, true };
    TestQueue q2;
    gint64 t0;

    start(f);
    memset(gpa(h, T_DATA), 0xaa, 512);
    mf->mem.hold = true;
    submit(f, VIREO_VIRTIO_BLK_T_IN, 1, &in1, 1);
    drv_kick(h, &f->q);
    g_assert_true(wait_for(&mf->mem, &mf->mem.waiting, NULL, 0));

    t0 = g_get_monotonic_time();
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(status(h), ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);

    /* The read finishes after the reset. */
    g_mutex_lock(&mf->mem.lock);
    mf->mem.hold = false;
    g_cond_broadcast(&mf->mem.cond);
    g_mutex_unlock(&mf->mem.lock);
    g_assert_true(wait_for(&mf->mem, NULL, &mf->mem.reads, 1));

    /* The driver starts again with its rings elsewhere; the worker serves
     * requests in order, so once this one is done the old one is gone. */
    g_assert_true(drv_negotiate(h, blk_features(f)));
    g_assert_true(drv_setup_queue_at(h, &q2, 0, 16, T_DESC2, T_AVAIL2, T_USED2));
    drv_driver_ok(h);
    f->q = q2;
    g_assert_cmpuint(
        request(f, VIREO_VIRTIO_BLK_T_IN, 2, (TestBuf[]){ { T_DATA2, 512, true } }, 1, NULL), ==,
        VIREO_VIRTIO_BLK_S_OK);
    assert_pattern(gpa(h, T_DATA2), 1024, 512);
    /* Nothing of the old request: its buffer, its status byte (the new
     * request used the same one, set to 0) and the old used ring. */
    for (unsigned i = 0; i < 512; i++) {
        g_assert_cmpuint(gpa(h, T_DATA)[i], ==, 0xaa);
    }
    g_assert_cmpuint(get16(gpa(h, T_USED + 2)), ==, 0);
    g_assert_cmpint(mf->mem.reads, ==, 2);
}

/* A board reset (the bus resets every device) in the middle of a read, and
 * freeing the device with requests still queued. */
static void test_bus_reset_and_free(MemFixture *mf, gconstpointer data)
{
    Fixture *f = &mf->f;
    Harness *h = &f->h;

    start(f);
    memset(gpa(h, T_DATA), 0xaa, 4 * 512);
    mf->mem.hold = true;
    for (unsigned i = 0; i < 4; i++) {
        submit(f, VIREO_VIRTIO_BLK_T_IN, i, (TestBuf[]){ { T_DATA + 512 * i, 512, true } }, 1);
    }
    drv_kick(h, &f->q);
    g_assert_true(wait_for(&mf->mem, &mf->mem.waiting, NULL, 0));
    vireo_bus_reset(h->bus);
    g_assert_cmpuint(status(h), ==, 0);
    g_mutex_lock(&mf->mem.lock);
    mf->mem.hold = false;
    g_cond_broadcast(&mf->mem.cond);
    g_mutex_unlock(&mf->mem.lock);
    g_assert_true(wait_for(&mf->mem, NULL, &mf->mem.reads, 1));
    g_usleep(10000);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 0);
    for (unsigned i = 0; i < 4 * 512; i++) {
        g_assert_cmpuint(gpa(h, T_DATA)[i], ==, 0xaa);
    }
    /* The other three were never taken. */
    g_assert_cmpint(mf->mem.reads, ==, 1);

    /* Freeing the device while a read is held and another request waits
     * (mem_teardown lets the read finish) stops its thread cleanly. */
    start(f);
    mf->mem.hold = true;
    submit(f, VIREO_VIRTIO_BLK_T_IN, 0, (TestBuf[]){ { T_DATA, 512, true } }, 1);
    submit(f, VIREO_VIRTIO_BLK_T_IN, 1, (TestBuf[]){ { T_DATA + 512, 512, true } }, 1);
    drv_kick(h, &f->q);
    g_assert_true(wait_for(&mf->mem, &mf->mem.waiting, NULL, 0));
}

/* ---- Pausing and snapshots ---------------------------------------------- */

typedef struct {
    Harness *h;
    gint done;
} PauseCall;

static gpointer pause_thread(gpointer data)
{
    PauseCall *p = data;

    snap_pause(p->h);
    g_atomic_int_set(&p->done, 1);
    return NULL;
}

/* A disk on the same memory behind a transport of its own. */
static void twin_attach(Fixture *t, MemFixture *mf, uint64_t size)
{
    memset(t, 0, sizeof *t);
    harness_init(&t->h);
    harness_attach(
        &t->h, vireo_virtio_blk_new(t->h.bus, vireo_block_new(&mem_ops, &mf->mem, "mem", size, 0)));
}

/* Pausing waits for the request in flight, which completes before pause
 * returns; a request notified while paused waits. Saved and loaded into a
 * second disk on a copy of RAM, that request is served when it resumes,
 * then new ones, with the used index going on and interrupts coming. */
static void test_snapshot_round_trip(MemFixture *mf, gconstpointer data)
{
    Fixture *f = &mf->f;
    Harness *h = &f->h;
    PauseCall call = { h, 0 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) section = NULL;
    GThread *thread;
    Fixture t;
    int reads;

    start(f);
    g_assert_cmpuint(
        request(f, VIREO_VIRTIO_BLK_T_IN, 0, (TestBuf[]){ { T_DATA, 512, true } }, 1, NULL), ==,
        VIREO_VIRTIO_BLK_S_OK);
    mf->mem.hold = true;
    memset(gpa(h, T_DATA), 0, 512);
    submit(f, VIREO_VIRTIO_BLK_T_IN, 1, (TestBuf[]){ { T_DATA, 512, true } }, 1);
    drv_kick(h, &f->q);
    g_assert_true(wait_for(&mf->mem, &mf->mem.waiting, NULL, 0));

    thread = g_thread_new("pause", pause_thread, &call);
    g_usleep(20000);
    g_assert_false(g_atomic_int_get(&call.done)); /* the read is held */
    g_mutex_lock(&mf->mem.lock);
    mf->mem.hold = false;
    g_cond_broadcast(&mf->mem.cond);
    g_mutex_unlock(&mf->mem.lock);
    g_thread_join(thread);
    /* Done by the time pause returned. */
    g_assert_cmpuint(used_idx(h, &f->q), ==, 2);
    g_assert_cmpuint(*gpa(h, T_STATUS), ==, VIREO_VIRTIO_BLK_S_OK);
    assert_pattern(gpa(h, T_DATA), 512, 512);

    /* Paused: a new request waits. */
    reads = mf->mem.reads;
    submit(f, VIREO_VIRTIO_BLK_T_IN, 2, (TestBuf[]){ { T_DATA2, 512, true } }, 1);
    put16(gpa(h, f->q.avail + 4 + 2u * f->q.num), 2); /* used_event: interrupt for the next */
    drv_kick(h, &f->q);
    g_usleep(10000);
    g_assert_cmpint(mf->mem.reads, ==, reads);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 2);
    section = snap_save(h);

    twin_attach(&t, mf, sizeof mf->mem.data);
    snap_copy_ram(&t.h, h);
    t.q = f->q;
    snap_pause(&t.h);
    g_assert_true(snap_load(&t.h, section, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(used_idx(&t.h, &t.q), ==, 2);
    ack(&t.h);
    snap_resume(&t.h);
    g_assert_true(drv_wait_used(&t.h, &t.q, 3));
    assert_pattern(gpa(&t.h, T_DATA2), 1024, 512);
    g_assert_true(irq_probe_wait(&t.h.irq, true, 5000));
    for (unsigned i = 0; i < 4; i++) {
        ack(&t.h);
        put16(gpa(&t.h, t.q.avail + 4 + 2u * t.q.num), used_idx(&t.h, &t.q));
        g_assert_cmpuint(request(&t, VIREO_VIRTIO_BLK_T_IN, 3 + i,
                                 (TestBuf[]){ { T_DATA2, 512, true } }, 1, NULL),
                         ==, VIREO_VIRTIO_BLK_S_OK);
        assert_pattern(gpa(&t.h, T_DATA2), 512 * (3 + i), 512);
        g_assert_cmpuint(used_idx(&t.h, &t.q), ==, 4 + i);
        g_assert_true(irq_probe_wait(&t.h.irq, true, 5000));
    }
    harness_clear(&t.h);

    /* The first disk serves the waiting request once it resumes. */
    snap_resume(h);
    g_assert_true(drv_wait_used(h, &f->q, 3));
    assert_pattern(gpa(h, T_DATA2), 1024, 512);
}

/* A state goes only to a disk of the same size; the disk's part is
 * checked. */
static void test_snapshot_other_disk(MemFixture *mf, gconstpointer data)
{
    Fixture *f = &mf->f;
    g_autoptr(GBytes) section = NULL;
    g_autoptr(GBytes) bad = NULL;
    Fixture t;

    start(f);
    snap_pause(&f->h);
    section = snap_save(&f->h);
    twin_attach(&t, mf, 16 * 512);
    snap_pause(&t.h);
    snap_assert_refused(&t.h, section, "had 64 sectors, this one has 16");
    bad = snap_patch_u32(section, SNAP_OFF_MODEL(1), 0);
    snap_assert_refused(&f->h, bad, "disk's layout version");
    snap_assert_truncations_refused(&f->h, section, 1);
    harness_clear(&t.h);
    snap_resume(&f->h);
    g_assert_cmpuint(request(f, VIREO_VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL), ==,
                     VIREO_VIRTIO_BLK_S_OK);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define BLK_TEST(path, func) \
    g_test_add("/virtio-blk/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
#define MEM_TEST(path, func) \
    g_test_add("/virtio-blk/" path, MemFixture, NULL, mem_setup, func, mem_teardown)
    BLK_TEST("config", test_config);
    BLK_TEST("read", test_read);
    BLK_TEST("read-large", test_read_large);
    BLK_TEST("read-indirect", test_read_indirect);
    BLK_TEST("write-flush", test_write);
    BLK_TEST("get-id", test_get_id);
    BLK_TEST("bad-requests", test_bad_requests);
    BLK_TEST("no-status-byte", test_no_status_byte);
    BLK_TEST("malformed-chain", test_malformed_chain);
    BLK_TEST("many", test_many);
    BLK_TEST("discard-write-zeroes", test_discard_write_zeroes);
    BLK_TEST("read-only", test_read_only);
    BLK_TEST("open-errors", test_open_errors);
    MEM_TEST("flush-and-errors", test_flush_and_errors);
    MEM_TEST("reset-during-io", test_reset_during_io);
    MEM_TEST("bus-reset-and-free", test_bus_reset_and_free);
    MEM_TEST("snapshot/round-trip", test_snapshot_round_trip);
    MEM_TEST("snapshot/other-disk", test_snapshot_other_disk);
    return g_test_run();
}
