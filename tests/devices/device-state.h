/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"
#include "engine/snap.h"

#include <glib.h>
#include <string.h>

/* A device's machine-state section on its own, for device tests: saved
 * through the stream writer (so the framing is checked too) and handed
 * back as the section's payload, which a test may change before loading
 * it. */

static inline bool device_state_to_bytes(void *opaque, const void *data, gsize len, GError **error)
{
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

/* The payload of `dev`'s section. */
static inline GByteArray *device_state_save(const VireoDeviceOps *ops, void *dev)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autoptr(GError) error = NULL;
    VireoSnapWriter *w = vireo_snap_writer_new(device_state_to_bytes, stream);
    g_autoptr(GArray) sections = NULL;
    const VireoSnapSection *s;
    GByteArray *payload;

    g_assert_nonnull(ops->save);
    vireo_snap_begin_section(w, ops->name, 0x1000, 1);
    g_assert_true(ops->save(dev, w, &error));
    g_assert_no_error(error);
    g_assert_true(vireo_snap_end_section(w, &error));
    g_assert_true(vireo_snap_writer_finish(w, &error));
    vireo_snap_writer_free(w);
    sections = vireo_snap_parse(stream->data, stream->len, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(sections->len, ==, 1);
    s = &g_array_index(sections, VireoSnapSection, 0);
    g_assert_cmpstr(s->name, ==, ops->name);
    payload = g_byte_array_new();
    g_byte_array_append(payload, s->data, (guint)s->len);
    return payload;
}

/* Loads `len` bytes of payload into `dev` as a section of `version`. */
static inline bool device_state_load_version(const VireoDeviceOps *ops, void *dev,
                                             const guint8 *payload, gsize len, uint32_t version,
                                             GError **error)
{
    VireoSnapSection s = { 0 };
    g_autoptr(VireoSnapReader) r = NULL;

    g_assert_nonnull(ops->load);
    g_strlcpy(s.name, ops->name, sizeof s.name);
    s.instance = 0x1000;
    s.version = version;
    s.data = payload;
    s.len = len;
    r = vireo_snap_reader_new(&s);
    return ops->load(dev, r, error);
}

static inline bool device_state_load(const VireoDeviceOps *ops, void *dev,
                                     const GByteArray *payload, GError **error)
{
    return device_state_load_version(ops, dev, payload->data, payload->len, 1, error);
}

static inline void device_state_assert_same(GByteArray *a, GByteArray *b)
{
    g_assert_cmpmem(a->data, a->len, b->data, b->len);
}

/* Loading `bad` as a section of `version` fails with an error whose
 * message holds `expect` (NULL: any message), and the device's state stays
 * what it was. */
static inline void device_state_assert_refused_version(const VireoDeviceOps *ops, void *dev,
                                                       const guint8 *bad, gsize len,
                                                       uint32_t version, const char *expect)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) before = device_state_save(ops, dev);
    g_autoptr(GByteArray) after = NULL;

    g_assert_false(device_state_load_version(ops, dev, bad, len, version, &error));
    g_assert_nonnull(error);
    if (expect != NULL && strstr(error->message, expect) == NULL) {
        g_error("\"%s\" does not say \"%s\"", error->message, expect);
    }
    after = device_state_save(ops, dev);
    device_state_assert_same(before, after);
}

static inline void device_state_assert_refused(const VireoDeviceOps *ops, void *dev,
                                               const guint8 *bad, gsize len, const char *expect)
{
    device_state_assert_refused_version(ops, dev, bad, len, 1, expect);
}

/* Every length short of the whole payload, one past it, and a section of
 * another version are refused and change nothing. */
static inline void device_state_assert_cuts_refused(const VireoDeviceOps *ops, void *dev,
                                                    const GByteArray *good)
{
    g_autofree guint8 *longer = g_malloc0(good->len + 1);

    for (gsize len = 0; len < good->len; len++) {
        device_state_assert_refused(ops, dev, good->data, len, NULL);
    }
    memcpy(longer, good->data, good->len);
    device_state_assert_refused(ops, dev, longer, good->len + 1, "left over");
    device_state_assert_refused_version(ops, dev, good->data, good->len, 2, "layout version");
}

static inline void device_state_put_u32(GByteArray *payload, gsize offset, uint32_t value)
{
    g_assert_cmpuint(offset + 4, <=, payload->len);
    value = GUINT32_TO_LE(value);
    memcpy(payload->data + offset, &value, 4);
}
