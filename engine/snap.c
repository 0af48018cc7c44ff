/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/snap.h"
#include "engine/error.h"

#include <stdarg.h>
#include <string.h>

/*
 * Stream layout (docs/SNAPSHOTS.md):
 *
 *   header   "VIREOSNP", u32 format version, u32 flags (0)
 *   section  u8 name length (1-63), name, u64 instance, u32 version,
 *            u64 payload length, payload, u32 CRC-32C of everything from
 *            the name length to the payload's end
 *   end      a section named "end" whose payload is the u64 number of
 *            sections before it
 */

#define HEADER_SIZE   16
#define SECTION_FIXED (1 + 8 + 4 + 8) /* before the name's bytes: length byte; after: the rest */
#define END_NAME      "end"

struct VireoSnapWriter {
    VireoSnapWriteFunc func;
    void *opaque;
    bool header_done;
    bool open;
    char name[VIREO_SNAP_MAX_NAME + 1];
    uint64_t instance;
    uint32_t version;
    GByteArray *payload;
    uint64_t written;
    uint64_t n_sections;
};

struct VireoSnapReader {
    const VireoSnapSection *section;
    gsize pos;
    char *error; /* the first failure */
};

/* CRC-32C, slicing by eight bytes at a time. */
static uint32_t crc_table[8][256];
static gsize crc_once;

static void crc_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
        }
        crc_table[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++) {
        for (unsigned t = 1; t < 8; t++) {
            uint32_t prev = crc_table[t - 1][i];
            crc_table[t][i] = (prev >> 8) ^ crc_table[0][prev & 0xff];
        }
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_CRC32_INSN 1
/* SSE 4.2's crc32 instruction computes CRC-32C. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_insn(uint32_t crc, const guint8 *p,
                                                              gsize len)
{
    uint64_t c = ~crc;

    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    while (len-- > 0) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    }
    return ~(uint32_t)c;
}

static bool use_insn;
#endif

uint32_t vireo_crc32c(uint32_t crc, const void *data, gsize len)
{
    const guint8 *p = data;

    if (g_once_init_enter(&crc_once)) {
        crc_init();
#ifdef HAVE_CRC32_INSN
        use_insn = __builtin_cpu_supports("sse4.2") && g_getenv("VIREO_CRC32C_TABLE") == NULL;
#endif
        g_once_init_leave(&crc_once, 1);
    }
#ifdef HAVE_CRC32_INSN
    if (use_insn) {
        return crc32c_insn(crc, p, len);
    }
#endif
    crc = ~crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        v = GUINT64_FROM_LE(v) ^ crc;
        crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
              crc_table[5][(v >> 16) & 0xff] ^ crc_table[4][(v >> 24) & 0xff] ^
              crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
              crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
        p += 8;
        len -= 8;
    }
    while (len-- > 0) {
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    }
    return ~crc;
}

static bool valid_name(const char *name)
{
    gsize len = strlen(name);

    if (len == 0 || len > VIREO_SNAP_MAX_NAME) {
        return false;
    }
    for (gsize i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

/*
 * Writing.
 */

VireoSnapWriter *vireo_snap_writer_new(VireoSnapWriteFunc func, void *opaque)
{
    VireoSnapWriter *w = g_new0(VireoSnapWriter, 1);

    w->func = func;
    w->opaque = opaque;
    w->payload = g_byte_array_new();
    return w;
}

void vireo_snap_writer_free(VireoSnapWriter *w)
{
    if (w != NULL) {
        g_byte_array_unref(w->payload);
        g_free(w);
    }
}

static bool out(VireoSnapWriter *w, const void *data, gsize len, GError **error)
{
    if (!w->func(w->opaque, data, len, error)) {
        return false;
    }
    w->written += len;
    return true;
}

static void le_u32(guint8 *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static void le_u64(guint8 *p, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    memcpy(p, &v, 8);
}

static uint32_t get_le_u32(const guint8 *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_LE(v);
}

static uint64_t get_le_u64(const guint8 *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_LE(v);
}

static bool emit_section(VireoSnapWriter *w, const char *name, uint64_t instance, uint32_t version,
                         const void *payload, gsize len, GError **error)
{
    guint8 head[SECTION_FIXED + VIREO_SNAP_MAX_NAME];
    guint8 tail[4];
    gsize name_len = strlen(name);
    guint8 *p = head;
    uint32_t crc;

    g_return_val_if_fail(valid_name(name), false);
    if (!w->header_done) {
        guint8 header[HEADER_SIZE];
        memcpy(header, VIREO_SNAP_MAGIC, 8);
        le_u32(header + 8, VIREO_SNAP_FORMAT_VERSION);
        le_u32(header + 12, 0);
        if (!out(w, header, sizeof header, error)) {
            return false;
        }
        w->header_done = true;
    }
    *p++ = (guint8)name_len;
    memcpy(p, name, name_len);
    p += name_len;
    le_u64(p, instance);
    p += 8;
    le_u32(p, version);
    p += 4;
    le_u64(p, len);
    p += 8;
    crc = vireo_crc32c(0, head, (gsize)(p - head));
    crc = vireo_crc32c(crc, payload, len);
    le_u32(tail, crc);
    if (!out(w, head, (gsize)(p - head), error) || (len > 0 && !out(w, payload, len, error)) ||
        !out(w, tail, sizeof tail, error)) {
        return false;
    }
    w->n_sections++;
    return true;
}

void vireo_snap_begin_section(VireoSnapWriter *w, const char *name, uint64_t instance,
                              uint32_t version)
{
    g_return_if_fail(!w->open);
    g_return_if_fail(valid_name(name) && strcmp(name, END_NAME) != 0);
    w->open = true;
    g_strlcpy(w->name, name, sizeof w->name);
    w->instance = instance;
    w->version = version;
    g_byte_array_set_size(w->payload, 0);
}

bool vireo_snap_end_section(VireoSnapWriter *w, GError **error)
{
    g_return_val_if_fail(w->open, false);
    w->open = false;
    return emit_section(w, w->name, w->instance, w->version, w->payload->data, w->payload->len,
                        error);
}

bool vireo_snap_write_section(VireoSnapWriter *w, const char *name, uint64_t instance,
                              uint32_t version, const void *payload, gsize len, GError **error)
{
    g_return_val_if_fail(!w->open, false);
    g_return_val_if_fail(strcmp(name, END_NAME) != 0, false);
    return emit_section(w, name, instance, version, payload, len, error);
}

bool vireo_snap_writer_finish(VireoSnapWriter *w, GError **error)
{
    guint8 count[8];

    g_return_val_if_fail(!w->open, false);
    le_u64(count, w->n_sections);
    return emit_section(w, END_NAME, 0, 1, count, sizeof count, error);
}

uint64_t vireo_snap_writer_size(const VireoSnapWriter *w)
{
    return w->written;
}

static void put(VireoSnapWriter *w, const void *data, gsize len)
{
    g_return_if_fail(w->open);
    g_byte_array_append(w->payload, data, (guint)len);
}

void vireo_snap_put_u8(VireoSnapWriter *w, uint8_t value)
{
    put(w, &value, 1);
}

void vireo_snap_put_u16(VireoSnapWriter *w, uint16_t value)
{
    value = GUINT16_TO_LE(value);
    put(w, &value, 2);
}

void vireo_snap_put_u32(VireoSnapWriter *w, uint32_t value)
{
    value = GUINT32_TO_LE(value);
    put(w, &value, 4);
}

void vireo_snap_put_u64(VireoSnapWriter *w, uint64_t value)
{
    value = GUINT64_TO_LE(value);
    put(w, &value, 8);
}

void vireo_snap_put_bool(VireoSnapWriter *w, bool value)
{
    vireo_snap_put_u8(w, value ? 1 : 0);
}

void vireo_snap_put_bytes(VireoSnapWriter *w, const void *data, gsize len)
{
    if (len > 0) {
        put(w, data, len);
    }
}

void vireo_snap_put_string(VireoSnapWriter *w, const char *value)
{
    if (value == NULL) {
        vireo_snap_put_u8(w, 0);
        return;
    }
    vireo_snap_put_u8(w, 1);
    vireo_snap_put_u32(w, (uint32_t)strlen(value));
    vireo_snap_put_bytes(w, value, strlen(value));
}

/*
 * Parsing.
 */

static bool parse_header(const guint8 *data, gsize len, GError **error)
{
    uint32_t format;

    if (len < 8 || memcmp(data, VIREO_SNAP_MAGIC, 8) != 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "Not a Vireo machine state (the header is missing)");
        return false;
    }
    if (len < HEADER_SIZE) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The machine state is cut short in its header");
        return false;
    }
    format = get_le_u32(data + 8);
    if (format != VIREO_SNAP_FORMAT_VERSION) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The machine state has format version %u; this Vireo reads version %u", format,
                    VIREO_SNAP_FORMAT_VERSION);
        return false;
    }
    if (get_le_u32(data + 12) != 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The machine state has flags this Vireo does not know (0x%x)",
                    get_le_u32(data + 12));
        return false;
    }
    return true;
}

typedef enum { SECTION_OK, SECTION_SHORT, SECTION_BAD } SectionStatus;

/* The section at `pos`: its bytes end at `*end`. SECTION_SHORT when `len`
 * bytes do not hold it (`*end` is then how many would, where known, or 0). */
static SectionStatus parse_section(const guint8 *data, gsize len, gsize pos, VireoSnapSection *s,
                                   gsize *end, const char **why)
{
    gsize name_len, start = pos;
    uint64_t payload_len;

    *end = 0;
    if (pos >= len) {
        return SECTION_SHORT;
    }
    name_len = data[pos];
    if (name_len == 0 || name_len > VIREO_SNAP_MAX_NAME) {
        *why = "a section has no valid name";
        return SECTION_BAD;
    }
    if (len - pos - 1 < name_len + 20) {
        return SECTION_SHORT;
    }
    memset(s, 0, sizeof *s);
    memcpy(s->name, data + pos + 1, name_len);
    s->name[name_len] = '\0';
    if (!valid_name(s->name)) {
        *why = "a section has no valid name";
        return SECTION_BAD;
    }
    pos += 1 + name_len;
    s->instance = get_le_u64(data + pos);
    s->version = get_le_u32(data + pos + 8);
    payload_len = get_le_u64(data + pos + 12);
    pos += 20;
    if (payload_len > G_MAXSIZE - pos - 4) {
        *why = "a section is longer than memory";
        return SECTION_BAD;
    }
    *end = pos + (gsize)payload_len + 4;
    if (*end > len) {
        return SECTION_SHORT;
    }
    s->data = data + pos;
    s->len = (gsize)payload_len;
    pos += s->len;
    if (vireo_crc32c(0, data + start, pos - start) != get_le_u32(data + pos)) {
        *why = "it fails its checksum";
        return SECTION_BAD;
    }
    return SECTION_OK;
}

GArray *vireo_snap_parse(const guint8 *data, gsize len, GError **error)
{
    g_autoptr(GArray) sections = g_array_new(FALSE, FALSE, sizeof(VireoSnapSection));
    gsize pos = HEADER_SIZE;

    if (!parse_header(data, len, error)) {
        return NULL;
    }
    for (;;) {
        VireoSnapSection s;
        const char *why = NULL;
        gsize end;

        switch (parse_section(data, len, pos, &s, &end, &why)) {
        case SECTION_SHORT:
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The machine state is cut short in section %u (no end section)",
                        sections->len + 1);
            return NULL;
        case SECTION_BAD:
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The machine state is corrupt at byte %" G_GSIZE_FORMAT
                        ": in section %u, %s",
                        pos, sections->len + 1, why);
            return NULL;
        case SECTION_OK: break;
        }
        pos = end;
        if (strcmp(s.name, END_NAME) == 0) {
            if (s.len != 8 || get_le_u64(s.data) != sections->len) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                            "The machine state is corrupt: its end section does not match "
                            "its %u sections",
                            sections->len);
                return NULL;
            }
            if (pos != len) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                            "The machine state has %" G_GSIZE_FORMAT
                            " unexpected bytes after its end",
                            len - pos);
                return NULL;
            }
            return g_steal_pointer(&sections);
        }
        g_array_append_val(sections, s);
    }
}

bool vireo_snap_parse_first(const guint8 *data, gsize len, VireoSnapSection *section, gsize *needed,
                            GError **error)
{
    const char *why = NULL;
    gsize end;

    *needed = 0;
    if (len < HEADER_SIZE) {
        *needed = HEADER_SIZE;
        return false;
    }
    if (!parse_header(data, len, error)) {
        return false;
    }
    switch (parse_section(data, len, HEADER_SIZE, section, &end, &why)) {
    case SECTION_OK: return true;
    case SECTION_SHORT:
        *needed = end != 0 ? end : HEADER_SIZE + 1 + VIREO_SNAP_MAX_NAME + 20;
        return false;
    case SECTION_BAD:
    default:
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The machine state is corrupt: in its first section, %s", why);
        return false;
    }
}

const VireoSnapSection *vireo_snap_find(GArray *sections, const char *name, uint64_t instance)
{
    for (guint i = 0; i < sections->len; i++) {
        const VireoSnapSection *s = &g_array_index(sections, VireoSnapSection, i);
        if (s->instance == instance && strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

/*
 * Reading fields.
 */

VireoSnapReader *vireo_snap_reader_new(const VireoSnapSection *section)
{
    VireoSnapReader *r = g_new0(VireoSnapReader, 1);

    r->section = section;
    return r;
}

void vireo_snap_reader_free(VireoSnapReader *r)
{
    if (r != NULL) {
        g_free(r->error);
        g_free(r);
    }
}

uint32_t vireo_snap_reader_version(const VireoSnapReader *r)
{
    return r->section->version;
}

gsize vireo_snap_reader_remaining(const VireoSnapReader *r)
{
    return r->error != NULL ? 0 : r->section->len - r->pos;
}

void vireo_snap_fail(VireoSnapReader *r, const char *format, ...)
{
    va_list args;

    if (r->error != NULL) {
        return;
    }
    va_start(args, format);
    r->error = g_strdup_vprintf(format, args);
    va_end(args);
}

bool vireo_snap_failed(const VireoSnapReader *r)
{
    return r->error != NULL;
}

const guint8 *vireo_snap_get_view(VireoSnapReader *r, gsize len)
{
    const guint8 *p;

    if (r->error != NULL) {
        return NULL;
    }
    if (len > r->section->len - r->pos) {
        vireo_snap_fail(r, "it ends %" G_GSIZE_FORMAT " bytes early",
                        len - (r->section->len - r->pos));
        return NULL;
    }
    p = r->section->data + r->pos;
    r->pos += len;
    return p;
}

void vireo_snap_get_bytes(VireoSnapReader *r, void *data, gsize len)
{
    const guint8 *p = vireo_snap_get_view(r, len);

    if (p != NULL) {
        memcpy(data, p, len);
    } else if (len > 0) {
        memset(data, 0, len);
    }
}

uint8_t vireo_snap_get_u8(VireoSnapReader *r)
{
    uint8_t v;
    vireo_snap_get_bytes(r, &v, 1);
    return v;
}

uint16_t vireo_snap_get_u16(VireoSnapReader *r)
{
    uint16_t v;
    vireo_snap_get_bytes(r, &v, 2);
    return GUINT16_FROM_LE(v);
}

uint32_t vireo_snap_get_u32(VireoSnapReader *r)
{
    uint32_t v;
    vireo_snap_get_bytes(r, &v, 4);
    return GUINT32_FROM_LE(v);
}

uint64_t vireo_snap_get_u64(VireoSnapReader *r)
{
    uint64_t v;
    vireo_snap_get_bytes(r, &v, 8);
    return GUINT64_FROM_LE(v);
}

bool vireo_snap_get_bool(VireoSnapReader *r)
{
    uint8_t v = vireo_snap_get_u8(r);

    if (v > 1) {
        vireo_snap_fail(r, "a flag has the value %u", v);
        return false;
    }
    return v == 1;
}

char *vireo_snap_get_string(VireoSnapReader *r, gsize max_len)
{
    const guint8 *p;
    uint32_t len;

    if (!vireo_snap_get_bool(r)) {
        return NULL;
    }
    len = vireo_snap_get_u32(r);
    if (r->error != NULL) {
        return NULL;
    }
    if (len > max_len) {
        vireo_snap_fail(r, "a string of %u bytes is longer than %" G_GSIZE_FORMAT, len, max_len);
        return NULL;
    }
    p = vireo_snap_get_view(r, len);
    if (p == NULL) {
        return NULL;
    }
    if (memchr(p, '\0', len) != NULL) {
        vireo_snap_fail(r, "a string holds a NUL byte");
        return NULL;
    }
    return g_strndup((const char *)p, len);
}

bool vireo_snap_reader_finish(VireoSnapReader *r, GError **error)
{
    if (r->error == NULL && r->pos != r->section->len) {
        vireo_snap_fail(r, "%" G_GSIZE_FORMAT " bytes are left over", r->section->len - r->pos);
    }
    if (r->error != NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The machine state's section \"%s\" (%" G_GUINT64_FORMAT ") is invalid: %s",
                    r->section->name, r->section->instance, r->error);
        return false;
    }
    return true;
}
