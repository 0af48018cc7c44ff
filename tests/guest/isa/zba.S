/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zba: sh1add/sh2add/sh3add, add.uw (and zext.w), the .uw forms of the
 * shifted adds and slli.uw, with all-ones, sign-bit and upper-word operands,
 * shift amounts 0/1/31/32/63, register aliasing and x0 as destination.
 * Expected values follow the operations' definitions in the unprivileged
 * specification's bit-manipulation chapter.
 */
#include "test-macros.inc"

TEST_MAIN
    /* Zba: shNadd adds rs1 << N to rs2; the .uw forms take the zero-extended low word of rs1 */
    T_RR 1, sh1add, 0x0, 0x0, 0x0
    T_RR 2, sh1add, 0x3, 0x1, 0x1
    T_RR 3, sh1add, 0xfffffffffffffffe, 0xffffffffffffffff, 0x0
    T_RR 4, sh1add, 0x7, 0x8000000000000000, 0x7
    T_RR 5, sh1add, 0x123456789abcdee, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_D1 6, sh1add, 0x2234, 0x1000, 0x234
    T_RR_D2 7, sh1add, 0x2234, 0x1000, 0x234
    T_RR_DD 8, sh1add, 0x369cf, 0x12345
    T_RR 9, sh2add, 0x0, 0x0, 0x0
    T_RR 10, sh2add, 0x5, 0x1, 0x1
    T_RR 11, sh2add, 0xfffffffffffffffc, 0xffffffffffffffff, 0x0
    T_RR 12, sh2add, 0x7, 0x8000000000000000, 0x7
    T_RR 13, sh2add, 0x369d0369d0369cc, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_D1 14, sh2add, 0x4234, 0x1000, 0x234
    T_RR_D2 15, sh2add, 0x4234, 0x1000, 0x234
    T_RR_DD 16, sh2add, 0x5b059, 0x12345
    T_RR 17, sh3add, 0x0, 0x0, 0x0
    T_RR 18, sh3add, 0x9, 0x1, 0x1
    T_RR 19, sh3add, 0xfffffffffffffff8, 0xffffffffffffffff, 0x0
    T_RR 20, sh3add, 0x7, 0x8000000000000000, 0x7
    T_RR 21, sh3add, 0x7f6e5d4c3b2a188, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_D1 22, sh3add, 0x8234, 0x1000, 0x234
    T_RR_D2 23, sh3add, 0x8234, 0x1000, 0x234
    T_RR_DD 24, sh3add, 0xa3d6d, 0x12345
    T_RR 25, add.uw, 0x6, 0xffffffff00000001, 0x5
    T_RR 26, add.uw, 0xffffffff, 0xffffffffffffffff, 0x0
    T_RR 27, add.uw, 0x100000000, 0x80000000, 0x80000000
    T_RR 28, add.uw, 0xfedcba98ffffffff, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_DD 29, add.uw, 0xe0000000, 0xfffffffff0000000
    CASE 30
    li a1, 0xfedcba9880000001
    zext.w a0, a1
    CHECK_EQ a0, 0x80000001
    T_RR 31, sh1add.uw, 0x1fffffffe, 0xffffffffffffffff, 0x0
    T_RR 32, sh1add.uw, 0x100000001, 0xffffffff80000000, 0x1
    T_RR 33, sh1add.uw, 0xfedcba9989abcdee, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_DD 34, sh1add.uw, 0x1d0000003, 0xfffffffff0000001
    T_RR 35, sh2add.uw, 0x3fffffffc, 0xffffffffffffffff, 0x0
    T_RR 36, sh2add.uw, 0x200000001, 0xffffffff80000000, 0x1
    T_RR 37, sh2add.uw, 0xfedcba9a9d0369cc, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_DD 38, sh2add.uw, 0x3b0000005, 0xfffffffff0000001
    T_RR 39, sh3add.uw, 0x7fffffff8, 0xffffffffffffffff, 0x0
    T_RR 40, sh3add.uw, 0x400000001, 0xffffffff80000000, 0x1
    T_RR 41, sh3add.uw, 0xfedcba9cc3b2a188, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_DD 42, sh3add.uw, 0x770000009, 0xfffffffff0000001
    T_RI 43, slli.uw, 0x87654321, 0xffffffff87654321, 0
    T_RI 44, slli.uw, 0x10eca8642, 0xffffffff87654321, 1
    T_RI 45, slli.uw, 0x43b2a19080000000, 0xffffffff87654321, 31
    T_RI 46, slli.uw, 0x8765432100000000, 0xffffffff87654321, 32
    T_RI 47, slli.uw, 0x8000000000000000, 0xffffffff87654321, 63
    T_RI_D 48, slli.uw, 0x234567890, 0x123456789, 4

    /* x0 as the destination: no effect */
    CASE 49
    li a1, -1
    li a2, 7
    sh1add zero, a1, a2
    add.uw zero, a1, a2
    slli.uw zero, a1, 3
    CHECK_EQ x0, 0
    CHECK_EQ a1, -1
    CHECK_EQ a2, 7
    PASS
