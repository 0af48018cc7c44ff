/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * IEEE 754 binary16, binary32 and binary64 arithmetic in software, bit-exact and
 * independent of the host's floating-point unit: results, the five rounding
 * modes and the exception flags follow IEEE 754-2008 as RISC-V specifies it
 * (tininess is detected after rounding; every NaN result is the canonical
 * quiet NaN). Values travel as their raw bits.
 */

/* Rounding modes, numbered as RISC-V's frm field. */
typedef enum {
    VIREO_RM_RNE = 0, /* to nearest, ties to even */
    VIREO_RM_RTZ = 1, /* towards zero */
    VIREO_RM_RDN = 2, /* down (towards -inf) */
    VIREO_RM_RUP = 3, /* up (towards +inf) */
    VIREO_RM_RMM = 4, /* to nearest, ties away from zero */
} VireoRoundingMode;

/* Exception flags, as RISC-V's fflags field. */
#define VIREO_FFLAG_NX 0x01 /* inexact */
#define VIREO_FFLAG_UF 0x02 /* underflow */
#define VIREO_FFLAG_OF 0x04 /* overflow */
#define VIREO_FFLAG_DZ 0x08 /* divide by zero */
#define VIREO_FFLAG_NV 0x10 /* invalid operation */

#define VIREO_F16_CANONICAL_NAN 0x7e00u
#define VIREO_F32_CANONICAL_NAN 0x7fc00000u
#define VIREO_F64_CANONICAL_NAN 0x7ff8000000000000ull

/* Puts the host's floating-point unit of the calling thread in its default
 * mode (round to nearest even, no flush to zero), which the operations'
 * fast path assumes: every thread that calls them does this first (the
 * threads of a process start in that mode). */
void vireo_softfloat_thread_init(void);

/* Every operation takes the rounding mode (one of VireoRoundingMode; the
 * caller has rejected invalid ones) and ORs the flags it raises into *flags. */
typedef struct {
    uint8_t rm;
    uint8_t flags;
} VireoFloatStatus;

uint32_t vireo_f32_add(uint32_t a, uint32_t b, VireoFloatStatus *s);
uint32_t vireo_f32_sub(uint32_t a, uint32_t b, VireoFloatStatus *s);
uint32_t vireo_f32_mul(uint32_t a, uint32_t b, VireoFloatStatus *s);
uint32_t vireo_f32_div(uint32_t a, uint32_t b, VireoFloatStatus *s);
uint32_t vireo_f32_sqrt(uint32_t a, VireoFloatStatus *s);
/* (a * b) + c with one rounding. negate_product and negate_addend give
 * RISC-V's fmsub (c negated), fnmsub (product negated) and fnmadd (both). */
uint32_t vireo_f32_muladd(uint32_t a, uint32_t b, uint32_t c, bool negate_product,
                          bool negate_addend, VireoFloatStatus *s);
/* minimumNumber / maximumNumber: a NaN operand yields the other operand;
 * -0 < +0; a signaling NaN raises NV; two NaNs give the canonical NaN. */
uint32_t vireo_f32_min(uint32_t a, uint32_t b, VireoFloatStatus *s);
uint32_t vireo_f32_max(uint32_t a, uint32_t b, VireoFloatStatus *s);
/* Comparisons: eq is quiet (NV only for signaling NaNs), lt and le are
 * signaling (NV for any NaN). */
bool vireo_f32_eq(uint32_t a, uint32_t b, VireoFloatStatus *s);
bool vireo_f32_lt(uint32_t a, uint32_t b, VireoFloatStatus *s);
bool vireo_f32_le(uint32_t a, uint32_t b, VireoFloatStatus *s);
/* RISC-V fclass: a one-hot 10-bit mask (bit 0 -inf ... bit 9 quiet NaN). */
unsigned vireo_f32_classify(uint32_t a);

uint64_t vireo_f64_add(uint64_t a, uint64_t b, VireoFloatStatus *s);
uint64_t vireo_f64_sub(uint64_t a, uint64_t b, VireoFloatStatus *s);
uint64_t vireo_f64_mul(uint64_t a, uint64_t b, VireoFloatStatus *s);
uint64_t vireo_f64_div(uint64_t a, uint64_t b, VireoFloatStatus *s);
uint64_t vireo_f64_sqrt(uint64_t a, VireoFloatStatus *s);
uint64_t vireo_f64_muladd(uint64_t a, uint64_t b, uint64_t c, bool negate_product,
                          bool negate_addend, VireoFloatStatus *s);
uint64_t vireo_f64_min(uint64_t a, uint64_t b, VireoFloatStatus *s);
uint64_t vireo_f64_max(uint64_t a, uint64_t b, VireoFloatStatus *s);
bool vireo_f64_eq(uint64_t a, uint64_t b, VireoFloatStatus *s);
bool vireo_f64_lt(uint64_t a, uint64_t b, VireoFloatStatus *s);
bool vireo_f64_le(uint64_t a, uint64_t b, VireoFloatStatus *s);
unsigned vireo_f64_classify(uint64_t a);

/* binary16 (RISC-V's Zfh), the same operations. */
uint16_t vireo_f16_add(uint16_t a, uint16_t b, VireoFloatStatus *s);
uint16_t vireo_f16_sub(uint16_t a, uint16_t b, VireoFloatStatus *s);
uint16_t vireo_f16_mul(uint16_t a, uint16_t b, VireoFloatStatus *s);
uint16_t vireo_f16_div(uint16_t a, uint16_t b, VireoFloatStatus *s);
uint16_t vireo_f16_sqrt(uint16_t a, VireoFloatStatus *s);
uint16_t vireo_f16_muladd(uint16_t a, uint16_t b, uint16_t c, bool negate_product,
                          bool negate_addend, VireoFloatStatus *s);
uint16_t vireo_f16_min(uint16_t a, uint16_t b, VireoFloatStatus *s);
uint16_t vireo_f16_max(uint16_t a, uint16_t b, VireoFloatStatus *s);
bool vireo_f16_eq(uint16_t a, uint16_t b, VireoFloatStatus *s);
bool vireo_f16_lt(uint16_t a, uint16_t b, VireoFloatStatus *s);
bool vireo_f16_le(uint16_t a, uint16_t b, VireoFloatStatus *s);
unsigned vireo_f16_classify(uint16_t a);

/* Conversions between the formats. */
uint64_t vireo_f32_to_f64(uint32_t a, VireoFloatStatus *s);
uint32_t vireo_f64_to_f32(uint64_t a, VireoFloatStatus *s);
uint32_t vireo_f16_to_f32(uint16_t a, VireoFloatStatus *s);
uint64_t vireo_f16_to_f64(uint16_t a, VireoFloatStatus *s);
uint16_t vireo_f32_to_f16(uint32_t a, VireoFloatStatus *s);
uint16_t vireo_f64_to_f16(uint64_t a, VireoFloatStatus *s);

/* Float to integer, rounding with s->rm. Out-of-range values and NaNs raise
 * NV and saturate (NaN and +inf give the largest value, -inf the smallest);
 * inexact results raise NX. 32-bit results are returned sign-extended to 64
 * bits, as RISC-V writes them to a register (also for the unsigned ones). */
int64_t vireo_f32_to_i32(uint32_t a, VireoFloatStatus *s);
int64_t vireo_f32_to_u32(uint32_t a, VireoFloatStatus *s);
int64_t vireo_f32_to_i64(uint32_t a, VireoFloatStatus *s);
uint64_t vireo_f32_to_u64(uint32_t a, VireoFloatStatus *s);
int64_t vireo_f64_to_i32(uint64_t a, VireoFloatStatus *s);
int64_t vireo_f64_to_u32(uint64_t a, VireoFloatStatus *s);
int64_t vireo_f64_to_i64(uint64_t a, VireoFloatStatus *s);
uint64_t vireo_f64_to_u64(uint64_t a, VireoFloatStatus *s);
int64_t vireo_f16_to_i32(uint16_t a, VireoFloatStatus *s);
int64_t vireo_f16_to_u32(uint16_t a, VireoFloatStatus *s);
int64_t vireo_f16_to_i64(uint16_t a, VireoFloatStatus *s);
uint64_t vireo_f16_to_u64(uint16_t a, VireoFloatStatus *s);

/* Integer to float, rounding with s->rm (NX when inexact). */
uint32_t vireo_i32_to_f32(int32_t a, VireoFloatStatus *s);
uint32_t vireo_u32_to_f32(uint32_t a, VireoFloatStatus *s);
uint32_t vireo_i64_to_f32(int64_t a, VireoFloatStatus *s);
uint32_t vireo_u64_to_f32(uint64_t a, VireoFloatStatus *s);
uint64_t vireo_i32_to_f64(int32_t a, VireoFloatStatus *s);
uint64_t vireo_u32_to_f64(uint32_t a, VireoFloatStatus *s);
uint64_t vireo_i64_to_f64(int64_t a, VireoFloatStatus *s);
uint64_t vireo_u64_to_f64(uint64_t a, VireoFloatStatus *s);
uint16_t vireo_i32_to_f16(int32_t a, VireoFloatStatus *s);
uint16_t vireo_u32_to_f16(uint32_t a, VireoFloatStatus *s);
uint16_t vireo_i64_to_f16(int64_t a, VireoFloatStatus *s);
uint16_t vireo_u64_to_f16(uint64_t a, VireoFloatStatus *s);
