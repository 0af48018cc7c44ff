/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/softfloat.h"

#include <string.h>

/*
 * The three formats share one set of algorithms. An operand is unpacked into a
 * sign, an unbiased exponent and a 63-bit significand whose leading one sits
 * at bit 62, so that a finite value is sig * 2^(exp - 62). Every operation
 * computes its exact result in that form (or in 128 bits first), folding any
 * bits it has to drop into the least significant bit ("jamming", which keeps
 * the information that the result is inexact and on which side of a halfway
 * point it lies), and then round_pack() rounds once into the destination
 * format. Bit 63 stays free for the carry of an addition. A binary64
 * significand leaves 10 bits below its precision, a binary32 one 39 and a
 * binary16 one 52, so the rounding position is always at least two bits
 * above the sticky bit.
 */

typedef unsigned __int128 u128;

/* The format-generic helpers are inlined into each public entry point, so
 * every one of them is compiled for its format with constant widths. */
#define SF_INLINE static inline __attribute__((always_inline))

typedef struct {
    int frac_bits;   /* stored fraction bits: 10, 23 or 52 */
    int exp_bits;    /* exponent field width: 5, 8 or 11 */
    int bias;        /* 15, 127 or 1023 */
    int exp_special; /* exponent field of infinities and NaNs */
} FloatFormat;

static const FloatFormat fmt16 = { 10, 5, 15, 31 };
static const FloatFormat fmt32 = { 23, 8, 127, 255 };
static const FloatFormat fmt64 = { 52, 11, 1023, 2047 };

typedef enum {
    CLS_ZERO,
    CLS_FINITE, /* nonzero normal or subnormal */
    CLS_INF,
    CLS_QNAN,
    CLS_SNAN,
} FloatClass;

typedef struct {
    FloatClass cls;
    bool sign;
    int exp;      /* unbiased exponent of bit 62 of sig (finite values only) */
    uint64_t sig; /* bit 62 set for finite values, 0 otherwise */
} Unpacked;

SF_INLINE int clz64(uint64_t x)
{
    return __builtin_clzll(x);
}

SF_INLINE int clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? clz64(hi) : 64 + clz64((uint64_t)x);
}

/* x >> n, with a 1 ORed into the result when any bit shifted out was set. */
SF_INLINE uint64_t shr_jam64(uint64_t x, int n)
{
    if (n <= 0) {
        return x;
    }
    if (n >= 64) {
        return x != 0;
    }
    return (x >> n) | ((x << (64 - n)) != 0);
}

SF_INLINE u128 shr_jam128(u128 x, int n)
{
    if (n <= 0) {
        return x;
    }
    if (n >= 128) {
        return x != 0;
    }
    return (x >> n) | ((x << (128 - n)) != 0);
}

SF_INLINE uint64_t sign_bit(const FloatFormat *f)
{
    return 1ull << (f->frac_bits + f->exp_bits);
}

SF_INLINE uint64_t pack_inf(const FloatFormat *f, bool sign)
{
    return (sign ? sign_bit(f) : 0) | ((uint64_t)f->exp_special << f->frac_bits);
}

SF_INLINE uint64_t pack_zero(const FloatFormat *f, bool sign)
{
    return sign ? sign_bit(f) : 0;
}

SF_INLINE uint64_t canonical_nan(const FloatFormat *f)
{
    return ((uint64_t)f->exp_special << f->frac_bits) | (1ull << (f->frac_bits - 1));
}

SF_INLINE Unpacked unpack(const FloatFormat *f, uint64_t bits)
{
    Unpacked u;
    uint64_t frac = bits & ((1ull << f->frac_bits) - 1);
    int e = (int)((bits >> f->frac_bits) & (uint64_t)f->exp_special);

    u.sign = (bits >> (f->frac_bits + f->exp_bits)) & 1;
    u.exp = 0;
    u.sig = 0;
    if (e == f->exp_special) {
        if (frac == 0) {
            u.cls = CLS_INF;
        } else {
            u.cls = (frac >> (f->frac_bits - 1)) ? CLS_QNAN : CLS_SNAN;
        }
    } else if (e == 0) {
        if (frac == 0) {
            u.cls = CLS_ZERO;
        } else {
            /* Subnormal: frac * 2^(1 - bias - frac_bits), normalized. */
            int k = clz64(frac) - 1;
            u.cls = CLS_FINITE;
            u.sig = frac << k;
            u.exp = 63 - k - f->bias - f->frac_bits;
        }
    } else {
        u.cls = CLS_FINITE;
        u.sig = (frac | (1ull << f->frac_bits)) << (62 - f->frac_bits);
        u.exp = e - f->bias;
    }
    return u;
}

SF_INLINE bool is_nan(const Unpacked *u)
{
    return u->cls == CLS_QNAN || u->cls == CLS_SNAN;
}

/* Whether rounding away the remainder rem (half is the value of one half
 * unit in the last kept place) increments the kept magnitude. */
SF_INLINE bool round_increments(unsigned rm, bool sign, bool odd, uint64_t rem, uint64_t half)
{
    switch (rm) {
    case VIREO_RM_RNE: return rem > half || (rem == half && odd);
    case VIREO_RM_RMM: return rem >= half;
    case VIREO_RM_RDN: return rem != 0 && sign;
    case VIREO_RM_RUP: return rem != 0 && !sign;
    default: return false;
    }
}

/*
 * Rounds sig * 2^(exp - 62) (sig has bit 62 set; bits below the destination
 * precision are guard bits, the lowest of them sticky) to the format, raising
 * NX, UF and OF as needed.
 */
SF_INLINE uint64_t round_pack(const FloatFormat *f, bool sign, int exp, uint64_t sig,
                              VireoFloatStatus *s)
{
    const int shift = 62 - f->frac_bits;
    const uint64_t mask = (1ull << shift) - 1;
    const uint64_t half = 1ull << (shift - 1);
    const unsigned rm = s->rm;
    const uint64_t sbit = sign ? sign_bit(f) : 0;
    int e = exp + f->bias;
    uint64_t rem = sig & mask;
    uint64_t m = sig >> shift;

    if (round_increments(rm, sign, m & 1, rem, half)) {
        m++;
    }
    if (e >= 1) {
        if (m >> (f->frac_bits + 1)) {
            m >>= 1;
            e++;
        }
        if (e >= f->exp_special) {
            s->flags |= VIREO_FFLAG_OF | VIREO_FFLAG_NX;
            bool to_inf = rm == VIREO_RM_RNE || rm == VIREO_RM_RMM ||
                          (rm == VIREO_RM_RUP && !sign) || (rm == VIREO_RM_RDN && sign);
            return to_inf ? pack_inf(f, sign) : sbit | (pack_inf(f, false) - 1);
        }
        if (rem) {
            s->flags |= VIREO_FFLAG_NX;
        }
        /* m holds the implicit bit, which carries into the exponent field. */
        return sbit | (((uint64_t)(e - 1) << f->frac_bits) + m);
    }

    /*
     * Below the normal range. The result is tiny when, rounded to full
     * precision with an unbounded exponent (m above), it is still below the
     * smallest normal number.
     */
    bool tiny = e < 0 || !(m >> (f->frac_bits + 1));
    sig = shr_jam64(sig, 1 - e);
    rem = sig & mask;
    m = sig >> shift;
    if (round_increments(rm, sign, m & 1, rem, half)) {
        m++;
    }
    if (rem) {
        s->flags |= VIREO_FFLAG_NX;
        if (tiny) {
            s->flags |= VIREO_FFLAG_UF;
        }
    }
    /* A carry out of the fraction gives the smallest normal number. */
    return sbit | m;
}

/* Rounds a 128-bit magnitude r * 2^(e - 124) (r nonzero, jammed). */
SF_INLINE uint64_t round_pack128(const FloatFormat *f, bool sign, int e, u128 r,
                                 VireoFloatStatus *s)
{
    int lead = 127 - clz128(r);
    uint64_t sig;

    if (lead >= 62) {
        sig = (uint64_t)shr_jam128(r, lead - 62);
    } else {
        sig = (uint64_t)r << (62 - lead);
    }
    return round_pack(f, sign, e + lead - 124, sig, s);
}

/* The canonical NaN, with NV when an operand is signaling. */
SF_INLINE uint64_t nan_result(const FloatFormat *f, bool invalid, VireoFloatStatus *s)
{
    if (invalid) {
        s->flags |= VIREO_FFLAG_NV;
    }
    return canonical_nan(f);
}

/* ---- addition and subtraction ---- */

SF_INLINE uint64_t add_finite(const FloatFormat *f, const Unpacked *x, const Unpacked *y,
                              VireoFloatStatus *s)
{
    const Unpacked *big = x, *small = y;

    if (y->exp > x->exp || (y->exp == x->exp && y->sig > x->sig)) {
        big = y;
        small = x;
    }
    uint64_t sb = shr_jam64(small->sig, big->exp - small->exp);
    int exp = big->exp;

    if (x->sign == y->sign) {
        uint64_t sum = big->sig + sb;
        if (sum >> 63) {
            sum = (sum >> 1) | (sum & 1);
            exp++;
        }
        return round_pack(f, big->sign, exp, sum, s);
    }
    uint64_t diff = big->sig - sb;
    if (diff == 0) {
        return pack_zero(f, s->rm == VIREO_RM_RDN);
    }
    /* Cancellation of more than one bit only happens when the exponents
     * differ by at most one, where nothing was shifted out. */
    int k = clz64(diff) - 1;
    return round_pack(f, big->sign, exp - k, diff << k, s);
}

SF_INLINE uint64_t fp_add(const FloatFormat *f, uint64_t a, uint64_t b, bool subtract,
                          VireoFloatStatus *s)
{
    Unpacked x = unpack(f, a), y = unpack(f, b);

    if (subtract) {
        y.sign = !y.sign;
        b ^= sign_bit(f);
    }
    if (is_nan(&x) || is_nan(&y)) {
        return nan_result(f, x.cls == CLS_SNAN || y.cls == CLS_SNAN, s);
    }
    if (x.cls == CLS_INF) {
        if (y.cls == CLS_INF && x.sign != y.sign) {
            return nan_result(f, true, s);
        }
        return a;
    }
    if (y.cls == CLS_INF) {
        return b;
    }
    if (x.cls == CLS_ZERO) {
        if (y.cls == CLS_ZERO) {
            return pack_zero(f, x.sign == y.sign ? x.sign : s->rm == VIREO_RM_RDN);
        }
        return b;
    }
    if (y.cls == CLS_ZERO) {
        return a;
    }
    return add_finite(f, &x, &y, s);
}

/* ---- multiplication ---- */

SF_INLINE uint64_t mul_finite(const FloatFormat *f, bool sign, const Unpacked *x, const Unpacked *y,
                              VireoFloatStatus *s)
{
    /* The product of two significands in [2^62, 2^63) is in [2^124, 2^126). */
    u128 p = (u128)x->sig * y->sig;
    int exp = x->exp + y->exp;

    if (p >> 125) {
        return round_pack(f, sign, exp + 1, (uint64_t)shr_jam128(p, 63), s);
    }
    return round_pack(f, sign, exp, (uint64_t)shr_jam128(p, 62), s);
}

SF_INLINE uint64_t fp_mul(const FloatFormat *f, uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    Unpacked x = unpack(f, a), y = unpack(f, b);
    bool sign = x.sign != y.sign;

    if (is_nan(&x) || is_nan(&y)) {
        return nan_result(f, x.cls == CLS_SNAN || y.cls == CLS_SNAN, s);
    }
    if (x.cls == CLS_INF || y.cls == CLS_INF) {
        if (x.cls == CLS_ZERO || y.cls == CLS_ZERO) {
            return nan_result(f, true, s);
        }
        return pack_inf(f, sign);
    }
    if (x.cls == CLS_ZERO || y.cls == CLS_ZERO) {
        return pack_zero(f, sign);
    }
    return mul_finite(f, sign, &x, &y, s);
}

/* ---- division ---- */

SF_INLINE uint64_t fp_div(const FloatFormat *f, uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    Unpacked x = unpack(f, a), y = unpack(f, b);
    bool sign = x.sign != y.sign;

    if (is_nan(&x) || is_nan(&y)) {
        return nan_result(f, x.cls == CLS_SNAN || y.cls == CLS_SNAN, s);
    }
    if (x.cls == CLS_INF) {
        if (y.cls == CLS_INF) {
            return nan_result(f, true, s);
        }
        return pack_inf(f, sign);
    }
    if (y.cls == CLS_INF) {
        return pack_zero(f, sign);
    }
    if (y.cls == CLS_ZERO) {
        if (x.cls == CLS_ZERO) {
            return nan_result(f, true, s);
        }
        s->flags |= VIREO_FFLAG_DZ;
        return pack_inf(f, sign);
    }
    if (x.cls == CLS_ZERO) {
        return pack_zero(f, sign);
    }

    int exp = x.exp - y.exp;
    uint64_t sig;
    if (f->frac_bits <= 23) {
        /* 24-bit significands (11-bit ones for binary16, padded with
         * zeros): a 40-bit quotient fits 64-bit arithmetic. */
        uint64_t na = x.sig >> 39, nb = y.sig >> 39;
        uint64_t num;
        if (na >= nb) {
            num = na << 39;
        } else {
            num = na << 40;
            exp--;
        }
        uint64_t q = num / nb;
        sig = (q << 23) | (num != q * nb);
    } else {
        /* Quotient in [2^62, 2^63): the dividend is scaled so that it is. */
        u128 num;
        if (x.sig >= y.sig) {
            num = (u128)x.sig << 62;
        } else {
            num = (u128)x.sig << 63;
            exp--;
        }
        uint64_t q = (uint64_t)(num / y.sig);
        sig = q | (num != (u128)q * y.sig);
    }
    return round_pack(f, sign, exp, sig, s);
}

/* ---- square root ---- */

/* floor(sqrt(m)) by Newton's iteration from above, for m >= 16. */
static uint64_t isqrt64(uint64_t m)
{
    /* m is in [4^k, 4^(k+1)); the tangent of sqrt at 2.25 * 4^k lies above
     * the curve, so x starts above the root. */
    int k = (63 - clz64(m)) / 2;
    uint64_t x = m / (3ull << k) + (3ull << k) / 4 + 1;

    for (;;) {
        uint64_t y = (x + m / x) / 2;
        if (y >= x) {
            return x;
        }
        x = y;
    }
}

/* floor(sqrt(m)) for m in [2^124, 2^126). */
static uint64_t isqrt128(u128 m)
{
    /* x0 = (floor(sqrt(hi)) + 1) * 2^32 is above the root and within 2^32
     * of it; one Newton step (which stays above the root) leaves it within a
     * few units, which the loop removes. */
    u128 x = (u128)(isqrt64((uint64_t)(m >> 64)) + 1) << 32;

    x = (x + m / x) / 2;
    while (x * x > m) {
        x--;
    }
    return (uint64_t)x;
}

SF_INLINE uint64_t fp_sqrt(const FloatFormat *f, uint64_t a, VireoFloatStatus *s)
{
    Unpacked x = unpack(f, a);

    if (is_nan(&x)) {
        return nan_result(f, x.cls == CLS_SNAN, s);
    }
    if (x.cls == CLS_ZERO) {
        return a;
    }
    if (x.sign) {
        return nan_result(f, true, s);
    }
    if (x.cls == CLS_INF) {
        return a;
    }

    /* sqrt(sig * 2^(e - 62)) = r * 2^(floor(e / 2) - 62): the radicand gets
     * one more bit when e is odd. */
    int odd = x.exp & 1;
    int exp = (x.exp - odd) / 2;
    uint64_t sig;
    if (f->frac_bits <= 23) {
        uint64_t m = (x.sig >> 39) << (29 + odd); /* [2^52, 2^54) */
        uint64_t r = isqrt64(m);                  /* [2^26, 2^27) */
        sig = (r << 36) | (r * r != m);
    } else {
        u128 m = (u128)x.sig << (62 + odd); /* [2^124, 2^126) */
        uint64_t r = isqrt128(m);           /* [2^62, 2^63) */
        sig = r | ((u128)r * r != m);
    }
    return round_pack(f, false, exp, sig, s);
}

/* ---- fused multiply-add ---- */

SF_INLINE uint64_t fp_muladd(const FloatFormat *f, uint64_t a, uint64_t b, uint64_t c,
                             bool negate_product, bool negate_addend, VireoFloatStatus *s)
{
    Unpacked x = unpack(f, a), y = unpack(f, b), z = unpack(f, c);
    bool psign = (x.sign != y.sign) != negate_product;
    bool inf_times_zero =
        (x.cls == CLS_INF && y.cls == CLS_ZERO) || (x.cls == CLS_ZERO && y.cls == CLS_INF);

    if (negate_addend) {
        z.sign = !z.sign;
        c ^= sign_bit(f);
    }
    /* RISC-V raises NV for inf * 0 even when the addend is a quiet NaN. */
    if (inf_times_zero || is_nan(&x) || is_nan(&y) || is_nan(&z)) {
        return nan_result(
            f, inf_times_zero || x.cls == CLS_SNAN || y.cls == CLS_SNAN || z.cls == CLS_SNAN, s);
    }
    if (x.cls == CLS_INF || y.cls == CLS_INF) {
        if (z.cls == CLS_INF && z.sign != psign) {
            return nan_result(f, true, s);
        }
        return pack_inf(f, psign);
    }
    if (z.cls == CLS_INF) {
        return c;
    }
    if (x.cls == CLS_ZERO || y.cls == CLS_ZERO) {
        if (z.cls == CLS_ZERO) {
            return pack_zero(f, psign == z.sign ? psign : s->rm == VIREO_RM_RDN);
        }
        return c;
    }
    if (z.cls == CLS_ZERO) {
        return mul_finite(f, psign, &x, &y, s);
    }

    /* Product p * 2^(ep - 124) with p in [2^124, 2^126), addend
     * q * 2^(ez - 124) with q in [2^124, 2^125). Either is exact in 128 bits;
     * the one with the smaller exponent is aligned with a sticky bit, which
     * only loses bits when it is so much smaller that at most one bit
     * cancels. */
    u128 p = (u128)x.sig * y.sig;
    u128 q = (u128)z.sig << 62;
    int ep = x.exp + y.exp;
    int e;
    if (ep >= z.exp) {
        q = shr_jam128(q, ep - z.exp);
        e = ep;
    } else {
        p = shr_jam128(p, z.exp - ep);
        e = z.exp;
    }
    if (psign == z.sign) {
        return round_pack128(f, psign, e, p + q, s);
    }
    if (p > q) {
        return round_pack128(f, psign, e, p - q, s);
    }
    if (q > p) {
        return round_pack128(f, z.sign, e, q - p, s);
    }
    return pack_zero(f, s->rm == VIREO_RM_RDN);
}

/* ---- minimum, maximum, comparisons, classification ---- */

/* A key that orders non-NaN values numerically; with zero_order, -0 sorts
 * below +0, otherwise both zeros get the same key. */
SF_INLINE int64_t order_key(const FloatFormat *f, uint64_t bits, bool zero_order)
{
    int64_t mag = (int64_t)(bits & (sign_bit(f) - 1));

    if (bits & sign_bit(f)) {
        return zero_order ? -mag - 1 : -mag;
    }
    return mag;
}

SF_INLINE uint64_t fp_minmax(const FloatFormat *f, uint64_t a, uint64_t b, bool want_max,
                             VireoFloatStatus *s)
{
    Unpacked x = unpack(f, a), y = unpack(f, b);

    if (x.cls == CLS_SNAN || y.cls == CLS_SNAN) {
        s->flags |= VIREO_FFLAG_NV;
    }
    if (is_nan(&x)) {
        return is_nan(&y) ? canonical_nan(f) : b;
    }
    if (is_nan(&y)) {
        return a;
    }
    bool a_below = order_key(f, a, true) < order_key(f, b, true);
    return a_below != want_max ? a : b;
}

/* Returns -1 when unordered, else 0 (a < b), 1 (a == b) or 2 (a > b). */
SF_INLINE int fp_compare(const FloatFormat *f, uint64_t a, uint64_t b, bool signaling,
                         VireoFloatStatus *s)
{
    Unpacked x = unpack(f, a), y = unpack(f, b);

    if (is_nan(&x) || is_nan(&y)) {
        if (signaling || x.cls == CLS_SNAN || y.cls == CLS_SNAN) {
            s->flags |= VIREO_FFLAG_NV;
        }
        return -1;
    }
    int64_t ka = order_key(f, a, false), kb = order_key(f, b, false);
    return ka < kb ? 0 : ka == kb ? 1 : 2;
}

SF_INLINE unsigned fp_classify(const FloatFormat *f, uint64_t a)
{
    Unpacked x = unpack(f, a);
    bool subnormal = ((a >> f->frac_bits) & (uint64_t)f->exp_special) == 0;

    switch (x.cls) {
    case CLS_SNAN: return 1u << 8;
    case CLS_QNAN: return 1u << 9;
    case CLS_INF: return x.sign ? 1u << 0 : 1u << 7;
    case CLS_ZERO: return x.sign ? 1u << 3 : 1u << 4;
    default:
        if (subnormal) {
            return x.sign ? 1u << 2 : 1u << 5;
        }
        return x.sign ? 1u << 1 : 1u << 6;
    }
}

/* ---- conversions ---- */

SF_INLINE uint64_t convert_format(const FloatFormat *to, const FloatFormat *from, uint64_t a,
                                  VireoFloatStatus *s)
{
    Unpacked x = unpack(from, a);

    switch (x.cls) {
    case CLS_SNAN:
    case CLS_QNAN: return nan_result(to, x.cls == CLS_SNAN, s);
    case CLS_INF: return pack_inf(to, x.sign);
    case CLS_ZERO: return pack_zero(to, x.sign);
    default: return round_pack(to, x.sign, x.exp, x.sig, s);
    }
}

/*
 * Converts to a bits-wide integer, rounding with s->rm; returns the result's
 * two's complement bits (the low `bits` bits are meaningful).
 */
SF_INLINE uint64_t fp_to_int(const FloatFormat *f, uint64_t a, int bits, bool is_signed,
                             VireoFloatStatus *s)
{
    Unpacked x = unpack(f, a);
    const uint64_t umax = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
    const uint64_t max = is_signed ? umax >> 1 : umax;
    const uint64_t min = is_signed ? (uint64_t)0 - (max + 1) : 0;
    /* Largest magnitude allowed on each side. */
    const uint64_t lim = x.sign ? (is_signed ? max + 1 : 0) : max;
    uint64_t m;
    bool inexact = false;

    switch (x.cls) {
    case CLS_SNAN:
    case CLS_QNAN: s->flags |= VIREO_FFLAG_NV; return max;
    case CLS_INF: s->flags |= VIREO_FFLAG_NV; return x.sign ? min : max;
    case CLS_ZERO: return 0;
    default: break;
    }

    if (x.exp >= 64) {
        s->flags |= VIREO_FFLAG_NV;
        return x.sign ? min : max;
    }
    if (x.exp >= 62) {
        m = x.sig << (x.exp - 62);
    } else {
        int shift = 62 - x.exp;
        uint64_t rem, half;
        if (shift >= 64) {
            /* Below 2^-2: only the directed modes round it away from 0. */
            m = 0;
            rem = 1;
            half = 2;
        } else {
            m = x.sig >> shift;
            rem = x.sig & ((1ull << shift) - 1);
            half = 1ull << (shift - 1);
        }
        if (round_increments(s->rm, x.sign, m & 1, rem, half)) {
            m++;
        }
        inexact = rem != 0;
    }
    if (m > lim) {
        s->flags |= VIREO_FFLAG_NV;
        return x.sign ? min : max;
    }
    if (inexact) {
        s->flags |= VIREO_FFLAG_NX;
    }
    return x.sign ? (uint64_t)0 - m : m;
}

SF_INLINE uint64_t int_to_fp(const FloatFormat *f, bool sign, uint64_t mag, VireoFloatStatus *s)
{
    if (mag == 0) {
        return 0;
    }
    int lz = clz64(mag);
    if (lz == 0) {
        return round_pack(f, sign, 63, (mag >> 1) | (mag & 1), s);
    }
    return round_pack(f, sign, 63 - lz, mag << (lz - 1), s);
}

SF_INLINE uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* ---- the host's unit, where it gives the same result and flags ----
 *
 * On x86-64 the SSE unit computes IEEE binary32 and binary64 results. It is
 * used for an RNE operation when the host is in its default mode (MXCSR
 * rounds to nearest even) and the guest's accrued flags already hold NX, so
 * that whether this result is inexact does not matter; when the operands
 * are zero or normal; and when the result is normal and above the smallest
 * normal number in magnitude, or a zero that is exact. Then no NaN, no
 * infinity, no overflow, no underflow, no division by zero and no invalid
 * operation can have happened, and the flags are those already accrued.
 * Everything else takes the software path. The threads that run guest code
 * put the unit in that mode first (vireo_softfloat_thread_init()); reading
 * MXCSR at each operation would cost more than the operation. */
#if defined(__x86_64__)
#include <immintrin.h>
#define HOST_FP 1
#endif

void vireo_softfloat_thread_init(void)
{
#ifdef HOST_FP
    _mm_setcsr(0x1f80u); /* every exception masked, to nearest, no flush to zero */
#endif
}

SF_INLINE bool host_usable(const VireoFloatStatus *s)
{
#ifdef HOST_FP
    return s->rm == VIREO_RM_RNE && (s->flags & VIREO_FFLAG_NX);
#else
    (void)s;
    return false;
#endif
}

SF_INLINE bool zero_or_normal64(uint64_t x)
{
    uint64_t e = (x >> 52) & 0x7ff;
    return (e != 0 && e != 0x7ff) || (x << 1) == 0;
}

SF_INLINE bool zero_or_normal32(uint32_t x)
{
    uint32_t e = (x >> 23) & 0xff;
    return (e != 0 && e != 0xff) || (x << 1) == 0;
}

/* Above the smallest normal number in magnitude, and finite. */
SF_INLINE bool large_normal64(uint64_t r)
{
    uint64_t m = r & ~(1ull << 63);
    return m > 0x0010000000000000ull && m < 0x7ff0000000000000ull;
}

SF_INLINE bool large_normal32(uint32_t r)
{
    uint32_t m = r & 0x7fffffffu;
    return m > 0x00800000u && m < 0x7f800000u;
}

SF_INLINE bool is_zero64(uint64_t x)
{
    return (x << 1) == 0;
}

SF_INLINE bool is_zero32(uint32_t x)
{
    return (x << 1) == 0;
}

#ifdef HOST_FP
SF_INLINE double host64(uint64_t x)
{
    double d;
    memcpy(&d, &x, sizeof d);
    return d;
}

SF_INLINE uint64_t bits64(double d)
{
    uint64_t x;
    memcpy(&x, &d, sizeof x);
    return x;
}

SF_INLINE float host32(uint32_t x)
{
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

SF_INLINE uint32_t bits32(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return x;
}

enum { HOST_ADD, HOST_SUB, HOST_MUL, HOST_DIV };

/* a op b on the host into *r; false where the software path must do it. */
SF_INLINE bool host_op64(int op, uint64_t a, uint64_t b, const VireoFloatStatus *s, uint64_t *r)
{
    if (!host_usable(s) || !zero_or_normal64(a) || !zero_or_normal64(b)) {
        return false;
    }
    double x = host64(a), y = host64(b);
    switch (op) {
    case HOST_ADD: *r = bits64(x + y); return large_normal64(*r) || is_zero64(*r);
    case HOST_SUB: *r = bits64(x - y); return large_normal64(*r) || is_zero64(*r);
    case HOST_MUL:
        *r = bits64(x * y);
        return large_normal64(*r) || (is_zero64(*r) && (is_zero64(a) || is_zero64(b)));
    default:
        if (is_zero64(b)) {
            return false;
        }
        *r = bits64(x / y);
        return large_normal64(*r) || (is_zero64(*r) && is_zero64(a));
    }
}

SF_INLINE bool host_op32(int op, uint32_t a, uint32_t b, const VireoFloatStatus *s, uint32_t *r)
{
    if (!host_usable(s) || !zero_or_normal32(a) || !zero_or_normal32(b)) {
        return false;
    }
    float x = host32(a), y = host32(b);
    switch (op) {
    case HOST_ADD: *r = bits32(x + y); return large_normal32(*r) || is_zero32(*r);
    case HOST_SUB: *r = bits32(x - y); return large_normal32(*r) || is_zero32(*r);
    case HOST_MUL:
        *r = bits32(x * y);
        return large_normal32(*r) || (is_zero32(*r) && (is_zero32(a) || is_zero32(b)));
    default:
        if (is_zero32(b)) {
            return false;
        }
        *r = bits32(x / y);
        return large_normal32(*r) || (is_zero32(*r) && is_zero32(a));
    }
}

/* The square root of a zero or of a positive normal number is zero or
 * normal. */
SF_INLINE bool host_sqrt64(uint64_t a, const VireoFloatStatus *s, uint64_t *r)
{
    if (!host_usable(s) || !zero_or_normal64(a) || (!is_zero64(a) && (a >> 63))) {
        return false;
    }
    __m128d v = _mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(host64(a)));
    *r = bits64(_mm_cvtsd_f64(v));
    return true;
}

SF_INLINE bool host_sqrt32(uint32_t a, const VireoFloatStatus *s, uint32_t *r)
{
    if (!host_usable(s) || !zero_or_normal32(a) || (!is_zero32(a) && (a >> 31))) {
        return false;
    }
    __m128 v = _mm_sqrt_ss(_mm_set_ss(host32(a)));
    *r = bits32(_mm_cvtss_f32(v));
    return true;
}

/* Fused multiply-add needs the host's FMA instructions (checked once). */
static bool host_has_fma(void)
{
    static int known; /* 0 unknown, 1 no, 2 yes */
    int k = __atomic_load_n(&known, __ATOMIC_RELAXED);

    if (k == 0) {
        __builtin_cpu_init();
        k = __builtin_cpu_supports("fma") ? 2 : 1;
        __atomic_store_n(&known, k, __ATOMIC_RELAXED);
    }
    return k == 2;
}

__attribute__((target("fma"))) static double fma_host64(double a, double b, double c)
{
    return _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(a), _mm_set_sd(b), _mm_set_sd(c)));
}

__attribute__((target("fma"))) static float fma_host32(float a, float b, float c)
{
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

/* (±a) * b + (±c): a zero result is taken only when the product and the
 * addend are exact zeros. */
SF_INLINE bool host_muladd64(uint64_t a, uint64_t b, uint64_t c, bool np, bool na,
                             const VireoFloatStatus *s, uint64_t *r)
{
    if (!host_usable(s) || !zero_or_normal64(a) || !zero_or_normal64(b) || !zero_or_normal64(c) ||
        !host_has_fma()) {
        return false;
    }
    *r = bits64(fma_host64(host64(np ? a ^ (1ull << 63) : a), host64(b),
                           host64(na ? c ^ (1ull << 63) : c)));
    return large_normal64(*r) || (is_zero64(*r) && (is_zero64(a) || is_zero64(b)) && is_zero64(c));
}

SF_INLINE bool host_muladd32(uint32_t a, uint32_t b, uint32_t c, bool np, bool na,
                             const VireoFloatStatus *s, uint32_t *r)
{
    if (!host_usable(s) || !zero_or_normal32(a) || !zero_or_normal32(b) || !zero_or_normal32(c) ||
        !host_has_fma()) {
        return false;
    }
    *r = bits32(
        fma_host32(host32(np ? a ^ 0x80000000u : a), host32(b), host32(na ? c ^ 0x80000000u : c)));
    return large_normal32(*r) || (is_zero32(*r) && (is_zero32(a) || is_zero32(b)) && is_zero32(c));
}
#else
/* Elsewhere the software path does everything. */
enum { HOST_ADD, HOST_SUB, HOST_MUL, HOST_DIV };
#define HOST_NONE(r)                         ((void)(r), host_usable(s) && false)
#define host_op64(op, a, b, s, r)            HOST_NONE(r)
#define host_op32(op, a, b, s, r)            HOST_NONE(r)
#define host_sqrt64(a, s, r)                 HOST_NONE(r)
#define host_sqrt32(a, s, r)                 HOST_NONE(r)
#define host_muladd64(a, b, c, np, na, s, r) HOST_NONE(r)
#define host_muladd32(a, b, c, np, na, s, r) HOST_NONE(r)
#endif

/* ---- public entry points ---- */

uint32_t vireo_f32_add(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    uint32_t r;
    if (host_op32(HOST_ADD, a, b, s, &r)) {
        return r;
    }
    return (uint32_t)fp_add(&fmt32, a, b, false, s);
}

uint32_t vireo_f32_sub(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    uint32_t r;
    if (host_op32(HOST_SUB, a, b, s, &r)) {
        return r;
    }
    return (uint32_t)fp_add(&fmt32, a, b, true, s);
}

uint32_t vireo_f32_mul(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    uint32_t r;
    if (host_op32(HOST_MUL, a, b, s, &r)) {
        return r;
    }
    return (uint32_t)fp_mul(&fmt32, a, b, s);
}

uint32_t vireo_f32_div(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    uint32_t r;
    if (host_op32(HOST_DIV, a, b, s, &r)) {
        return r;
    }
    return (uint32_t)fp_div(&fmt32, a, b, s);
}

uint32_t vireo_f32_sqrt(uint32_t a, VireoFloatStatus *s)
{
    uint32_t r;
    if (host_sqrt32(a, s, &r)) {
        return r;
    }
    return (uint32_t)fp_sqrt(&fmt32, a, s);
}

uint32_t vireo_f32_muladd(uint32_t a, uint32_t b, uint32_t c, bool negate_product,
                          bool negate_addend, VireoFloatStatus *s)
{
    uint32_t r;
    if (host_muladd32(a, b, c, negate_product, negate_addend, s, &r)) {
        return r;
    }
    return (uint32_t)fp_muladd(&fmt32, a, b, c, negate_product, negate_addend, s);
}

uint32_t vireo_f32_min(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    return (uint32_t)fp_minmax(&fmt32, a, b, false, s);
}

uint32_t vireo_f32_max(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    return (uint32_t)fp_minmax(&fmt32, a, b, true, s);
}

bool vireo_f32_eq(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    return fp_compare(&fmt32, a, b, false, s) == 1;
}

bool vireo_f32_lt(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    return fp_compare(&fmt32, a, b, true, s) == 0;
}

bool vireo_f32_le(uint32_t a, uint32_t b, VireoFloatStatus *s)
{
    int r = fp_compare(&fmt32, a, b, true, s);
    return r == 0 || r == 1;
}

unsigned vireo_f32_classify(uint32_t a)
{
    return fp_classify(&fmt32, a);
}

uint64_t vireo_f64_add(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    uint64_t r;
    if (host_op64(HOST_ADD, a, b, s, &r)) {
        return r;
    }
    return fp_add(&fmt64, a, b, false, s);
}

uint64_t vireo_f64_sub(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    uint64_t r;
    if (host_op64(HOST_SUB, a, b, s, &r)) {
        return r;
    }
    return fp_add(&fmt64, a, b, true, s);
}

uint64_t vireo_f64_mul(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    uint64_t r;
    if (host_op64(HOST_MUL, a, b, s, &r)) {
        return r;
    }
    return fp_mul(&fmt64, a, b, s);
}

uint64_t vireo_f64_div(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    uint64_t r;
    if (host_op64(HOST_DIV, a, b, s, &r)) {
        return r;
    }
    return fp_div(&fmt64, a, b, s);
}

uint64_t vireo_f64_sqrt(uint64_t a, VireoFloatStatus *s)
{
    uint64_t r;
    if (host_sqrt64(a, s, &r)) {
        return r;
    }
    return fp_sqrt(&fmt64, a, s);
}

uint64_t vireo_f64_muladd(uint64_t a, uint64_t b, uint64_t c, bool negate_product,
                          bool negate_addend, VireoFloatStatus *s)
{
    uint64_t r;
    if (host_muladd64(a, b, c, negate_product, negate_addend, s, &r)) {
        return r;
    }
    return fp_muladd(&fmt64, a, b, c, negate_product, negate_addend, s);
}

uint64_t vireo_f64_min(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    return fp_minmax(&fmt64, a, b, false, s);
}

uint64_t vireo_f64_max(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    return fp_minmax(&fmt64, a, b, true, s);
}

bool vireo_f64_eq(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    return fp_compare(&fmt64, a, b, false, s) == 1;
}

bool vireo_f64_lt(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    return fp_compare(&fmt64, a, b, true, s) == 0;
}

bool vireo_f64_le(uint64_t a, uint64_t b, VireoFloatStatus *s)
{
    int r = fp_compare(&fmt64, a, b, true, s);
    return r == 0 || r == 1;
}

unsigned vireo_f64_classify(uint64_t a)
{
    return fp_classify(&fmt64, a);
}

uint64_t vireo_f32_to_f64(uint32_t a, VireoFloatStatus *s)
{
    return convert_format(&fmt64, &fmt32, a, s);
}

uint32_t vireo_f64_to_f32(uint64_t a, VireoFloatStatus *s)
{
    return (uint32_t)convert_format(&fmt32, &fmt64, a, s);
}

int64_t vireo_f32_to_i32(uint32_t a, VireoFloatStatus *s)
{
    return (int32_t)(uint32_t)fp_to_int(&fmt32, a, 32, true, s);
}

int64_t vireo_f32_to_u32(uint32_t a, VireoFloatStatus *s)
{
    return (int32_t)(uint32_t)fp_to_int(&fmt32, a, 32, false, s);
}

int64_t vireo_f32_to_i64(uint32_t a, VireoFloatStatus *s)
{
    return (int64_t)fp_to_int(&fmt32, a, 64, true, s);
}

uint64_t vireo_f32_to_u64(uint32_t a, VireoFloatStatus *s)
{
    return fp_to_int(&fmt32, a, 64, false, s);
}

int64_t vireo_f64_to_i32(uint64_t a, VireoFloatStatus *s)
{
    return (int32_t)(uint32_t)fp_to_int(&fmt64, a, 32, true, s);
}

int64_t vireo_f64_to_u32(uint64_t a, VireoFloatStatus *s)
{
    return (int32_t)(uint32_t)fp_to_int(&fmt64, a, 32, false, s);
}

int64_t vireo_f64_to_i64(uint64_t a, VireoFloatStatus *s)
{
    return (int64_t)fp_to_int(&fmt64, a, 64, true, s);
}

uint64_t vireo_f64_to_u64(uint64_t a, VireoFloatStatus *s)
{
    return fp_to_int(&fmt64, a, 64, false, s);
}

uint32_t vireo_i32_to_f32(int32_t a, VireoFloatStatus *s)
{
    return (uint32_t)int_to_fp(&fmt32, a < 0, magnitude(a), s);
}

uint32_t vireo_u32_to_f32(uint32_t a, VireoFloatStatus *s)
{
    return (uint32_t)int_to_fp(&fmt32, false, a, s);
}

uint32_t vireo_i64_to_f32(int64_t a, VireoFloatStatus *s)
{
    return (uint32_t)int_to_fp(&fmt32, a < 0, magnitude(a), s);
}

uint32_t vireo_u64_to_f32(uint64_t a, VireoFloatStatus *s)
{
    return (uint32_t)int_to_fp(&fmt32, false, a, s);
}

uint64_t vireo_i32_to_f64(int32_t a, VireoFloatStatus *s)
{
    return int_to_fp(&fmt64, a < 0, magnitude(a), s);
}

uint64_t vireo_u32_to_f64(uint32_t a, VireoFloatStatus *s)
{
    return int_to_fp(&fmt64, false, a, s);
}

uint64_t vireo_i64_to_f64(int64_t a, VireoFloatStatus *s)
{
    return int_to_fp(&fmt64, a < 0, magnitude(a), s);
}

uint64_t vireo_u64_to_f64(uint64_t a, VireoFloatStatus *s)
{
    return int_to_fp(&fmt64, false, a, s);
}

/* ---- binary16 ---- */

uint16_t vireo_f16_add(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    return (uint16_t)fp_add(&fmt16, a, b, false, s);
}

uint16_t vireo_f16_sub(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    return (uint16_t)fp_add(&fmt16, a, b, true, s);
}

uint16_t vireo_f16_mul(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    return (uint16_t)fp_mul(&fmt16, a, b, s);
}

uint16_t vireo_f16_div(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    return (uint16_t)fp_div(&fmt16, a, b, s);
}

uint16_t vireo_f16_sqrt(uint16_t a, VireoFloatStatus *s)
{
    return (uint16_t)fp_sqrt(&fmt16, a, s);
}

uint16_t vireo_f16_muladd(uint16_t a, uint16_t b, uint16_t c, bool negate_product,
                          bool negate_addend, VireoFloatStatus *s)
{
    return (uint16_t)fp_muladd(&fmt16, a, b, c, negate_product, negate_addend, s);
}

uint16_t vireo_f16_min(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    return (uint16_t)fp_minmax(&fmt16, a, b, false, s);
}

uint16_t vireo_f16_max(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    return (uint16_t)fp_minmax(&fmt16, a, b, true, s);
}

bool vireo_f16_eq(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    return fp_compare(&fmt16, a, b, false, s) == 1;
}

bool vireo_f16_lt(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    return fp_compare(&fmt16, a, b, true, s) == 0;
}

bool vireo_f16_le(uint16_t a, uint16_t b, VireoFloatStatus *s)
{
    int r = fp_compare(&fmt16, a, b, true, s);
    return r == 0 || r == 1;
}

unsigned vireo_f16_classify(uint16_t a)
{
    return fp_classify(&fmt16, a);
}

uint32_t vireo_f16_to_f32(uint16_t a, VireoFloatStatus *s)
{
    return (uint32_t)convert_format(&fmt32, &fmt16, a, s);
}

uint64_t vireo_f16_to_f64(uint16_t a, VireoFloatStatus *s)
{
    return convert_format(&fmt64, &fmt16, a, s);
}

uint16_t vireo_f32_to_f16(uint32_t a, VireoFloatStatus *s)
{
    return (uint16_t)convert_format(&fmt16, &fmt32, a, s);
}

uint16_t vireo_f64_to_f16(uint64_t a, VireoFloatStatus *s)
{
    return (uint16_t)convert_format(&fmt16, &fmt64, a, s);
}

int64_t vireo_f16_to_i32(uint16_t a, VireoFloatStatus *s)
{
    return (int32_t)(uint32_t)fp_to_int(&fmt16, a, 32, true, s);
}

int64_t vireo_f16_to_u32(uint16_t a, VireoFloatStatus *s)
{
    return (int32_t)(uint32_t)fp_to_int(&fmt16, a, 32, false, s);
}

int64_t vireo_f16_to_i64(uint16_t a, VireoFloatStatus *s)
{
    return (int64_t)fp_to_int(&fmt16, a, 64, true, s);
}

uint64_t vireo_f16_to_u64(uint16_t a, VireoFloatStatus *s)
{
    return fp_to_int(&fmt16, a, 64, false, s);
}

uint16_t vireo_i32_to_f16(int32_t a, VireoFloatStatus *s)
{
    return (uint16_t)int_to_fp(&fmt16, a < 0, magnitude(a), s);
}

uint16_t vireo_u32_to_f16(uint32_t a, VireoFloatStatus *s)
{
    return (uint16_t)int_to_fp(&fmt16, false, a, s);
}

uint16_t vireo_i64_to_f16(int64_t a, VireoFloatStatus *s)
{
    return (uint16_t)int_to_fp(&fmt16, a < 0, magnitude(a), s);
}

uint16_t vireo_u64_to_f16(uint64_t a, VireoFloatStatus *s)
{
    return (uint16_t)int_to_fp(&fmt16, false, a, s);
}
