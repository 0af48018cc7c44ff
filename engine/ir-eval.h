/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Internal to engine/: what the IR's arithmetic ops compute, in one place
 * for every backend. The interpreter inlines vireo_ir_eval() with a
 * constant op in each handler, so its switch folds away; the JIT calls it
 * for the ops it does not expand itself, and the differential tests hold
 * its own code against it.
 */

#include "engine/cpu.h"
#include "engine/ir.h"
#include "engine/softfloat.h"

#include <stdint.h>

static inline uint32_t unbox32(uint64_t v)
{
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : VIREO_F32_CANONICAL_NAN;
}

static inline uint64_t box32(uint32_t v)
{
    return 0xffffffff00000000ull | v;
}

static inline uint16_t unbox16(uint64_t v)
{
    return (v >> 16) == 0xffffffffffffull ? (uint16_t)v : VIREO_F16_CANONICAL_NAN;
}

static inline uint64_t box16(uint16_t v)
{
    return 0xffffffffffff0000ull | v;
}

static inline int64_t sext32(uint64_t v)
{
    return (int64_t)(int32_t)(uint32_t)v;
}

static uint64_t mulhu64(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

static uint64_t mulh64(int64_t a, int64_t b)
{
    return (uint64_t)(((__int128)a * b) >> 64);
}

static uint64_t mulhsu64(int64_t a, uint64_t b)
{
    return (uint64_t)(((__int128)a * (__int128)(unsigned __int128)b) >> 64);
}

static uint64_t div64(int64_t a, int64_t b)
{
    if (b == 0) {
        return ~0ull;
    }
    if (a == INT64_MIN && b == -1) {
        return (uint64_t)a;
    }
    return (uint64_t)(a / b);
}

static uint64_t rem64(int64_t a, int64_t b)
{
    if (b == 0) {
        return (uint64_t)a;
    }
    if (a == INT64_MIN && b == -1) {
        return 0;
    }
    return (uint64_t)(a % b);
}

static uint64_t divw(uint64_t x, uint64_t y)
{
    int32_t a = (int32_t)x, b = (int32_t)y;
    if (b == 0) {
        return ~0ull;
    }
    if (a == INT32_MIN && b == -1) {
        return (uint64_t)(int64_t)a;
    }
    return (uint64_t)(int64_t)(a / b);
}

static uint64_t remw(uint64_t x, uint64_t y)
{
    int32_t a = (int32_t)x, b = (int32_t)y;
    if (b == 0) {
        return (uint64_t)(int64_t)a;
    }
    if (a == INT32_MIN && b == -1) {
        return 0;
    }
    return (uint64_t)(int64_t)(a % b);
}

static uint64_t divuw(uint64_t x, uint64_t y)
{
    uint32_t a = (uint32_t)x, b = (uint32_t)y;
    return b == 0 ? ~0ull : (uint64_t)sext32(a / b);
}

static uint64_t remuw(uint64_t x, uint64_t y)
{
    uint32_t a = (uint32_t)x, b = (uint32_t)y;
    return b == 0 ? (uint64_t)sext32(a) : (uint64_t)sext32(a % b);
}

/* Bit manipulation. The operations on the Zkt list (rotates, byte and bit
 * reversal, orc.b, carry-less products, conditional zero) take the same
 * time whatever their operands: no branch or table lookup depends on them. */
static inline uint64_t rol64(uint64_t a, uint64_t n)
{
    n &= 63;
    return (a << n) | (a >> ((64 - n) & 63));
}

static inline uint64_t ror64(uint64_t a, uint64_t n)
{
    n &= 63;
    return (a >> n) | (a << ((64 - n) & 63));
}

static inline uint64_t rolw(uint64_t a, uint64_t n)
{
    uint32_t x = (uint32_t)a;
    n &= 31;
    return (uint64_t)sext32((x << n) | (x >> ((32 - n) & 31)));
}

static inline uint64_t rorw(uint64_t a, uint64_t n)
{
    uint32_t x = (uint32_t)a;
    n &= 31;
    return (uint64_t)sext32((x >> n) | (x << ((32 - n) & 31)));
}

static inline uint64_t orc_b(uint64_t a)
{
    /* Bit 7 of each byte: set when any bit of the byte is (the low seven
     * bits plus 0x7f carry into bit 7 without leaving the byte). */
    uint64_t h =
        (((a & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | a) & 0x8080808080808080ull;
    return (h >> 7) * 0xff;
}

static inline uint64_t brev8(uint64_t a)
{
    a = ((a >> 1) & 0x5555555555555555ull) | ((a & 0x5555555555555555ull) << 1);
    a = ((a >> 2) & 0x3333333333333333ull) | ((a & 0x3333333333333333ull) << 2);
    return ((a >> 4) & 0x0f0f0f0f0f0f0f0full) | ((a & 0x0f0f0f0f0f0f0f0full) << 4);
}

/* All ones when bit i of b is set, else zero. */
static inline uint64_t bit_mask(uint64_t b, unsigned i)
{
    return (uint64_t)0 - ((b >> i) & 1);
}

/* The 128-bit carry-less product of a and b: the low half in *lo, the
 * high half returned. With the host's carry-less multiply where it has
 * one (x86-64's PCLMULQDQ: Linux computes its CRCs with clmul and clmulr
 * on a hart that has Zbc), else bit by bit. */
static inline uint64_t clmul_soft(uint64_t a, uint64_t b, uint64_t *lo)
{
    uint64_t l = 0, h = 0;
    for (unsigned i = 0; i < 64; i++) {
        l ^= (a << i) & bit_mask(b, i);
        if (i > 0) {
            h ^= (a >> (64 - i)) & bit_mask(b, i);
        }
    }
    *lo = l;
    return h;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("pclmul"))) static inline uint64_t clmul_host(uint64_t a, uint64_t b,
                                                                    uint64_t *lo)
{
    __m128i p =
        _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)a), _mm_cvtsi64_si128((long long)b), 0);
    *lo = (uint64_t)_mm_cvtsi128_si64(p);
    return (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(p, p));
}
#endif

static inline uint64_t clmul128(uint64_t a, uint64_t b, uint64_t *lo)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("pclmul")) {
        return clmul_host(a, b, lo);
    }
#endif
    return clmul_soft(a, b, lo);
}

static uint64_t clmul(uint64_t a, uint64_t b)
{
    uint64_t lo;

    (void)clmul128(a, b, &lo);
    return lo;
}

static uint64_t clmulh(uint64_t a, uint64_t b)
{
    uint64_t lo;

    return clmul128(a, b, &lo);
}

/* bits 126..63 of the product */
static uint64_t clmulr(uint64_t a, uint64_t b)
{
    uint64_t lo, hi = clmul128(a, b, &lo);

    return (hi << 1) | (lo >> 63);
}

static inline uint64_t count_lz(uint64_t a, unsigned width)
{
    return a == 0 ? width : (uint64_t)__builtin_clzll(a) - (64 - width);
}

static inline uint64_t count_tz(uint64_t a, unsigned width)
{
    return a == 0 ? width : (uint64_t)__builtin_ctzll(a);
}

/* Atomic read-modify-write on an aligned host word. Inlined into each
 * handler, so that the switch folds away. */
static inline __attribute__((always_inline)) uint64_t amo32(VireoIrOp op, uint32_t *p, uint32_t v)
{
    uint32_t old, nv;

    switch (op) {
    case VIREO_OP_AMOSWAP32: return (uint64_t)sext32(__atomic_exchange_n(p, v, __ATOMIC_SEQ_CST));
    case VIREO_OP_AMOADD32: return (uint64_t)sext32(__atomic_fetch_add(p, v, __ATOMIC_SEQ_CST));
    case VIREO_OP_AMOAND32: return (uint64_t)sext32(__atomic_fetch_and(p, v, __ATOMIC_SEQ_CST));
    case VIREO_OP_AMOOR32: return (uint64_t)sext32(__atomic_fetch_or(p, v, __ATOMIC_SEQ_CST));
    case VIREO_OP_AMOXOR32: return (uint64_t)sext32(__atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST));
    default: break;
    }
    old = __atomic_load_n(p, __ATOMIC_RELAXED);
    do {
        switch (op) {
        case VIREO_OP_AMOMIN32: nv = (int32_t)old < (int32_t)v ? old : v; break;
        case VIREO_OP_AMOMAX32: nv = (int32_t)old > (int32_t)v ? old : v; break;
        case VIREO_OP_AMOMINU32: nv = old < v ? old : v; break;
        default: nv = old > v ? old : v; break;
        }
    } while (!__atomic_compare_exchange_n(p, &old, nv, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    return (uint64_t)sext32(old);
}

static inline __attribute__((always_inline)) uint64_t amo64(VireoIrOp op, uint64_t *p, uint64_t v)
{
    uint64_t old, nv;

    switch (op) {
    case VIREO_OP_AMOSWAP64: return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
    case VIREO_OP_AMOADD64: return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
    case VIREO_OP_AMOAND64: return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
    case VIREO_OP_AMOOR64: return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
    case VIREO_OP_AMOXOR64: return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);
    default: break;
    }
    old = __atomic_load_n(p, __ATOMIC_RELAXED);
    do {
        switch (op) {
        case VIREO_OP_AMOMIN64: nv = (int64_t)old < (int64_t)v ? old : v; break;
        case VIREO_OP_AMOMAX64: nv = (int64_t)old > (int64_t)v ? old : v; break;
        case VIREO_OP_AMOMINU64: nv = old < v ? old : v; break;
        default: nv = old > v ? old : v; break;
        }
    } while (!__atomic_compare_exchange_n(p, &old, nv, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    return old;
}

/* The result of the K, U, R and I ops (MOVI and MOV excepted): `a` and `b`
 * are the operands (for I ops, b is the immediate; U ops ignore b). */
static inline __attribute__((always_inline)) uint64_t vireo_ir_eval(VireoIrOp op, uint64_t a,
                                                                    uint64_t b)
{
    switch (op) {
    case VIREO_OP_ADD: return a + b;
    case VIREO_OP_SUB: return a - b;
    case VIREO_OP_AND: return a & b;
    case VIREO_OP_OR: return a | b;
    case VIREO_OP_XOR: return a ^ b;
    case VIREO_OP_SHL: return a << (b & 63);
    case VIREO_OP_SHR: return a >> (b & 63);
    case VIREO_OP_SAR: return (uint64_t)((int64_t)a >> (b & 63));
    case VIREO_OP_SLT: return (int64_t)a < (int64_t)b;
    case VIREO_OP_SLTU: return a < b;
    case VIREO_OP_SEQ: return a == b;
    case VIREO_OP_SNE: return a != b;
    case VIREO_OP_MUL: return a * b;
    case VIREO_OP_MULH: return mulh64((int64_t)a, (int64_t)b);
    case VIREO_OP_MULHU: return mulhu64(a, b);
    case VIREO_OP_MULHSU: return mulhsu64((int64_t)a, b);
    case VIREO_OP_DIV: return div64((int64_t)a, (int64_t)b);
    case VIREO_OP_DIVU: return b == 0 ? ~0ull : a / b;
    case VIREO_OP_REM: return rem64((int64_t)a, (int64_t)b);
    case VIREO_OP_REMU: return b == 0 ? a : a % b;
    case VIREO_OP_ADDI: return a + b;
    case VIREO_OP_ANDI: return a & b;
    case VIREO_OP_ORI: return a | b;
    case VIREO_OP_XORI: return a ^ b;
    case VIREO_OP_SHLI: return a << (b & 63);
    case VIREO_OP_SHRI: return a >> (b & 63);
    case VIREO_OP_SARI: return (uint64_t)((int64_t)a >> (b & 63));
    case VIREO_OP_SLTI: return (int64_t)a < (int64_t)b;
    case VIREO_OP_SLTIU: return a < b;
    case VIREO_OP_ADDW: return (uint64_t)sext32(a + b);
    case VIREO_OP_SUBW: return (uint64_t)sext32(a - b);
    case VIREO_OP_SHLW: return (uint64_t)sext32((uint32_t)a << (b & 31));
    case VIREO_OP_SHRW: return (uint64_t)sext32((uint32_t)a >> (b & 31));
    case VIREO_OP_SARW: return (uint64_t)(int64_t)((int32_t)a >> (b & 31));
    case VIREO_OP_MULW: return (uint64_t)sext32((uint32_t)a * (uint32_t)b);
    case VIREO_OP_DIVW: return divw(a, b);
    case VIREO_OP_DIVUW: return divuw(a, b);
    case VIREO_OP_REMW: return remw(a, b);
    case VIREO_OP_REMUW: return remuw(a, b);
    case VIREO_OP_ADDIW: return (uint64_t)sext32(a + b);
    case VIREO_OP_SHLIW: return (uint64_t)sext32((uint32_t)a << (b & 31));
    case VIREO_OP_SHRIW: return (uint64_t)sext32((uint32_t)a >> (b & 31));
    case VIREO_OP_SARIW: return (uint64_t)(int64_t)((int32_t)a >> (b & 31));
    case VIREO_OP_SEXT8: return (uint64_t)(int64_t)(int8_t)a;
    case VIREO_OP_SEXT16: return (uint64_t)(int64_t)(int16_t)a;
    case VIREO_OP_SEXT32: return (uint64_t)sext32(a);
    case VIREO_OP_ZEXT8: return a & 0xff;
    case VIREO_OP_ZEXT16: return a & 0xffff;
    case VIREO_OP_ZEXT32: return a & 0xffffffffu;
    case VIREO_OP_FBOX_S: return a | 0xffffffff00000000ull;
    case VIREO_OP_FBOX_H: return a | 0xffffffffffff0000ull;
    case VIREO_OP_CLZ: return count_lz(a, 64);
    case VIREO_OP_CTZ: return count_tz(a, 64);
    case VIREO_OP_CPOP: return (uint64_t)__builtin_popcountll(a);
    case VIREO_OP_CLZW: return count_lz(a & 0xffffffffu, 32);
    case VIREO_OP_CTZW: return count_tz(a & 0xffffffffu, 32);
    case VIREO_OP_CPOPW: return (uint64_t)__builtin_popcountll(a & 0xffffffffu);
    case VIREO_OP_REV8: return __builtin_bswap64(a);
    case VIREO_OP_ORCB: return orc_b(a);
    case VIREO_OP_BREV8: return brev8(a);
    case VIREO_OP_ROL: return rol64(a, b);
    case VIREO_OP_ROR: return ror64(a, b);
    case VIREO_OP_ROLW: return rolw(a, b);
    case VIREO_OP_RORW: return rorw(a, b);
    case VIREO_OP_RORI: return ror64(a, b);
    case VIREO_OP_RORIW: return rorw(a, b);
    case VIREO_OP_MIN: return (int64_t)a < (int64_t)b ? a : b;
    case VIREO_OP_MAX: return (int64_t)a > (int64_t)b ? a : b;
    case VIREO_OP_MINU: return a < b ? a : b;
    case VIREO_OP_MAXU: return a > b ? a : b;
    case VIREO_OP_CLMUL: return clmul(a, b);
    case VIREO_OP_CLMULH: return clmulh(a, b);
    case VIREO_OP_CLMULR: return clmulr(a, b);
    case VIREO_OP_CZEQZ: return a & ((uint64_t)0 - (b != 0));
    case VIREO_OP_CZNEZ: return a & ((uint64_t)0 - (b == 0));
    default: __builtin_unreachable();
    }
}

/* Whether vireo_ir_eval() computes `op`. */
static inline bool vireo_ir_is_eval(VireoIrOp op)
{
    switch (op) {
    case VIREO_OP_ADD:
    case VIREO_OP_SUB:
    case VIREO_OP_AND:
    case VIREO_OP_OR:
    case VIREO_OP_XOR:
    case VIREO_OP_SHL:
    case VIREO_OP_SHR:
    case VIREO_OP_SAR:
    case VIREO_OP_SLT:
    case VIREO_OP_SLTU:
    case VIREO_OP_SEQ:
    case VIREO_OP_SNE:
    case VIREO_OP_MUL:
    case VIREO_OP_MULH:
    case VIREO_OP_MULHU:
    case VIREO_OP_MULHSU:
    case VIREO_OP_DIV:
    case VIREO_OP_DIVU:
    case VIREO_OP_REM:
    case VIREO_OP_REMU:
    case VIREO_OP_ADDI:
    case VIREO_OP_ANDI:
    case VIREO_OP_ORI:
    case VIREO_OP_XORI:
    case VIREO_OP_SHLI:
    case VIREO_OP_SHRI:
    case VIREO_OP_SARI:
    case VIREO_OP_SLTI:
    case VIREO_OP_SLTIU:
    case VIREO_OP_ADDW:
    case VIREO_OP_SUBW:
    case VIREO_OP_SHLW:
    case VIREO_OP_SHRW:
    case VIREO_OP_SARW:
    case VIREO_OP_MULW:
    case VIREO_OP_DIVW:
    case VIREO_OP_DIVUW:
    case VIREO_OP_REMW:
    case VIREO_OP_REMUW:
    case VIREO_OP_ADDIW:
    case VIREO_OP_SHLIW:
    case VIREO_OP_SHRIW:
    case VIREO_OP_SARIW:
    case VIREO_OP_SEXT8:
    case VIREO_OP_SEXT16:
    case VIREO_OP_SEXT32:
    case VIREO_OP_ZEXT8:
    case VIREO_OP_ZEXT16:
    case VIREO_OP_ZEXT32:
    case VIREO_OP_FBOX_S:
    case VIREO_OP_FBOX_H:
    case VIREO_OP_CLZ:
    case VIREO_OP_CTZ:
    case VIREO_OP_CPOP:
    case VIREO_OP_CLZW:
    case VIREO_OP_CTZW:
    case VIREO_OP_CPOPW:
    case VIREO_OP_REV8:
    case VIREO_OP_ORCB:
    case VIREO_OP_BREV8:
    case VIREO_OP_ROL:
    case VIREO_OP_ROR:
    case VIREO_OP_ROLW:
    case VIREO_OP_RORW:
    case VIREO_OP_RORI:
    case VIREO_OP_RORIW:
    case VIREO_OP_MIN:
    case VIREO_OP_MAX:
    case VIREO_OP_MINU:
    case VIREO_OP_MAXU:
    case VIREO_OP_CLMUL:
    case VIREO_OP_CLMULH:
    case VIREO_OP_CLMULR:
    case VIREO_OP_CZEQZ:
    case VIREO_OP_CZNEZ: return true;
    default: return false;
    }
}

/* The width in bytes of an AT op's access. */
static inline unsigned vireo_ir_atomic_size(VireoIrOp op)
{
    switch (op) {
    case VIREO_OP_AMOSWAP32:
    case VIREO_OP_AMOADD32:
    case VIREO_OP_AMOAND32:
    case VIREO_OP_AMOOR32:
    case VIREO_OP_AMOXOR32:
    case VIREO_OP_AMOMIN32:
    case VIREO_OP_AMOMAX32:
    case VIREO_OP_AMOMINU32:
    case VIREO_OP_AMOMAXU32:
    case VIREO_OP_LR32:
    case VIREO_OP_SC32:
    case VIREO_OP_CAS32: return 4;
    default: return 8;
    }
}

/* An AT op on the host word `p` (naturally aligned RAM that the access may
 * use): the value for its destination register. `b` is the operand, `c`
 * the expected value of a CAS; LR and SC keep the reservation in `cpu`. */
static inline __attribute__((always_inline)) uint64_t vireo_ir_atomic(VireoCpu *cpu, VireoIrOp op,
                                                                      void *p, uint64_t b,
                                                                      uint64_t c)
{
    switch (op) {
    case VIREO_OP_LR32:
    case VIREO_OP_LR64: {
        uint64_t v = op == VIREO_OP_LR32
                         ? (uint64_t)sext32(__atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST))
                         : __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST);
        cpu->res_valid = true;
        cpu->res_host = p;
        cpu->res_value = v;
        return v;
    }
    case VIREO_OP_SC32:
    case VIREO_OP_SC64: {
        bool ok = false;
        if (cpu->res_valid && cpu->res_host == p) {
            if (op == VIREO_OP_SC32) {
                uint32_t expect = (uint32_t)cpu->res_value;
                ok = __atomic_compare_exchange_n((uint32_t *)p, &expect, (uint32_t)b, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            } else {
                uint64_t expect = cpu->res_value;
                ok = __atomic_compare_exchange_n((uint64_t *)p, &expect, b, false, __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST);
            }
        }
        cpu->res_valid = false;
        return ok ? 0 : 1;
    }
    case VIREO_OP_CAS32: {
        uint32_t expect = (uint32_t)c;
        __atomic_compare_exchange_n((uint32_t *)p, &expect, (uint32_t)b, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST);
        return (uint64_t)sext32(expect);
    }
    case VIREO_OP_CAS64: {
        uint64_t expect = c;
        __atomic_compare_exchange_n((uint64_t *)p, &expect, b, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST);
        return expect;
    }
    default: return vireo_ir_atomic_size(op) == 4 ? amo32(op, p, (uint32_t)b) : amo64(op, p, b);
    }
}
