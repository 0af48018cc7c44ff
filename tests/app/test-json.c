/* SPDX-License-Identifier: GPL-3.0-or-later */
/* QMP's JSON (app/vireo-json.c): parsing hostile text, writing ASCII, and
 * cutting a byte stream into values. */
#include "vireo-json.h"

#include <string.h>

#include "engine/error.h"

static VireoJson *parse_ok(const char *text)
{
    g_autoptr(GError) error = NULL;
    VireoJson *v = vireo_json_parse(text, strlen(text), &error);

    g_assert_no_error(error);
    g_assert_nonnull(v);
    return v;
}

/* Parses `text` (of `len` bytes, or its strlen with -1) expecting an error
 * whose message contains `part`. */
static void parse_fails(const char *text, gssize len, const char *part)
{
    g_autoptr(GError) error = NULL;
    VireoJson *v = vireo_json_parse(text, len < 0 ? strlen(text) : (size_t)len, &error);

    if (v != NULL) {
        g_autofree char *s = vireo_json_to_string(v);
        g_error("“%s” parsed as %s", text, s);
    }
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    if (strstr(error->message, part) == NULL) {
        g_error("“%.60s”: “%s” lacks “%s”", text, error->message, part);
    }
}

static char *round_trip(const char *text)
{
    g_autoptr(VireoJson) v = parse_ok(text);
    return vireo_json_to_string(v);
}

static void test_values(void)
{
    g_autoptr(VireoJson) v =
        parse_ok(" {\"a\": [1, -2, 3.5, true, false, null], 'b': 'it\\'s', \"c\": {}} ");
    VireoJson *a = vireo_json_object_get(v, "a");
    size_t len;

    g_assert_cmpint(vireo_json_type(v), ==, VIREO_JSON_OBJECT);
    g_assert_cmpuint(vireo_json_length(v), ==, 3);
    g_assert_cmpint(vireo_json_type(a), ==, VIREO_JSON_ARRAY);
    g_assert_cmpuint(vireo_json_length(a), ==, 6);
    g_assert_cmpint(vireo_json_get_int(vireo_json_array_get(a, 0)), ==, 1);
    g_assert_cmpint(vireo_json_get_int(vireo_json_array_get(a, 1)), ==, -2);
    g_assert_cmpfloat(vireo_json_get_double(vireo_json_array_get(a, 2)), ==, 3.5);
    g_assert_true(vireo_json_get_bool(vireo_json_array_get(a, 3)));
    g_assert_false(vireo_json_get_bool(vireo_json_array_get(a, 4)));
    g_assert_cmpint(vireo_json_type(vireo_json_array_get(a, 5)), ==, VIREO_JSON_NULL);
    g_assert_null(vireo_json_array_get(a, 6));
    g_assert_cmpstr(vireo_json_get_string(vireo_json_object_get(v, "b"), &len), ==, "it's");
    g_assert_cmpuint(len, ==, 4);
    g_assert_true(vireo_json_string_equal(vireo_json_object_get(v, "b"), "it's"));
    g_assert_false(vireo_json_string_equal(vireo_json_object_get(v, "b"), "it"));
    g_assert_null(vireo_json_object_get(v, "d"));
    g_assert_cmpstr(vireo_json_object_key(v, 2, NULL), ==, "c");
    g_assert_null(vireo_json_object_key(v, 3, NULL));
}

static void test_numbers(void)
{
    g_autoptr(VireoJson) v = parse_ok("[9223372036854775807, -9223372036854775808, "
                                      "18446744073709551615, 18446744073709551616, "
                                      "-9223372036854775809, 1e3, -0, 0.5e-2, 1E+2]");

    g_assert_cmpint(vireo_json_get_int(vireo_json_array_get(v, 0)), ==, G_MAXINT64);
    g_assert_cmpint(vireo_json_get_int(vireo_json_array_get(v, 1)), ==, G_MININT64);
    g_assert_cmpint(vireo_json_type(vireo_json_array_get(v, 2)), ==, VIREO_JSON_UINT);
    g_assert_cmpuint(vireo_json_get_uint(vireo_json_array_get(v, 2)), ==, G_MAXUINT64);
    /* Beyond 64 bits: doubles, never wrapped. */
    g_assert_cmpint(vireo_json_type(vireo_json_array_get(v, 3)), ==, VIREO_JSON_DOUBLE);
    g_assert_cmpfloat(vireo_json_get_double(vireo_json_array_get(v, 3)), ==,
                      18446744073709551616.0);
    g_assert_cmpfloat(vireo_json_get_double(vireo_json_array_get(v, 4)), <, -9.2e18);
    g_assert_cmpfloat(vireo_json_get_double(vireo_json_array_get(v, 5)), ==, 1000.0);
    g_assert_cmpint(vireo_json_get_int(vireo_json_array_get(v, 6)), ==, 0);
    g_assert_cmpfloat(vireo_json_get_double(vireo_json_array_get(v, 7)), ==, 0.005);
    g_assert_cmpfloat(vireo_json_get_double(vireo_json_array_get(v, 8)), ==, 100.0);

    parse_fails("[01]", -1, "leading zero");
    parse_fails("[1.]", -1, "decimal point");
    parse_fails("[1e]", -1, "exponent");
    parse_fails("[-]", -1, "without digits");
    parse_fails("[+1]", -1, "invalid keyword '+1'");
    parse_fails("[0x10]", -1, "followed by 'x'");
    parse_fails("[1.5.5]", -1, "followed by '.'");
    parse_fails("[NaN]", -1, "invalid keyword 'NaN'");
    parse_fails("[Infinity]", -1, "invalid keyword");
    parse_fails("[1e400]", -1, "out of range");
    parse_fails("[-1e400]", -1, "out of range");
    g_autofree char *digits = g_strnfill(5000, '9');
    g_autofree char *huge = g_strdup_printf("[%s]", digits);
    parse_fails(huge, -1, "out of range");
}

static void test_strings(void)
{
    g_autoptr(VireoJson) v = parse_ok("[\"a\\u0000b\", \"\\ud83d\\ude00\", \"\\u00e9\\n\\t\\/\", "
                                      "\"é\", \"\\\"\", '\"']");
    size_t len;
    const char *s = vireo_json_get_string(vireo_json_array_get(v, 0), &len);

    g_assert_cmpuint(len, ==, 3);
    g_assert_cmpmem(s, 3, "a\0b", 3);
    g_assert_false(vireo_json_string_equal(vireo_json_array_get(v, 0), "a"));
    g_assert_cmpstr(vireo_json_get_string(vireo_json_array_get(v, 1), NULL), ==, "😀");
    g_assert_cmpstr(vireo_json_get_string(vireo_json_array_get(v, 2), NULL), ==, "é\n\t/");
    g_assert_cmpstr(vireo_json_get_string(vireo_json_array_get(v, 3), NULL), ==, "é");
    g_assert_cmpstr(vireo_json_get_string(vireo_json_array_get(v, 4), NULL), ==, "\"");
    g_assert_cmpstr(vireo_json_get_string(vireo_json_array_get(v, 5), NULL), ==, "\"");

    parse_fails("[\"abc", -1, "unterminated");
    parse_fails("[\"abc\\", -1, "unterminated");
    parse_fails("['abc\"]", -1, "unterminated");
    parse_fails("[\"a\x01z\"]", -1, "control character 0x01");
    parse_fails("[\"a\nz\"]", -1, "control character 0x0a");
    parse_fails("[\"\\x\"]", -1, "invalid escape");
    parse_fails("[\"\\u12\"]", -1, "four hexadecimal digits");
    parse_fails("[\"\\ud800\"]", -1, "\\ud800 is not a valid Unicode character");
    parse_fails("[\"\\udc00\"]", -1, "not a valid Unicode character");
    parse_fails("[\"\\ud800\\u0041\"]", -1, "not a valid Unicode character");
    /* Not UTF-8: a stray continuation byte, overlong forms, an encoded
     * surrogate, beyond U+10FFFF, a cut sequence, bytes never in UTF-8. */
    static const char *const bad[] = {
        "[\"\x80\"]",
        "[\"\xc0\x80\"]",
        "[\"\xe0\x80\x80\"]",
        "[\"\xed\xa0\x80\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"\xe2\x82\"]",
        "[\"\xf8\x88\x80\x80\x80\"]",
        "[\"\xfe\"]",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        parse_fails(bad[i], -1, "invalid UTF-8");
    }
    /* A NUL byte in the text is not a string's character either. */
    parse_fails("[\"a\0b\"]", 7, "control character 0x00");
}

static void test_structure(void)
{
    parse_fails("", -1, "expecting value");
    parse_fails("   ", -1, "expecting value");
    parse_fails("[1,]", -1, "unexpected ']'");
    parse_fails("[1 2]", -1, "expecting ',' or ']'");
    parse_fails("{\"a\" 1}", -1, "expecting ':'");
    parse_fails("{\"a\": 1,}", -1, "expecting a string");
    parse_fails("{a: 1}", -1, "expecting a string");
    parse_fails("{\"a\": 1 \"b\": 2}", -1, "expecting ',' or '}'");
    parse_fails("{} {}", -1, "after the value");
    parse_fails("[1] x", -1, "after the value");
    parse_fails("[1 /* c */]", -1, "expecting ',' or ']'");
    parse_fails("[True]", -1, "invalid keyword 'True'");
    parse_fails("[nulll]", -1, "invalid keyword 'nulll'");
    parse_fails("{\"a\": 1, \"a\": 2}", -1, "duplicate key 'a'");
    parse_fails("{\"a\\u0000\": 1, \"a\\u0000\": 2}", -1, "duplicate key");

    /* Keys that differ only after a NUL are two keys. */
    g_autoptr(VireoJson) nul = parse_ok("{\"a\\u0000b\": 1, \"a\\u0000c\": 2, \"a\": 3}");
    g_assert_cmpuint(vireo_json_length(nul), ==, 3);

    /* A large object finds its repeated key through the hash table. */
    g_autoptr(GString) big = g_string_new("{");
    for (int i = 0; i < 1000; i++) {
        g_string_append_printf(big, "%s\"k%d\": %d", i ? ", " : "", i, i);
    }
    g_string_append(big, "}");
    g_autoptr(VireoJson) ok = parse_ok(big->str);
    g_assert_cmpuint(vireo_json_length(ok), ==, 1000);
    g_assert_cmpint(vireo_json_get_int(vireo_json_object_get(ok, "k999")), ==, 999);
    g_string_truncate(big, big->len - 1);
    g_string_append(big, ", \"k500\": 0}");
    parse_fails(big->str, -1, "duplicate key 'k500'");
}

static char *nested(int depth)
{
    GString *s = g_string_new(NULL);

    for (int i = 0; i < depth; i++) {
        g_string_append_c(s, '[');
    }
    for (int i = 0; i < depth; i++) {
        g_string_append_c(s, ']');
    }
    return g_string_free(s, FALSE);
}

static void test_depth(void)
{
    g_autofree char *ok = nested(VIREO_JSON_MAX_DEPTH);
    g_autofree char *deep = nested(VIREO_JSON_MAX_DEPTH + 1);
    g_autofree char *deeper = nested(200000);
    g_autoptr(VireoJson) v = parse_ok(ok);
    g_autofree char *again = vireo_json_to_string(v);

    g_assert_cmpstr(again, ==, ok);
    parse_fails(deep, -1, "JSON nesting depth limit exceeded");
    /* Far deeper than the stack would allow: refused at the limit. */
    parse_fails(deeper, -1, "JSON nesting depth limit exceeded");
    deeper[100000] = '\0';
    parse_fails(deeper, -1, "JSON nesting depth limit exceeded");
}

static void test_write(void)
{
    g_autoptr(VireoJson) o = vireo_json_new_object();
    g_autoptr(VireoJson) copy = NULL;
    g_autofree char *text = NULL;
    g_autofree char *text2 = NULL;
    VireoJson *a = vireo_json_new_array();

    vireo_json_array_add(a, vireo_json_new_int(-5));
    vireo_json_array_add(a, vireo_json_new_double(1.5));
    vireo_json_array_add(a, vireo_json_new_double(0.1));
    vireo_json_array_add(a, vireo_json_new_double(1.0 / 0.0));
    vireo_json_array_add(a, vireo_json_new_bool(true));
    vireo_json_array_add(a, vireo_json_new_null());
    vireo_json_object_set(o, "list", a);
    vireo_json_object_set(o, "text", vireo_json_new_string("é\"\\\x01\x7f\n😀"));
    vireo_json_object_set(o, "bad", vireo_json_new_string_len("a\xff\xc3z\0b", 6));
    vireo_json_object_set(o, "empty", vireo_json_new_object());
    vireo_json_object_set(o, "x", vireo_json_new_int(1));
    vireo_json_object_set(o, "x", vireo_json_new_int(2)); /* replaced */
    text = vireo_json_to_string(o);
    g_assert_cmpstr(text, ==,
                    "{\"list\": [-5, 1.5, 0.10000000000000001, null, true, null], "
                    "\"text\": \"\\u00E9\\\"\\\\\\u0001\\u007F\\n\\uD83D\\uDE00\", "
                    "\"bad\": \"a\\uFFFD\\uFFFDz\\u0000b\", \"empty\": {}, \"x\": 2}");
    for (const char *p = text; *p; p++) {
        g_assert_cmpint((guint8)*p, <, 0x80);
    }
    /* What is written parses back to the same text. */
    copy = vireo_json_copy(o);
    text2 = round_trip(text);
    g_assert_cmpstr(text2, ==, text);
    g_free(text2);
    text2 = vireo_json_to_string(copy);
    g_assert_cmpstr(text2, ==, text);
    g_free(text2);
    text2 = round_trip("[18446744073709551615, -0.0, 1e300, \"\\u0000\"]");
    g_assert_cmpstr(text2, ==, "[18446744073709551615, -0, 1.0000000000000001e+300, \"\\u0000\"]");
}

/* ---- the stream ---- */

typedef struct {
    GPtrArray *got; /* "value text" or "error: message" */
} Collect;

static void collect(void *opaque, VireoJson *value, const GError *error)
{
    Collect *c = opaque;

    g_assert_true((value == NULL) != (error == NULL));
    if (value != NULL) {
        g_ptr_array_add(c->got, vireo_json_to_string(value));
        vireo_json_free(value);
    } else {
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
        g_ptr_array_add(c->got, g_strdup_printf("error: %s", error->message));
    }
}

/* Feeds `text` in pieces of `piece` bytes (0: at once) and checks the
 * results, NULL-terminated. */
static void stream_check(size_t max, const char *text, size_t len, size_t piece, ...)
{
    Collect c = { g_ptr_array_new_with_free_func(g_free) };
    VireoJsonStream *s = vireo_json_stream_new(max, collect, &c);
    va_list ap;
    guint i = 0;

    if (piece == 0) {
        piece = len;
    }
    for (size_t at = 0; at < len; at += piece) {
        vireo_json_stream_feed(s, text + at, MIN(piece, len - at));
    }
    va_start(ap, piece);
    for (const char *want; (want = va_arg(ap, const char *)) != NULL; i++) {
        if (i >= c.got->len) {
            g_error("missing result %u: %s", i, want);
        }
        if (!g_str_has_prefix(g_ptr_array_index(c.got, i), want)) {
            g_error("result %u: “%s”, expected “%s”", i, (char *)g_ptr_array_index(c.got, i), want);
        }
    }
    va_end(ap);
    if (i != c.got->len) {
        g_error("%u results, expected %u; the next is “%s”", c.got->len, i,
                (char *)g_ptr_array_index(c.got, i));
    }
    vireo_json_stream_free(s);
    g_ptr_array_free(c.got, TRUE);
}

/* CHECK(max, text, piece, results...) */
#define CHECK(max, text, ...) stream_check(max, text, sizeof(text) - 1, __VA_ARGS__, NULL)

static void test_stream(void)
{
    for (size_t piece = 0; piece <= 3; piece++) {
        /* Several values in one piece and one value over many. */
        CHECK(4096, "{\"a\": 1}{\"b\": [2, \"}\"]}\r\n  [3] ", piece, "{\"a\": 1}",
              "{\"b\": [2, \"}\"]}", "[3]");
        /* Top-level strings and bare words end where they end. */
        CHECK(4096, "\"s\\\"}\" 'q' 42 true{} x", piece, "\"s\\\"}\"", "\"q\"", "42", "true", "{}");
        CHECK(4096, "42", piece);
        CHECK(4096, "nope[1]", piece, "error: JSON parse error, invalid keyword 'nope'", "[1]");
        /* Strays, malformed values, and what follows them. */
        CHECK(4096, "}]{\"a\" 1}[2]", piece, "error: JSON parse error, unexpected '}'",
              "error: JSON parse error, unexpected ']'", "error: JSON parse error, expecting ':'",
              "[2]");
        CHECK(4096, "{\"a\": [}]", piece, "error: JSON parse error, unexpected '}'");
        /* 0xFF drops what is pending. */
        CHECK(4096, "{\"a\": \"x\xff[5]", piece, "[5]");
        CHECK(4096, "{\"a\": [1,\xff{}", piece, "{}");
    }
    /* A value over the size limit: one error at once, its bytes skipped,
     * and the next value served. */
    CHECK(16, "{\"a\": \"0123456789abcdef\"}{\"b\": 1}", 1,
          "error: JSON input too large: a value longer than 16 bytes", "{\"b\": 1}");
    CHECK(16, "123456789012345678901234 [1]", 0, "error: JSON input too large", "[1]");
    /* Braces inside a skipped value's strings do not end it. */
    CHECK(8, "[\"}}}}]]]]]]]]]\", 1] [2]", 0, "error: JSON input too large", "[2]");

    /* Nesting over the limit: one error, then the next value. */
    {
        g_autofree char *deep = nested(VIREO_JSON_MAX_DEPTH + 1);
        g_autofree char *ok = nested(VIREO_JSON_MAX_DEPTH);
        g_autofree char *both = g_strconcat(deep, ok, "[7]", NULL);
        g_autofree char *ok_text = g_strdup(ok);

        stream_check(1 << 20, both, strlen(both), 0, "error: JSON nesting depth limit exceeded",
                     ok_text, "[7]", NULL);
        stream_check(1 << 20, both, strlen(both), 7, "error: JSON nesting depth limit exceeded",
                     ok_text, "[7]", NULL);
    }
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json/values", test_values);
    g_test_add_func("/json/numbers", test_numbers);
    g_test_add_func("/json/strings", test_strings);
    g_test_add_func("/json/structure", test_structure);
    g_test_add_func("/json/depth", test_depth);
    g_test_add_func("/json/write", test_write);
    g_test_add_func("/json/stream", test_stream);
    return g_test_run();
}
