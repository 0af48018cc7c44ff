/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zfhmin (half-precision moves and conversions): flh and fsh (bits kept,
 * the result NaN-boxed; fsh stores the low 16 bits whatever the upper
 * ones), fmv.x.h (sign-extended) and fmv.h.x (NaN-boxed), fcvt.s.h and
 * fcvt.d.h (exact; a signaling NaN raises NV; every NaN becomes the
 * canonical one; an operand that is not NaN-boxed reads as the canonical
 * NaN), fcvt.h.s and fcvt.h.d in the five rounding modes and the dynamic
 * one, with halfway values, overflow, underflow after rounding and
 * subnormal results, and fcvt.h.d where rounding through binary32 would
 * round twice.
 * Expected values follow IEEE 754-2008 as the RISC-V F extension (and Zfh,
 * version 1.0) refine it: tininess after rounding, canonical NaNs.
 */
#include "test-macros.inc"
#include "fp-macros.inc"

TEST_MAIN
    FP_ENABLE
    /* fcvt.s.h and fcvt.d.h: exact, no flags, except a signaling NaN (NV); every NaN becomes the canonical one */
    FCVT_WIDEN 1, fcvt.s.h, H, S, 0x3c00, 0x3f800000, 0x0
    FCVT_WIDEN 2, fcvt.s.h, H, S, 0xbc00, 0xbf800000, 0x0
    FCVT_WIDEN 3, fcvt.s.h, H, S, 0x0, 0x0, 0x0
    FCVT_WIDEN 4, fcvt.s.h, H, S, 0x8000, 0x80000000, 0x0
    FCVT_WIDEN 5, fcvt.s.h, H, S, 0x1, 0x33800000, 0x0
    FCVT_WIDEN 6, fcvt.s.h, H, S, 0x8001, 0xb3800000, 0x0
    FCVT_WIDEN 7, fcvt.s.h, H, S, 0x3ff, 0x387fc000, 0x0
    FCVT_WIDEN 8, fcvt.s.h, H, S, 0x400, 0x38800000, 0x0
    FCVT_WIDEN 9, fcvt.s.h, H, S, 0x7bff, 0x477fe000, 0x0
    FCVT_WIDEN 10, fcvt.s.h, H, S, 0xfbff, 0xc77fe000, 0x0
    FCVT_WIDEN 11, fcvt.s.h, H, S, 0x7c00, 0x7f800000, 0x0
    FCVT_WIDEN 12, fcvt.s.h, H, S, 0xfc00, 0xff800000, 0x0
    FCVT_WIDEN 13, fcvt.s.h, H, S, 0x7e00, 0x7fc00000, 0x0
    FCVT_WIDEN 14, fcvt.s.h, H, S, 0x7e55, 0x7fc00000, 0x0
    FCVT_WIDEN 15, fcvt.s.h, H, S, 0x7c01, 0x7fc00000, 0x10
    FCVT_WIDEN 16, fcvt.s.h, H, S, 0xfd00, 0x7fc00000, 0x10
    FCVT_WIDEN 17, fcvt.s.h, H, S, 0x3555, 0x3eaaa000, 0x0
    FCVT_WIDEN 18, fcvt.s.h, H, S, 0x57d0, 0x42fa0000, 0x0
    FCVT_WIDEN 19, fcvt.d.h, H, D, 0x3c00, 0x3ff0000000000000, 0x0
    FCVT_WIDEN 20, fcvt.d.h, H, D, 0x8001, 0xbe70000000000000, 0x0
    FCVT_WIDEN 21, fcvt.d.h, H, D, 0x7bff, 0x40effc0000000000, 0x0
    FCVT_WIDEN 22, fcvt.d.h, H, D, 0xfc00, 0xfff0000000000000, 0x0
    FCVT_WIDEN 23, fcvt.d.h, H, D, 0x7c01, 0x7ff8000000000000, 0x10
    FCVT_WIDEN 24, fcvt.d.h, H, D, 0x7e00, 0x7ff8000000000000, 0x0
    FCVT_WIDEN 25, fcvt.d.h, H, D, 0x2e66, 0x3fb9980000000000, 0x0

    /* a half-precision operand that is not NaN-boxed reads as the canonical NaN (no flag) */
    FWIDEN_RAW 26, fcvt.s.h, S, 0x0000000000003c00, 0x7fc00000, 0x0
    FWIDEN_RAW 27, fcvt.s.h, S, 0xffffffff00003c00, 0x7fc00000, 0x0
    FWIDEN_RAW 28, fcvt.d.h, D, 0x7fffffffffff3c00, 0x7ff8000000000000, 0x0
    FWIDEN_RAW 29, fcvt.s.h, S, 0xffffffffffff3c00, 0x3f800000, 0x0

    /* fcvt.h.s in the five rounding modes: halfway and near-halfway values, both signs */
    FCVT_FMT 30, fcvt.h.s, S, H, rne, 0x3f801000, 0x3c00, 0x1
    FCVT_FMT 31, fcvt.h.s, S, H, rtz, 0x3f801000, 0x3c00, 0x1
    FCVT_FMT 32, fcvt.h.s, S, H, rdn, 0x3f801000, 0x3c00, 0x1
    FCVT_FMT 33, fcvt.h.s, S, H, rup, 0x3f801000, 0x3c01, 0x1
    FCVT_FMT 34, fcvt.h.s, S, H, rmm, 0x3f801000, 0x3c01, 0x1
    FCVT_FMT 35, fcvt.h.s, S, H, rne, 0x3f803000, 0x3c02, 0x1
    FCVT_FMT 36, fcvt.h.s, S, H, rtz, 0x3f803000, 0x3c01, 0x1
    FCVT_FMT 37, fcvt.h.s, S, H, rdn, 0x3f803000, 0x3c01, 0x1
    FCVT_FMT 38, fcvt.h.s, S, H, rup, 0x3f803000, 0x3c02, 0x1
    FCVT_FMT 39, fcvt.h.s, S, H, rmm, 0x3f803000, 0x3c02, 0x1
    FCVT_FMT 40, fcvt.h.s, S, H, rne, 0x3f801001, 0x3c01, 0x1
    FCVT_FMT 41, fcvt.h.s, S, H, rtz, 0x3f801001, 0x3c00, 0x1
    FCVT_FMT 42, fcvt.h.s, S, H, rdn, 0x3f801001, 0x3c00, 0x1
    FCVT_FMT 43, fcvt.h.s, S, H, rup, 0x3f801001, 0x3c01, 0x1
    FCVT_FMT 44, fcvt.h.s, S, H, rmm, 0x3f801001, 0x3c01, 0x1
    FCVT_FMT 45, fcvt.h.s, S, H, rne, 0x3f800fff, 0x3c00, 0x1
    FCVT_FMT 46, fcvt.h.s, S, H, rtz, 0x3f800fff, 0x3c00, 0x1
    FCVT_FMT 47, fcvt.h.s, S, H, rdn, 0x3f800fff, 0x3c00, 0x1
    FCVT_FMT 48, fcvt.h.s, S, H, rup, 0x3f800fff, 0x3c01, 0x1
    FCVT_FMT 49, fcvt.h.s, S, H, rmm, 0x3f800fff, 0x3c00, 0x1
    FCVT_FMT 50, fcvt.h.s, S, H, rne, 0xbf801000, 0xbc00, 0x1
    FCVT_FMT 51, fcvt.h.s, S, H, rtz, 0xbf801000, 0xbc00, 0x1
    FCVT_FMT 52, fcvt.h.s, S, H, rdn, 0xbf801000, 0xbc01, 0x1
    FCVT_FMT 53, fcvt.h.s, S, H, rup, 0xbf801000, 0xbc00, 0x1
    FCVT_FMT 54, fcvt.h.s, S, H, rmm, 0xbf801000, 0xbc01, 0x1
    FCVT_FMT 55, fcvt.h.s, S, H, rne, 0xbf803000, 0xbc02, 0x1
    FCVT_FMT 56, fcvt.h.s, S, H, rtz, 0xbf803000, 0xbc01, 0x1
    FCVT_FMT 57, fcvt.h.s, S, H, rdn, 0xbf803000, 0xbc02, 0x1
    FCVT_FMT 58, fcvt.h.s, S, H, rup, 0xbf803000, 0xbc01, 0x1
    FCVT_FMT 59, fcvt.h.s, S, H, rmm, 0xbf803000, 0xbc02, 0x1
    FCVT_FMT 60, fcvt.h.s, S, H, rne, 0x45001000, 0x6800, 0x1
    FCVT_FMT 61, fcvt.h.s, S, H, rtz, 0x45001000, 0x6800, 0x1
    FCVT_FMT 62, fcvt.h.s, S, H, rdn, 0x45001000, 0x6800, 0x1
    FCVT_FMT 63, fcvt.h.s, S, H, rup, 0x45001000, 0x6801, 0x1
    FCVT_FMT 64, fcvt.h.s, S, H, rmm, 0x45001000, 0x6801, 0x1
    FCVT_FMT 65, fcvt.h.s, S, H, rne, 0xc5003000, 0xe802, 0x1
    FCVT_FMT 66, fcvt.h.s, S, H, rtz, 0xc5003000, 0xe801, 0x1
    FCVT_FMT 67, fcvt.h.s, S, H, rdn, 0xc5003000, 0xe802, 0x1
    FCVT_FMT 68, fcvt.h.s, S, H, rup, 0xc5003000, 0xe801, 0x1
    FCVT_FMT 69, fcvt.h.s, S, H, rmm, 0xc5003000, 0xe802, 0x1
    FCVT_FMT 70, fcvt.h.s, S, H, rne, 0x3dcccccd, 0x2e66, 0x1
    FCVT_FMT 71, fcvt.h.s, S, H, rtz, 0x3dcccccd, 0x2e66, 0x1
    FCVT_FMT 72, fcvt.h.s, S, H, rdn, 0x3dcccccd, 0x2e66, 0x1
    FCVT_FMT 73, fcvt.h.s, S, H, rup, 0x3dcccccd, 0x2e67, 0x1
    FCVT_FMT 74, fcvt.h.s, S, H, rmm, 0x3dcccccd, 0x2e66, 0x1
    FCVT_FMT 75, fcvt.h.s, S, H, rne, 0xbdcccccd, 0xae66, 0x1
    FCVT_FMT 76, fcvt.h.s, S, H, rtz, 0xbdcccccd, 0xae66, 0x1
    FCVT_FMT 78, fcvt.h.s, S, H, rdn, 0xbdcccccd, 0xae67, 0x1
    FCVT_FMT 79, fcvt.h.s, S, H, rup, 0xbdcccccd, 0xae66, 0x1
    FCVT_FMT 80, fcvt.h.s, S, H, rmm, 0xbdcccccd, 0xae66, 0x1

    /* fcvt.h.s: overflow (65504 is the largest, 65520 the first that rounds to infinity to nearest) */
    FCVT_FMT 81, fcvt.h.s, S, H, rne, 0x477fe000, 0x7bff, 0x0
    FCVT_FMT 82, fcvt.h.s, S, H, rtz, 0x477fe000, 0x7bff, 0x0
    FCVT_FMT 83, fcvt.h.s, S, H, rne, 0x477fef00, 0x7bff, 0x1
    FCVT_FMT 84, fcvt.h.s, S, H, rtz, 0x477fef00, 0x7bff, 0x1
    FCVT_FMT 85, fcvt.h.s, S, H, rne, 0x477ff000, 0x7c00, 0x5
    FCVT_FMT 86, fcvt.h.s, S, H, rtz, 0x477ff000, 0x7bff, 0x1
    FCVT_FMT 87, fcvt.h.s, S, H, rdn, 0x477ff000, 0x7bff, 0x1
    FCVT_FMT 88, fcvt.h.s, S, H, rup, 0x477ff000, 0x7c00, 0x5
    FCVT_FMT 89, fcvt.h.s, S, H, rmm, 0x477ff000, 0x7c00, 0x5
    FCVT_FMT 90, fcvt.h.s, S, H, rne, 0xc77ff000, 0xfc00, 0x5
    FCVT_FMT 91, fcvt.h.s, S, H, rtz, 0xc77ff000, 0xfbff, 0x1
    FCVT_FMT 92, fcvt.h.s, S, H, rdn, 0xc77ff000, 0xfc00, 0x5
    FCVT_FMT 93, fcvt.h.s, S, H, rup, 0xc77ff000, 0xfbff, 0x1
    FCVT_FMT 94, fcvt.h.s, S, H, rmm, 0xc77ff000, 0xfc00, 0x5
    FCVT_FMT 95, fcvt.h.s, S, H, rne, 0x49742400, 0x7c00, 0x5
    FCVT_FMT 96, fcvt.h.s, S, H, rtz, 0x49742400, 0x7bff, 0x5
    FCVT_FMT 97, fcvt.h.s, S, H, rne, 0x7f7fffff, 0x7c00, 0x5
    FCVT_FMT 98, fcvt.h.s, S, H, rtz, 0x7f7fffff, 0x7bff, 0x5

    /* fcvt.h.s: subnormal results, underflow after rounding (tininess after rounding) */
    FCVT_FMT 99, fcvt.h.s, S, H, rne, 0x33800000, 0x1, 0x0
    FCVT_FMT 100, fcvt.h.s, S, H, rup, 0x33800000, 0x1, 0x0
    FCVT_FMT 101, fcvt.h.s, S, H, rtz, 0x33800000, 0x1, 0x0
    FCVT_FMT 102, fcvt.h.s, S, H, rne, 0x33000000, 0x0, 0x3
    FCVT_FMT 103, fcvt.h.s, S, H, rup, 0x33000000, 0x1, 0x3
    FCVT_FMT 104, fcvt.h.s, S, H, rtz, 0x33000000, 0x0, 0x3
    FCVT_FMT 105, fcvt.h.s, S, H, rne, 0x33400000, 0x1, 0x3
    FCVT_FMT 106, fcvt.h.s, S, H, rup, 0x33400000, 0x1, 0x3
    FCVT_FMT 107, fcvt.h.s, S, H, rtz, 0x33400000, 0x0, 0x3
    FCVT_FMT 108, fcvt.h.s, S, H, rne, 0x32800000, 0x0, 0x3
    FCVT_FMT 109, fcvt.h.s, S, H, rup, 0x32800000, 0x1, 0x3
    FCVT_FMT 110, fcvt.h.s, S, H, rtz, 0x32800000, 0x0, 0x3
    FCVT_FMT 111, fcvt.h.s, S, H, rne, 0xb3000000, 0x8000, 0x3
    FCVT_FMT 112, fcvt.h.s, S, H, rup, 0xb3000000, 0x8000, 0x3
    FCVT_FMT 113, fcvt.h.s, S, H, rtz, 0xb3000000, 0x8000, 0x3
    FCVT_FMT 114, fcvt.h.s, S, H, rne, 0x38800000, 0x400, 0x0
    FCVT_FMT 115, fcvt.h.s, S, H, rup, 0x38800000, 0x400, 0x0
    FCVT_FMT 116, fcvt.h.s, S, H, rtz, 0x38800000, 0x400, 0x0
    FCVT_FMT 117, fcvt.h.s, S, H, rne, 0x387ff000, 0x400, 0x1
    FCVT_FMT 118, fcvt.h.s, S, H, rup, 0x387ff000, 0x400, 0x1
    FCVT_FMT 119, fcvt.h.s, S, H, rtz, 0x387ff000, 0x3ff, 0x3
    FCVT_FMT 120, fcvt.h.s, S, H, rne, 0x387fe000, 0x400, 0x3
    FCVT_FMT 121, fcvt.h.s, S, H, rup, 0x387fe000, 0x400, 0x3
    FCVT_FMT 122, fcvt.h.s, S, H, rtz, 0x387fe000, 0x3ff, 0x3
    FCVT_FMT 123, fcvt.h.s, S, H, rne, 0x38002000, 0x200, 0x3
    FCVT_FMT 124, fcvt.h.s, S, H, rup, 0x38002000, 0x201, 0x3
    FCVT_FMT 125, fcvt.h.s, S, H, rtz, 0x38002000, 0x200, 0x3
    FCVT_FMT 126, fcvt.h.s, S, H, rne, 0x1, 0x0, 0x3
    FCVT_FMT 127, fcvt.h.s, S, H, rup, 0x1, 0x1, 0x3
    FCVT_FMT 128, fcvt.h.s, S, H, rtz, 0x1, 0x0, 0x3

    /* fcvt.h.s: zeros, infinities, NaNs (payloads are not kept) */
    FCVT_FMT 129, fcvt.h.s, S, H, rne, 0x0, 0x0, 0x0
    FCVT_FMT 130, fcvt.h.s, S, H, rne, 0x80000000, 0x8000, 0x0
    FCVT_FMT 131, fcvt.h.s, S, H, rne, 0x7f800000, 0x7c00, 0x0
    FCVT_FMT 132, fcvt.h.s, S, H, rne, 0xff800000, 0xfc00, 0x0
    FCVT_FMT 133, fcvt.h.s, S, H, rne, 0x7fc00000, 0x7e00, 0x0
    FCVT_FMT 134, fcvt.h.s, S, H, rne, 0x7fc12345, 0x7e00, 0x0
    FCVT_FMT 135, fcvt.h.s, S, H, rne, 0x7f800001, 0x7e00, 0x10
    FCVT_FMT 136, fcvt.h.s, S, H, rne, 0xffa00000, 0x7e00, 0x10
    FCVT_RAW 137, fcvt.h.s, H, rne, 0x000000003f800000, 0x7e00, 0x0

    /* fcvt.h.d, where rounding through binary32 would round twice */
    FCVT_FMT 138, fcvt.h.d, D, H, rne, 0x3ff0020000001000, 0x3c01, 0x1
    FCVT_FMT 139, fcvt.h.d, D, H, rtz, 0x3ff0020000001000, 0x3c00, 0x1
    FCVT_FMT 140, fcvt.h.d, D, H, rup, 0x3ff0020000001000, 0x3c01, 0x1
    FCVT_FMT 141, fcvt.h.d, D, H, rmm, 0x3ff0020000001000, 0x3c01, 0x1
    FCVT_FMT 142, fcvt.h.d, D, H, rne, 0x3ff0020000000000, 0x3c00, 0x1
    FCVT_FMT 143, fcvt.h.d, D, H, rtz, 0x3ff0020000000000, 0x3c00, 0x1
    FCVT_FMT 144, fcvt.h.d, D, H, rup, 0x3ff0020000000000, 0x3c01, 0x1
    FCVT_FMT 145, fcvt.h.d, D, H, rmm, 0x3ff0020000000000, 0x3c01, 0x1
    FCVT_FMT 146, fcvt.h.d, D, H, rne, 0x3ff001fffffff000, 0x3c00, 0x1
    FCVT_FMT 147, fcvt.h.d, D, H, rtz, 0x3ff001fffffff000, 0x3c00, 0x1
    FCVT_FMT 148, fcvt.h.d, D, H, rup, 0x3ff001fffffff000, 0x3c01, 0x1
    FCVT_FMT 149, fcvt.h.d, D, H, rmm, 0x3ff001fffffff000, 0x3c00, 0x1
    FCVT_FMT 150, fcvt.h.d, D, H, rne, 0x40effdffffffff80, 0x7bff, 0x1
    FCVT_FMT 151, fcvt.h.d, D, H, rtz, 0x40effdffffffff80, 0x7bff, 0x1
    FCVT_FMT 152, fcvt.h.d, D, H, rup, 0x40effdffffffff80, 0x7c00, 0x5
    FCVT_FMT 153, fcvt.h.d, D, H, rmm, 0x40effdffffffff80, 0x7bff, 0x1
    FCVT_FMT 154, fcvt.h.d, D, H, rne, 0x3e60000000020000, 0x1, 0x3
    FCVT_FMT 155, fcvt.h.d, D, H, rtz, 0x3e60000000020000, 0x0, 0x3
    FCVT_FMT 156, fcvt.h.d, D, H, rup, 0x3e60000000020000, 0x1, 0x3
    FCVT_FMT 157, fcvt.h.d, D, H, rmm, 0x3e60000000020000, 0x1, 0x3
    FCVT_FMT 158, fcvt.h.d, D, H, rne, 0xfe37e43c8800759c, 0xfc00, 0x5
    FCVT_FMT 159, fcvt.h.d, D, H, rtz, 0xfe37e43c8800759c, 0xfbff, 0x5
    FCVT_FMT 160, fcvt.h.d, D, H, rup, 0xfe37e43c8800759c, 0xfbff, 0x5
    FCVT_FMT 161, fcvt.h.d, D, H, rmm, 0xfe37e43c8800759c, 0xfc00, 0x5
    FCVT_FMT 162, fcvt.h.d, D, H, rne, 0x1, 0x0, 0x3
    FCVT_FMT 163, fcvt.h.d, D, H, rtz, 0x1, 0x0, 0x3
    FCVT_FMT 164, fcvt.h.d, D, H, rup, 0x1, 0x1, 0x3
    FCVT_FMT 165, fcvt.h.d, D, H, rmm, 0x1, 0x0, 0x3
    FCVT_FMT 166, fcvt.h.d, D, H, rne, 0x7ff0000000000001, 0x7e00, 0x10
    FCVT_FMT 167, fcvt.h.d, D, H, rtz, 0x7ff0000000000001, 0x7e00, 0x10
    FCVT_FMT 168, fcvt.h.d, D, H, rup, 0x7ff0000000000001, 0x7e00, 0x10
    FCVT_FMT 169, fcvt.h.d, D, H, rmm, 0x7ff0000000000001, 0x7e00, 0x10
    FCVT_FMT 170, fcvt.h.d, D, H, rne, 0x7ff8000000000000, 0x7e00, 0x0
    FCVT_FMT 171, fcvt.h.d, D, H, rtz, 0x7ff8000000000000, 0x7e00, 0x0
    FCVT_FMT 172, fcvt.h.d, D, H, rup, 0x7ff8000000000000, 0x7e00, 0x0
    FCVT_FMT 173, fcvt.h.d, D, H, rmm, 0x7ff8000000000000, 0x7e00, 0x0

    /* the dynamic rounding mode */
    CASE 174
    li t1, 0
    fsrm t1
    FS_LOAD f1, 0xbf801000
    fsflags zero
    fcvt.h.s f3, f1, dyn
    FH_RESULT 0xbc00, 0x1
    fsrm zero
    CASE 175
    li t1, 1
    fsrm t1
    FS_LOAD f1, 0xbf801000
    fsflags zero
    fcvt.h.s f3, f1, dyn
    FH_RESULT 0xbc00, 0x1
    fsrm zero
    CASE 176
    li t1, 2
    fsrm t1
    FS_LOAD f1, 0xbf801000
    fsflags zero
    fcvt.h.s f3, f1, dyn
    FH_RESULT 0xbc01, 0x1
    fsrm zero
    CASE 177
    li t1, 3
    fsrm t1
    FS_LOAD f1, 0xbf801000
    fsflags zero
    fcvt.h.s f3, f1, dyn
    FH_RESULT 0xbc00, 0x1
    fsrm zero
    CASE 178
    li t1, 4
    fsrm t1
    FS_LOAD f1, 0xbf801000
    fsflags zero
    fcvt.h.s f3, f1, dyn
    FH_RESULT 0xbc01, 0x1
    fsrm zero

    /* flh and fsh */
    CASE 179
    la a4, hbuf
    li t0, 0x7c01a5a5
    sw t0, 0(a4)
    flh f1, 2(a4)
    fmv.x.d a0, f1
    CHECK_EQ a0, 0xffffffffffff7c01
    flh f2, 0(a4)
    fmv.x.d a0, f2
    CHECK_EQ a0, 0xffffffffffffa5a5
    fsh f2, 2(a4)
    lw a0, 0(a4)
    CHECK_EQ a0, 0xffffffffa5a5a5a5
    CASE 180
    /* fsh stores the low 16 bits of any register value */
    li t0, 0x1234567812345678
    fmv.d.x f3, t0
    sw zero, 0(a4)
    fsh f3, 0(a4)
    lw a0, 0(a4)
    CHECK_EQ a0, 0x5678
    /* fmv.x.h sign-extends bits 15:0, boxed or not */
    fmv.x.h a0, f3
    CHECK_EQ a0, 0x5678
    fmv.x.h a0, f1
    CHECK_EQ a0, 0x7c01
    fmv.x.h a0, f2
    CHECK_EQ a0, 0xffffffffffffa5a5
    CASE 181
    /* fmv.h.x NaN-boxes the low 16 bits of x[rs1] */
    li t0, 0x12345678abcd8001
    fmv.h.x f4, t0
    fmv.x.d a0, f4
    CHECK_EQ a0, 0xffffffffffff8001
    /* and sets mstatus.FS dirty, like every FP write */
    csrr a0, mstatus
    srli a0, a0, 13
    andi a0, a0, 3
    CHECK_EQ a0, 3
    PASS

    .data
    .balign 8
hbuf:
    .fill 8, 1, 0
