/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * JSON as QMP speaks it (RFC 8259 plus QEMU's extensions): values parsed from
 * untrusted bytes with every limit checked, built by the monitor, and written
 * as ASCII text. Parsing accepts 'single-quoted' strings and the escape \',
 * as QEMU does; strings are UTF-8 and may hold U+0000 (\u0000), so they carry
 * their length. Integers are kept exactly when they fit in 64 bits (signed,
 * or unsigned above INT64_MAX); other numbers become doubles, and a number
 * beyond the range of a double is an error. Duplicate keys in an object are
 * an error. Nesting deeper than VIREO_JSON_MAX_DEPTH is an error, so the
 * recursive parser's stack stays small.
 *
 * Errors are VIREO_ERROR_FORMAT with the text QMP sends back ("JSON parse
 * error, …").
 */

#define VIREO_JSON_MAX_DEPTH 1024

typedef enum {
    VIREO_JSON_NULL,
    VIREO_JSON_BOOL,
    VIREO_JSON_INT,  /* fits in int64_t */
    VIREO_JSON_UINT, /* above INT64_MAX, fits in uint64_t */
    VIREO_JSON_DOUBLE,
    VIREO_JSON_STRING,
    VIREO_JSON_ARRAY,
    VIREO_JSON_OBJECT,
} VireoJsonType;

typedef struct VireoJson VireoJson;

/* Exactly one value, with optional white space around it. */
VireoJson *vireo_json_parse(const char *text, size_t len, GError **error);
void vireo_json_free(VireoJson *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoJson, vireo_json_free)

VireoJsonType vireo_json_type(const VireoJson *value);
bool vireo_json_get_bool(const VireoJson *value);
int64_t vireo_json_get_int(const VireoJson *value);
uint64_t vireo_json_get_uint(const VireoJson *value);
double vireo_json_get_double(const VireoJson *value);
/* The bytes (NUL-terminated, but they may hold NULs: see `len`). */
const char *vireo_json_get_string(const VireoJson *value, size_t *len);
/* Whether a string value is `text` exactly. */
bool vireo_json_string_equal(const VireoJson *value, const char *text);
/* Items of an array, members of an object. */
size_t vireo_json_length(const VireoJson *value);
VireoJson *vireo_json_array_get(const VireoJson *array, size_t index);
/* Member `index` of an object: its key (NUL-terminated; `len` as for
 * strings) and its value. */
const char *vireo_json_object_key(const VireoJson *object, size_t index, size_t *len);
VireoJson *vireo_json_object_value(const VireoJson *object, size_t index);
/* The member named `key`, or NULL. */
VireoJson *vireo_json_object_get(const VireoJson *object, const char *key);

VireoJson *vireo_json_new_null(void);
VireoJson *vireo_json_new_bool(bool b);
VireoJson *vireo_json_new_int(int64_t i);
VireoJson *vireo_json_new_double(double d);
VireoJson *vireo_json_new_string(const char *text);
VireoJson *vireo_json_new_string_len(const char *text, size_t len);
VireoJson *vireo_json_new_array(void);
VireoJson *vireo_json_new_object(void);
VireoJson *vireo_json_copy(const VireoJson *value);
/* Both take `item` / `value`; setting a key that exists replaces it. */
void vireo_json_array_add(VireoJson *array, VireoJson *item);
void vireo_json_object_set(VireoJson *object, const char *key, VireoJson *value);

/* Compact text with ", " and ": " between items, as QEMU writes it; only
 * ASCII: other characters are \u escapes, and bytes of a string that are not
 * UTF-8 become U+FFFD. A double that is not finite is written as null. */
void vireo_json_write(GString *out, const VireoJson *value);
char *vireo_json_to_string(const VireoJson *value);

/*
 * Cuts a byte stream into JSON values as they complete, however the bytes
 * arrive: several values in one piece, one value over many. Between values,
 * white space is skipped; a value is an object, an array, a string, or a
 * bare word (a number, true, false, null, or garbage) ended by white space or
 * a bracket. Each value is parsed as it ends, and `func` gets either the
 * value (its to keep) or an error (the stream's).
 *
 * A value longer than `max_size` bytes or nested deeper than
 * VIREO_JSON_MAX_DEPTH is reported at once, then skipped to its end without
 * keeping it. A 0xFF byte (never part of UTF-8) drops whatever is pending and
 * starts afresh, as the QMP specification's synchronization byte.
 */
typedef struct VireoJsonStream VireoJsonStream;
typedef void (*VireoJsonStreamFunc)(void *opaque, VireoJson *value, const GError *error);

VireoJsonStream *vireo_json_stream_new(size_t max_size, VireoJsonStreamFunc func, void *opaque);
void vireo_json_stream_feed(VireoJsonStream *stream, const void *data, size_t len);
void vireo_json_stream_free(VireoJsonStream *stream);

G_END_DECLS
