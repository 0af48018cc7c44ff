/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the software floating point in engine/softfloat.c.
 *
 * On x86-64, every arithmetic operation, conversion and comparison runs
 * against the host's SSE unit in the four rounding modes it has, on operands
 * from a generator biased towards hard cases; results and all five flags must
 * match bit for bit (for a NaN result, ours must be the canonical NaN).
 *
 * Rounding to nearest with ties away from zero (RMM), which the host lacks,
 * is checked against a reference: the operation is evaluated in x87 extended
 * precision (binary128 for the binary64 fused multiply-add) rounded towards
 * zero, with the inexact flag ORed into the last bit ("round to odd"). That
 * value has at least two more bits than the destination and keeps whether it
 * is exact, so rounding it once more to the destination format, done here by
 * ref_round(), gives the correctly rounded result in any mode. The reference
 * is compared in all five modes, so the four the host has also check the
 * reference itself.
 *
 * Float-to-integer conversions, which the host does not saturate as RISC-V
 * does, are checked against nearbyint()/round() and range checks. Hand
 * vectors cover ties in RMM, underflow after rounding, every fclass bit,
 * min/max and the saturating conversions.
 *
 * The operands come from a fixed seed, printed by each test; the
 * VIREO_SOFTFLOAT_SEED environment variable replaces it.
 */
#include "engine/softfloat.h"

#include <glib.h>

#include <fenv.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#define HOST_REFERENCE 1
#else
#define HOST_REFERENCE 0
#endif

typedef unsigned __int128 u128;

enum {
    RNE = VIREO_RM_RNE,
    RTZ = VIREO_RM_RTZ,
    RDN = VIREO_RM_RDN,
    RUP = VIREO_RM_RUP,
    RMM = VIREO_RM_RMM
};
enum {
    NX = VIREO_FFLAG_NX,
    UF = VIREO_FFLAG_UF,
    OF = VIREO_FFLAG_OF,
    DZ = VIREO_FFLAG_DZ,
    NV = VIREO_FFLAG_NV
};

static const char *const mode_names[] = { "RNE", "RTZ", "RDN", "RUP", "RMM" };

/* ---- random numbers ---- */

static guint64 base_seed = 0x5eedf10a7c0ffee5ull;
static guint64 rng_state;

static guint64 rnd(void)
{
    guint64 z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int rnd_below(int n)
{
    return (int)(rnd() % (guint64)n);
}

/* Seeds the generator for one test (and pass), independently of the others. */
static void seed_for(const char *name, int pass)
{
    rng_state = base_seed ^ ((guint64)g_str_hash(name) << 20) ^ (guint64)pass * 0x1000193u;
}

/* ---- formats, as seen by the tests ---- */

typedef struct {
    int frac;       /* fraction bits */
    int emax_field; /* exponent field of infinities and NaNs */
    int bias;
    guint64 sign;
} TestFormat;

static const TestFormat tf16 = { 10, 31, 15, 1ull << 15 };
static const TestFormat tf32 = { 23, 255, 127, 1ull << 31 };
static const TestFormat tf64 = { 52, 2047, 1023, 1ull << 63 };

static guint64 frac_mask(const TestFormat *f)
{
    return (1ull << f->frac) - 1;
}

static int field_of(const TestFormat *f, guint64 v)
{
    return (int)((v >> f->frac) & (guint64)f->emax_field);
}

static bool is_nan_bits(const TestFormat *f, guint64 v)
{
    return field_of(f, v) == f->emax_field && (v & frac_mask(f)) != 0;
}

static bool is_snan_bits(const TestFormat *f, guint64 v)
{
    return is_nan_bits(f, v) && !((v >> (f->frac - 1)) & 1);
}

static guint64 canonical(const TestFormat *f)
{
    return ((guint64)f->emax_field << f->frac) | (1ull << (f->frac - 1));
}

static guint64 inf_bits(const TestFormat *f, bool neg)
{
    return (neg ? f->sign : 0) | ((guint64)f->emax_field << f->frac);
}

/* A value from its biased exponent field (clamped to the finite range; zero
 * and below give subnormals) and fraction. */
static guint64 make_value(const TestFormat *f, bool neg, int field, guint64 frac)
{
    frac &= frac_mask(f);
    if (field >= f->emax_field) {
        field = f->emax_field - 1;
    }
    if (field <= 0) {
        int shift = 1 - field;
        guint64 m = frac | (1ull << f->frac);
        frac = shift >= 64 ? 0 : m >> shift;
        field = 0;
    }
    return (neg ? f->sign : 0) | ((guint64)field << f->frac) | frac;
}

static float f32_from(guint64 v)
{
    guint32 w = (guint32)v;
    float x;
    memcpy(&x, &w, sizeof x);
    return x;
}

static guint64 bits_f32(float x)
{
    guint32 w;
    memcpy(&w, &x, sizeof w);
    return w;
}

/* A binary16 value in extended precision, exactly (a signaling NaN stays
 * signaling, so that arithmetic on it raises invalid). */
static long double ld_from_f16(guint64 v)
{
    int e = (int)((v >> 10) & 31);
    guint64 frac = v & 0x3ff;
    long double x;

    if (e == 31 && frac != 0) {
        /* x87 extended: the integer bit, then the quiet bit. */
        unsigned char raw[sizeof(long double)] = { 0 };
        guint64 mant = (1ull << 63) | ((frac & 0x200) ? 1ull << 62 : 0) | (frac & 0x1ff) | 1;
        guint16 se = (guint16)(0x7fff | ((v >> 15) << 15));
        memcpy(raw, &mant, 8);
        memcpy(raw + 8, &se, 2);
        memcpy(&x, raw, sizeof x);
        return x;
    }
    if (e == 31) {
        x = INFINITY;
    } else if (e == 0) {
        x = ldexpl((long double)frac, -24);
    } else {
        x = ldexpl((long double)(frac | 0x400), e - 25);
    }
    return (v >> 15) & 1 ? -x : x;
}

static double f64_from(guint64 v)
{
    double x;
    memcpy(&x, &v, sizeof x);
    return x;
}

static guint64 bits_f64(double x)
{
    guint64 w;
    memcpy(&w, &x, sizeof w);
    return w;
}

/* ---- operand generators ---- */

/* A fraction: random, short (few leading bits), runs of ones, single bits. */
static guint64 gen_frac(const TestFormat *f)
{
    guint64 m = frac_mask(f);

    switch (rnd_below(7)) {
    case 0:
    case 1: return rnd() & m;
    case 2: return rnd() & ~(m >> rnd_below(f->frac + 1)) & m;
    case 3: return m >> rnd_below(f->frac + 1);
    case 4: return m & ~(m >> rnd_below(f->frac + 1));
    case 5: return 1ull << rnd_below(f->frac);
    default: {
        /* n leading bits with the last of them set: products of two such
         * values often land exactly halfway. */
        int n = 1 + rnd_below(f->frac);
        return ((rnd() & ~(m >> (n - 1))) | (1ull << (f->frac - n))) & m;
    }
    }
}

/* All the bits of a value of format f. */
static guint64 width_mask(const TestFormat *f)
{
    return f->sign | (f->sign - 1);
}

static guint64 gen_float_unmasked(const TestFormat *f)
{
    bool neg = rnd() & 1;
    guint64 sbit = neg ? f->sign : 0;
    guint64 m = frac_mask(f);

    switch (rnd_below(24)) {
    case 0: return sbit;
    case 1: return sbit | ((rnd() & m) | 1);
    case 2: return make_value(f, neg, 1 - rnd_below(f->frac + 2), gen_frac(f));
    case 3: {
        /* The smallest and largest subnormal and normal numbers, +-2 ulps. */
        const guint64 base[] = { 1, m, m + 1, ((guint64)(f->emax_field - 1) << f->frac) | m };
        guint64 v = base[rnd_below(G_N_ELEMENTS(base))] + (guint64)rnd_below(5) - 2;
        return sbit | (v & ~f->sign);
    }
    case 4: return inf_bits(f, neg);
    case 5: return sbit | inf_bits(f, false) | (1ull << (f->frac - 1)) | (rnd() & m);
    case 6: return sbit | inf_bits(f, false) | (((rnd() & m) >> 1) | 1);
    case 7:
    case 8: {
        guint64 one = (guint64)f->bias << f->frac;
        return sbit | (one + (guint64)rnd_below(9) - 4);
    }
    case 9: return make_value(f, neg, f->bias + rnd_below(3) - 1, gen_frac(f));
    case 10: return make_value(f, neg, 1 + rnd_below(f->emax_field - 1), 0);
    case 11:
    case 12: return rnd() & (f->sign | (f->sign - 1));
    case 13:
    case 14:
    case 15: return make_value(f, neg, 1 + rnd_below(f->emax_field - 1), gen_frac(f));
    case 16:
    case 17: return make_value(f, neg, 1 + rnd_below(f->emax_field - 1), gen_frac(f));
    case 18: return make_value(f, neg, f->emax_field - 1 - rnd_below(4), gen_frac(f));
    case 19: return make_value(f, neg, 1 + rnd_below(4), gen_frac(f));
    default: return make_value(f, neg, f->bias + rnd_below(81) - 40, gen_frac(f));
    }
}

static guint64 gen_float(const TestFormat *f)
{
    return gen_float_unmasked(f) & width_mask(f);
}

typedef enum { KIND_ADD, KIND_MUL, KIND_DIV } PairKind;

static int finite_field(const TestFormat *f, guint64 v)
{
    int e = field_of(f, v);
    return e == 0 ? 1 : e == f->emax_field ? f->bias : e;
}

static void gen_pair(const TestFormat *f, PairKind kind, guint64 *a, guint64 *b)
{
    const int p = f->frac + 1;
    bool neg = rnd() & 1;

    *a = gen_float(f);
    int fa = finite_field(f, *a);
    switch (rnd_below(12)) {
    case 0:
    case 1:
    case 2:
    case 3: *b = gen_float(f); break;
    case 4:
    case 5:
        /* Exponents close enough for the bits to overlap or just meet. */
        *b = make_value(f, neg, fa + rnd_below(2 * p + 9) - (p + 4), gen_frac(f));
        break;
    case 6: {
        /* Nearly equal magnitudes: cancellation or exact quotients. */
        guint64 mag = (*a & ~f->sign) + (guint64)rnd_below(9) - 4;
        *b = (mag & ~f->sign) | (neg ? f->sign : 0);
        break;
    }
    case 7:
    case 8: {
        /* Results near the overflow or underflow threshold. */
        int target;
        switch (rnd_below(3)) {
        case 0: target = f->emax_field - 2 + rnd_below(4); break;
        case 1: target = 2 - rnd_below(4); break;
        default: target = 1 - rnd_below(p + 3); break;
        }
        if (kind == KIND_ADD) {
            *a = make_value(f, rnd() & 1, target + rnd_below(3), gen_frac(f));
            *b = make_value(f, neg, target + rnd_below(3), gen_frac(f));
        } else if (kind == KIND_MUL) {
            *b = make_value(f, neg, target - fa + f->bias + rnd_below(3) - 1, gen_frac(f));
        } else {
            *b = make_value(f, neg, fa - target + f->bias + rnd_below(3) - 1, gen_frac(f));
        }
        break;
    }
    case 9: {
        /* Short significands whose product has about p + 1 bits. */
        int na = 1 + rnd_below(p - 1);
        int nb = p + 1 - na + rnd_below(3) - 1;
        guint64 m = frac_mask(f);
        nb = CLAMP(nb, 1, p - 1);
        guint64 fra = ((rnd() & ~(m >> (na - 1))) | (1ull << (f->frac - na))) & m;
        guint64 frb = ((rnd() & ~(m >> (nb - 1))) | (1ull << (f->frac - nb))) & m;
        *a = make_value(f, rnd() & 1, f->bias + rnd_below(21) - 10, fra);
        *b = make_value(f, neg, f->bias + rnd_below(21) - 10, frb);
        break;
    }
    case 10: {
        /* Small values scaled by a power of two into the subnormal range. */
        int k = rnd_below(p + 3);
        *a = make_value(f, rnd() & 1, 1 + rnd_below(3), gen_frac(f));
        if (kind == KIND_ADD) {
            *b = make_value(f, neg, 1 + rnd_below(3), gen_frac(f));
        } else {
            *b = make_value(f, neg, kind == KIND_MUL ? f->bias - k : f->bias + k, 0);
        }
        break;
    }
    default: *b = rnd_below(2) ? *a : *a ^ f->sign; break;
    }
    *b &= width_mask(f);
}

/* ---- failure reporting ---- */

static unsigned failures;

static void report(const char *what, int rm, const guint64 *o, int n, guint64 want,
                   unsigned want_flags, guint64 got, unsigned got_flags)
{
    failures++;
    if (failures > 20) {
        return;
    }
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%s %s", what, mode_names[rm]);
    for (int i = 0; i < n; i++) {
        g_string_append_printf(s, " %#" G_GINT64_MODIFIER "x", o[i]);
    }
    g_string_append_printf(
        s, ": want %#" G_GINT64_MODIFIER "x flags %#x, got %#" G_GINT64_MODIFIER "x flags %#x",
        want, want_flags, got, got_flags);
    g_test_message("%s", s->str);
    g_string_free(s, TRUE);
}

static void finish(void)
{
    if (failures) {
        g_test_message("%u mismatches", failures);
    }
    g_assert_cmpuint(failures, ==, 0);
    failures = 0;
}

/* ---- min/max and classification against reasoning on host values ---- */

#define COUNT_MINMAX 200000u

static void check_minmax(const TestFormat *f, guint64 a, guint64 b)
{
    bool an = is_nan_bits(f, a), bn = is_nan_bits(f, b);
    unsigned want_flags = is_snan_bits(f, a) || is_snan_bits(f, b) ? NV : 0;
    guint64 want_min, want_max;
    bool f64 = f == &tf64, f16 = f == &tf16;
    double x = f64 ? f64_from(a) : f16 ? (double)ld_from_f16(a) : f32_from(a);
    double y = f64 ? f64_from(b) : f16 ? (double)ld_from_f16(b) : f32_from(b);

    if (an && bn) {
        want_min = want_max = canonical(f);
    } else if (an) {
        want_min = want_max = b;
    } else if (bn) {
        want_min = want_max = a;
    } else if (x < y) {
        want_min = a;
        want_max = b;
    } else if (x > y) {
        want_min = b;
        want_max = a;
    } else if (signbit(x) != signbit(y)) {
        /* -0 and +0 */
        want_min = signbit(x) ? a : b;
        want_max = signbit(x) ? b : a;
    } else {
        want_min = want_max = a;
    }

    guint64 o[2] = { a, b };
    VireoFloatStatus st = { .rm = RNE, .flags = 0 };
    guint64 got = f64   ? vireo_f64_min(a, b, &st)
                  : f16 ? vireo_f16_min((guint16)a, (guint16)b, &st)
                        : vireo_f32_min((guint32)a, (guint32)b, &st);
    if (got != want_min || st.flags != want_flags) {
        report(f64   ? "f64_min"
               : f16 ? "f16_min"
                     : "f32_min",
               RNE, o, 2, want_min, want_flags, got, st.flags);
    }
    st.flags = 0;
    got = f64   ? vireo_f64_max(a, b, &st)
          : f16 ? vireo_f16_max((guint16)a, (guint16)b, &st)
                : vireo_f32_max((guint32)a, (guint32)b, &st);
    if (got != want_max || st.flags != want_flags) {
        report(f64   ? "f64_max"
               : f16 ? "f16_max"
                     : "f32_max",
               RNE, o, 2, want_max, want_flags, got, st.flags);
    }
}

static void check_classify(const TestFormat *f, guint64 a)
{
    bool f64 = f == &tf64, f16 = f == &tf16;
    double x = f64 ? f64_from(a) : f16 ? (double)ld_from_f16(a) : f32_from(a);
    bool neg = signbit(x);
    unsigned want;

    switch (fpclassify(x)) {
    case FP_INFINITE: want = neg ? 1u << 0 : 1u << 7; break;
    case FP_NORMAL: want = neg ? 1u << 1 : 1u << 6; break;
    case FP_ZERO: want = neg ? 1u << 3 : 1u << 4; break;
    case FP_SUBNORMAL: want = neg ? 1u << 2 : 1u << 5; break;
    default: want = is_snan_bits(f, a) ? 1u << 8 : 1u << 9; break;
    }
    /* A binary32 or binary16 subnormal is a normal double. */
    if (!f64 && field_of(f, a) == 0 && (a & frac_mask(f))) {
        want = neg ? 1u << 2 : 1u << 5;
    }
    unsigned got = f64   ? vireo_f64_classify(a)
                   : f16 ? vireo_f16_classify((guint16)a)
                         : vireo_f32_classify((guint32)a);
    if (got != want) {
        report(f64   ? "f64_classify"
               : f16 ? "f16_classify"
                     : "f32_classify",
               RNE, &a, 1, want, 0, got, 0);
    }
}

static void test_minmax_random(gconstpointer data)
{
    const TestFormat *f = data;
    guint64 a, b;

    g_test_message("seed %#" G_GINT64_MODIFIER "x", base_seed);
    seed_for(f == &tf64 ? "minmax64" : f == &tf16 ? "minmax16" : "minmax32", 0);
    for (guint i = 0; i < COUNT_MINMAX; i++) {
        gen_pair(f, KIND_ADD, &a, &b);
        check_minmax(f, a, b);
        check_classify(f, a);
    }
    g_test_message("%u pairs for min and max, %u values classified", COUNT_MINMAX, COUNT_MINMAX);
    finish();
}

/* ---- hand-written vectors ---- */

static VireoFloatStatus vec_status;
#define S (&vec_status)

static void expect_at(int line, const char *expr, int rm, guint64 got, unsigned got_flags,
                      guint64 want, unsigned want_flags)
{
    if (got != want || got_flags != want_flags) {
        failures++;
        g_test_message("line %d: %s in %s: want %#" G_GINT64_MODIFIER "x flags %#x, got "
                       "%#" G_GINT64_MODIFIER "x flags %#x",
                       line, expr, mode_names[rm], want, want_flags, got, got_flags);
    }
}

/* Evaluates expr (which uses S) in mode rm and checks result and flags. */
#define EXPECT(mode, expr, want, want_flags)                                                       \
    do {                                                                                           \
        vec_status = (VireoFloatStatus){ .rm = (uint8_t)(mode), .flags = 0 };                      \
        guint64 got_ = (guint64)(expr);                                                            \
        expect_at(__LINE__, #expr, (mode), got_, vec_status.flags, (guint64)(want), (want_flags)); \
    } while (0)

/* The same in every mode. */
#define EXPECT_ALL(expr, want, want_flags)       \
    do {                                         \
        for (int rm_ = 0; rm_ < 5; rm_++) {      \
            EXPECT(rm_, expr, want, want_flags); \
        }                                        \
    } while (0)

static guint32 f32_bits_of(float x)
{
    return (guint32)bits_f32(x);
}

static void test_rmm_vectors(void)
{
    /* f32 add: 1 + 2^-24 is halfway between 1 and 1 + 2^-23. */
    EXPECT(RMM, vireo_f32_add(0x3f800000, 0x33800000, S), 0x3f800001, NX);
    EXPECT(RNE, vireo_f32_add(0x3f800000, 0x33800000, S), 0x3f800000, NX);
    EXPECT(RMM, vireo_f32_add(0xbf800000, 0xb3800000, S), 0xbf800001, NX);
    EXPECT(RNE, vireo_f32_add(0xbf800000, 0xb3800000, S), 0xbf800000, NX);
    EXPECT(RMM, vireo_f32_sub(0xbf800000, 0x33800000, S), 0xbf800001, NX);
    /* With an odd last bit both round up: (1 + 2^-23) + 2^-24. */
    EXPECT(RMM, vireo_f32_add(0x3f800001, 0x33800000, S), 0x3f800002, NX);
    EXPECT(RNE, vireo_f32_add(0x3f800001, 0x33800000, S), 0x3f800002, NX);
    /* Just below halfway rounds down in RMM too. */
    EXPECT(RMM, vireo_f32_add(0x3f800000, 0x337fffff, S), 0x3f800000, NX);

    /* f64 add: 1 + 2^-53. */
    EXPECT(RMM, vireo_f64_add(0x3ff0000000000000, 0x3ca0000000000000, S), 0x3ff0000000000001, NX);
    EXPECT(RNE, vireo_f64_add(0x3ff0000000000000, 0x3ca0000000000000, S), 0x3ff0000000000000, NX);
    EXPECT(RMM, vireo_f64_add(0xbff0000000000000, 0xbca0000000000000, S), 0xbff0000000000001, NX);
    EXPECT(RMM, vireo_f64_sub(0x3ff0000000000000, 0x3ca0000000000000, S), 0x3fefffffffffffff, 0);

    /* f32 mul: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24, a tie. */
    EXPECT(RMM, vireo_f32_mul(0x3f800800, 0x3f800800, S), 0x3f801001, NX);
    EXPECT(RNE, vireo_f32_mul(0x3f800800, 0x3f800800, S), 0x3f801000, NX);
    EXPECT(RMM, vireo_f32_mul(0xbf800800, 0x3f800800, S), 0xbf801001, NX);
    EXPECT(RTZ, vireo_f32_mul(0xbf800800, 0x3f800800, S), 0xbf801000, NX);
    /* f64 mul: (1 + 2^-26)(1 + 2^-27) = 1 + 2^-26 + 2^-27 + 2^-53. */
    EXPECT(RMM, vireo_f64_mul(0x3ff0000004000000, 0x3ff0000002000000, S), 0x3ff0000006000001, NX);
    EXPECT(RNE, vireo_f64_mul(0x3ff0000004000000, 0x3ff0000002000000, S), 0x3ff0000006000000, NX);
    EXPECT(RMM, vireo_f64_mul(0x3ff0000004000000, 0xbff0000002000000, S), 0xbff0000006000001, NX);

    /* Division: a quotient of two p-bit numbers is never exactly halfway
     * in the normal range, only where the result is subnormal.
     * 5 * 2^-149 / 2 = 2.5 * 2^-149. */
    EXPECT(RMM, vireo_f32_div(0x00000005, 0x40000000, S), 0x00000003, NX | UF);
    EXPECT(RNE, vireo_f32_div(0x00000005, 0x40000000, S), 0x00000002, NX | UF);
    EXPECT(RMM, vireo_f32_div(0x80000005, 0x40000000, S), 0x80000003, NX | UF);
    /* 2^-149 / 2: halfway between 0 and the smallest subnormal. */
    EXPECT(RMM, vireo_f32_div(0x00000001, 0x40000000, S), 0x00000001, NX | UF);
    EXPECT(RNE, vireo_f32_div(0x00000001, 0x40000000, S), 0x00000000, NX | UF);
    EXPECT(RMM, vireo_f32_div(0x80000001, 0x40000000, S), 0x80000001, NX | UF);
    EXPECT(RMM, vireo_f64_div(0x0000000000000005, 0x4000000000000000, S), 0x0000000000000003,
           NX | UF);
    EXPECT(RNE, vireo_f64_div(0x0000000000000005, 0x4000000000000000, S), 0x0000000000000002,
           NX | UF);
    EXPECT(RMM, vireo_f64_div(0x8000000000000001, 0x4000000000000000, S), 0x8000000000000001,
           NX | UF);
    /* 1/3 is not a tie: RMM agrees with RNE. */
    EXPECT(RMM, vireo_f32_div(0x3f800000, 0x40400000, S), 0x3eaaaaab, NX);
    EXPECT(RMM, vireo_f64_div(0x3ff0000000000000, 0x4008000000000000, S), 0x3fd5555555555555, NX);

    /* Square roots are never exactly halfway either (the square of a
     * (p+1)-bit odd significand needs more than p bits). */
    EXPECT(RMM, vireo_f32_sqrt(0x40000000, S), 0x3fb504f3, NX);
    EXPECT(RNE, vireo_f32_sqrt(0x40000000, S), 0x3fb504f3, NX);
    EXPECT(RMM, vireo_f64_sqrt(0x4000000000000000, S), 0x3ff6a09e667f3bcd, NX);
    EXPECT(RMM, vireo_f32_sqrt(0x40800000, S), 0x40000000, 0);

    /* fma: (1 + 2^-12)^2 - 2^-11 = 1 + 2^-24, a tie. */
    EXPECT(RMM, vireo_f32_muladd(0x3f800800, 0x3f800800, 0xba000000, false, false, S), 0x3f800001,
           NX);
    EXPECT(RNE, vireo_f32_muladd(0x3f800800, 0x3f800800, 0xba000000, false, false, S), 0x3f800000,
           NX);
    /* fnmadd: -(a * b) - c = -(1 + 2^-24). */
    EXPECT(RMM, vireo_f32_muladd(0x3f800800, 0x3f800800, 0xba000000, true, true, S), 0xbf800001,
           NX);
    EXPECT(RDN, vireo_f32_muladd(0x3f800800, 0x3f800800, 0xba000000, true, true, S), 0xbf800001,
           NX);
    EXPECT(RUP, vireo_f32_muladd(0x3f800800, 0x3f800800, 0xba000000, true, true, S), 0xbf800000,
           NX);
    /* (1 + 2^-26)(1 + 2^-27) - (2^-26 + 2^-27) = 1 + 2^-53. */
    EXPECT(RMM,
           vireo_f64_muladd(0x3ff0000004000000, 0x3ff0000002000000, 0x3e58000000000000, false, true,
                            S),
           0x3ff0000000000001, NX);
    EXPECT(RNE,
           vireo_f64_muladd(0x3ff0000004000000, 0x3ff0000002000000, 0x3e58000000000000, false, true,
                            S),
           0x3ff0000000000000, NX);
    EXPECT(RMM,
           vireo_f64_muladd(0x3ff0000004000000, 0x3ff0000002000000, 0x3e58000000000000, true, false,
                            S),
           0xbff0000000000001, NX);

    /* Integer to float: 2^24 + 1 and 2^53 + 1 are ties. */
    EXPECT(RMM, vireo_i32_to_f32(16777217, S), 0x4b800001, NX);
    EXPECT(RNE, vireo_i32_to_f32(16777217, S), 0x4b800000, NX);
    EXPECT(RMM, vireo_i32_to_f32(-16777217, S), 0xcb800001, NX);
    EXPECT(RMM, vireo_u32_to_f32(16777217, S), 0x4b800001, NX);
    EXPECT(RMM, vireo_i32_to_f32(16777219, S), 0x4b800002, NX);
    EXPECT(RNE, vireo_i32_to_f32(16777219, S), 0x4b800002, NX);
    EXPECT(RMM, vireo_i64_to_f64(9007199254740993, S), 0x4340000000000001, NX);
    EXPECT(RNE, vireo_i64_to_f64(9007199254740993, S), 0x4340000000000000, NX);
    EXPECT(RMM, vireo_i64_to_f64(-9007199254740993, S), 0xc340000000000001, NX);
    EXPECT(RMM, vireo_u64_to_f64(9007199254740993, S), 0x4340000000000001, NX);
    /* 2^64 - 2^39 is halfway between 2^64 - 2^40 and 2^64 for binary32. */
    EXPECT(RMM, vireo_u64_to_f32(0xffffff8000000000, S), 0x5f800000, NX);
    EXPECT(RNE, vireo_u64_to_f32(0xffffff8000000000, S), 0x5f800000, NX);
    EXPECT(RMM, vireo_u64_to_f32(0xfffffe8000000000, S), 0x5f7fffff, NX);
    EXPECT(RNE, vireo_u64_to_f32(0xfffffe8000000000, S), 0x5f7ffffe, NX);

    /* f64 to f32: 1 + 2^-24 and -(1 + 2^-24). */
    EXPECT(RMM, vireo_f64_to_f32(0x3ff0000010000000, S), 0x3f800001, NX);
    EXPECT(RNE, vireo_f64_to_f32(0x3ff0000010000000, S), 0x3f800000, NX);
    EXPECT(RMM, vireo_f64_to_f32(0xbff0000010000000, S), 0xbf800001, NX);
    /* 2^-150, halfway between 0 and the smallest subnormal. */
    EXPECT(RMM, vireo_f64_to_f32(0x3690000000000000, S), 0x00000001, NX | UF);
    EXPECT(RNE, vireo_f64_to_f32(0x3690000000000000, S), 0x00000000, NX | UF);

    /* Float to integer: halves go away from zero. */
    EXPECT(RMM, vireo_f64_to_i32(0x4004000000000000, S), 2 + 1, NX);       /* 2.5 */
    EXPECT(RNE, vireo_f64_to_i32(0x4004000000000000, S), 2, NX);           /* 2.5 */
    EXPECT(RMM, vireo_f64_to_i32(0xc004000000000000, S), (guint64)-3, NX); /* -2.5 */
    EXPECT(RMM, vireo_f32_to_i64(0x3f000000, S), 1, NX);                   /* 0.5 */
    EXPECT(RNE, vireo_f32_to_i64(0x3f000000, S), 0, NX);
    EXPECT(RMM, vireo_f32_to_i64(0xbf000000, S), (guint64)-1, NX); /* -0.5 */
    EXPECT(RMM, vireo_f32_to_u32(0x3fc00000, S), 2, NX);           /* 1.5 */
    EXPECT(RMM, vireo_f32_to_u64(0x40200000, S), 3, NX);           /* 2.5 */
    /* -0.5 goes to -1 in RMM, which an unsigned result cannot hold. */
    EXPECT(RMM, vireo_f32_to_u32(0xbf000000, S), 0, NV);
    EXPECT(RNE, vireo_f32_to_u32(0xbf000000, S), 0, NX);
    EXPECT(RMM, vireo_f64_to_u64(0xbfe0000000000000, S), 0, NV);
    EXPECT(RMM, vireo_f64_to_u64(0xbfdfffffffffffff, S), 0, NX);

    finish();
}

static void test_underflow_vectors(void)
{
    /* (1 - 2^-24) * 2^-126 = 2^-126 - 2^-150 is exact with 24 bits and an
     * unbounded exponent, so it is tiny; as a subnormal it is a tie that
     * rounds to the smallest normal number. Tiny and inexact: UF. */
    EXPECT(RNE, vireo_f32_mul(0x3f7fffff, 0x00800000, S), 0x00800000, NX | UF);
    EXPECT(RMM, vireo_f32_mul(0x3f7fffff, 0x00800000, S), 0x00800000, NX | UF);
    EXPECT(RTZ, vireo_f32_mul(0x3f7fffff, 0x00800000, S), 0x007fffff, NX | UF);
    EXPECT(RUP, vireo_f32_mul(0x3f7fffff, 0x00800000, S), 0x00800000, NX | UF);
    EXPECT(RDN, vireo_f32_mul(0xbf7fffff, 0x00800000, S), 0x80800000, NX | UF);
    EXPECT(RNE, vireo_f64_mul(0x3fefffffffffffff, 0x0010000000000000, S), 0x0010000000000000,
           NX | UF);
    EXPECT(RTZ, vireo_f64_mul(0x3fefffffffffffff, 0x0010000000000000, S), 0x000fffffffffffff,
           NX | UF);

    /* (2^24 - 2) * 2^-100 * (2^23 + 1) * 2^-73 = 2^-126 (1 - 2^-46): with
     * 24 bits and an unbounded exponent it rounds to 2^-126 in RNE, RMM and
     * RUP, so it is not tiny: only NX (tininess before rounding would set UF).
     * Rounding towards zero leaves it below 2^-126: tiny, UF. */
    guint32 a32 = f32_bits_of(ldexpf(16777214.0f, -100));
    guint32 b32 = f32_bits_of(ldexpf(8388609.0f, -73));
    EXPECT(RNE, vireo_f32_mul(a32, b32, S), 0x00800000, NX);
    EXPECT(RMM, vireo_f32_mul(a32, b32, S), 0x00800000, NX);
    EXPECT(RUP, vireo_f32_mul(a32, b32, S), 0x00800000, NX);
    EXPECT(RTZ, vireo_f32_mul(a32, b32, S), 0x007fffff, NX | UF);
    EXPECT(RDN, vireo_f32_mul(a32, b32, S), 0x007fffff, NX | UF);
    EXPECT(RDN, vireo_f32_mul(a32 | 0x80000000u, b32, S), 0x80800000, NX);
    EXPECT(RUP, vireo_f32_mul(a32 | 0x80000000u, b32, S), 0x807fffff, NX | UF);
    /* The same for binary64: (2^53 - 2)(2^52 + 1) = 2^105 - 2. */
    guint64 a64 = bits_f64(ldexp(9007199254740990.0, -600));
    guint64 b64 = bits_f64(ldexp(4503599627370497.0, -527));
    EXPECT(RNE, vireo_f64_mul(a64, b64, S), 0x0010000000000000, NX);
    EXPECT(RUP, vireo_f64_mul(a64, b64, S), 0x0010000000000000, NX);
    EXPECT(RTZ, vireo_f64_mul(a64, b64, S), 0x000fffffffffffff, NX | UF);
    /* The same through fma. */
    EXPECT(RNE, vireo_f32_muladd(a32, b32, 0x00000000, false, false, S), 0x00800000, NX);
    EXPECT(RNE, vireo_f32_muladd(a32, b32, 0x80000001, false, false, S), 0x007fffff, NX | UF);

    /* Exact subnormal results raise nothing; UF needs inexact. */
    EXPECT_ALL(vireo_f32_add(0x00400000, 0x00400000, S), 0x00800000, 0);
    EXPECT_ALL(vireo_f32_sub(0x00800000, 0x00000001, S), 0x007fffff, 0);
    EXPECT_ALL(vireo_f32_mul(0x00004000, 0x3a800000, S), 0x00000010, 0);
    EXPECT_ALL(vireo_f64_mul(0x3fe0000000000000, 0x0000000000000002, S), 0x0000000000000001, 0);
    EXPECT_ALL(vireo_f64_to_f32(0x36a0000000000000, S), 0x00000001, 0);

    /* Half of the smallest subnormal. */
    EXPECT(RNE, vireo_f32_mul(0x00000001, 0x3f000000, S), 0x00000000, NX | UF);
    EXPECT(RTZ, vireo_f32_mul(0x00000001, 0x3f000000, S), 0x00000000, NX | UF);
    EXPECT(RUP, vireo_f32_mul(0x00000001, 0x3f000000, S), 0x00000001, NX | UF);
    EXPECT(RDN, vireo_f32_mul(0x80000001, 0x3f000000, S), 0x80000001, NX | UF);
    EXPECT(RUP, vireo_f32_mul(0x80000001, 0x3f000000, S), 0x80000000, NX | UF);
    EXPECT(RNE, vireo_f64_mul(0x0000000000000001, 0x3fe0000000000000, S), 0x0000000000000000,
           NX | UF);
    EXPECT(RUP, vireo_f64_mul(0x0000000000000001, 0x3fd0000000000000, S), 0x0000000000000001,
           NX | UF);
    /* f64 to f32 just below the smallest normal binary32: 2^-126 (1 - 2^-25)
     * rounds to 2^-126 with 24 bits (a tie to even), so not tiny. */
    EXPECT(RNE, vireo_f64_to_f32(0x380ffffff0000000, S), 0x00800000, NX);
    EXPECT(RTZ, vireo_f64_to_f32(0x380ffffff0000000, S), 0x007fffff, NX | UF);
    /* 2^-126 (1 - 2^-23) is tiny, but exact as a subnormal: no flags. */
    EXPECT_ALL(vireo_f64_to_f32(0x380fffffc0000000, S), 0x007fffff, 0);

    /* Overflow: to infinity or the largest finite number, by mode and sign. */
    EXPECT(RNE, vireo_f32_mul(0x7f7fffff, 0x40000000, S), 0x7f800000, OF | NX);
    EXPECT(RMM, vireo_f32_mul(0x7f7fffff, 0x40000000, S), 0x7f800000, OF | NX);
    EXPECT(RTZ, vireo_f32_mul(0x7f7fffff, 0x40000000, S), 0x7f7fffff, OF | NX);
    EXPECT(RDN, vireo_f32_mul(0x7f7fffff, 0x40000000, S), 0x7f7fffff, OF | NX);
    EXPECT(RUP, vireo_f32_mul(0x7f7fffff, 0x40000000, S), 0x7f800000, OF | NX);
    EXPECT(RDN, vireo_f32_mul(0xff7fffff, 0x40000000, S), 0xff800000, OF | NX);
    EXPECT(RUP, vireo_f32_mul(0xff7fffff, 0x40000000, S), 0xff7fffff, OF | NX);
    EXPECT(RTZ, vireo_f64_add(0x7fefffffffffffff, 0x7fefffffffffffff, S), 0x7fefffffffffffff,
           OF | NX);
    EXPECT(RMM, vireo_f64_add(0xffefffffffffffff, 0xffefffffffffffff, S), 0xfff0000000000000,
           OF | NX);
    /* The largest number plus half an ulp: a tie that overflows when it
     * rounds up, and only inexact when it does not. */
    EXPECT(RNE, vireo_f32_add(0x7f7fffff, 0x73000000, S), 0x7f800000, OF | NX);
    EXPECT(RMM, vireo_f32_add(0x7f7fffff, 0x73000000, S), 0x7f800000, OF | NX);
    EXPECT(RTZ, vireo_f32_add(0x7f7fffff, 0x73000000, S), 0x7f7fffff, NX);
    EXPECT(RNE, vireo_f32_add(0x7f7fffff, 0x72800000, S), 0x7f7fffff, NX);
    EXPECT(RNE, vireo_f64_to_f32(0x47efffffefffffff, S), 0x7f7fffff, NX);
    EXPECT(RNE, vireo_f64_to_f32(0x47effffff0000000, S), 0x7f800000, OF | NX);
    EXPECT(RMM, vireo_f64_to_f32(0xc7effffff0000000, S), 0xff800000, OF | NX);
    /* Rounded up, -(max + half an ulp) is -max: no overflow. */
    EXPECT(RUP, vireo_f64_to_f32(0xc7effffff0000000, S), 0xff7fffff, NX);

    finish();
}

static void test_classify_vectors(void)
{
    static const struct {
        guint32 f32;
        guint64 f64;
        unsigned bit;
    } v[] = {
        { 0xff800000, 0xfff0000000000000, 0 }, /* -inf */
        { 0xbf800000, 0xbff0000000000000, 1 }, /* negative normal */
        { 0xff7fffff, 0xffefffffffffffff, 1 },
        { 0x80800000, 0x8010000000000000, 1 },
        { 0x807fffff, 0x800fffffffffffff, 2 }, /* negative subnormal */
        { 0x80000001, 0x8000000000000001, 2 },
        { 0x80000000, 0x8000000000000000, 3 }, /* -0 */
        { 0x00000000, 0x0000000000000000, 4 }, /* +0 */
        { 0x00000001, 0x0000000000000001, 5 }, /* positive subnormal */
        { 0x007fffff, 0x000fffffffffffff, 5 },
        { 0x00800000, 0x0010000000000000, 6 }, /* positive normal */
        { 0x7f7fffff, 0x7fefffffffffffff, 6 },
        { 0x7f800000, 0x7ff0000000000000, 7 }, /* +inf */
        { 0x7f800001, 0x7ff0000000000001, 8 }, /* signaling NaN */
        { 0xffbfffff, 0xfff7ffffffffffff, 8 },
        { 0x7fc00000, 0x7ff8000000000000, 9 }, /* quiet NaN */
        { 0xffc00001, 0xfff8000000000001, 9 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(v); i++) {
        g_assert_cmphex(vireo_f32_classify(v[i].f32), ==, 1u << v[i].bit);
        g_assert_cmphex(vireo_f64_classify(v[i].f64), ==, 1u << v[i].bit);
    }
}

static void test_minmax_vectors(void)
{
    const guint32 qnan = 0x7fc00000, snan = 0x7f800001, qnan2 = 0xffc12345;
    const guint64 qnan64 = 0x7ff8000000000000, snan64 = 0x7ff0000000000001;

    EXPECT_ALL(vireo_f32_min(0x80000000, 0x00000000, S), 0x80000000, 0);
    EXPECT_ALL(vireo_f32_min(0x00000000, 0x80000000, S), 0x80000000, 0);
    EXPECT_ALL(vireo_f32_max(0x80000000, 0x00000000, S), 0x00000000, 0);
    EXPECT_ALL(vireo_f32_max(0x00000000, 0x80000000, S), 0x00000000, 0);
    EXPECT_ALL(vireo_f64_min(0x0000000000000000, 0x8000000000000000, S), 0x8000000000000000, 0);
    EXPECT_ALL(vireo_f64_max(0x8000000000000000, 0x0000000000000000, S), 0x0000000000000000, 0);
    /* One NaN: the other operand; NV only for a signaling NaN. */
    EXPECT_ALL(vireo_f32_min(qnan, 0x3f800000, S), 0x3f800000, 0);
    EXPECT_ALL(vireo_f32_max(0x3f800000, qnan2, S), 0x3f800000, 0);
    EXPECT_ALL(vireo_f32_min(snan, 0x3f800000, S), 0x3f800000, NV);
    EXPECT_ALL(vireo_f32_max(0xbf800000, snan, S), 0xbf800000, NV);
    EXPECT_ALL(vireo_f32_max(0xff800000, qnan, S), 0xff800000, 0);
    EXPECT_ALL(vireo_f64_min(snan64, 0x8000000000000000, S), 0x8000000000000000, NV);
    EXPECT_ALL(vireo_f64_max(qnan64, 0x7ff0000000000000, S), 0x7ff0000000000000, 0);
    /* Two NaNs: the canonical NaN. */
    EXPECT_ALL(vireo_f32_min(qnan2, qnan2, S), VIREO_F32_CANONICAL_NAN, 0);
    EXPECT_ALL(vireo_f32_max(snan, qnan2, S), VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f64_min(snan64, snan64, S), VIREO_F64_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f64_max(0xfff8000000000001, qnan64, S), VIREO_F64_CANONICAL_NAN, 0);
    /* Ordinary values, including infinities and subnormals. */
    EXPECT_ALL(vireo_f32_min(0xff800000, 0x7f800000, S), 0xff800000, 0);
    EXPECT_ALL(vireo_f32_max(0x00000001, 0x80000001, S), 0x00000001, 0);
    EXPECT_ALL(vireo_f64_min(0xbff0000000000000, 0xc000000000000000, S), 0xc000000000000000, 0);

    /* Comparisons: eq is quiet, lt and le signal on any NaN. */
    EXPECT_ALL(vireo_f32_eq(0x80000000, 0x00000000, S), 1, 0);
    EXPECT_ALL(vireo_f32_lt(0x80000000, 0x00000000, S), 0, 0);
    EXPECT_ALL(vireo_f32_le(0x00000000, 0x80000000, S), 1, 0);
    EXPECT_ALL(vireo_f32_eq(qnan, qnan, S), 0, 0);
    EXPECT_ALL(vireo_f32_eq(snan, 0x3f800000, S), 0, NV);
    EXPECT_ALL(vireo_f32_lt(qnan, 0x3f800000, S), 0, NV);
    EXPECT_ALL(vireo_f32_le(0x3f800000, qnan, S), 0, NV);
    EXPECT_ALL(vireo_f64_eq(qnan64, 0x3ff0000000000000, S), 0, 0);
    EXPECT_ALL(vireo_f64_eq(0x3ff0000000000000, snan64, S), 0, NV);
    EXPECT_ALL(vireo_f64_lt(0xfff0000000000000, 0x7ff0000000000000, S), 1, 0);
    EXPECT_ALL(vireo_f64_le(qnan64, qnan64, S), 0, NV);

    finish();
}

static void test_to_int_vectors(void)
{
    /* 3e9 as u32 is sign-extended from bit 31. */
    EXPECT_ALL(vireo_f32_to_u32(f32_bits_of(3e9f), S), 0xffffffffb2d05e00, 0);
    EXPECT_ALL(vireo_f64_to_u32(bits_f64(3e9), S), 0xffffffffb2d05e00, 0);
    EXPECT_ALL(vireo_f64_to_u32(bits_f64(4294967295.0), S), 0xffffffffffffffff, 0);
    /* Negative values that round to zero are fine for unsigned results. */
    EXPECT(RTZ, vireo_f32_to_u32(f32_bits_of(-0.3f), S), 0, NX);
    EXPECT(RNE, vireo_f32_to_u32(f32_bits_of(-0.3f), S), 0, NX);
    EXPECT(RUP, vireo_f64_to_u64(bits_f64(-0.9), S), 0, NX);
    EXPECT(RDN, vireo_f64_to_u64(bits_f64(-0.3), S), 0, NV);
    EXPECT(RDN, vireo_f32_to_u32(f32_bits_of(-0.3f), S), 0, NV);
    EXPECT_ALL(vireo_f32_to_u32(f32_bits_of(-1.0f), S), 0, NV);
    EXPECT_ALL(vireo_f64_to_u64(bits_f64(-1.0), S), 0, NV);
    EXPECT_ALL(vireo_f64_to_u64(0x8000000000000000, S), 0, 0);
    /* NaN and +inf give the largest value, -inf the smallest. */
    EXPECT_ALL(vireo_f32_to_i32(VIREO_F32_CANONICAL_NAN, S), 0x7fffffff, NV);
    EXPECT_ALL(vireo_f32_to_i32(0xffc00000, S), 0x7fffffff, NV);
    EXPECT_ALL(vireo_f32_to_u32(0x7f800001, S), 0xffffffffffffffff, NV);
    EXPECT_ALL(vireo_f64_to_i64(VIREO_F64_CANONICAL_NAN, S), 0x7fffffffffffffff, NV);
    EXPECT_ALL(vireo_f64_to_u64(0xfff8000000000000, S), 0xffffffffffffffff, NV);
    EXPECT_ALL(vireo_f32_to_i32(0xff800000, S), 0xffffffff80000000, NV);
    EXPECT_ALL(vireo_f32_to_i32(0x7f800000, S), 0x7fffffff, NV);
    EXPECT_ALL(vireo_f32_to_u32(0xff800000, S), 0, NV);
    EXPECT_ALL(vireo_f64_to_i64(0xfff0000000000000, S), 0x8000000000000000, NV);
    EXPECT_ALL(vireo_f64_to_u64(0x7ff0000000000000, S), 0xffffffffffffffff, NV);
    /* Limits: saturate with NV and without NX. */
    EXPECT_ALL(vireo_f64_to_i32(bits_f64(2147483648.0), S), 0x7fffffff, NV);
    EXPECT_ALL(vireo_f64_to_i32(bits_f64(-2147483648.0), S), 0xffffffff80000000, 0);
    EXPECT_ALL(vireo_f64_to_i32(bits_f64(-2147483649.0), S), 0xffffffff80000000, NV);
    EXPECT(RTZ, vireo_f64_to_i32(bits_f64(-2147483648.9), S), 0xffffffff80000000, NX);
    EXPECT(RNE, vireo_f64_to_i32(bits_f64(-2147483648.9), S), 0xffffffff80000000, NV);
    EXPECT(RTZ, vireo_f64_to_i32(bits_f64(2147483647.5), S), 0x7fffffff, NX);
    EXPECT(RNE, vireo_f64_to_i32(bits_f64(2147483647.5), S), 0x7fffffff, NV);
    EXPECT(RNE, vireo_f64_to_u32(bits_f64(4294967295.5), S), 0xffffffffffffffff, NV);
    EXPECT(RDN, vireo_f64_to_u32(bits_f64(4294967295.5), S), 0xffffffffffffffff, NX);
    EXPECT_ALL(vireo_f64_to_u32(bits_f64(4294967296.0), S), 0xffffffffffffffff, NV);
    EXPECT_ALL(vireo_f32_to_i32(f32_bits_of(1e10f), S), 0x7fffffff, NV);
    EXPECT_ALL(vireo_f32_to_i32(f32_bits_of(-1e10f), S), 0xffffffff80000000, NV);
    EXPECT_ALL(vireo_f64_to_i64(bits_f64(9223372036854775808.0), S), 0x7fffffffffffffff, NV);
    EXPECT_ALL(vireo_f64_to_i64(bits_f64(-9223372036854775808.0), S), 0x8000000000000000, 0);
    EXPECT_ALL(vireo_f32_to_i64(f32_bits_of(-9223372036854775808.0f), S), 0x8000000000000000, 0);
    EXPECT_ALL(vireo_f64_to_i64(bits_f64(9223372036854774784.0), S), 0x7ffffffffffffc00, 0);
    EXPECT_ALL(vireo_f64_to_u64(bits_f64(18446744073709551616.0), S), 0xffffffffffffffff, NV);
    EXPECT_ALL(vireo_f64_to_u64(bits_f64(18446744073709549568.0), S), 0xfffffffffffff800, 0);
    EXPECT_ALL(vireo_f32_to_u64(f32_bits_of(18446744073709551616.0f), S), 0xffffffffffffffff, NV);
    EXPECT_ALL(vireo_f32_to_u64(0x7f7fffff, S), 0xffffffffffffffff, NV);
    EXPECT_ALL(vireo_f64_to_u64(bits_f64(1e300), S), 0xffffffffffffffff, NV);
    EXPECT_ALL(vireo_f64_to_i64(bits_f64(-1e300), S), 0x8000000000000000, NV);
    /* Rounding in each mode. */
    EXPECT(RNE, vireo_f64_to_i64(bits_f64(-1.5), S), (guint64)-2, NX);
    EXPECT(RTZ, vireo_f64_to_i64(bits_f64(-1.5), S), (guint64)-1, NX);
    EXPECT(RDN, vireo_f64_to_i64(bits_f64(-1.5), S), (guint64)-2, NX);
    EXPECT(RUP, vireo_f64_to_i64(bits_f64(-1.5), S), (guint64)-1, NX);
    EXPECT(RUP, vireo_f32_to_i32(0x00000001, S), 1, NX);
    EXPECT(RDN, vireo_f32_to_i32(0x80000001, S), (guint64)-1, NX);
    EXPECT(RNE, vireo_f32_to_i32(0x80000001, S), 0, NX);
    EXPECT_ALL(vireo_f32_to_i32(0x80000000, S), 0, 0);

    finish();
}

static void test_special_vectors(void)
{
    const guint32 snan = 0x7f800001, qnan = 0x7fc12345;
    const guint64 snan64 = 0x7ff4000000000000, qnan64 = 0xfff8000000000001;

    /* Every NaN result is canonical; signaling operands raise NV. */
    EXPECT_ALL(vireo_f32_add(qnan, 0x3f800000, S), VIREO_F32_CANONICAL_NAN, 0);
    EXPECT_ALL(vireo_f32_mul(snan, 0x3f800000, S), VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f64_sub(0x3ff0000000000000, qnan64, S), VIREO_F64_CANONICAL_NAN, 0);
    EXPECT_ALL(vireo_f64_div(snan64, qnan64, S), VIREO_F64_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f32_sqrt(qnan, S), VIREO_F32_CANONICAL_NAN, 0);
    EXPECT_ALL(vireo_f32_to_f64(snan, S), VIREO_F64_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f32_to_f64(0xffc00001, S), VIREO_F64_CANONICAL_NAN, 0);
    EXPECT_ALL(vireo_f64_to_f32(snan64, S), VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f64_to_f32(qnan64, S), VIREO_F32_CANONICAL_NAN, 0);
    /* Invalid operations. */
    EXPECT_ALL(vireo_f32_add(0x7f800000, 0xff800000, S), VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f64_sub(0x7ff0000000000000, 0x7ff0000000000000, S), VIREO_F64_CANONICAL_NAN,
               NV);
    EXPECT_ALL(vireo_f32_mul(0x00000000, 0xff800000, S), VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f32_div(0x80000000, 0x00000000, S), VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f64_div(0x7ff0000000000000, 0xfff0000000000000, S), VIREO_F64_CANONICAL_NAN,
               NV);
    EXPECT_ALL(vireo_f32_sqrt(0xbf800000, S), VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f32_sqrt(0x80000001, S), VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f64_sqrt(0xfff0000000000000, S), VIREO_F64_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f32_sqrt(0x80000000, S), 0x80000000, 0);
    EXPECT_ALL(vireo_f64_sqrt(0x7ff0000000000000, S), 0x7ff0000000000000, 0);
    /* fma: inf * 0 is invalid even with a quiet NaN addend. */
    EXPECT_ALL(vireo_f32_muladd(0x7f800000, 0x00000000, qnan, false, false, S),
               VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f64_muladd(0x8000000000000000, 0xfff0000000000000, qnan64, true, true, S),
               VIREO_F64_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f32_muladd(0x7f800000, 0x3f800000, 0x7f800000, false, true, S),
               VIREO_F32_CANONICAL_NAN, NV);
    EXPECT_ALL(vireo_f32_muladd(0x7f800000, 0x3f800000, qnan, false, false, S),
               VIREO_F32_CANONICAL_NAN, 0);
    EXPECT_ALL(vireo_f64_muladd(0x3ff0000000000000, 0x3ff0000000000000, snan64, false, false, S),
               VIREO_F64_CANONICAL_NAN, NV);
    /* Division by zero. */
    EXPECT_ALL(vireo_f32_div(0x3f800000, 0x00000000, S), 0x7f800000, DZ);
    EXPECT_ALL(vireo_f32_div(0x3f800000, 0x80000000, S), 0xff800000, DZ);
    EXPECT_ALL(vireo_f64_div(0x8000000000000001, 0x0000000000000000, S), 0xfff0000000000000, DZ);
    EXPECT_ALL(vireo_f64_div(0x7ff0000000000000, 0x0000000000000000, S), 0x7ff0000000000000, 0);

    /* Signs of exact zeros: x + (-x) is +0, or -0 when rounding down. */
    for (int rm = 0; rm < 5; rm++) {
        guint32 z32 = rm == RDN ? 0x80000000 : 0;
        guint64 z64 = rm == RDN ? 0x8000000000000000 : 0;
        EXPECT(rm, vireo_f32_add(0x3f800000, 0xbf800000, S), z32, 0);
        EXPECT(rm, vireo_f32_sub(0x00000001, 0x00000001, S), z32, 0);
        EXPECT(rm, vireo_f32_add(0x00000000, 0x80000000, S), z32, 0);
        EXPECT(rm, vireo_f64_sub(0x0000000000000000, 0x0000000000000000, S), z64, 0);
        EXPECT(rm, vireo_f32_muladd(0x3f800000, 0x3f800000, 0xbf800000, false, false, S), z32, 0);
        EXPECT(rm,
               vireo_f64_muladd(0x4000000000000000, 0x3fe0000000000000, 0x3ff0000000000000, true,
                                false, S),
               z64, 0);
        EXPECT(rm, vireo_f32_muladd(0x80000000, 0x3f800000, 0x00000000, false, false, S), z32, 0);
        EXPECT(rm,
               vireo_f64_muladd(0x0000000000000000, 0x3ff0000000000000, 0x0000000000000000, false,
                                true, S),
               z64, 0);
    }
    EXPECT_ALL(vireo_f32_add(0x80000000, 0x80000000, S), 0x80000000, 0);
    EXPECT_ALL(vireo_f32_muladd(0x00000000, 0x3f800000, 0x00000000, true, true, S), 0x80000000, 0);
    EXPECT_ALL(vireo_f64_muladd(0x8000000000000000, 0x3ff0000000000000, 0x8000000000000000, false,
                                false, S),
               0x8000000000000000, 0);
    EXPECT_ALL(vireo_f32_mul(0x80000000, 0x3f800000, S), 0x80000000, 0);
    /* x + 0 is x, unrounded, and fma with a zero product returns c. */
    EXPECT_ALL(vireo_f32_add(0x00000001, 0x80000000, S), 0x00000001, 0);
    EXPECT_ALL(vireo_f64_muladd(0x0000000000000000, 0x7fefffffffffffff, 0x0000000000000001, false,
                                false, S),
               0x0000000000000001, 0);
    /* fma keeps the whole product: (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24 exactly. */
    EXPECT_ALL(vireo_f32_muladd(0x3f800800, 0x3f800800, 0xbf800000, false, false, S), 0x3a000400,
               0);
    /* Exact conversions and integers. */
    EXPECT_ALL(vireo_f32_to_f64(0x00000001, S), 0x36a0000000000000, 0);
    EXPECT_ALL(vireo_f32_to_f64(0xff7fffff, S), 0xc7efffffe0000000, 0);
    EXPECT_ALL(vireo_i64_to_f64(G_MININT64, S), 0xc3e0000000000000, 0);
    EXPECT_ALL(vireo_i32_to_f32(G_MININT32, S), 0xcf000000, 0);
    EXPECT_ALL(vireo_u64_to_f64(0, S), 0, 0);
    EXPECT(RUP, vireo_u64_to_f64(G_MAXUINT64, S), 0x43f0000000000000, NX);
    EXPECT(RTZ, vireo_u64_to_f64(G_MAXUINT64, S), 0x43efffffffffffff, NX);
    EXPECT(RDN, vireo_i64_to_f32(-1 - (gint64)(1ull << 40), S), 0xd3800001, NX);

    finish();
}

/* ======== Against the host and the round-to-odd reference (x86-64) ======== */

#if HOST_REFERENCE

/* a, b, c and the negation variant (bit 0: product, bit 1: addend). */
static void gen_triple(const TestFormat *f, guint64 *o)
{
    const int p = f->frac + 1;
    bool neg = rnd() & 1;

    gen_pair(f, KIND_MUL, &o[0], &o[1]);
    o[3] = (guint64)rnd_below(4);
    int fp = finite_field(f, o[0]) + finite_field(f, o[1]) - f->bias;
    switch (rnd_below(9)) {
    case 0:
    case 1:
    case 2: o[2] = gen_float(f); break;
    case 3: o[2] = neg ? f->sign : 0; break;
    case 4:
    case 5: o[2] = make_value(f, neg, fp + rnd_below(3 * p + 9) - (2 * p + 4), gen_frac(f)); break;
    default: {
        /* The addend nearly cancels the product. */
        guint64 prod;
        if (f == &tf16) {
            VireoFloatStatus st = { RNE, 0 };
            prod = vireo_f64_to_f16(
                (guint64)bits_f64((double)(ld_from_f16(o[0]) * ld_from_f16(o[1]))), &st);
        } else if (f == &tf32) {
            volatile float x = f32_from(o[0]), y = f32_from(o[1]);
            volatile float r = (float)((double)x * (double)y);
            prod = bits_f32(r);
        } else {
            volatile double x = f64_from(o[0]), y = f64_from(o[1]);
            volatile double r = x * y;
            prod = bits_f64(r);
        }
        bool flip = ((o[3] & 1) != 0) == ((o[3] & 2) != 0);
        guint64 mag = ((prod & ~f->sign) + (guint64)rnd_below(7) - 3) & ~f->sign;
        o[2] = mag | ((prod & f->sign) ^ (flip ? f->sign : 0));
        break;
    }
    }
    o[2] &= width_mask(f);
}

static guint64 gen_sqrt_operand(const TestFormat *f)
{
    switch (rnd_below(5)) {
    case 0:
    case 1: return gen_float(f);
    case 2:
    case 3: {
        /* An exact square, or one ulp beside it. */
        int n = 1 + rnd_below((f->frac + 1) / 2);
        guint64 m = frac_mask(f);
        guint64 fr = (rnd() & ~(m >> (n - 1))) & m;
        guint64 r = make_value(f, false, f->bias + rnd_below(f->bias) - f->bias / 2, fr);
        guint64 sq;
        if (f == &tf16) {
            VireoFloatStatus st = { RNE, 0 };
            long double x = ld_from_f16(r);
            sq = vireo_f64_to_f16(bits_f64((double)(x * x)), &st);
        } else if (f == &tf32) {
            volatile float x = f32_from(r);
            volatile float y = x * x;
            sq = bits_f32(y);
        } else {
            volatile double x = f64_from(r);
            volatile double y = x * x;
            sq = bits_f64(y);
        }
        return (sq + (guint64)rnd_below(3) - 1) & width_mask(f);
    }
    default: return make_value(f, false, rnd_below(3), gen_frac(f));
    }
}

/* Integers for conversions to floating point, p being the destination's
 * precision: ties and near ties for p, powers of two, extremes. */
static guint64 gen_int(int bits, int p)
{
    guint64 v;
    switch (rnd_below(7)) {
    case 0: v = (guint64)(gint64)(rnd_below(201) - 100); break;
    case 1: v = rnd(); break;
    case 2: v = rnd() >> rnd_below(64); break;
    case 3: v = (1ull << rnd_below(bits)) + (guint64)rnd_below(9) - 4; break;
    case 4:
    case 5: {
        if (bits <= p) {
            v = rnd();
            break;
        }
        int len = p + 1 + rnd_below(bits - p);
        int drop = len - p;
        guint64 top = (rnd() | (1ull << 63)) >> (64 - len);
        guint64 half = 1ull << (drop - 1);
        guint64 low;
        switch (rnd_below(4)) {
        case 0: low = half; break;
        case 1: low = half + 1; break;
        case 2: low = half - 1; break;
        default: low = rnd() & ((half << 1) - 1); break;
        }
        v = ((top >> drop) << drop) | low;
        break;
    }
    default: {
        static const guint64 edge[] = { 0,
                                        1,
                                        ~0ull,
                                        0x7fffffffull,
                                        0x80000000ull,
                                        0xffffffffull,
                                        0x7fffffffffffffffull,
                                        0x8000000000000000ull };
        v = edge[rnd_below(G_N_ELEMENTS(edge))];
        break;
    }
    }
    if (rnd_below(4) == 0) {
        v = (guint64)0 - v;
    }
    return bits == 32 ? (guint64)(guint32)v : v;
}

/* ---- host flags ---- */

static const int host_modes[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };

/* The SSE flags live in MXCSR; reading it directly is much cheaper than
 * feclearexcept()/fetestexcept(), which also go through the x87 state. */
static void sse_clear(void)
{
    _mm_setcsr(_mm_getcsr() & ~0x3fu);
}

static unsigned sse_flags(void)
{
    unsigned csr = _mm_getcsr();
    unsigned fl = 0;
    fl |= (csr & 0x01) ? NV : 0;
    fl |= (csr & 0x04) ? DZ : 0;
    fl |= (csr & 0x08) ? OF : 0;
    fl |= (csr & 0x10) ? UF : 0;
    fl |= (csr & 0x20) ? NX : 0;
    return fl;
}

static unsigned fenv_flags(void)
{
    int e = fetestexcept(FE_ALL_EXCEPT);
    unsigned fl = 0;
    fl |= (e & FE_INVALID) ? NV : 0;
    fl |= (e & FE_DIVBYZERO) ? DZ : 0;
    fl |= (e & FE_OVERFLOW) ? OF : 0;
    fl |= (e & FE_UNDERFLOW) ? UF : 0;
    fl |= (e & FE_INEXACT) ? NX : 0;
    return fl;
}

/* ---- reference rounding ---- */

enum { RV_ZERO, RV_FINITE, RV_INF, RV_NAN };

/* A value as mant * 2^(exp - 127), mant having bit 127 set. */
typedef struct {
    int cls;
    bool neg;
    int exp;
    u128 mant;
} RefVal;

static int clz128(u128 x)
{
    guint64 hi = (guint64)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((guint64)x);
}

static RefVal refval_from_ld(long double x)
{
    RefVal v = { 0 };
    unsigned char raw[sizeof(long double)];
    guint64 mant;
    guint16 se;

    memcpy(raw, &x, sizeof raw);
    memcpy(&mant, raw, 8);
    memcpy(&se, raw + 8, 2);
    v.neg = se >> 15;
    int e = se & 0x7fff;
    if (e == 0x7fff) {
        v.cls = (mant << 1) ? RV_NAN : RV_INF;
    } else if (mant == 0) {
        v.cls = RV_ZERO;
    } else {
        int k = __builtin_clzll(mant);
        v.cls = RV_FINITE;
        v.mant = (u128)(mant << k) << 64;
        v.exp = (e ? e : 1) - 16383 - k;
    }
    return v;
}

static RefVal refval_from_f128(__float128 x)
{
    RefVal v = { 0 };
    u128 bits;

    memcpy(&bits, &x, sizeof bits);
    v.neg = (bits >> 127) != 0;
    int e = (int)((bits >> 112) & 0x7fff);
    u128 frac = bits & (((u128)1 << 112) - 1);
    if (e == 0x7fff) {
        v.cls = frac ? RV_NAN : RV_INF;
    } else if (e == 0 && frac == 0) {
        v.cls = RV_ZERO;
    } else {
        u128 m = e ? frac | ((u128)1 << 112) : frac;
        int k = clz128(m);
        v.cls = RV_FINITE;
        v.mant = m << k;
        v.exp = (e ? e : 1) - 16383 - (k - 15);
    }
    return v;
}

/* mant rounded to its bits above the lowest `drop`, in mode rm. */
static u128 ref_round_bits(u128 mant, int drop, int rm, bool neg, bool *inexact)
{
    u128 kept, rem, half;
    bool up;

    if (drop > 128) {
        /* Everything is below half of the last kept place. */
        *inexact = mant != 0;
        return (rm == RUP && !neg) || (rm == RDN && neg) ? 1 : 0;
    }
    if (drop == 128) {
        kept = 0;
        rem = mant;
    } else {
        kept = mant >> drop;
        rem = mant & (((u128)1 << drop) - 1);
    }
    half = (u128)1 << (drop - 1);
    *inexact = rem != 0;
    switch (rm) {
    case RNE: up = rem > half || (rem == half && (kept & 1)); break;
    case RMM: up = rem >= half; break;
    case RUP: up = rem != 0 && !neg; break;
    case RDN: up = rem != 0 && neg; break;
    default: up = false; break;
    }
    return kept + up;
}

/* The value v rounded once to format f in mode rm, with the NX, UF and OF
 * flags that raises. */
static guint64 ref_round(const RefVal *v, const TestFormat *f, int rm, unsigned *flags)
{
    const guint64 sbit = v->neg ? f->sign : 0;
    const int p = f->frac + 1;
    const int emin = 1 - f->bias;
    const int emax = f->bias;
    bool inexact;

    switch (v->cls) {
    case RV_NAN: return canonical(f);
    case RV_INF: return inf_bits(f, v->neg);
    case RV_ZERO: return sbit;
    default: break;
    }

    /* Rounded to p bits with an unbounded exponent. */
    u128 k = ref_round_bits(v->mant, 128 - p, rm, v->neg, &inexact);
    int e = v->exp;
    if (k >> p) {
        k >>= 1;
        e++;
    }
    if (v->exp >= emin) {
        if (e > emax) {
            *flags |= OF | NX;
            bool to_inf = rm == RNE || rm == RMM || (rm == RUP && !v->neg) || (rm == RDN && v->neg);
            return to_inf ? inf_bits(f, v->neg) : sbit | (inf_bits(f, false) - 1);
        }
        *flags |= inexact ? NX : 0;
        return sbit | ((guint64)(e + f->bias) << f->frac) | ((guint64)k & frac_mask(f));
    }
    /* Subnormal range: tiny unless the unbounded rounding reached 2^emin. */
    bool tiny = e < emin;
    u128 sub = ref_round_bits(v->mant, 128 - p + (emin - v->exp), rm, v->neg, &inexact);
    if (inexact) {
        *flags |= NX | (tiny ? UF : 0);
    }
    return sbit | (guint64)sub;
}

/* ---- differential tests ---- */

typedef enum {
    GEN_ADD,
    GEN_MUL,
    GEN_DIV,
    GEN_SQRT,
    GEN_FMA,
    GEN_FLOAT,
    GEN_F64_TO_F32,
    GEN_INT32,
    GEN_INT64,
} GenKind;

typedef guint64 (*HostFn)(const guint64 *o);
typedef guint64 (*SoftFn)(const guint64 *o, VireoFloatStatus *s);
typedef RefVal (*RefFn)(const guint64 *o);

typedef struct {
    const char *path;
    const TestFormat *in;  /* operand format (generator) */
    const TestFormat *out; /* result format, NULL for a truth value */
    GenKind gen;
    int arity;
    HostFn host;
    SoftFn soft;
    RefFn ref; /* round-to-odd reference, NULL when the mode does not matter */
} DiffOp;

static void generate(const DiffOp *op, guint64 *o)
{
    const TestFormat *f = op->in;
    int p = op->out ? op->out->frac + 1 : 0;

    o[0] = o[1] = o[2] = o[3] = 0;
    switch (op->gen) {
    case GEN_ADD: gen_pair(f, KIND_ADD, &o[0], &o[1]); break;
    case GEN_MUL: gen_pair(f, KIND_MUL, &o[0], &o[1]); break;
    case GEN_DIV: gen_pair(f, KIND_DIV, &o[0], &o[1]); break;
    case GEN_SQRT: o[0] = gen_sqrt_operand(f); break;
    case GEN_FMA: gen_triple(f, o); break;
    case GEN_FLOAT: o[0] = gen_float(f); break;
    case GEN_F64_TO_F32:
        if (rnd_below(2)) {
            o[0] = gen_float(&tf64);
        } else {
            /* Around binary32's range, with ties for its precision. */
            int field = 1023 - 127 + 1 - 30 + rnd_below(127 + 127 + 40);
            o[0] = make_value(&tf64, rnd() & 1, field, gen_frac(&tf64));
        }
        break;
    case GEN_INT32: o[0] = gen_int(32, p); break;
    case GEN_INT64: o[0] = gen_int(64, p); break;
    }
}

/* RISC-V raises NV for inf * 0 + qNaN; the host does not. */
static bool fma_inf_times_zero(const DiffOp *op, const guint64 *o)
{
    const TestFormat *f = op->in;
    if (op->gen != GEN_FMA) {
        return false;
    }
    guint64 a = o[0] & ~f->sign, b = o[1] & ~f->sign;
    guint64 inf = inf_bits(f, false);
    return (a == inf && b == 0) || (a == 0 && b == inf);
}

static bool same_result(const DiffOp *op, guint64 want, guint64 got)
{
    if (op->out && is_nan_bits(op->out, want)) {
        return got == canonical(op->out);
    }
    return got == want;
}

#define COUNT_HOST 200000u

static void test_diff(gconstpointer data)
{
    const DiffOp *op = data;
    guint64 o[4];
    guint host_checks = 0, ref_checks = 0, ties = 0;
    guint flag_counts[5] = { 0 };
    gint64 t0 = g_get_monotonic_time();

    g_test_message("seed %#" G_GINT64_MODIFIER "x", base_seed);
    g_assert_cmpuint(_mm_getcsr() & 0x8040u, ==, 0); /* no flush-to-zero */

    for (int mode = 0; op->host != NULL && mode < 4; mode++) {
        g_assert_cmpint(fesetround(host_modes[mode]), ==, 0);
        seed_for(op->path, mode);
        for (guint i = 0; i < COUNT_HOST; i++) {
            generate(op, o);
            sse_clear();
            guint64 want = op->host(o);
            unsigned want_flags = sse_flags();
            if (fma_inf_times_zero(op, o)) {
                want_flags |= NV;
            }
            for (int b = 0; b < 5; b++) {
                flag_counts[b] += (want_flags >> b) & 1;
            }
            VireoFloatStatus st = { .rm = (uint8_t)mode, .flags = 0 };
            guint64 got = op->soft(o, &st);
            if (!same_result(op, want, got) || st.flags != want_flags) {
                report(op->path, mode, o, op->arity + (op->gen == GEN_FMA), want, want_flags, got,
                       st.flags);
            }
            /* With NX accrued already, an RNE operation may take the host's
             * unit (softfloat.c), which is in its default mode here as on
             * the vCPU threads: the same result, the flags ORed in. */
            st = (VireoFloatStatus){ .rm = (uint8_t)mode, .flags = NX };
            got = op->soft(o, &st);
            if (!same_result(op, want, got) || st.flags != (want_flags | NX)) {
                report(op->path, mode, o, op->arity + (op->gen == GEN_FMA), want, want_flags | NX,
                       got, st.flags);
            }
            host_checks++;
        }
    }
    fesetround(FE_TONEAREST);

    if (op->ref) {
        /* The reference: the host rounds towards zero and reports inexact. */
        fesetround(FE_TOWARDZERO);
        seed_for(op->path, 4);
        for (guint i = 0; i < COUNT_HOST; i++) {
            generate(op, o);
            feclearexcept(FE_ALL_EXCEPT);
            RefVal v = op->ref(o);
            unsigned hf = fenv_flags();
            if (hf & NX) {
                v.mant |= 1;
            }
            if (fma_inf_times_zero(op, o)) {
                hf |= NV;
            }
            for (int mode = 0; mode < 5; mode++) {
                /* An exact zero sum is -0 only when rounding down. */
                if (v.cls == RV_ZERO && mode == RDN) {
                    continue;
                }
                unsigned want_flags = hf & (NV | DZ);
                guint64 want = ref_round(&v, op->out, mode, &want_flags);
                VireoFloatStatus st = { .rm = (uint8_t)mode, .flags = 0 };
                guint64 got = op->soft(o, &st);
                if (!same_result(op, want, got) || st.flags != want_flags) {
                    report(op->path, mode, o, op->arity + (op->gen == GEN_FMA), want, want_flags,
                           got, st.flags);
                }
                ref_checks++;
            }
            unsigned fl = 0;
            if (v.cls == RV_FINITE &&
                ref_round(&v, op->out, RMM, &fl) != ref_round(&v, op->out, RNE, &fl)) {
                ties++;
            }
        }
        fesetround(FE_TONEAREST);
    }
    if (op->ref) {
        g_test_message("%u vectors against the host (%u per mode), %u against the round-to-odd "
                       "reference (%u operand sets in 5 modes), %.2f s",
                       host_checks, COUNT_HOST, ref_checks, COUNT_HOST,
                       (double)(g_get_monotonic_time() - t0) / 1e6);
    } else {
        g_test_message("%u vectors against the host (%u per mode), %.2f s", host_checks, COUNT_HOST,
                       (double)(g_get_monotonic_time() - t0) / 1e6);
    }
    /* What the generator reached: host results raising each flag, and
     * operand sets where RMM and RNE differ (exact ties). */
    g_test_message("host flags NX %u UF %u OF %u DZ %u NV %u; ties %u", flag_counts[0],
                   flag_counts[1], flag_counts[2], flag_counts[3], flag_counts[4], ties);
    finish();
}

/* Host operations: volatile keeps the compiler from folding or moving them. */
#define F32(i) f32_from(o[i])
#define F64(i) f64_from(o[i])

static guint64 host_f32_add(const guint64 *o)
{
    volatile float x = F32(0), y = F32(1);
    volatile float r = x + y;
    return bits_f32(r);
}

static guint64 host_f32_sub(const guint64 *o)
{
    volatile float x = F32(0), y = F32(1);
    volatile float r = x - y;
    return bits_f32(r);
}

static guint64 host_f32_mul(const guint64 *o)
{
    volatile float x = F32(0), y = F32(1);
    volatile float r = x * y;
    return bits_f32(r);
}

static guint64 host_f32_div(const guint64 *o)
{
    volatile float x = F32(0), y = F32(1);
    volatile float r = x / y;
    return bits_f32(r);
}

static guint64 host_f32_sqrt(const guint64 *o)
{
    volatile float x = F32(0);
    volatile float r = sqrtf(x);
    return bits_f32(r);
}

static guint64 host_f32_fma(const guint64 *o)
{
    volatile float x = F32(0), y = F32(1), z = F32(2);
    float xs = (o[3] & 1) ? -x : x, zs = (o[3] & 2) ? -z : z;
    volatile float r = fmaf(xs, y, zs);
    return bits_f32(r);
}

static guint64 host_f32_eq(const guint64 *o)
{
    volatile float x = F32(0), y = F32(1);
    volatile int r = x == y;
    return (guint64)r;
}

static guint64 host_f32_lt(const guint64 *o)
{
    volatile float x = F32(0), y = F32(1);
    volatile int r = x < y;
    return (guint64)r;
}

static guint64 host_f32_le(const guint64 *o)
{
    volatile float x = F32(0), y = F32(1);
    volatile int r = x <= y;
    return (guint64)r;
}

static guint64 host_f64_add(const guint64 *o)
{
    volatile double x = F64(0), y = F64(1);
    volatile double r = x + y;
    return bits_f64(r);
}

static guint64 host_f64_sub(const guint64 *o)
{
    volatile double x = F64(0), y = F64(1);
    volatile double r = x - y;
    return bits_f64(r);
}

static guint64 host_f64_mul(const guint64 *o)
{
    volatile double x = F64(0), y = F64(1);
    volatile double r = x * y;
    return bits_f64(r);
}

static guint64 host_f64_div(const guint64 *o)
{
    volatile double x = F64(0), y = F64(1);
    volatile double r = x / y;
    return bits_f64(r);
}

static guint64 host_f64_sqrt(const guint64 *o)
{
    volatile double x = F64(0);
    volatile double r = sqrt(x);
    return bits_f64(r);
}

static guint64 host_f64_fma(const guint64 *o)
{
    volatile double x = F64(0), y = F64(1), z = F64(2);
    double xs = (o[3] & 1) ? -x : x, zs = (o[3] & 2) ? -z : z;
    volatile double r = fma(xs, y, zs);
    return bits_f64(r);
}

static guint64 host_f64_eq(const guint64 *o)
{
    volatile double x = F64(0), y = F64(1);
    volatile int r = x == y;
    return (guint64)r;
}

static guint64 host_f64_lt(const guint64 *o)
{
    volatile double x = F64(0), y = F64(1);
    volatile int r = x < y;
    return (guint64)r;
}

static guint64 host_f64_le(const guint64 *o)
{
    volatile double x = F64(0), y = F64(1);
    volatile int r = x <= y;
    return (guint64)r;
}

static guint64 host_f32_to_f64(const guint64 *o)
{
    volatile float x = F32(0);
    volatile double r = x;
    return bits_f64(r);
}

static guint64 host_f64_to_f32(const guint64 *o)
{
    volatile double x = F64(0);
    volatile float r = (float)x;
    return bits_f32(r);
}

#define HOST_FROM_INT(name, T, R, bits_fn)       \
    static guint64 host_##name(const guint64 *o) \
    {                                            \
        volatile T x = (T)o[0];                  \
        volatile R r = (R)x;                     \
        return bits_fn(r);                       \
    }

HOST_FROM_INT(i32_to_f32, gint32, float, bits_f32)
HOST_FROM_INT(u32_to_f32, guint32, float, bits_f32)
HOST_FROM_INT(i64_to_f32, gint64, float, bits_f32)
HOST_FROM_INT(u64_to_f32, guint64, float, bits_f32)
HOST_FROM_INT(i32_to_f64, gint32, double, bits_f64)
HOST_FROM_INT(u32_to_f64, guint32, double, bits_f64)
HOST_FROM_INT(i64_to_f64, gint64, double, bits_f64)
HOST_FROM_INT(u64_to_f64, guint64, double, bits_f64)

/* References: exact, or rounded towards zero to 64 (113) bits. */

static RefVal ref_f32_add(const guint64 *o)
{
    volatile long double x = F32(0), y = F32(1);
    volatile long double r = x + y;
    return refval_from_ld(r);
}

static RefVal ref_f32_sub(const guint64 *o)
{
    volatile long double x = F32(0), y = F32(1);
    volatile long double r = x - y;
    return refval_from_ld(r);
}

static RefVal ref_f32_mul(const guint64 *o)
{
    volatile long double x = F32(0), y = F32(1);
    volatile long double r = x * y;
    return refval_from_ld(r);
}

static RefVal ref_f32_div(const guint64 *o)
{
    volatile long double x = F32(0), y = F32(1);
    volatile long double r = x / y;
    return refval_from_ld(r);
}

static RefVal ref_f32_sqrt(const guint64 *o)
{
    volatile long double x = F32(0);
    volatile long double r = sqrtl(x);
    return refval_from_ld(r);
}

static RefVal ref_f32_fma(const guint64 *o)
{
    /* The product of two binary32 values is exact in 64 bits. */
    volatile long double x = F32(0), y = F32(1), z = F32(2);
    volatile long double prod = ((o[3] & 1) ? -x : x) * y;
    volatile long double r = prod + ((o[3] & 2) ? -z : z);
    return refval_from_ld(r);
}

static RefVal ref_f64_add(const guint64 *o)
{
    volatile long double x = F64(0), y = F64(1);
    volatile long double r = x + y;
    return refval_from_ld(r);
}

static RefVal ref_f64_sub(const guint64 *o)
{
    volatile long double x = F64(0), y = F64(1);
    volatile long double r = x - y;
    return refval_from_ld(r);
}

static RefVal ref_f64_mul(const guint64 *o)
{
    volatile long double x = F64(0), y = F64(1);
    volatile long double r = x * y;
    return refval_from_ld(r);
}

static RefVal ref_f64_div(const guint64 *o)
{
    volatile long double x = F64(0), y = F64(1);
    volatile long double r = x / y;
    return refval_from_ld(r);
}

static RefVal ref_f64_sqrt(const guint64 *o)
{
    volatile long double x = F64(0);
    volatile long double r = sqrtl(x);
    return refval_from_ld(r);
}

static RefVal ref_f64_fma(const guint64 *o)
{
    /* The product of two binary64 values is exact in binary128. */
    volatile __float128 x = F64(0), y = F64(1), z = F64(2);
    volatile __float128 prod = ((o[3] & 1) ? -x : x) * y;
    volatile __float128 r = prod + ((o[3] & 2) ? -z : z);
    return refval_from_f128(r);
}

/* binary16: the operands are exact in extended precision, and so are sums
 * and products of two of them; one rounding towards zero gives the
 * round-to-odd reference of the rest. */
#define F16(i) ld_from_f16(o[i])

static RefVal ref_f16_add(const guint64 *o)
{
    volatile long double x = F16(0), y = F16(1);
    volatile long double r = x + y;
    return refval_from_ld(r);
}

static RefVal ref_f16_sub(const guint64 *o)
{
    volatile long double x = F16(0), y = F16(1);
    volatile long double r = x - y;
    return refval_from_ld(r);
}

static RefVal ref_f16_mul(const guint64 *o)
{
    volatile long double x = F16(0), y = F16(1);
    volatile long double r = x * y;
    return refval_from_ld(r);
}

static RefVal ref_f16_div(const guint64 *o)
{
    volatile long double x = F16(0), y = F16(1);
    volatile long double r = x / y;
    return refval_from_ld(r);
}

static RefVal ref_f16_sqrt(const guint64 *o)
{
    volatile long double x = F16(0);
    volatile long double r = sqrtl(x);
    return refval_from_ld(r);
}

static RefVal ref_f16_fma(const guint64 *o)
{
    volatile long double x = F16(0), y = F16(1), z = F16(2);
    volatile long double prod = ((o[3] & 1) ? -x : x) * y;
    volatile long double r = prod + ((o[3] & 2) ? -z : z);
    return refval_from_ld(r);
}

static RefVal ref_f16_widen(const guint64 *o)
{
    /* Multiplied by one, exactly, so that a signaling NaN raises invalid
     * as the conversion does. */
    volatile long double x = F16(0), one = 1.0L;
    volatile long double r = x * one;
    return refval_from_ld(r);
}

static RefVal ref_f32_to_f16(const guint64 *o)
{
    volatile long double r = F32(0);
    return refval_from_ld(r);
}

static RefVal ref_f64_to_f16(const guint64 *o)
{
    volatile long double r = F64(0);
    return refval_from_ld(r);
}

static RefVal ref_f32_to_f64(const guint64 *o)
{
    volatile long double r = F32(0);
    return refval_from_ld(r);
}

static RefVal ref_f64_to_f32(const guint64 *o)
{
    volatile long double r = F64(0);
    return refval_from_ld(r);
}

#define REF_FROM_INT(name, T)                  \
    static RefVal ref_##name(const guint64 *o) \
    {                                          \
        volatile long double r = (T)o[0];      \
        return refval_from_ld(r);              \
    }

REF_FROM_INT(i32, gint32)
REF_FROM_INT(u32, guint32)
REF_FROM_INT(i64, gint64)
REF_FROM_INT(u64, guint64)

/* The operations under test, with the same operand layout. */

static guint64 soft_f32_add(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_add((guint32)o[0], (guint32)o[1], s);
}

static guint64 soft_f32_sub(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_sub((guint32)o[0], (guint32)o[1], s);
}

static guint64 soft_f32_mul(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_mul((guint32)o[0], (guint32)o[1], s);
}

static guint64 soft_f32_div(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_div((guint32)o[0], (guint32)o[1], s);
}

static guint64 soft_f32_sqrt(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_sqrt((guint32)o[0], s);
}

static guint64 soft_f32_fma(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_muladd((guint32)o[0], (guint32)o[1], (guint32)o[2], o[3] & 1, o[3] & 2, s);
}

static guint64 soft_f32_eq(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_eq((guint32)o[0], (guint32)o[1], s);
}

static guint64 soft_f32_lt(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_lt((guint32)o[0], (guint32)o[1], s);
}

static guint64 soft_f32_le(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_le((guint32)o[0], (guint32)o[1], s);
}

static guint64 soft_f64_add(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_add(o[0], o[1], s);
}

static guint64 soft_f64_sub(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_sub(o[0], o[1], s);
}

static guint64 soft_f64_mul(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_mul(o[0], o[1], s);
}

static guint64 soft_f64_div(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_div(o[0], o[1], s);
}

static guint64 soft_f64_sqrt(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_sqrt(o[0], s);
}

static guint64 soft_f64_fma(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_muladd(o[0], o[1], o[2], o[3] & 1, o[3] & 2, s);
}

static guint64 soft_f64_eq(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_eq(o[0], o[1], s);
}

static guint64 soft_f64_lt(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_lt(o[0], o[1], s);
}

static guint64 soft_f64_le(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_le(o[0], o[1], s);
}

static guint64 soft_f16_add(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f16_add((guint16)o[0], (guint16)o[1], s);
}

static guint64 soft_f16_sub(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f16_sub((guint16)o[0], (guint16)o[1], s);
}

static guint64 soft_f16_mul(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f16_mul((guint16)o[0], (guint16)o[1], s);
}

static guint64 soft_f16_div(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f16_div((guint16)o[0], (guint16)o[1], s);
}

static guint64 soft_f16_sqrt(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f16_sqrt((guint16)o[0], s);
}

static guint64 soft_f16_fma(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f16_muladd((guint16)o[0], (guint16)o[1], (guint16)o[2], o[3] & 1, o[3] & 2, s);
}

static guint64 soft_f16_to_f32(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f16_to_f32((guint16)o[0], s);
}

static guint64 soft_f16_to_f64(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f16_to_f64((guint16)o[0], s);
}

static guint64 soft_f32_to_f16(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_to_f16((guint32)o[0], s);
}

static guint64 soft_f64_to_f16(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_to_f16(o[0], s);
}

static guint64 soft_i32_to_f16(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_i32_to_f16((gint32)o[0], s);
}

static guint64 soft_u32_to_f16(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_u32_to_f16((guint32)o[0], s);
}

static guint64 soft_i64_to_f16(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_i64_to_f16((gint64)o[0], s);
}

static guint64 soft_u64_to_f16(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_u64_to_f16(o[0], s);
}

static guint64 soft_f32_to_f64(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f32_to_f64((guint32)o[0], s);
}

static guint64 soft_f64_to_f32(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_f64_to_f32(o[0], s);
}

static guint64 soft_i32_to_f32(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_i32_to_f32((gint32)o[0], s);
}

static guint64 soft_u32_to_f32(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_u32_to_f32((guint32)o[0], s);
}

static guint64 soft_i64_to_f32(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_i64_to_f32((gint64)o[0], s);
}

static guint64 soft_u64_to_f32(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_u64_to_f32(o[0], s);
}

static guint64 soft_i32_to_f64(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_i32_to_f64((gint32)o[0], s);
}

static guint64 soft_u32_to_f64(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_u32_to_f64((guint32)o[0], s);
}

static guint64 soft_i64_to_f64(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_i64_to_f64((gint64)o[0], s);
}

static guint64 soft_u64_to_f64(const guint64 *o, VireoFloatStatus *s)
{
    return vireo_u64_to_f64(o[0], s);
}

static const DiffOp diff_ops[] = {
    { "/engine/softfloat/f32/add", &tf32, &tf32, GEN_ADD, 2, host_f32_add, soft_f32_add,
      ref_f32_add },
    { "/engine/softfloat/f32/sub", &tf32, &tf32, GEN_ADD, 2, host_f32_sub, soft_f32_sub,
      ref_f32_sub },
    { "/engine/softfloat/f32/mul", &tf32, &tf32, GEN_MUL, 2, host_f32_mul, soft_f32_mul,
      ref_f32_mul },
    { "/engine/softfloat/f32/div", &tf32, &tf32, GEN_DIV, 2, host_f32_div, soft_f32_div,
      ref_f32_div },
    { "/engine/softfloat/f32/sqrt", &tf32, &tf32, GEN_SQRT, 1, host_f32_sqrt, soft_f32_sqrt,
      ref_f32_sqrt },
    { "/engine/softfloat/f32/muladd", &tf32, &tf32, GEN_FMA, 3, host_f32_fma, soft_f32_fma,
      ref_f32_fma },
    { "/engine/softfloat/f32/eq", &tf32, NULL, GEN_ADD, 2, host_f32_eq, soft_f32_eq, NULL },
    { "/engine/softfloat/f32/lt", &tf32, NULL, GEN_ADD, 2, host_f32_lt, soft_f32_lt, NULL },
    { "/engine/softfloat/f32/le", &tf32, NULL, GEN_ADD, 2, host_f32_le, soft_f32_le, NULL },
    { "/engine/softfloat/f64/add", &tf64, &tf64, GEN_ADD, 2, host_f64_add, soft_f64_add,
      ref_f64_add },
    { "/engine/softfloat/f64/sub", &tf64, &tf64, GEN_ADD, 2, host_f64_sub, soft_f64_sub,
      ref_f64_sub },
    { "/engine/softfloat/f64/mul", &tf64, &tf64, GEN_MUL, 2, host_f64_mul, soft_f64_mul,
      ref_f64_mul },
    { "/engine/softfloat/f64/div", &tf64, &tf64, GEN_DIV, 2, host_f64_div, soft_f64_div,
      ref_f64_div },
    { "/engine/softfloat/f64/sqrt", &tf64, &tf64, GEN_SQRT, 1, host_f64_sqrt, soft_f64_sqrt,
      ref_f64_sqrt },
    { "/engine/softfloat/f64/muladd", &tf64, &tf64, GEN_FMA, 3, host_f64_fma, soft_f64_fma,
      ref_f64_fma },
    { "/engine/softfloat/f64/eq", &tf64, NULL, GEN_ADD, 2, host_f64_eq, soft_f64_eq, NULL },
    { "/engine/softfloat/f64/lt", &tf64, NULL, GEN_ADD, 2, host_f64_lt, soft_f64_lt, NULL },
    { "/engine/softfloat/f64/le", &tf64, NULL, GEN_ADD, 2, host_f64_le, soft_f64_le, NULL },
    { "/engine/softfloat/convert/f32-to-f64", &tf32, &tf64, GEN_FLOAT, 1, host_f32_to_f64,
      soft_f32_to_f64, ref_f32_to_f64 },
    { "/engine/softfloat/convert/f64-to-f32", &tf64, &tf32, GEN_F64_TO_F32, 1, host_f64_to_f32,
      soft_f64_to_f32, ref_f64_to_f32 },
    { "/engine/softfloat/convert/i32-to-f32", NULL, &tf32, GEN_INT32, 1, host_i32_to_f32,
      soft_i32_to_f32, ref_i32 },
    { "/engine/softfloat/convert/u32-to-f32", NULL, &tf32, GEN_INT32, 1, host_u32_to_f32,
      soft_u32_to_f32, ref_u32 },
    { "/engine/softfloat/convert/i64-to-f32", NULL, &tf32, GEN_INT64, 1, host_i64_to_f32,
      soft_i64_to_f32, ref_i64 },
    { "/engine/softfloat/convert/u64-to-f32", NULL, &tf32, GEN_INT64, 1, host_u64_to_f32,
      soft_u64_to_f32, ref_u64 },
    { "/engine/softfloat/convert/i32-to-f64", NULL, &tf64, GEN_INT32, 1, host_i32_to_f64,
      soft_i32_to_f64, ref_i32 },
    { "/engine/softfloat/convert/u32-to-f64", NULL, &tf64, GEN_INT32, 1, host_u32_to_f64,
      soft_u32_to_f64, ref_u32 },
    { "/engine/softfloat/convert/i64-to-f64", NULL, &tf64, GEN_INT64, 1, host_i64_to_f64,
      soft_i64_to_f64, ref_i64 },
    { "/engine/softfloat/convert/u64-to-f64", NULL, &tf64, GEN_INT64, 1, host_u64_to_f64,
      soft_u64_to_f64, ref_u64 },
    /* binary16, which the host's SSE unit does not have: the reference only */
    { "/engine/softfloat/f16/add", &tf16, &tf16, GEN_ADD, 2, NULL, soft_f16_add, ref_f16_add },
    { "/engine/softfloat/f16/sub", &tf16, &tf16, GEN_ADD, 2, NULL, soft_f16_sub, ref_f16_sub },
    { "/engine/softfloat/f16/mul", &tf16, &tf16, GEN_MUL, 2, NULL, soft_f16_mul, ref_f16_mul },
    { "/engine/softfloat/f16/div", &tf16, &tf16, GEN_DIV, 2, NULL, soft_f16_div, ref_f16_div },
    { "/engine/softfloat/f16/sqrt", &tf16, &tf16, GEN_SQRT, 1, NULL, soft_f16_sqrt, ref_f16_sqrt },
    { "/engine/softfloat/f16/muladd", &tf16, &tf16, GEN_FMA, 3, NULL, soft_f16_fma, ref_f16_fma },
    { "/engine/softfloat/convert/f16-to-f32", &tf16, &tf32, GEN_FLOAT, 1, NULL, soft_f16_to_f32,
      ref_f16_widen },
    { "/engine/softfloat/convert/f16-to-f64", &tf16, &tf64, GEN_FLOAT, 1, NULL, soft_f16_to_f64,
      ref_f16_widen },
    { "/engine/softfloat/convert/f32-to-f16", &tf32, &tf16, GEN_FLOAT, 1, NULL, soft_f32_to_f16,
      ref_f32_to_f16 },
    { "/engine/softfloat/convert/f64-to-f16", &tf64, &tf16, GEN_FLOAT, 1, NULL, soft_f64_to_f16,
      ref_f64_to_f16 },
    { "/engine/softfloat/convert/i32-to-f16", NULL, &tf16, GEN_INT32, 1, NULL, soft_i32_to_f16,
      ref_i32 },
    { "/engine/softfloat/convert/u32-to-f16", NULL, &tf16, GEN_INT32, 1, NULL, soft_u32_to_f16,
      ref_u32 },
    { "/engine/softfloat/convert/i64-to-f16", NULL, &tf16, GEN_INT64, 1, NULL, soft_i64_to_f16,
      ref_i64 },
    { "/engine/softfloat/convert/u64-to-f16", NULL, &tf16, GEN_INT64, 1, NULL, soft_u64_to_f16,
      ref_u64 },
};

/* ---- float to integer, against nearbyint()/round() and range checks ---- */

typedef struct {
    const char *path;
    bool from_f64;
    int bits;
    bool is_signed;
} ToIntOp;

static const ToIntOp to_int_ops[] = {
    { "/engine/softfloat/convert/f32-to-i32", false, 32, true },
    { "/engine/softfloat/convert/f32-to-u32", false, 32, false },
    { "/engine/softfloat/convert/f32-to-i64", false, 64, true },
    { "/engine/softfloat/convert/f32-to-u64", false, 64, false },
    { "/engine/softfloat/convert/f64-to-i32", true, 32, true },
    { "/engine/softfloat/convert/f64-to-u32", true, 32, false },
    { "/engine/softfloat/convert/f64-to-i64", true, 64, true },
    { "/engine/softfloat/convert/f64-to-u64", true, 64, false },
};

static guint64 soft_to_int(const ToIntOp *op, guint64 a, VireoFloatStatus *s)
{
    if (op->from_f64) {
        switch (op->bits * 2 + op->is_signed) {
        case 64: return (guint64)vireo_f64_to_u32(a, s);
        case 65: return (guint64)vireo_f64_to_i32(a, s);
        case 128: return vireo_f64_to_u64(a, s);
        default: return (guint64)vireo_f64_to_i64(a, s);
        }
    }
    switch (op->bits * 2 + op->is_signed) {
    case 64: return (guint64)vireo_f32_to_u32((guint32)a, s);
    case 65: return (guint64)vireo_f32_to_i32((guint32)a, s);
    case 128: return vireo_f32_to_u64((guint32)a, s);
    default: return (guint64)vireo_f32_to_i64((guint32)a, s);
    }
}

/* The RISC-V result of converting x, reasoned from the rounded value: the
 * host rounds to an integer in the current mode (round() for RMM), exactly,
 * and the range decides between that integer and saturation. */
static guint64 ref_to_int(const ToIntOp *op, double x, int mode, unsigned *flags)
{
    const double two31 = 2147483648.0, two32 = 4294967296.0;
    const double two63 = 9223372036854775808.0, two64 = 18446744073709551616.0;
    guint64 max, min;
    double lo, hi; /* the range is lo <= r < hi */

    if (op->is_signed) {
        max = op->bits == 32 ? 0x7fffffffull : 0x7fffffffffffffffull;
        min = op->bits == 32 ? 0xffffffff80000000ull : 0x8000000000000000ull;
        lo = op->bits == 32 ? -two31 : -two63;
        hi = op->bits == 32 ? two31 : two63;
    } else {
        max = op->bits == 32 ? 0xffffffffffffffffull : 0xffffffffffffffffull;
        min = 0;
        lo = 0;
        hi = op->bits == 32 ? two32 : two64;
    }
    if (isnan(x)) {
        *flags = NV;
        return max;
    }
    double r = mode == RMM ? round(x) : nearbyint(x);
    if (!(r >= lo && r < hi)) {
        *flags = NV;
        return x < 0 ? min : max;
    }
    *flags = r != x ? NX : 0;
    if (r < 0) {
        return (guint64)(gint64)r;
    }
    guint64 v = (guint64)r;
    /* 32-bit results are sign-extended, the unsigned ones too. */
    return op->bits == 32 ? (guint64)(gint64)(gint32)(guint32)v : v;
}

/* Values around integers, halves and the saturation limits. */
static double gen_to_int_operand(void)
{
    static const double edges[] = {
        2147483648.0,
        2147483647.0,
        2147483647.5,
        -2147483648.0,
        -2147483648.5,
        -2147483649.0,
        4294967295.0,
        4294967295.5,
        4294967296.0,
        3e9,
        9223372036854775808.0,
        -9223372036854775808.0,
        18446744073709551616.0,
        -0.5,
        -0.3,
        -1.0,
        0.5,
        -0.0,
        1.5,
    };
    double x;
    switch (rnd_below(4)) {
    case 0: {
        x = edges[rnd_below(G_N_ELEMENTS(edges))];
        int steps = rnd_below(5) - 2;
        for (int i = 0; i < steps; i++) {
            x = nextafter(x, INFINITY);
        }
        for (int i = 0; i > steps; i--) {
            x = nextafter(x, -INFINITY);
        }
        return x;
    }
    case 1: {
        static const double fracs[] = { 0.0, 0.5, 0.25, 0.75, 0.3, 0.7, 1e-9 };
        double k = ldexp((double)(rnd() >> 11), rnd_below(66) - 53);
        x = trunc(k) + fracs[rnd_below(G_N_ELEMENTS(fracs))];
        return rnd_below(2) ? -x : x;
    }
    case 2: return f64_from(gen_float(&tf64));
    default: return f32_from(gen_float(&tf32));
    }
}

#define COUNT_TO_INT 100000u

static void test_to_int(gconstpointer data)
{
    const ToIntOp *op = data;
    guint checks = 0;

    g_test_message("seed %#" G_GINT64_MODIFIER "x", base_seed);
    for (int mode = 0; mode < 5; mode++) {
        fesetround(host_modes[mode == RMM ? RNE : mode]);
        seed_for(op->path, mode);
        for (guint i = 0; i < COUNT_TO_INT; i++) {
            double x = gen_to_int_operand();
            guint64 a;
            if (op->from_f64) {
                a = bits_f64(x);
            } else {
                /* Keep signaling NaNs signaling. */
                a = isnan(x) ? gen_float(&tf32) | 0x7f800001u : bits_f32((float)x);
                x = f32_from(a);
            }
            unsigned want_flags = 0;
            guint64 want = ref_to_int(op, x, mode, &want_flags);
            VireoFloatStatus st = { .rm = (uint8_t)mode, .flags = 0 };
            guint64 got = soft_to_int(op, a, &st);
            if (got != want || st.flags != want_flags) {
                report(op->path, mode, &a, 1, want, want_flags, got, st.flags);
            }
            checks++;
        }
    }
    fesetround(FE_TONEAREST);
    g_test_message("%u vectors (%u per mode, 5 modes)", checks, COUNT_TO_INT);
    finish();
}

#else

static void test_no_host_reference(void)
{
    g_test_skip("the differential tests need the x86-64 host's SSE and x87 units, "
                "whose rounding modes and flags they compare against");
}

#endif

int main(int argc, char **argv)
{
    const char *seed = g_getenv("VIREO_SOFTFLOAT_SEED");

    g_test_init(&argc, &argv, NULL);
    /* A failing test reports and the others still run. */
    g_test_set_nonfatal_assertions();
    if (seed) {
        base_seed = g_ascii_strtoull(seed, NULL, 0);
    }

    g_test_add_func("/engine/softfloat/rmm/vectors", test_rmm_vectors);
    g_test_add_func("/engine/softfloat/underflow/vectors", test_underflow_vectors);
    g_test_add_func("/engine/softfloat/classify/vectors", test_classify_vectors);
    g_test_add_func("/engine/softfloat/minmax/vectors", test_minmax_vectors);
    g_test_add_func("/engine/softfloat/convert/to-int-vectors", test_to_int_vectors);
    g_test_add_func("/engine/softfloat/special/vectors", test_special_vectors);
    g_test_add_data_func("/engine/softfloat/f32/minmax-classify", &tf32, test_minmax_random);
    g_test_add_data_func("/engine/softfloat/f64/minmax-classify", &tf64, test_minmax_random);
    g_test_add_data_func("/engine/softfloat/f16/minmax-classify", &tf16, test_minmax_random);
#if HOST_REFERENCE
    for (gsize i = 0; i < G_N_ELEMENTS(diff_ops); i++) {
        g_test_add_data_func(diff_ops[i].path, &diff_ops[i], test_diff);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(to_int_ops); i++) {
        g_test_add_data_func(to_int_ops[i].path, &to_int_ops[i], test_to_int);
    }
#else
    g_test_add_func("/engine/softfloat/host-reference", test_no_host_reference);
#endif
    return g_test_run();
}
