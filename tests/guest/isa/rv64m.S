/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RV64M: multiplication (low and high halves, every signedness), division
 * and remainder with their W forms, division by zero (quotient all ones,
 * remainder the dividend) and signed overflow (most negative / -1).
 */
#include "test-macros.inc"

TEST_MAIN
    /* mul: low 64 bits */
    T_RR 1, mul, 0, 0, 0
    T_RR 2, mul, 21, 3, 7
    T_RR 3, mul, 1, -1, -1
    T_RR 4, mul, 0xfffffffffffffffe, 0x7fffffffffffffff, 2
    T_RR 5, mul, 0x8000000000000000, 0x8000000000000000, -1
    T_RR 6, mul, 0x2236d88fe5618cf0, 0x123456789abcdef0, 0x0fedcba987654321
    T_RR 7, mul, 0xfffffffe00000001, 0xffffffff, 0xffffffff
    T_RR 8, mul, -21, -3, 7
    T_RR_D1 9, mul, 42, 6, 7
    T_RR_D2 10, mul, 42, 6, 7
    T_RR_DD 11, mul, 0x100000000, 0x10000

    /* mulh: signed x signed, high 64 bits */
    T_RR 12, mulh, 0, -1, -1
    T_RR 13, mulh, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000
    T_RR 14, mulh, -1, -1, 1
    T_RR 15, mulh, 0x3fffffffffffffff, 0x7fffffffffffffff, 0x7fffffffffffffff
    T_RR 16, mulh, 0xc000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    T_RR 17, mulh, 0, 0x7fffffffffffffff, 1
    T_RR 18, mulh, 0x0121fa00ad77d742, 0x123456789abcdef0, 0x0fedcba987654321
    T_RR 19, mulh, 0xfffffffffffffffe, 0x8000000000000000, 4
    T_RR_DD 20, mulh, 1, 0x100000000

    /* mulhsu: signed rs1 x unsigned rs2 */
    T_RR 21, mulhsu, -1, -1, -1
    T_RR 22, mulhsu, 0x8000000000000000, 0x8000000000000000, -1
    T_RR 23, mulhsu, 0, 1, -1
    T_RR 24, mulhsu, 0x7ffffffffffffffe, 0x7fffffffffffffff, -1
    T_RR 25, mulhsu, -1, -1, 1
    T_RR 26, mulhsu, 2, 5, 0x7fffffffffffffff
    T_RR 27, mulhsu, 0xc000000000000000, 0x8000000000000000, 0x8000000000000000
    T_RR 28, mulhsu, 0, 0, -1

    /* mulhu: unsigned x unsigned */
    T_RR 29, mulhu, 0xfffffffffffffffe, -1, -1
    T_RR 30, mulhu, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000
    T_RR 31, mulhu, 0, -1, 1
    T_RR 32, mulhu, 0x7fffffffffffffff, 0x8000000000000000, -1
    T_RR 33, mulhu, 0x0121fa00ad77d742, 0x123456789abcdef0, 0x0fedcba987654321
    T_RR 34, mulhu, 1, 0x100000000, 0x100000000

    /* mulw: low 32 bits of the 32-bit operands, sign-extended */
    T_RR 35, mulw, -2, 0x7fffffff, 2
    T_RR 36, mulw, 15, 0x100000003, 0x200000005
    T_RR 37, mulw, 0xffffffff80000000, 0x80000000, -1
    T_RR 38, mulw, 1, 0xffffffff, 0xffffffff
    T_RR 39, mulw, 0x7fffffff, 0x7fffffff, 1
    T_RR 40, mulw, 0, 0x10000, 0x10000
    T_RR 41, mulw, 0xffffffff80000000, 0x8000, 0x10000

    /* div: signed, truncating towards zero */
    T_RR 42, div, 3, 20, 6
    T_RR 43, div, -3, -20, 6
    T_RR 44, div, -3, 20, -6
    T_RR 45, div, 3, -20, -6
    T_RR 46, div, 0, 5, 6
    T_RR 47, div, -1, 5, 0
    T_RR 48, div, -1, -5, 0
    T_RR 49, div, -1, 0, 0
    T_RR 50, div, 0x8000000000000000, 0x8000000000000000, -1
    T_RR 51, div, 0x8000000000000000, 0x8000000000000000, 1
    T_RR 52, div, -1, 0x8000000000000000, 0x7fffffffffffffff
    T_RR_DD 53, div, 1, -7

    /* divu */
    T_RR 54, divu, 3, 20, 6
    T_RR 55, divu, 0x2aaaaaaaaaaaaaa7, -20, 6
    T_RR 56, divu, 0, 20, -6
    T_RR 57, divu, -1, 5, 0
    T_RR 58, divu, -1, 0, 0
    T_RR 59, divu, 0, 0x8000000000000000, -1
    T_RR 60, divu, 1, -1, -1
    T_RR 61, divu, 0x8000000000000000, 0x8000000000000000, 1

    /* rem: sign follows the dividend */
    T_RR 62, rem, 2, 20, 6
    T_RR 63, rem, -2, -20, 6
    T_RR 64, rem, 2, 20, -6
    T_RR 65, rem, -2, -20, -6
    T_RR 66, rem, 5, 5, 0
    T_RR 67, rem, -5, -5, 0
    T_RR 68, rem, 0, 0x8000000000000000, -1
    T_RR 69, rem, 0x8000000000000000, 0x8000000000000000, 0
    T_RR 70, rem, 0, 0x8000000000000000, 1

    /* remu */
    T_RR 71, remu, 2, 20, 6
    T_RR 72, remu, 2, -20, 6
    T_RR 73, remu, 20, 20, -6
    T_RR 74, remu, -1, -1, 0
    T_RR 75, remu, 5, 5, 0
    T_RR 76, remu, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    T_RR 78, remu, 0, -1, -1

    /* divw: 32-bit signed, result sign-extended */
    T_RR 79, divw, 3, 20, 6
    T_RR 80, divw, -3, -20, 6
    T_RR 81, divw, 3, 0xffffffff00000014, 0x0000000100000006
    T_RR 82, divw, -1, 5, 0
    T_RR 83, divw, -1, 5, 0x100000000
    T_RR 84, divw, 0xffffffff80000000, 0x80000000, -1
    T_RR 85, divw, 0xffffffff80000000, 0x80000000, 0xffffffff
    T_RR 86, divw, -1, 0x7fffffff, 0x80000001
    T_RR 87, divw, 0x40000000, 0x80000000, -2

    /* divuw */
    T_RR 88, divuw, -1, 0xffffffff, 1
    T_RR 89, divuw, 0xffffffff80000000, 0x80000000, 1
    T_RR 90, divuw, -1, 5, 0
    T_RR 91, divuw, 0x7fffffff, 0xfffffffe, 2
    T_RR 92, divuw, 0, 0x80000000, 0xffffffff
    T_RR 93, divuw, 0x2aaaaaa7, -20, 6
    T_RR 94, divuw, 3, 0x1234567800000014, 0x8765432100000006

    /* remw */
    T_RR 95, remw, 2, 20, 6
    T_RR 96, remw, -2, -20, 6
    T_RR 97, remw, 0, 0x80000000, -1
    T_RR 98, remw, 0xffffffff80000000, 0x80000000, 0
    T_RR 99, remw, 5, 0xaaaaaaaa00000005, 0
    T_RR 100, remw, 2, 0xffffffff00000014, 0x0000000100000006
    T_RR 101, remw, -1, -1, 0x80000000

    /* remuw */
    T_RR 102, remuw, 2, 20, 6
    T_RR 103, remuw, 0xffffffff80000001, 0x180000001, 0
    T_RR 104, remuw, -2, 0xfffffffe, 0xffffffff
    T_RR 105, remuw, 0, 0xffffffff, 0xffffffff
    T_RR 106, remuw, 2, -20, 6
    T_RR 107, remuw, 0x7fffffff, 0x7fffffff, 0x80000000

    /* x0 as destination */
    CASE 108
    li a1, 7
    li a2, 0
    mul x0, a1, a1
    div x0, a1, a2
    remu x0, a1, a2
    mulhu x0, a1, a1
    CHECK_EQ x0, 0
    PASS
