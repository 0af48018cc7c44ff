/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * The machine-state stream (docs/SNAPSHOTS.md): a header, then sections,
 * each holding the state of one part of the machine (the machine's shape,
 * the clock, a vCPU, a device, a chunk of RAM), then an end section. A
 * section has a name, an instance number (the vCPU's index, the device's
 * base address, the RAM chunk's offset), a version of its own layout, a
 * length and a CRC-32C; the fields inside are little-endian.
 *
 * Writers put fields into the section that is open; readers take them out
 * in the same order. A reader never fails half-way through a field: once a
 * field runs past the section's end or a device refuses a value
 * (vireo_snap_fail), every later field reads as zero and
 * vireo_snap_reader_finish() reports the first error, so a device's load
 * function can read every field, check the values it needs to and finish.
 */

#define VIREO_SNAP_MAGIC          "VIREOSNP"
#define VIREO_SNAP_FORMAT_VERSION 1
#define VIREO_SNAP_MAX_NAME       63

/* Writes `len` bytes to wherever the stream goes; false with `error` set
 * when it cannot. */
typedef bool (*VireoSnapWriteFunc)(void *opaque, const void *data, gsize len, GError **error);

/* A stream going to `func`; the header goes out with the first section. */
VireoSnapWriter *vireo_snap_writer_new(VireoSnapWriteFunc func, void *opaque);
void vireo_snap_writer_free(VireoSnapWriter *w);

/* Opens a section (none may be open); fields go into it until
 * vireo_snap_end_section(). `name` is 1 to VIREO_SNAP_MAX_NAME bytes of
 * [a-z0-9-], other than "end", which closes the stream. */
void vireo_snap_begin_section(VireoSnapWriter *w, const char *name, uint64_t instance,
                              uint32_t version);
/* Closes the section and writes it out. */
bool vireo_snap_end_section(VireoSnapWriter *w, GError **error);
/* A whole section from a payload encoded elsewhere (RAM chunks compressed
 * on other threads); no section may be open. */
bool vireo_snap_write_section(VireoSnapWriter *w, const char *name, uint64_t instance,
                              uint32_t version, const void *payload, gsize len, GError **error);
/* Writes the end section. */
bool vireo_snap_writer_finish(VireoSnapWriter *w, GError **error);
/* Bytes written so far. */
uint64_t vireo_snap_writer_size(const VireoSnapWriter *w);

void vireo_snap_put_u8(VireoSnapWriter *w, uint8_t value);
void vireo_snap_put_u16(VireoSnapWriter *w, uint16_t value);
void vireo_snap_put_u32(VireoSnapWriter *w, uint32_t value);
void vireo_snap_put_u64(VireoSnapWriter *w, uint64_t value);
void vireo_snap_put_bool(VireoSnapWriter *w, bool value);
void vireo_snap_put_bytes(VireoSnapWriter *w, const void *data, gsize len);
/* A length-prefixed string; NULL is written as absent and read back as
 * NULL. */
void vireo_snap_put_string(VireoSnapWriter *w, const char *value);

/* A section of a stream that has been checked (framing and CRC). `data`
 * points into the stream's buffer. */
typedef struct {
    char name[VIREO_SNAP_MAX_NAME + 1];
    uint64_t instance;
    uint32_t version;
    const guint8 *data;
    gsize len;
} VireoSnapSection;

/* Checks a whole stream held in memory (header, every section's framing
 * and CRC, the end section, nothing after it) and returns its sections in
 * order, without the end section (an array of VireoSnapSection, pointing
 * into `data`). A truncated, corrupt or foreign stream fails with
 * VIREO_ERROR_FORMAT and a message that says which. */
GArray *vireo_snap_parse(const guint8 *data, gsize len, GError **error);
/* The first section of a stream whose first `len` bytes are `data`, to
 * read a note (a thumbnail) without the rest: true with `section` filled
 * (and checked) when the bytes hold it whole; false with `*needed` set to
 * how many bytes would, or with `error` set when they cannot be a stream. */
bool vireo_snap_parse_first(const guint8 *data, gsize len, VireoSnapSection *section, gsize *needed,
                            GError **error);
/* Sections named "note-..." carry information for people and tools (a
 * thumbnail); loading a machine skips them. */
#define VIREO_SNAP_NOTE_PREFIX "note-"
#define VIREO_SNAP_THUMBNAIL   "note-thumbnail"

/* The first section named `name` with `instance`, or NULL. */
const VireoSnapSection *vireo_snap_find(GArray *sections, const char *name, uint64_t instance);

VireoSnapReader *vireo_snap_reader_new(const VireoSnapSection *section);
void vireo_snap_reader_free(VireoSnapReader *r);
/* The section's layout version, for loaders that read older ones. */
uint32_t vireo_snap_reader_version(const VireoSnapReader *r);
/* Bytes not read yet. */
gsize vireo_snap_reader_remaining(const VireoSnapReader *r);

uint8_t vireo_snap_get_u8(VireoSnapReader *r);
uint16_t vireo_snap_get_u16(VireoSnapReader *r);
uint32_t vireo_snap_get_u32(VireoSnapReader *r);
uint64_t vireo_snap_get_u64(VireoSnapReader *r);
/* Anything but 0 or 1 is an error. */
bool vireo_snap_get_bool(VireoSnapReader *r);
/* Copies `len` bytes (zeros past the end, with the error set). */
void vireo_snap_get_bytes(VireoSnapReader *r, void *data, gsize len);
/* `len` bytes in place, or NULL past the end (the error set). */
const guint8 *vireo_snap_get_view(VireoSnapReader *r, gsize len);
/* A string of at most `max_len` bytes, or NULL (absent, or on an error);
 * free it with g_free. */
char *vireo_snap_get_string(VireoSnapReader *r, gsize max_len);

/* Marks the section bad: the first failure's message is kept. */
void vireo_snap_fail(VireoSnapReader *r, const char *format, ...) G_GNUC_PRINTF(2, 3);
bool vireo_snap_failed(const VireoSnapReader *r);
/* Whether the section was read without a failure and to its end; the
 * error names the section. */
bool vireo_snap_reader_finish(VireoSnapReader *r, GError **error);

/* CRC-32C (Castagnoli) of `len` bytes, continuing from `crc` (0 to start). */
uint32_t vireo_crc32c(uint32_t crc, const void *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoSnapWriter, vireo_snap_writer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoSnapReader, vireo_snap_reader_free)

G_END_DECLS
