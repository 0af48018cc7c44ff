/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * QMP's JSON: a recursive-descent parser over a complete value, a writer, and
 * a stream that finds where values end. The parser trusts nothing: every
 * read is bounded by the end of the text, nesting by VIREO_JSON_MAX_DEPTH.
 */
#include "vireo-json.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "engine/error.h"

typedef struct {
    char *key;
    size_t key_len;
    VireoJson *value;
} Member;

struct VireoJson {
    VireoJsonType type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        struct {
            char *data;
            size_t len;
        } str;
        GPtrArray *items; /* VireoJson */
        GArray *members;  /* Member */
    };
};

/* ---- values ---- */

static VireoJson *new_value(VireoJsonType type)
{
    VireoJson *v = g_new0(VireoJson, 1);
    v->type = type;
    return v;
}

static void member_clear(gpointer data)
{
    Member *m = data;

    g_free(m->key);
    vireo_json_free(m->value);
}

VireoJson *vireo_json_new_null(void)
{
    return new_value(VIREO_JSON_NULL);
}

VireoJson *vireo_json_new_bool(bool b)
{
    VireoJson *v = new_value(VIREO_JSON_BOOL);
    v->b = b;
    return v;
}

VireoJson *vireo_json_new_int(int64_t i)
{
    VireoJson *v = new_value(VIREO_JSON_INT);
    v->i = i;
    return v;
}

static VireoJson *new_uint(uint64_t u)
{
    VireoJson *v;

    if (u <= INT64_MAX) {
        return vireo_json_new_int((int64_t)u);
    }
    v = new_value(VIREO_JSON_UINT);
    v->u = u;
    return v;
}

VireoJson *vireo_json_new_double(double d)
{
    VireoJson *v = new_value(VIREO_JSON_DOUBLE);
    v->d = d;
    return v;
}

VireoJson *vireo_json_new_string_len(const char *text, size_t len)
{
    VireoJson *v = new_value(VIREO_JSON_STRING);

    v->str.data = g_malloc(len + 1);
    memcpy(v->str.data, text, len);
    v->str.data[len] = '\0';
    v->str.len = len;
    return v;
}

VireoJson *vireo_json_new_string(const char *text)
{
    return vireo_json_new_string_len(text, strlen(text));
}

/* Takes `data`, which holds `len` bytes and a NUL after them. */
static VireoJson *new_string_take(char *data, size_t len)
{
    VireoJson *v = new_value(VIREO_JSON_STRING);
    v->str.data = data;
    v->str.len = len;
    return v;
}

VireoJson *vireo_json_new_array(void)
{
    VireoJson *v = new_value(VIREO_JSON_ARRAY);
    v->items = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_json_free);
    return v;
}

VireoJson *vireo_json_new_object(void)
{
    VireoJson *v = new_value(VIREO_JSON_OBJECT);
    v->members = g_array_new(FALSE, FALSE, sizeof(Member));
    g_array_set_clear_func(v->members, member_clear);
    return v;
}

void vireo_json_free(VireoJson *value)
{
    if (value == NULL) {
        return;
    }
    switch (value->type) {
    case VIREO_JSON_STRING: g_free(value->str.data); break;
    case VIREO_JSON_ARRAY: g_ptr_array_free(value->items, TRUE); break;
    case VIREO_JSON_OBJECT: g_array_free(value->members, TRUE); break;
    default: break;
    }
    g_free(value);
}

VireoJson *vireo_json_copy(const VireoJson *value)
{
    VireoJson *c;

    switch (value->type) {
    case VIREO_JSON_STRING: return vireo_json_new_string_len(value->str.data, value->str.len);
    case VIREO_JSON_ARRAY:
        c = vireo_json_new_array();
        for (guint i = 0; i < value->items->len; i++) {
            vireo_json_array_add(c, vireo_json_copy(g_ptr_array_index(value->items, i)));
        }
        return c;
    case VIREO_JSON_OBJECT:
        c = vireo_json_new_object();
        for (guint i = 0; i < value->members->len; i++) {
            const Member *m = &g_array_index(value->members, Member, i);
            Member n = { g_memdup2(m->key, m->key_len + 1), m->key_len, vireo_json_copy(m->value) };
            g_array_append_val(c->members, n);
        }
        return c;
    default:
        c = new_value(value->type);
        *c = *value;
        return c;
    }
}

VireoJsonType vireo_json_type(const VireoJson *value)
{
    return value->type;
}

bool vireo_json_get_bool(const VireoJson *value)
{
    g_return_val_if_fail(value->type == VIREO_JSON_BOOL, false);
    return value->b;
}

int64_t vireo_json_get_int(const VireoJson *value)
{
    g_return_val_if_fail(value->type == VIREO_JSON_INT, 0);
    return value->i;
}

uint64_t vireo_json_get_uint(const VireoJson *value)
{
    g_return_val_if_fail(value->type == VIREO_JSON_UINT, 0);
    return value->u;
}

double vireo_json_get_double(const VireoJson *value)
{
    g_return_val_if_fail(value->type == VIREO_JSON_DOUBLE, 0.0);
    return value->d;
}

const char *vireo_json_get_string(const VireoJson *value, size_t *len)
{
    g_return_val_if_fail(value->type == VIREO_JSON_STRING, NULL);
    if (len != NULL) {
        *len = value->str.len;
    }
    return value->str.data;
}

bool vireo_json_string_equal(const VireoJson *value, const char *text)
{
    return value->type == VIREO_JSON_STRING && value->str.len == strlen(text) &&
           memcmp(value->str.data, text, value->str.len) == 0;
}

size_t vireo_json_length(const VireoJson *value)
{
    switch (value->type) {
    case VIREO_JSON_ARRAY: return value->items->len;
    case VIREO_JSON_OBJECT: return value->members->len;
    default: return 0;
    }
}

VireoJson *vireo_json_array_get(const VireoJson *array, size_t index)
{
    g_return_val_if_fail(array->type == VIREO_JSON_ARRAY, NULL);
    return index < array->items->len ? g_ptr_array_index(array->items, index) : NULL;
}

const char *vireo_json_object_key(const VireoJson *object, size_t index, size_t *len)
{
    const Member *m;

    g_return_val_if_fail(object->type == VIREO_JSON_OBJECT, NULL);
    if (index >= object->members->len) {
        return NULL;
    }
    m = &g_array_index(object->members, Member, index);
    if (len != NULL) {
        *len = m->key_len;
    }
    return m->key;
}

VireoJson *vireo_json_object_value(const VireoJson *object, size_t index)
{
    g_return_val_if_fail(object->type == VIREO_JSON_OBJECT, NULL);
    return index < object->members->len ? g_array_index(object->members, Member, index).value
                                        : NULL;
}

static Member *find_member(const VireoJson *object, const char *key, size_t len)
{
    for (guint i = 0; i < object->members->len; i++) {
        Member *m = &g_array_index(object->members, Member, i);
        if (m->key_len == len && memcmp(m->key, key, len) == 0) {
            return m;
        }
    }
    return NULL;
}

VireoJson *vireo_json_object_get(const VireoJson *object, const char *key)
{
    Member *m;

    g_return_val_if_fail(object->type == VIREO_JSON_OBJECT, NULL);
    m = find_member(object, key, strlen(key));
    return m != NULL ? m->value : NULL;
}

void vireo_json_array_add(VireoJson *array, VireoJson *item)
{
    g_return_if_fail(array->type == VIREO_JSON_ARRAY);
    g_ptr_array_add(array->items, item);
}

void vireo_json_object_set(VireoJson *object, const char *key, VireoJson *value)
{
    Member *m, n;

    g_return_if_fail(object->type == VIREO_JSON_OBJECT);
    m = find_member(object, key, strlen(key));
    if (m != NULL) {
        vireo_json_free(m->value);
        m->value = value;
        return;
    }
    n = (Member){ g_strdup(key), strlen(key), value };
    g_array_append_val(object->members, n);
}

/* ---- UTF-8 ---- */

/* The code point of the UTF-8 sequence at `p` (before `end`), with its length
 * in `len`; -1 for a byte that starts no valid sequence (a stray continuation
 * byte, an overlong form, a surrogate, beyond U+10FFFF, cut short). */
static gint32 utf8_decode(const guint8 *p, const guint8 *end, int *len)
{
    guint8 c = p[0];
    gint32 cp, min;
    int n;

    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (end - p < n) {
        return -1;
    }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }
    *len = n;
    return cp;
}

static void utf8_append(GString *s, gunichar cp)
{
    char buf[6];
    g_string_append_len(s, buf, g_unichar_to_utf8(cp, buf));
}

/* ---- parsing ---- */

typedef struct {
    const char *p, *end;
    unsigned depth;
    GError **error;
} Parser;

static VireoJson *parse_value(Parser *ps);

static VireoJson *parse_fail(Parser *ps, const char *format, ...) G_GNUC_PRINTF(2, 3);

static VireoJson *parse_fail(Parser *ps, const char *format, ...)
{
    va_list ap;
    g_autofree char *detail = NULL;

    va_start(ap, format);
    detail = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error(ps->error, VIREO_ERROR, VIREO_ERROR_FORMAT, "JSON parse error, %s", detail);
    return NULL;
}

/* A byte for a message: the character when it is printable ASCII, its code
 * otherwise. */
static const char *show_byte(char c, char buf[8])
{
    guint8 b = (guint8)c;

    if (b >= 0x20 && b < 0x7f && b != '\'') {
        g_snprintf(buf, 8, "'%c'", b);
    } else {
        g_snprintf(buf, 8, "0x%02x", b);
    }
    return buf;
}

static void skip_space(Parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static int hex4(const char *p, const char *end)
{
    int v = 0;

    if (end - p < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        int d = g_ascii_xdigit_value(p[i]);
        if (d < 0) {
            return -1;
        }
        v = v << 4 | d;
    }
    return v;
}

/* A string from its opening quote; returns the bytes (NUL-terminated) and
 * their count, or NULL. */
static char *parse_string_raw(Parser *ps, size_t *len)
{
    char quote = *ps->p++;
    g_autoptr(GString) s = g_string_new(NULL);

    for (;;) {
        guint8 c;

        if (ps->p >= ps->end) {
            parse_fail(ps, "unterminated string");
            return NULL;
        }
        c = (guint8)*ps->p;
        if (c == (guint8)quote) {
            ps->p++;
            break;
        }
        if (c < 0x20) {
            parse_fail(ps, "control character 0x%02x in a string (write it as \\u%04x)", c, c);
            return NULL;
        }
        if (c >= 0x80) {
            int n;
            if (utf8_decode((const guint8 *)ps->p, (const guint8 *)ps->end, &n) < 0) {
                parse_fail(ps, "invalid UTF-8 sequence in a string");
                return NULL;
            }
            g_string_append_len(s, ps->p, n);
            ps->p += n;
            continue;
        }
        if (c != '\\') {
            g_string_append_c(s, (char)c);
            ps->p++;
            continue;
        }
        if (ps->end - ps->p < 2) {
            parse_fail(ps, "unterminated string");
            return NULL;
        }
        c = (guint8)ps->p[1];
        ps->p += 2;
        switch (c) {
        case '"': g_string_append_c(s, '"'); break;
        case '\'': g_string_append_c(s, '\''); break;
        case '\\': g_string_append_c(s, '\\'); break;
        case '/': g_string_append_c(s, '/'); break;
        case 'b': g_string_append_c(s, '\b'); break;
        case 'f': g_string_append_c(s, '\f'); break;
        case 'n': g_string_append_c(s, '\n'); break;
        case 'r': g_string_append_c(s, '\r'); break;
        case 't': g_string_append_c(s, '\t'); break;
        case 'u': {
            int cp = hex4(ps->p, ps->end), lo;

            if (cp < 0) {
                parse_fail(ps, "\\u needs four hexadecimal digits");
                return NULL;
            }
            ps->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u' && (lo = hex4(ps->p + 2, ps->end)) >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                ps->p += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                parse_fail(ps, "\\u%04x is not a valid Unicode character (a lone surrogate)",
                           (unsigned)cp);
                return NULL;
            }
            if (cp == 0) {
                g_string_append_c(s, '\0');
            } else {
                utf8_append(s, (gunichar)cp);
            }
            break;
        }
        default: {
            char b[8];
            parse_fail(ps, "invalid escape \\ followed by %s", show_byte((char)c, b));
            return NULL;
        }
        }
    }
    *len = s->len;
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static VireoJson *parse_string(Parser *ps)
{
    size_t len;
    char *data = parse_string_raw(ps, &len);

    return data != NULL ? new_string_take(data, len) : NULL;
}

static bool is_word_char(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '-' || c == '+' || c == '.';
}

static VireoJson *parse_number(Parser *ps)
{
    const char *start = ps->p, *p = ps->p;
    bool integer = true;
    g_autofree char *text = NULL;
    char *end;

    if (p < ps->end && *p == '-') {
        p++;
    }
    if (p >= ps->end || !g_ascii_isdigit(*p)) {
        return parse_fail(ps, "'-' without digits");
    }
    if (*p == '0' && p + 1 < ps->end && g_ascii_isdigit(p[1])) {
        return parse_fail(ps, "a number has a leading zero");
    }
    while (p < ps->end && g_ascii_isdigit(*p)) {
        p++;
    }
    if (p < ps->end && *p == '.') {
        integer = false;
        p++;
        if (p >= ps->end || !g_ascii_isdigit(*p)) {
            return parse_fail(ps, "a number has no digit after its decimal point");
        }
        while (p < ps->end && g_ascii_isdigit(*p)) {
            p++;
        }
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        integer = false;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= ps->end || !g_ascii_isdigit(*p)) {
            return parse_fail(ps, "a number has no digit in its exponent");
        }
        while (p < ps->end && g_ascii_isdigit(*p)) {
            p++;
        }
    }
    if (p < ps->end && is_word_char(*p)) {
        char b[8];
        return parse_fail(ps, "a number is followed by %s", show_byte(*p, b));
    }
    ps->p = p;
    text = g_strndup(start, (gsize)(p - start));
    if (integer) {
        gint64 i;
        guint64 u;

        errno = 0;
        i = g_ascii_strtoll(text, &end, 10);
        if (errno == 0) {
            return vireo_json_new_int(i);
        }
        if (text[0] != '-') {
            errno = 0;
            u = g_ascii_strtoull(text, &end, 10);
            if (errno == 0) {
                return new_uint(u);
            }
        }
    }
    /* Too large for 64 bits, or with a fraction or an exponent. */
    double d = g_ascii_strtod(text, &end);
    if (!isfinite(d)) {
        ps->p = start;
        return parse_fail(ps, "the number %.40s%s is out of range", text,
                          strlen(text) > 40 ? "…" : "");
    }
    return vireo_json_new_double(d);
}

static VireoJson *parse_word(Parser *ps)
{
    static const struct {
        const char *word;
        VireoJsonType type;
        bool b;
    } words[] = {
        { "true", VIREO_JSON_BOOL, true },
        { "false", VIREO_JSON_BOOL, false },
        { "null", VIREO_JSON_NULL, false },
    };
    const char *p = ps->p;
    size_t n = 0;

    while (p + n < ps->end && is_word_char(p[n])) {
        n++;
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(words); i++) {
        if (n == strlen(words[i].word) && memcmp(p, words[i].word, n) == 0) {
            ps->p += n;
            return words[i].type == VIREO_JSON_BOOL ? vireo_json_new_bool(words[i].b)
                                                    : vireo_json_new_null();
        }
    }
    if (n == 0) {
        char b[8];
        return parse_fail(ps, "unexpected %s", show_byte(*p, b));
    }
    return parse_fail(ps, "invalid keyword '%.*s%s'", (int)MIN(n, 40), p, n > 40 ? "…" : "");
}

static bool enter(Parser *ps)
{
    if (++ps->depth > VIREO_JSON_MAX_DEPTH) {
        g_set_error(ps->error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "JSON nesting depth limit exceeded");
        return false;
    }
    return true;
}

static VireoJson *parse_array(Parser *ps)
{
    g_autoptr(VireoJson) a = NULL;

    if (!enter(ps)) {
        return NULL;
    }
    a = vireo_json_new_array();
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        ps->depth--;
        return g_steal_pointer(&a);
    }
    for (;;) {
        VireoJson *item = parse_value(ps);

        if (item == NULL) {
            return NULL;
        }
        vireo_json_array_add(a, item);
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            ps->depth--;
            return g_steal_pointer(&a);
        }
        return parse_fail(ps, "expecting ',' or ']' in an array");
    }
}

/* Keys of a large object, to find a repeated one without comparing every
 * pair: "len:bytes" strings, so that keys holding NUL stay apart. */
static char *key_id(const char *key, size_t len)
{
    GString *s = g_string_new(NULL);

    g_string_printf(s, "%zu:", len);
    g_string_append_len(s, key, (gssize)len);
    return g_string_free(s, FALSE);
}

#define SMALL_OBJECT 16

static VireoJson *parse_object(Parser *ps)
{
    g_autoptr(VireoJson) o = NULL;
    g_autoptr(GHashTable) keys = NULL;

    if (!enter(ps)) {
        return NULL;
    }
    o = vireo_json_new_object();
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        ps->depth--;
        return g_steal_pointer(&o);
    }
    for (;;) {
        Member m;
        bool repeated;

        if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\'')) {
            return parse_fail(ps, "expecting a string as an object's key");
        }
        m.key = parse_string_raw(ps, &m.key_len);
        if (m.key == NULL) {
            return NULL;
        }
        if (keys != NULL) {
            repeated = !g_hash_table_add(keys, key_id(m.key, m.key_len));
        } else {
            repeated = find_member(o, m.key, m.key_len) != NULL;
        }
        if (repeated) {
            VireoJson *fail =
                parse_fail(ps, "duplicate key '%.40s%s'", m.key, strlen(m.key) > 40 ? "…" : "");
            g_free(m.key);
            return fail;
        }
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            g_free(m.key);
            return parse_fail(ps, "expecting ':' after an object's key");
        }
        ps->p++;
        m.value = parse_value(ps);
        if (m.value == NULL) {
            g_free(m.key);
            return NULL;
        }
        g_array_append_val(o->members, m);
        if (keys == NULL && o->members->len == SMALL_OBJECT) {
            keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            for (guint i = 0; i < o->members->len; i++) {
                const Member *k = &g_array_index(o->members, Member, i);
                g_hash_table_add(keys, key_id(k->key, k->key_len));
            }
        }
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_space(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            ps->depth--;
            return g_steal_pointer(&o);
        }
        return parse_fail(ps, "expecting ',' or '}' in an object");
    }
}

static VireoJson *parse_value(Parser *ps)
{
    skip_space(ps);
    if (ps->p >= ps->end) {
        return parse_fail(ps, "expecting value");
    }
    switch (*ps->p) {
    case '{': return parse_object(ps);
    case '[': return parse_array(ps);
    case '"':
    case '\'': return parse_string(ps);
    default: return *ps->p == '-' || g_ascii_isdigit(*ps->p) ? parse_number(ps) : parse_word(ps);
    }
}

VireoJson *vireo_json_parse(const char *text, size_t len, GError **error)
{
    Parser ps = { text, text + len, 0, error };
    g_autoptr(VireoJson) v = parse_value(&ps);

    if (v == NULL) {
        return NULL;
    }
    skip_space(&ps);
    if (ps.p < ps.end) {
        char b[8];
        return parse_fail(&ps, "unexpected %s after the value", show_byte(*ps.p, b));
    }
    return g_steal_pointer(&v);
}

/* ---- writing ---- */

static void write_string(GString *out, const char *s, size_t len)
{
    const guint8 *p = (const guint8 *)s, *end = p + len;

    g_string_append_c(out, '"');
    while (p < end) {
        guint8 c = *p;
        gint32 cp;
        int n;

        switch (c) {
        case '"':
            g_string_append(out, "\\\"");
            p++;
            continue;
        case '\\':
            g_string_append(out, "\\\\");
            p++;
            continue;
        case '\b':
            g_string_append(out, "\\b");
            p++;
            continue;
        case '\f':
            g_string_append(out, "\\f");
            p++;
            continue;
        case '\n':
            g_string_append(out, "\\n");
            p++;
            continue;
        case '\r':
            g_string_append(out, "\\r");
            p++;
            continue;
        case '\t':
            g_string_append(out, "\\t");
            p++;
            continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7f) {
            g_string_append_c(out, (char)c);
            p++;
            continue;
        }
        cp = utf8_decode(p, end, &n);
        if (cp < 0) {
            cp = 0xfffd; /* not UTF-8: one replacement character per byte */
            n = 1;
        }
        p += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            g_string_append_printf(out, "\\u%04X\\u%04X", 0xd800 + (cp >> 10),
                                   0xdc00 + (cp & 0x3ff));
        } else {
            g_string_append_printf(out, "\\u%04X", (unsigned)cp);
        }
    }
    g_string_append_c(out, '"');
}

void vireo_json_write(GString *out, const VireoJson *value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    switch (value->type) {
    case VIREO_JSON_NULL: g_string_append(out, "null"); break;
    case VIREO_JSON_BOOL: g_string_append(out, value->b ? "true" : "false"); break;
    case VIREO_JSON_INT: g_string_append_printf(out, "%" G_GINT64_FORMAT, value->i); break;
    case VIREO_JSON_UINT: g_string_append_printf(out, "%" G_GUINT64_FORMAT, value->u); break;
    case VIREO_JSON_DOUBLE:
        if (!isfinite(value->d)) {
            g_string_append(out, "null");
        } else {
            g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.17g", value->d));
        }
        break;
    case VIREO_JSON_STRING: write_string(out, value->str.data, value->str.len); break;
    case VIREO_JSON_ARRAY:
        g_string_append_c(out, '[');
        for (guint i = 0; i < value->items->len; i++) {
            if (i > 0) {
                g_string_append(out, ", ");
            }
            vireo_json_write(out, g_ptr_array_index(value->items, i));
        }
        g_string_append_c(out, ']');
        break;
    case VIREO_JSON_OBJECT:
        g_string_append_c(out, '{');
        for (guint i = 0; i < value->members->len; i++) {
            const Member *m = &g_array_index(value->members, Member, i);
            if (i > 0) {
                g_string_append(out, ", ");
            }
            write_string(out, m->key, m->key_len);
            g_string_append(out, ": ");
            vireo_json_write(out, m->value);
        }
        g_string_append_c(out, '}');
        break;
    }
}

char *vireo_json_to_string(const VireoJson *value)
{
    GString *out = g_string_new(NULL);

    vireo_json_write(out, value);
    return g_string_free(out, FALSE);
}

/* ---- the stream ---- */

typedef enum {
    STREAM_BETWEEN, /* between values: white space is skipped */
    STREAM_VALUE,   /* in an object, an array or a top-level string */
    STREAM_WORD,    /* in a top-level bare word */
} StreamMode;

struct VireoJsonStream {
    size_t max_size;
    VireoJsonStreamFunc func;
    void *opaque;
    GByteArray *buf;
    StreamMode mode;
    guint64 depth; /* of brackets; counted on while skipping */
    char quote;    /* in a string: its quote, else 0 */
    bool escape;   /* in a string, after a backslash */
    bool skipping; /* over a limit: the value's bytes are dropped */
};

VireoJsonStream *vireo_json_stream_new(size_t max_size, VireoJsonStreamFunc func, void *opaque)
{
    VireoJsonStream *s = g_new0(VireoJsonStream, 1);

    s->max_size = max_size;
    s->func = func;
    s->opaque = opaque;
    s->buf = g_byte_array_new();
    return s;
}

void vireo_json_stream_free(VireoJsonStream *stream)
{
    if (stream != NULL) {
        g_byte_array_free(stream->buf, TRUE);
        g_free(stream);
    }
}

static void stream_reset(VireoJsonStream *s)
{
    if (s->buf->len > 65536) {
        /* Give back what a large value took. */
        g_byte_array_free(s->buf, TRUE);
        s->buf = g_byte_array_new();
    } else {
        g_byte_array_set_size(s->buf, 0);
    }
    s->mode = STREAM_BETWEEN;
    s->depth = 0;
    s->quote = 0;
    s->escape = false;
    s->skipping = false;
}

static void stream_error(VireoJsonStream *s, const char *message)
{
    g_autoptr(GError) error = g_error_new_literal(VIREO_ERROR, VIREO_ERROR_FORMAT, message);
    s->func(s->opaque, NULL, error);
}

/* The value in the buffer is complete. */
static void stream_complete(VireoJsonStream *s)
{
    g_autoptr(GError) error = NULL;
    VireoJson *v = NULL;
    bool skipped = s->skipping;

    if (!skipped) {
        v = vireo_json_parse((const char *)s->buf->data, s->buf->len, &error);
    }
    stream_reset(s);
    if (!skipped) {
        s->func(s->opaque, v, error);
    }
}

static void stream_keep(VireoJsonStream *s, guint8 c)
{
    if (s->skipping) {
        return;
    }
    if (s->buf->len >= s->max_size) {
        g_autofree char *message =
            g_strdup_printf("JSON input too large: a value longer than %zu bytes", s->max_size);
        s->skipping = true;
        g_byte_array_set_size(s->buf, 0);
        stream_error(s, message);
        return;
    }
    g_byte_array_append(s->buf, &c, 1);
}

static bool is_space(guint8 c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool ends_word(guint8 c)
{
    return is_space(c) || c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' ||
           c == '"' || c == '\'';
}

void vireo_json_stream_feed(VireoJsonStream *stream, const void *data, size_t len)
{
    VireoJsonStream *s = stream;
    const guint8 *p = data;

    for (size_t i = 0; i < len; i++) {
        guint8 c = p[i];

        if (c == 0xff) {
            stream_reset(s);
            continue;
        }
        switch (s->mode) {
        case STREAM_BETWEEN:
            if (is_space(c)) {
                break;
            }
            if (c == '}' || c == ']' || c == ',' || c == ':') {
                char message[64];
                g_snprintf(message, sizeof message, "JSON parse error, unexpected '%c'", c);
                stream_error(s, message);
                break;
            }
            s->mode = (c == '{' || c == '[' || c == '"' || c == '\'') ? STREAM_VALUE : STREAM_WORD;
            G_GNUC_FALLTHROUGH;
        case STREAM_VALUE:
            stream_keep(s, c);
            if (s->quote != 0) {
                if (s->escape) {
                    s->escape = false;
                } else if (c == '\\') {
                    s->escape = true;
                } else if (c == (guint8)s->quote) {
                    s->quote = 0;
                    if (s->depth == 0) {
                        stream_complete(s); /* a top-level string */
                    }
                }
            } else if (c == '"' || c == '\'') {
                s->quote = (char)c;
            } else if (c == '{' || c == '[') {
                if (++s->depth == VIREO_JSON_MAX_DEPTH + 1 && !s->skipping) {
                    s->skipping = true;
                    g_byte_array_set_size(s->buf, 0);
                    stream_error(s, "JSON nesting depth limit exceeded");
                }
            } else if (c == '}' || c == ']') {
                if (--s->depth == 0) {
                    stream_complete(s);
                }
            }
            break;
        case STREAM_WORD:
            if (ends_word(c)) {
                stream_complete(s);
                i--; /* the byte starts what follows */
                break;
            }
            stream_keep(s, c);
            break;
        }
    }
}
