/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RV64D (double precision): fmin/fmax (-0 < +0, a NaN operand yields the
 * other, sNaN raises invalid), feq/flt/fle (quiet and signalling), fclass,
 * sign injection (no canonicalisation), and every conversion to and from
 * 32- and 64-bit integers, signed and unsigned, with rounding, saturation
 * and NaN inputs. Also fcvt.s.d (rounding, overflow, underflow, NaNs) and
 * fcvt.d.s.
 *
 * Expected values follow IEEE 754-2008 as the RISC-V F and D extensions
 * (version 2.2) refine it.
 */
#include "test-macros.inc"
#include "fp-macros.inc"

TEST_MAIN
    FP_ENABLE
    FD_OP2N 1, fmin.d, 0x3ff0000000000000, 0x4000000000000000, 0x3ff0000000000000, 0x0
    FD_OP2N 2, fmax.d, 0x3ff0000000000000, 0x4000000000000000, 0x4000000000000000, 0x0
    FD_OP2N 3, fmin.d, 0x8000000000000000, 0x0, 0x8000000000000000, 0x0
    FD_OP2N 4, fmin.d, 0x0, 0x8000000000000000, 0x8000000000000000, 0x0
    FD_OP2N 5, fmax.d, 0x8000000000000000, 0x0, 0x0, 0x0
    FD_OP2N 6, fmax.d, 0x0, 0x8000000000000000, 0x0, 0x0
    FD_OP2N 7, fmin.d, 0x7ff8000000000000, 0x3ff0000000000000, 0x3ff0000000000000, 0x0
    FD_OP2N 8, fmin.d, 0x3ff0000000000000, 0x7ff8000000000000, 0x3ff0000000000000, 0x0
    FD_OP2N 9, fmax.d, 0xfff8000000000000, 0xbff0000000000000, 0xbff0000000000000, 0x0
    FD_OP2N 10, fmin.d, 0x7ff0000000000001, 0x3ff0000000000000, 0x3ff0000000000000, 0x10
    FD_OP2N 11, fmax.d, 0x3ff0000000000000, 0x7ff0000000000001, 0x3ff0000000000000, 0x10
    FD_OP2N 12, fmax.d, 0x7ff8000000000000, 0x7ff8000000000000, 0x7ff8000000000000, 0x0
    FD_OP2N 13, fmin.d, 0x7ff0000000000001, 0x7ff8000000000000, 0x7ff8000000000000, 0x10
    FD_OP2N 14, fmin.d, 0x7ff8000000012345, 0x7ff8000000012345, 0x7ff8000000000000, 0x0
    FD_OP2N 15, fmin.d, 0xfff0000000000000, 0x7fefffffffffffff, 0xfff0000000000000, 0x0
    FD_OP2N 16, fmax.d, 0xbff0000000000000, 0xc000000000000000, 0xbff0000000000000, 0x0
    FD_OP2N 17, fmax.d, 0x7ff0000000000000, 0x7ff8000000000000, 0x7ff0000000000000, 0x0
    FD_OP2N 18, fmin.d, 0x1, 0x8000000000000001, 0x8000000000000001, 0x0
    FD_CMP 19, feq.d, 0x3ff0000000000000, 0x3ff0000000000000, 0x1, 0x0
    FD_CMP 20, feq.d, 0x3ff0000000000000, 0x4000000000000000, 0x0, 0x0
    FD_CMP 21, feq.d, 0x8000000000000000, 0x0, 0x1, 0x0
    FD_CMP 22, feq.d, 0x7ff8000000000000, 0x3ff0000000000000, 0x0, 0x0
    FD_CMP 23, feq.d, 0x7ff0000000000001, 0x3ff0000000000000, 0x0, 0x10
    FD_CMP 24, feq.d, 0x7ff8000000000000, 0x7ff8000000000000, 0x0, 0x0
    FD_CMP 25, feq.d, 0x3ff0000000000000, 0x7ff0000000000001, 0x0, 0x10
    FD_CMP 26, flt.d, 0x3ff0000000000000, 0x4000000000000000, 0x1, 0x0
    FD_CMP 27, flt.d, 0x4000000000000000, 0x3ff0000000000000, 0x0, 0x0
    FD_CMP 28, flt.d, 0x3ff0000000000000, 0x3ff0000000000000, 0x0, 0x0
    FD_CMP 29, flt.d, 0x8000000000000000, 0x0, 0x0, 0x0
    FD_CMP 30, flt.d, 0x7ff8000000000000, 0x3ff0000000000000, 0x0, 0x10
    FD_CMP 31, flt.d, 0xfff0000000000000, 0x7ff0000000000000, 0x1, 0x0
    FD_CMP 32, flt.d, 0xc000000000000000, 0xbff0000000000000, 0x1, 0x0
    FD_CMP 33, flt.d, 0x3ff0000000000000, 0x7ff8000000000000, 0x0, 0x10
    FD_CMP 34, fle.d, 0x3ff0000000000000, 0x3ff0000000000000, 0x1, 0x0
    FD_CMP 35, fle.d, 0x8000000000000000, 0x0, 0x1, 0x0
    FD_CMP 36, fle.d, 0x4000000000000000, 0x3ff0000000000000, 0x0, 0x0
    FD_CMP 37, fle.d, 0x7ff8000000000000, 0x3ff0000000000000, 0x0, 0x10
    FD_CMP 38, fle.d, 0x7ff0000000000001, 0x7ff0000000000001, 0x0, 0x10
    FD_CMP 39, fle.d, 0x1, 0x10000000000000, 0x1, 0x0
    FD_CMP 40, fle.d, 0xffefffffffffffff, 0xfff0000000000000, 0x0, 0x0
    FD_CLASS 41, fclass.d, 0xfff0000000000000, 0x1, 0x0
    FD_CLASS 42, fclass.d, 0xbff0000000000000, 0x2, 0x0
    FD_CLASS 43, fclass.d, 0x8000000000000001, 0x4, 0x0
    FD_CLASS 44, fclass.d, 0x8000000000000000, 0x8, 0x0
    FD_CLASS 45, fclass.d, 0x0, 0x10, 0x0
    FD_CLASS 46, fclass.d, 0xfffffffffffff, 0x20, 0x0
    FD_CLASS 47, fclass.d, 0x3ff0000000000000, 0x40, 0x0
    FD_CLASS 48, fclass.d, 0x7ff0000000000000, 0x80, 0x0
    FD_CLASS 49, fclass.d, 0x7ff0000000000001, 0x100, 0x0
    FD_CLASS 50, fclass.d, 0x7ff8000000000000, 0x200, 0x0
    FD_CLASS 51, fclass.d, 0xfff8000000000000, 0x200, 0x0
    FD_CLASS 52, fclass.d, 0xfff0000000000001, 0x100, 0x0
    FD_CLASS 53, fclass.d, 0x7fefffffffffffff, 0x40, 0x0
    FD_CLASS 54, fclass.d, 0x800fffffffffffff, 0x4, 0x0
    FD_CLASS 55, fclass.d, 0x7ff4000000000000, 0x100, 0x0
    FD_OP2N 56, fsgnj.d, 0x3ff0000000000000, 0xc000000000000000, 0xbff0000000000000, 0x0
    FD_OP2N 57, fsgnj.d, 0xbff0000000000000, 0x4000000000000000, 0x3ff0000000000000, 0x0
    FD_OP2N 58, fsgnjn.d, 0x3ff0000000000000, 0xc000000000000000, 0x3ff0000000000000, 0x0
    FD_OP2N 59, fsgnjn.d, 0x3ff0000000000000, 0x4000000000000000, 0xbff0000000000000, 0x0
    FD_OP2N 60, fsgnjx.d, 0xbff0000000000000, 0xc000000000000000, 0x3ff0000000000000, 0x0
    FD_OP2N 61, fsgnjx.d, 0xbff0000000000000, 0x4000000000000000, 0xbff0000000000000, 0x0
    FD_OP2N 62, fsgnjx.d, 0x3ff0000000000000, 0xc000000000000000, 0xbff0000000000000, 0x0
    FD_OP2N 63, fsgnj.d, 0x7ff0000000000001, 0xbff0000000000000, 0xfff0000000000001, 0x0
    FD_OP2N 64, fsgnjn.d, 0x7ff8000000012345, 0x7ff8000000012345, 0xfff8000000012345, 0x0
    FD_OP2N 65, fsgnjx.d, 0xfff8000000012345, 0xfff0000000000000, 0x7ff8000000012345, 0x0
    FD_OP2N 66, fsgnj.d, 0x8000000000000000, 0x0, 0x0, 0x0
    FD_TOINT 67, fcvt.w.d, rne, 0x3ff8000000000000, 0x2, 0x1
    FD_TOINT 68, fcvt.w.d, rtz, 0x3ff8000000000000, 0x1, 0x1
    FD_TOINT 69, fcvt.w.d, rdn, 0x3ff8000000000000, 0x1, 0x1
    FD_TOINT 70, fcvt.w.d, rup, 0x3ff8000000000000, 0x2, 0x1
    FD_TOINT 71, fcvt.w.d, rmm, 0x3ff8000000000000, 0x2, 0x1
    FD_TOINT 72, fcvt.w.d, rne, 0x4004000000000000, 0x2, 0x1
    FD_TOINT 73, fcvt.w.d, rtz, 0x4004000000000000, 0x2, 0x1
    FD_TOINT 74, fcvt.w.d, rdn, 0x4004000000000000, 0x2, 0x1
    FD_TOINT 75, fcvt.w.d, rup, 0x4004000000000000, 0x3, 0x1
    FD_TOINT 76, fcvt.w.d, rmm, 0x4004000000000000, 0x3, 0x1
    FD_TOINT 78, fcvt.w.d, rne, 0xc004000000000000, 0xfffffffffffffffe, 0x1
    FD_TOINT 79, fcvt.w.d, rtz, 0xc004000000000000, 0xfffffffffffffffe, 0x1
    FD_TOINT 80, fcvt.w.d, rdn, 0xc004000000000000, 0xfffffffffffffffd, 0x1
    FD_TOINT 81, fcvt.w.d, rup, 0xc004000000000000, 0xfffffffffffffffe, 0x1
    FD_TOINT 82, fcvt.w.d, rmm, 0xc004000000000000, 0xfffffffffffffffd, 0x1
    FD_TOINT 83, fcvt.w.d, rne, 0xbfe0000000000000, 0x0, 0x1
    FD_TOINT 84, fcvt.w.d, rtz, 0xbfe0000000000000, 0x0, 0x1
    FD_TOINT 85, fcvt.w.d, rdn, 0xbfe0000000000000, 0xffffffffffffffff, 0x1
    FD_TOINT 86, fcvt.w.d, rup, 0xbfe0000000000000, 0x0, 0x1
    FD_TOINT 87, fcvt.w.d, rmm, 0xbfe0000000000000, 0xffffffffffffffff, 0x1
    FD_TOINT 88, fcvt.w.d, rne, 0x41e0000000000000, 0x7fffffff, 0x10
    FD_TOINT 89, fcvt.w.d, rne, 0xc1e0000000000000, 0xffffffff80000000, 0x0
    FD_TOINT 90, fcvt.w.d, rne, 0xc1e0000000000001, 0xffffffff80000000, 0x1
    FD_TOINT 91, fcvt.w.d, rne, 0x7ff0000000000000, 0x7fffffff, 0x10
    FD_TOINT 92, fcvt.w.d, rne, 0xfff0000000000000, 0xffffffff80000000, 0x10
    FD_TOINT 93, fcvt.w.d, rne, 0x7ff8000000000000, 0x7fffffff, 0x10
    FD_TOINT 94, fcvt.w.d, rne, 0xfff8000000000000, 0x7fffffff, 0x10
    FD_TOINT 95, fcvt.w.d, rtz, 0x8000000000000001, 0x0, 0x1
    FD_TOINT 96, fcvt.w.d, rtz, 0x41dfffffffffffff, 0x7fffffff, 0x1
    FD_TOINT 97, fcvt.w.d, rne, 0x41dfffffffffffff, 0x7fffffff, 0x10
    FD_TOINT 98, fcvt.w.d, rdn, 0xc1e0000000100000, 0xffffffff80000000, 0x10
    FD_TOINT 99, fcvt.w.d, rup, 0xc1e0000000100000, 0xffffffff80000000, 0x1
    FD_TOINT 100, fcvt.wu.d, rne, 0xbff0000000000000, 0x0, 0x10
    FD_TOINT 101, fcvt.wu.d, rtz, 0xbfe0000000000000, 0x0, 0x1
    FD_TOINT 102, fcvt.wu.d, rne, 0xbfe0000000000000, 0x0, 0x1
    FD_TOINT 103, fcvt.wu.d, rdn, 0xbfe0000000000000, 0x0, 0x10
    FD_TOINT 104, fcvt.wu.d, rne, 0x41efffffffe00000, 0xffffffffffffffff, 0x0
    FD_TOINT 105, fcvt.wu.d, rne, 0x7ff0000000000000, 0xffffffffffffffff, 0x10
    FD_TOINT 106, fcvt.wu.d, rne, 0x7ff8000000000000, 0xffffffffffffffff, 0x10
    FD_TOINT 107, fcvt.wu.d, rne, 0x41f0000000000000, 0xffffffffffffffff, 0x10
    FD_TOINT 108, fcvt.wu.d, rne, 0xfff0000000000000, 0x0, 0x10
    FD_TOINT 109, fcvt.wu.d, rne, 0x41e0000000000000, 0xffffffff80000000, 0x0
    FD_TOINT 110, fcvt.l.d, rne, 0x43e0000000000000, 0x7fffffffffffffff, 0x10
    FD_TOINT 111, fcvt.l.d, rne, 0xc3e0000000000000, 0x8000000000000000, 0x0
    FD_TOINT 112, fcvt.l.d, rne, 0x7ff8000000000000, 0x7fffffffffffffff, 0x10
    FD_TOINT 113, fcvt.l.d, rne, 0xfff0000000000000, 0x8000000000000000, 0x10
    FD_TOINT 114, fcvt.l.d, rne, 0x7ff0000000000000, 0x7fffffffffffffff, 0x10
    FD_TOINT 115, fcvt.l.d, rmm, 0x3ff8000000000000, 0x2, 0x1
    FD_TOINT 116, fcvt.l.d, rdn, 0xbff8000000000000, 0xfffffffffffffffe, 0x1
    FD_TOINT 117, fcvt.l.d, rne, 0x43efffffffffffff, 0x7fffffffffffffff, 0x10
    FD_TOINT 118, fcvt.l.d, rne, 0xbff0000000000000, 0xffffffffffffffff, 0x0
    FD_TOINT 119, fcvt.lu.d, rne, 0xbff0000000000000, 0x0, 0x10
    FD_TOINT 120, fcvt.lu.d, rne, 0x43f0000000000000, 0xffffffffffffffff, 0x10
    FD_TOINT 121, fcvt.lu.d, rne, 0x43efffffffffffff, 0xfffffffffffff800, 0x0
    FD_TOINT 122, fcvt.lu.d, rne, 0x7ff8000000000000, 0xffffffffffffffff, 0x10
    FD_TOINT 123, fcvt.lu.d, rne, 0x8000000000000000, 0x0, 0x0
    FD_TOINT 124, fcvt.lu.d, rtz, 0xbfefffffffffffff, 0x0, 0x1
    FD_TOINT 125, fcvt.lu.d, rne, 0x7ff0000000000000, 0xffffffffffffffff, 0x10
    FD_TOINT 126, fcvt.lu.d, rne, 0xfff0000000000000, 0x0, 0x10
    FD_TOINT 127, fcvt.lu.d, rup, 0x3fe0000000000000, 0x1, 0x1
    FD_FROMINT_X 128, fcvt.d.w, 0x7fffffff, 0x41dfffffffc00000, 0x0
    FD_FROMINT_X 129, fcvt.d.w, 0xffffffff80000000, 0xc1e0000000000000, 0x0
    FD_FROMINT_X 130, fcvt.d.w, 0x0, 0x0, 0x0
    FD_FROMINT_X 131, fcvt.d.w, 0xffffffff00000001, 0x3ff0000000000000, 0x0
    FD_FROMINT_X 132, fcvt.d.w, 0xffffffff, 0xbff0000000000000, 0x0
    FD_FROMINT_X 133, fcvt.d.wu, 0xffffffff, 0x41efffffffe00000, 0x0
    FD_FROMINT_X 134, fcvt.d.wu, 0xffffffff00000001, 0x3ff0000000000000, 0x0
    FD_FROMINT 135, fcvt.d.l, rne, 0x7fffffffffffffff, 0x43e0000000000000, 0x1
    FD_FROMINT 136, fcvt.d.l, rtz, 0x7fffffffffffffff, 0x43dfffffffffffff, 0x1
    FD_FROMINT 137, fcvt.d.l, rne, 0xffffffffffffffff, 0xbff0000000000000, 0x0
    FD_FROMINT 138, fcvt.d.l, rne, 0x8000000000000000, 0xc3e0000000000000, 0x0
    FD_FROMINT 139, fcvt.d.l, rmm, 0x20000000000001, 0x4340000000000001, 0x1
    FD_FROMINT 140, fcvt.d.l, rdn, 0x8000000000000001, 0xc3e0000000000000, 0x1
    FD_FROMINT 141, fcvt.d.l, rne, 0x0, 0x0, 0x0
    FD_FROMINT 142, fcvt.d.lu, rne, 0xffffffffffffffff, 0x43f0000000000000, 0x1
    FD_FROMINT 143, fcvt.d.lu, rtz, 0xffffffffffffffff, 0x43efffffffffffff, 0x1
    FD_FROMINT 144, fcvt.d.lu, rup, 0x8000000000000001, 0x43e0000000000001, 0x1
    FD_FROMINT 145, fcvt.d.lu, rmm, 0x20000000000001, 0x4340000000000001, 0x1

    /* fcvt.s.d and fcvt.d.s */
    FCVT_S_D 146, rne, 0x3ff0000010000000, 0x3f800000, 0x1
    FCVT_S_D 147, rtz, 0x3ff0000010000000, 0x3f800000, 0x1
    FCVT_S_D 148, rdn, 0x3ff0000010000000, 0x3f800000, 0x1
    FCVT_S_D 149, rup, 0x3ff0000010000000, 0x3f800001, 0x1
    FCVT_S_D 150, rmm, 0x3ff0000010000000, 0x3f800001, 0x1
    FCVT_S_D 151, rne, 0xbff0000010000000, 0xbf800000, 0x1
    FCVT_S_D 152, rtz, 0xbff0000010000000, 0xbf800000, 0x1
    FCVT_S_D 153, rdn, 0xbff0000010000000, 0xbf800001, 0x1
    FCVT_S_D 154, rup, 0xbff0000010000000, 0xbf800000, 0x1
    FCVT_S_D 155, rmm, 0xbff0000010000000, 0xbf800001, 0x1
    FCVT_S_D 156, rne, 0x3ff0000018000000, 0x3f800001, 0x1
    FCVT_S_D 157, rne, 0x7fefffffffffffff, 0x7f800000, 0x5
    FCVT_S_D 158, rtz, 0x7fefffffffffffff, 0x7f7fffff, 0x5
    FCVT_S_D 159, rdn, 0xffefffffffffffff, 0xff800000, 0x5
    FCVT_S_D 160, rup, 0xffefffffffffffff, 0xff7fffff, 0x5
    FCVT_S_D 161, rne, 0x7ff0000000000001, 0x7fc00000, 0x10
    FCVT_S_D 162, rne, 0x7ff8000000012345, 0x7fc00000, 0x0
    FCVT_S_D 163, rne, 0xfff8000000000000, 0x7fc00000, 0x0
    FCVT_S_D 164, rne, 0x1, 0x0, 0x3
    FCVT_S_D 165, rup, 0x1, 0x1, 0x3
    FCVT_S_D 166, rne, 0x8000000000000000, 0x80000000, 0x0
    FCVT_S_D 167, rne, 0x7ff0000000000000, 0x7f800000, 0x0
    FCVT_S_D 168, rne, 0xfff0000000000000, 0xff800000, 0x0
    FCVT_S_D 169, rne, 0x36a0000000000000, 0x1, 0x0
    FCVT_S_D 170, rne, 0x3690000000000000, 0x0, 0x3
    FCVT_S_D 171, rmm, 0x3690000000000000, 0x1, 0x3
    FCVT_S_D 172, rne, 0x380fffffe0000000, 0x800000, 0x3
    FCVT_S_D 173, rne, 0x47efffffe0000000, 0x7f7fffff, 0x0
    FCVT_S_D 174, rne, 0x47effffff0000000, 0x7f800000, 0x5
    FCVT_S_D 175, rtz, 0x47effffff0000000, 0x7f7fffff, 0x1
    FCVT_S_D 176, rup, 0x47efffffe0000001, 0x7f800000, 0x5
    FCVT_S_D 177, rne, 0x3fd5555555555555, 0x3eaaaaab, 0x1
    FCVT_D_S 178, 0x3f800000, 0x3ff0000000000000, 0x0
    FCVT_D_S 179, 0x7f800001, 0x7ff8000000000000, 0x10
    FCVT_D_S 180, 0x7fc12345, 0x7ff8000000000000, 0x0
    FCVT_D_S 181, 0x1, 0x36a0000000000000, 0x0
    FCVT_D_S 182, 0x7f7fffff, 0x47efffffe0000000, 0x0
    FCVT_D_S 183, 0x80000000, 0x8000000000000000, 0x0
    FCVT_D_S 184, 0xff800000, 0xfff0000000000000, 0x0
    FCVT_D_S 185, 0x807fffff, 0xb80fffffc0000000, 0x0
    FCVT_D_S 186, 0xffc00000, 0x7ff8000000000000, 0x0
    PASS
