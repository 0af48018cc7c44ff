/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zbc: clmul/clmulh/clmulr: products with 0, 1 and powers of two, all
 * ones squared, the top bit times itself (the high half), and clmulr, the
 * bit-reversed product of the bit-reversed operands; register aliasing and
 * x0 as destination.
 * Expected values follow the operations' definitions in the unprivileged
 * specification's bit-manipulation chapter.
 */
#include "test-macros.inc"

TEST_MAIN
    /* Zbc: carry-less products: by 0 and 1, by powers of two, all ones, and clmulr as the reversed product of reversed operands */
    T_RR 1, clmul, 0x0, 0x0, 0x0
    T_RR 2, clmul, 0x0, 0x8123456789abcdef, 0x0
    T_RR 3, clmul, 0x8123456789abcdef, 0x8123456789abcdef, 0x1
    T_RR 4, clmul, 0x8123456789abcdef, 0x1, 0x8123456789abcdef
    T_RR 5, clmul, 0x2468acf13579bde, 0x8123456789abcdef, 0x2
    T_RR 6, clmul, 0x8000000000000000, 0x8123456789abcdef, 0x8000000000000000
    T_RR 7, clmul, 0x5555555555555555, 0xffffffffffffffff, 0xffffffffffffffff
    T_RR 8, clmul, 0x5, 0x3, 0x3
    T_RR 9, clmul, 0x40a0789828c810f0, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR 10, clmul, 0x4041444550515455, 0x123456789abcdef, 0x123456789abcdef
    T_RR 11, clmulh, 0x0, 0x0, 0x0
    T_RR 12, clmulh, 0x0, 0x8123456789abcdef, 0x1
    T_RR 13, clmulh, 0x1, 0x8123456789abcdef, 0x2
    T_RR 14, clmulh, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000
    T_RR 15, clmulh, 0x5555555555555555, 0xffffffffffffffff, 0xffffffffffffffff
    T_RR 16, clmulh, 0x0, 0x3, 0x3
    T_RR 17, clmulh, 0x7f8e659453a249b8, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR 18, clmulh, 0x1040510111415, 0x123456789abcdef, 0x123456789abcdef
    T_RR 19, clmulr, 0x0, 0x0, 0x0
    T_RR 20, clmulr, 0x1, 0x8123456789abcdef, 0x1
    T_RR 21, clmulr, 0x1, 0x1, 0x8123456789abcdef
    T_RR 22, clmulr, 0x8000000000000000, 0x8000000000000000, 0x8000000000000000
    T_RR 23, clmulr, 0xaaaaaaaaaaaaaaaa, 0xffffffffffffffff, 0xffffffffffffffff
    T_RR 24, clmulr, 0xff1ccb28a7449370, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR 25, clmulr, 0x2080a2022282a, 0x123456789abcdef, 0x123456789abcdef
    T_RR_DD 26, clmul, 0x1514111005040100, 0xfedcba9876543210
    T_RR_DD 27, clmulh, 0x5554515045444140, 0xfedcba9876543210
    T_RR_DD 28, clmulr, 0xaaa8a2a08a888280, 0xfedcba9876543210

    /* x0 as the destination: no effect */
    CASE 29
    li a1, -1
    li a2, 7
    clmul zero, a1, a2
    clmulh zero, a1, a2
    clmulr zero, a1, a2
    CHECK_EQ x0, 0
    CHECK_EQ a1, -1
    CHECK_EQ a2, 7
    PASS
