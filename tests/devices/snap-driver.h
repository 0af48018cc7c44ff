/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Snapshots of one virtio device for tests, on top of virtio-driver.h: the
 * device is paused, saved and loaded through its transport's ops, as the
 * machine does it (a "virtio-mmio" section at the transport's base), and
 * its section can be copied and altered to play a corrupt or hostile
 * state file. docs/SNAPSHOTS.md gives the layout the offsets below follow.
 */

#include "engine/error.h"
#include "engine/snap.h"
#include "virtio-driver.h"

/* Offsets in a virtio-mmio section (the device's error string absent). */
#define SNAP_OFF_MMIO_VERSION 0
#define SNAP_OFF_QUEUE_SEL    12
#define SNAP_OFF_CORE_VERSION 20
#define SNAP_OFF_DEVICE_ID    24
#define SNAP_OFF_DEV_FEATURES 28
#define SNAP_OFF_DRV_FEATURES 36
#define SNAP_OFF_STATUS       44
#define SNAP_OFF_ISR          45
#define SNAP_OFF_GENERATION   49
#define SNAP_OFF_ERROR        53
#define SNAP_OFF_N_QUEUES     54
#define SNAP_OFF_QUEUES       58
#define SNAP_QUEUE_SIZE       37
/* Inside a queue's part. */
#define SNAP_Q_MAX        0
#define SNAP_Q_NUM        2
#define SNAP_Q_READY      4
#define SNAP_Q_DESC       5
#define SNAP_Q_AVAIL      13
#define SNAP_Q_USED       21
#define SNAP_Q_LAST_AVAIL 29
#define SNAP_Q_USED_IDX   31
#define SNAP_Q_SIGNALLED  33
#define SNAP_Q_VALID      35
#define SNAP_Q_PUSHED     36

/* Where queue `q`'s part starts, and the model's part of a device with `n`
 * queues. */
#define SNAP_OFF_QUEUE(q) (SNAP_OFF_QUEUES + SNAP_QUEUE_SIZE * (q))
#define SNAP_OFF_MODEL(n) (SNAP_OFF_QUEUES + SNAP_QUEUE_SIZE * (n))

static inline void snap_pause(Harness *h)
{
    vireo_virtio_mmio_ops()->pause(h->mmio);
}

static inline void snap_resume(Harness *h)
{
    vireo_virtio_mmio_ops()->resume(h->mmio);
}

static inline bool snap_to_bytes(void *opaque, const void *data, gsize len, GError **error)
{
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

/* The device's section as the machine writes it, or NULL with `error`. The
 * device must be paused. */
static inline GBytes *snap_try_save(Harness *h, GError **error)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(snap_to_bytes, stream);
    g_autoptr(GArray) sections = NULL;
    const VireoSnapSection *s;

    vireo_snap_begin_section(w, "virtio-mmio", T_MMIO, 1);
    if (!vireo_virtio_mmio_ops()->save(h->mmio, w, error)) {
        vireo_snap_end_section(w, NULL);
        return NULL;
    }
    g_assert_true(vireo_snap_end_section(w, NULL));
    g_assert_true(vireo_snap_writer_finish(w, NULL));
    sections = vireo_snap_parse(stream->data, stream->len, error);
    g_assert_nonnull(sections);
    s = vireo_snap_find(sections, "virtio-mmio", T_MMIO);
    g_assert_nonnull(s);
    return g_bytes_new(s->data, s->len);
}

static inline GBytes *snap_save(Harness *h)
{
    g_autoptr(GError) error = NULL;
    GBytes *b = snap_try_save(h, &error);

    g_assert_no_error(error);
    return b;
}

/* Loads `len` bytes of a section's payload into the device. */
static inline bool snap_load_data(Harness *h, const guint8 *data, gsize len, GError **error)
{
    VireoSnapSection s = { .name = "virtio-mmio", .instance = T_MMIO, .version = 1 };
    g_autoptr(VireoSnapReader) r = NULL;

    s.data = data;
    s.len = len;
    r = vireo_snap_reader_new(&s);
    return vireo_virtio_mmio_ops()->load(h->mmio, r, error);
}

static inline bool snap_load(Harness *h, GBytes *section, GError **error)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(section, &len);

    return snap_load_data(h, data, len, error);
}

/* The device's state is still `before` (byte for byte as saved). */
static inline void snap_assert_state(Harness *h, GBytes *before)
{
    g_autoptr(GBytes) now = snap_save(h);

    g_assert_true(g_bytes_equal(now, before));
}

/* A copy of `section` with `len` bytes at `offset` replaced by `data`
 * (little-endian fields: pass the value's bytes). */
static inline GBytes *snap_patch(GBytes *section, gsize offset, const void *data, gsize len)
{
    gsize n;
    const guint8 *p = g_bytes_get_data(section, &n);
    guint8 *copy = g_memdup2(p, n);

    g_assert_cmpuint(offset + len, <=, n);
    memcpy(copy + offset, data, len);
    return g_bytes_new_take(copy, n);
}

static inline GBytes *snap_patch_u8(GBytes *section, gsize offset, uint8_t v)
{
    return snap_patch(section, offset, &v, 1);
}

static inline GBytes *snap_patch_u16(GBytes *section, gsize offset, uint16_t v)
{
    v = GUINT16_TO_LE(v);
    return snap_patch(section, offset, &v, 2);
}

static inline GBytes *snap_patch_u32(GBytes *section, gsize offset, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    return snap_patch(section, offset, &v, 4);
}

static inline GBytes *snap_patch_u64(GBytes *section, gsize offset, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    return snap_patch(section, offset, &v, 8);
}

/* Loading `bad` into the paused device fails with a format error whose
 * message holds `what`, and changes nothing. */
static inline void snap_assert_refused(Harness *h, GBytes *bad, const char *what)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) before = snap_save(h);

    g_assert_false(snap_load(h, bad, &error));
    g_assert_nonnull(error);
    if (g_test_verbose()) {
        g_test_message("refused: %s", error->message);
    }
    if (strstr(error->message, what) == NULL) {
        g_error("the error \"%s\" does not say \"%s\"", error->message, what);
    }
    snap_assert_state(h, before);
}

/* Every shorter piece of `section` is refused and changes nothing; with
 * `step` > 1, every step-th length (and the last few). */
static inline void snap_assert_truncations_refused(Harness *h, GBytes *section, gsize step)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(section, &len);
    g_autoptr(GBytes) before = snap_save(h);

    for (gsize n = 0; n < len; n += (len - n <= 16 ? 1 : step)) {
        g_autoptr(GError) error = NULL;

        if (snap_load_data(h, data, n, &error)) {
            g_error("a section cut to %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes was taken",
                    n, len);
        }
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    }
    snap_assert_state(h, before);
}

/* Makes `to` hold a copy of `from`'s RAM: a loaded state's RAM. */
static inline void snap_copy_ram(Harness *to, Harness *from)
{
    memcpy(to->ram, from->ram, T_RAM_SIZE);
}
