/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The machine-state stream on its own (engine/snap.c): the writer and the
 * reader of every field type, the reader's sticky error, strings and their
 * bounds, the parser's checks and CRC-32C.
 */
#include "engine/error.h"
#include "engine/snap.h"

#include <string.h>

static bool to_bytes(void *opaque, const void *data, gsize len, GError **error)
{
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

/* A stream of one section holding `len` bytes of `payload`. */
static GByteArray *one_section(const char *name, const void *payload, gsize len)
{
    GByteArray *stream = g_byte_array_new();
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, stream);
    g_autoptr(GError) error = NULL;

    g_assert_true(vireo_snap_write_section(w, name, 0, 1, payload, len, &error));
    g_assert_true(vireo_snap_writer_finish(w, &error));
    g_assert_no_error(error);
    return stream;
}

/* A reader over a section holding `len` bytes of `payload`, without a
 * stream around it. */
typedef struct {
    VireoSnapSection section;
    VireoSnapReader *r;
} Section;

static void section_init(Section *s, const void *payload, gsize len)
{
    memset(&s->section, 0, sizeof s->section);
    g_strlcpy(s->section.name, "test", sizeof s->section.name);
    s->section.instance = 5;
    s->section.version = 1;
    s->section.data = payload;
    s->section.len = len;
    s->r = vireo_snap_reader_new(&s->section);
}

static void section_clear(Section *s)
{
    vireo_snap_reader_free(s->r);
}

/*
 * CRC-32C.
 */

/* One bit at a time, straight from the definition (reflected, polynomial
 * 0x1edc6f41). */
static uint32_t crc32c_bitwise(const guint8 *p, gsize len)
{
    uint32_t crc = 0xffffffffu;

    for (gsize i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
        }
    }
    return ~crc;
}

static void test_crc32c_check_values(void)
{
    guint8 buf[32];

    g_assert_cmphex(vireo_crc32c(0, "123456789", 9), ==, 0xe3069283);
    g_assert_cmphex(vireo_crc32c(0, "", 0), ==, 0);
    g_assert_cmphex(vireo_crc32c(0, "a", 1), ==, 0xc1d04330);
    /* The iSCSI test patterns (RFC 3720, B.4). */
    memset(buf, 0, sizeof buf);
    g_assert_cmphex(vireo_crc32c(0, buf, sizeof buf), ==, 0x8a9136aa);
    memset(buf, 0xff, sizeof buf);
    g_assert_cmphex(vireo_crc32c(0, buf, sizeof buf), ==, 0x62a8ab43);
    for (unsigned i = 0; i < 32; i++) {
        buf[i] = (guint8)i;
    }
    g_assert_cmphex(vireo_crc32c(0, buf, sizeof buf), ==, 0x46dd794e);
    for (unsigned i = 0; i < 32; i++) {
        buf[i] = (guint8)(31 - i);
    }
    g_assert_cmphex(vireo_crc32c(0, buf, sizeof buf), ==, 0x113fdb5c);
    /* Continued in pieces of any length. */
    g_assert_cmphex(vireo_crc32c(vireo_crc32c(0, "1234", 4), "56789", 5), ==, 0xe3069283);
    g_assert_cmphex(vireo_crc32c(vireo_crc32c(0, "", 0), "123456789", 9), ==, 0xe3069283);
}

/* The eight-bytes-at-a-time path agrees with the definition at every
 * alignment and length, and when continued at any split. */
static void test_crc32c_random(void)
{
    GRand *rand = g_rand_new_with_seed(0xc3c3c3c3u);
    guint8 buf[300];

    for (gsize i = 0; i < sizeof buf; i++) {
        buf[i] = (guint8)g_rand_int(rand);
    }
    for (gsize start = 0; start < 9; start++) {
        for (gsize len = 0; start + len <= sizeof buf; len += 1 + len / 8) {
            uint32_t want = crc32c_bitwise(buf + start, len);
            gsize split = len > 0 ? (gsize)g_rand_int_range(rand, 0, (gint32)len + 1) : 0;
            g_assert_cmphex(vireo_crc32c(0, buf + start, len), ==, want);
            g_assert_cmphex(
                vireo_crc32c(vireo_crc32c(0, buf + start, split), buf + start + split, len - split),
                ==, want);
        }
    }
    g_rand_free(rand);
}

/*
 * Writing and reading.
 */

static void test_round_trip(void)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) sections = NULL;
    g_autoptr(VireoSnapReader) r = NULL;
    g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL;
    VireoSnapWriter *w = vireo_snap_writer_new(to_bytes, stream);
    static const guint8 blob[5] = { 9, 8, 7, 6, 5 };
    static const guint8 raw[3] = { 0xaa, 0xbb, 0xcc };
    const VireoSnapSection *s;
    guint8 back[5];
    const guint8 *view;

    vireo_snap_begin_section(w, "fields-0", 7, 3);
    vireo_snap_put_u8(w, 0xa5);
    vireo_snap_put_u16(w, 0x1234);
    vireo_snap_put_u32(w, 0x89abcdef);
    vireo_snap_put_u64(w, 0x0123456789abcdefull);
    vireo_snap_put_bool(w, true);
    vireo_snap_put_bool(w, false);
    vireo_snap_put_bytes(w, blob, sizeof blob);
    vireo_snap_put_bytes(w, NULL, 0);
    vireo_snap_put_string(w, "hello");
    vireo_snap_put_string(w, NULL);
    vireo_snap_put_string(w, "");
    vireo_snap_put_u64(w, G_MAXUINT64);
    vireo_snap_put_bytes(w, "tail", 4);
    g_assert_true(vireo_snap_end_section(w, &error));
    g_assert_no_error(error);
    g_assert_true(vireo_snap_write_section(w, "raw", 1ull << 40, 2, raw, sizeof raw, &error));
    g_assert_true(vireo_snap_write_section(w, "empty", 0, 1, NULL, 0, &error));
    g_assert_true(vireo_snap_writer_finish(w, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(vireo_snap_writer_size(w), ==, stream->len);
    vireo_snap_writer_free(w);

    /* The header, and the fields little-endian right after the first
     * section's head (length byte, name, instance, version, length). */
    g_assert_cmpmem(stream->data, 8, "VIREOSNP", 8);
    g_assert_cmphex(stream->data[8], ==, VIREO_SNAP_FORMAT_VERSION);
    g_assert_cmphex(stream->data[16], ==, 8);
    g_assert_cmpmem(stream->data + 17, 8, "fields-0", 8);
    g_assert_cmphex(stream->data[25], ==, 7);
    g_assert_cmphex(stream->data[33], ==, 3);
    {
        static const guint8 head[] = { 0xa5, 0x34, 0x12, 0xef, 0xcd, 0xab, 0x89, 0xef,
                                       0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01 };
        g_assert_cmpmem(stream->data + 45, sizeof head, head, sizeof head);
    }

    sections = vireo_snap_parse(stream->data, stream->len, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(sections->len, ==, 3);
    s = &g_array_index(sections, VireoSnapSection, 0);
    g_assert_cmpstr(s->name, ==, "fields-0");
    g_assert_cmpuint(s->instance, ==, 7);
    g_assert_cmpuint(s->version, ==, 3);
    g_assert_true(vireo_snap_find(sections, "fields-0", 7) == s);
    g_assert_null(vireo_snap_find(sections, "fields-0", 8));
    g_assert_null(vireo_snap_find(sections, "fields", 7));
    s = vireo_snap_find(sections, "raw", 1ull << 40);
    g_assert_nonnull(s);
    g_assert_cmpuint(s->version, ==, 2);
    g_assert_cmpmem(s->data, s->len, raw, sizeof raw);
    s = vireo_snap_find(sections, "empty", 0);
    g_assert_nonnull(s);
    g_assert_cmpuint(s->len, ==, 0);

    r = vireo_snap_reader_new(&g_array_index(sections, VireoSnapSection, 0));
    g_assert_cmpuint(vireo_snap_reader_version(r), ==, 3);
    g_assert_cmphex(vireo_snap_get_u8(r), ==, 0xa5);
    g_assert_cmphex(vireo_snap_get_u16(r), ==, 0x1234);
    g_assert_cmphex(vireo_snap_get_u32(r), ==, 0x89abcdef);
    g_assert_cmphex(vireo_snap_get_u64(r), ==, 0x0123456789abcdefull);
    g_assert_true(vireo_snap_get_bool(r));
    g_assert_false(vireo_snap_get_bool(r));
    vireo_snap_get_bytes(r, back, sizeof back);
    g_assert_cmpmem(back, sizeof back, blob, sizeof blob);
    s1 = vireo_snap_get_string(r, 5);
    g_assert_cmpstr(s1, ==, "hello");
    s2 = vireo_snap_get_string(r, 100);
    g_assert_null(s2);
    s3 = vireo_snap_get_string(r, 0);
    g_assert_cmpstr(s3, ==, "");
    g_assert_cmphex(vireo_snap_get_u64(r), ==, G_MAXUINT64);
    g_assert_cmpuint(vireo_snap_reader_remaining(r), ==, 4);
    view = vireo_snap_get_view(r, 4);
    g_assert_nonnull(view);
    g_assert_cmpmem(view, 4, "tail", 4);
    g_assert_cmpuint(vireo_snap_reader_remaining(r), ==, 0);
    g_assert_false(vireo_snap_failed(r));
    g_assert_true(vireo_snap_reader_finish(r, &error));
    g_assert_no_error(error);
}

/* A read past the end fails the section; every later field reads as zero
 * and the first message is the one reported, with the section's name. */
static void test_sticky_error(void)
{
    static const guint8 data[6] = { 1, 2, 3, 4, 5, 6 };
    g_autoptr(GError) error = NULL;
    guint8 bytes[4] = { 0xff, 0xff, 0xff, 0xff };
    Section s;

    section_init(&s, data, sizeof data);
    g_assert_cmphex(vireo_snap_get_u32(s.r), ==, 0x04030201);
    g_assert_cmphex(vireo_snap_get_u32(s.r), ==, 0); /* two bytes left */
    g_assert_true(vireo_snap_failed(s.r));
    g_assert_cmpuint(vireo_snap_reader_remaining(s.r), ==, 0);
    /* The two bytes that were there are not handed out either. */
    g_assert_cmphex(vireo_snap_get_u8(s.r), ==, 0);
    g_assert_cmphex(vireo_snap_get_u16(s.r), ==, 0);
    g_assert_cmphex(vireo_snap_get_u64(s.r), ==, 0);
    g_assert_false(vireo_snap_get_bool(s.r));
    g_assert_null(vireo_snap_get_string(s.r, 10));
    g_assert_null(vireo_snap_get_view(s.r, 0));
    vireo_snap_get_bytes(s.r, bytes, sizeof bytes);
    g_assert_cmphex(bytes[0] | bytes[1] | bytes[2] | bytes[3], ==, 0);
    vireo_snap_fail(s.r, "a later failure");
    g_assert_false(vireo_snap_reader_finish(s.r, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "\"test\" (5)"));
    g_assert_nonnull(strstr(error->message, "ends 2 bytes early"));
    g_assert_null(strstr(error->message, "later"));
    section_clear(&s);
    g_clear_error(&error);

    /* A failure set by the loader is sticky the same way, with data left. */
    section_init(&s, data, sizeof data);
    g_assert_cmphex(vireo_snap_get_u8(s.r), ==, 1);
    vireo_snap_fail(s.r, "value %d is wrong", 1);
    g_assert_cmphex(vireo_snap_get_u8(s.r), ==, 0);
    g_assert_false(vireo_snap_reader_finish(s.r, &error));
    g_assert_nonnull(strstr(error->message, "value 1 is wrong"));
    section_clear(&s);
    g_clear_error(&error);

    /* Bytes not read are an error too. */
    section_init(&s, data, sizeof data);
    vireo_snap_get_u32(s.r);
    g_assert_false(vireo_snap_reader_finish(s.r, &error));
    g_assert_nonnull(strstr(error->message, "2 bytes are left over"));
    section_clear(&s);
    g_clear_error(&error);

    /* A flag is 0 or 1. */
    section_init(&s, (const guint8[]){ 2 }, 1);
    g_assert_false(vireo_snap_get_bool(s.r));
    g_assert_false(vireo_snap_reader_finish(s.r, &error));
    g_assert_nonnull(strstr(error->message, "flag has the value 2"));
    section_clear(&s);
    g_clear_error(&error);

    /* Reading nothing from nothing is fine. */
    section_init(&s, NULL, 0);
    vireo_snap_get_bytes(s.r, NULL, 0);
    g_assert_true(vireo_snap_reader_finish(s.r, &error));
    g_assert_no_error(error);
    section_clear(&s);
}

/* A string payload: the presence flag, the u32 length, the bytes. */
static GByteArray *string_payload(guint8 present, uint32_t len, const void *bytes, gsize n)
{
    GByteArray *p = g_byte_array_new();
    uint32_t le = GUINT32_TO_LE(len);

    g_byte_array_append(p, &present, 1);
    g_byte_array_append(p, (const guint8 *)&le, 4);
    g_byte_array_append(p, bytes, (guint)n);
    return p;
}

static void expect_string_error(GByteArray *payload, gsize max_len, const char *expect)
{
    g_autoptr(GError) error = NULL;
    Section s;

    section_init(&s, payload->data, payload->len);
    g_assert_null(vireo_snap_get_string(s.r, max_len));
    g_assert_false(vireo_snap_reader_finish(s.r, &error));
    if (strstr(error->message, expect) == NULL) {
        g_error("\"%s\" does not say \"%s\"", error->message, expect);
    }
    section_clear(&s);
    g_byte_array_unref(payload);
}

static void test_strings(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) ok = string_payload(1, 10, "0123456789", 10);
    g_autofree char *str = NULL;
    Section s;

    /* Exactly at the bound. */
    section_init(&s, ok->data, ok->len);
    str = vireo_snap_get_string(s.r, 10);
    g_assert_cmpstr(str, ==, "0123456789");
    g_assert_true(vireo_snap_reader_finish(s.r, &error));
    section_clear(&s);

    expect_string_error(string_payload(1, 10, "0123456789", 10), 9,
                        "string of 10 bytes is longer than 9");
    /* A length far past the section, and one just past it. */
    expect_string_error(string_payload(1, G_MAXUINT32, "ab", 2), G_MAXSIZE, "ends");
    expect_string_error(string_payload(1, 3, "ab", 2), 100, "ends 1 bytes early");
    expect_string_error(string_payload(1, 3, "a\0b", 3), 100, "NUL");
    expect_string_error(string_payload(7, 0, "", 0), 100, "flag has the value 7");
    /* Cut inside the length. */
    {
        GByteArray *p = string_payload(1, 2, "ab", 2);
        g_byte_array_set_size(p, 3);
        expect_string_error(p, 100, "ends");
    }
}

/*
 * Parsing.
 */

static void expect_parse_error(const guint8 *data, gsize len, const char *expect)
{
    g_autoptr(GError) error = NULL;
    GArray *sections = vireo_snap_parse(data, len, &error);

    g_assert_null(sections);
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    if (expect != NULL && strstr(error->message, expect) == NULL) {
        g_error("\"%s\" does not say \"%s\"", error->message, expect);
    }
}

static void test_parse_errors(void)
{
    g_autoptr(GByteArray) good = one_section("part", "payload", 7);
    g_autoptr(GByteArray) bad = g_byte_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) sections = vireo_snap_parse(good->data, good->len, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(sections->len, ==, 1);

    expect_parse_error(NULL, 0, "header is missing");
    expect_parse_error((const guint8 *)"VIREOSNQ", 8, "header is missing");
    expect_parse_error(good->data, 12, "cut short in its header");
    expect_parse_error(good->data, 16, "no end section");
    /* Every cut fails, and so does every flipped byte. */
    for (gsize len = 0; len < good->len; len++) {
        expect_parse_error(good->data, len, NULL);
    }
    for (gsize i = 0; i < good->len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            good->data[i] ^= (guint8)(1u << bit);
            expect_parse_error(good->data, good->len, NULL);
            good->data[i] ^= (guint8)(1u << bit);
        }
    }

#define RESET_BAD()                                      \
    do {                                                 \
        g_byte_array_set_size(bad, 0);                   \
        g_byte_array_append(bad, good->data, good->len); \
    } while (0)
    RESET_BAD();
    bad->data[8] = 2;
    expect_parse_error(bad->data, bad->len, "format version 2");
    RESET_BAD();
    bad->data[12] = 1;
    expect_parse_error(bad->data, bad->len, "flags");
    RESET_BAD();
    bad->data[17 + 4 + 8 + 4 + 8] ^= 1; /* the payload */
    expect_parse_error(bad->data, bad->len, "fails its checksum");
    RESET_BAD();
    g_byte_array_append(bad, (const guint8 *)"x", 1);
    expect_parse_error(bad->data, bad->len, "1 unexpected bytes after its end");
    RESET_BAD();
    bad->data[16] = 0; /* a name of no bytes */
    expect_parse_error(bad->data, bad->len, "at byte 16");
    RESET_BAD();
    bad->data[17] = 'P'; /* a name the writer cannot write */
    expect_parse_error(bad->data, bad->len, "corrupt");
#undef RESET_BAD

    /* An end section that counts other sections than there are. */
    {
        g_autoptr(GByteArray) s = g_byte_array_new();
        g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, s);
        gsize end_at, crc_at;
        uint32_t crc;
        g_assert_true(vireo_snap_write_section(w, "part", 0, 1, NULL, 0, &error));
        g_assert_true(vireo_snap_writer_finish(w, &error));
        /* The end section: 1 + 3 name bytes, instance, version, length, the
         * u64 count, the CRC; make the count 2 and the CRC right again. */
        end_at = s->len - (1 + 3 + 8 + 4 + 8 + 8 + 4);
        crc_at = s->len - 4;
        s->data[crc_at - 8] = 2;
        crc = GUINT32_TO_LE(vireo_crc32c(0, s->data + end_at, crc_at - end_at));
        memcpy(s->data + crc_at, &crc, 4);
        expect_parse_error(s->data, s->len, "end section does not match its 1 sections");
    }
    /* An empty stream is a header and an end section. */
    {
        g_autoptr(GByteArray) s = g_byte_array_new();
        g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, s);
        g_autoptr(GArray) none = NULL;
        g_assert_true(vireo_snap_writer_finish(w, &error));
        none = vireo_snap_parse(s->data, s->len, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(none->len, ==, 0);
    }
}

/* A writer whose output fails passes the error on. */
static bool refuse(void *opaque, const void *data, gsize len, GError **error)
{
    int *calls = opaque;

    if (++*calls > 1) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "disk full");
        return false;
    }
    return true;
}

static void test_write_error(void)
{
    g_autoptr(GError) error = NULL;
    int calls = 0;
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(refuse, &calls);

    vireo_snap_begin_section(w, "part", 0, 1);
    vireo_snap_put_u32(w, 1);
    g_assert_false(vireo_snap_end_section(w, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_cmpuint(vireo_snap_writer_size(w), ==, 16); /* the header went out */
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/snap/crc32c/check-values", test_crc32c_check_values);
    g_test_add_func("/engine/snap/crc32c/random", test_crc32c_random);
    g_test_add_func("/engine/snap/round-trip", test_round_trip);
    g_test_add_func("/engine/snap/sticky-error", test_sticky_error);
    g_test_add_func("/engine/snap/strings", test_strings);
    g_test_add_func("/engine/snap/parse-errors", test_parse_errors);
    g_test_add_func("/engine/snap/write-error", test_write_error);
    return g_test_run();
}
