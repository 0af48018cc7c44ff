/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zbs: bset/bclr/binv/bext and their immediate forms at bits 0, 31, 32 and
 * 63, with the register index taken modulo 64 (64 is bit 0, -1 is bit 63),
 * register aliasing and x0 as destination.
 * Expected values follow the operations' definitions in the unprivileged
 * specification's bit-manipulation chapter.
 */
#include "test-macros.inc"

TEST_MAIN
    /* Zbs: single-bit operations, the index taken modulo 64 */
    T_RR 1, bset, 0x1, 0x0, 0x0
    T_RR 2, bset, 0xffffffffffffffff, 0xffffffffffffffff, 0x0
    T_RR 3, bset, 0x8000000000000000, 0x0, 0x3f
    T_RR 4, bset, 0xffffffffffffffff, 0xffffffffffffffff, 0x3f
    T_RR 5, bset, 0x8123456789abcdef, 0x8123456789abcdef, 0x40
    T_RR 6, bset, 0x8123456789abcdef, 0x8123456789abcdef, 0x1f
    T_RR 7, bset, 0xfedcba9876543210, 0xfedcba9876543210, 0xffffffffffffffff
    T_RR_DD 8, bset, 0x200000021, 0x21
    T_RR_D1 9, bset, 0x1f, 0xf, 0x4
    T_RR_D2 10, bset, 0x1f, 0xf, 0x4
    T_RR 11, bclr, 0x0, 0x0, 0x0
    T_RR 12, bclr, 0xfffffffffffffffe, 0xffffffffffffffff, 0x0
    T_RR 13, bclr, 0x0, 0x0, 0x3f
    T_RR 14, bclr, 0x7fffffffffffffff, 0xffffffffffffffff, 0x3f
    T_RR 15, bclr, 0x8123456789abcdee, 0x8123456789abcdef, 0x40
    T_RR 16, bclr, 0x8123456709abcdef, 0x8123456789abcdef, 0x1f
    T_RR 17, bclr, 0x7edcba9876543210, 0xfedcba9876543210, 0xffffffffffffffff
    T_RR_DD 18, bclr, 0x21, 0x21
    T_RR_D1 19, bclr, 0xf, 0xf, 0x4
    T_RR_D2 20, bclr, 0xf, 0xf, 0x4
    T_RR 21, binv, 0x1, 0x0, 0x0
    T_RR 22, binv, 0xfffffffffffffffe, 0xffffffffffffffff, 0x0
    T_RR 23, binv, 0x8000000000000000, 0x0, 0x3f
    T_RR 24, binv, 0x7fffffffffffffff, 0xffffffffffffffff, 0x3f
    T_RR 25, binv, 0x8123456789abcdee, 0x8123456789abcdef, 0x40
    T_RR 26, binv, 0x8123456709abcdef, 0x8123456789abcdef, 0x1f
    T_RR 27, binv, 0x7edcba9876543210, 0xfedcba9876543210, 0xffffffffffffffff
    T_RR_DD 28, binv, 0x200000021, 0x21
    T_RR_D1 29, binv, 0x1f, 0xf, 0x4
    T_RR_D2 30, binv, 0x1f, 0xf, 0x4
    T_RR 31, bext, 0x0, 0x0, 0x0
    T_RR 32, bext, 0x1, 0xffffffffffffffff, 0x0
    T_RR 33, bext, 0x0, 0x0, 0x3f
    T_RR 34, bext, 0x1, 0xffffffffffffffff, 0x3f
    T_RR 35, bext, 0x1, 0x8123456789abcdef, 0x40
    T_RR 36, bext, 0x1, 0x8123456789abcdef, 0x1f
    T_RR 37, bext, 0x1, 0xfedcba9876543210, 0xffffffffffffffff
    T_RR_DD 38, bext, 0x0, 0x21
    T_RR_D1 39, bext, 0x0, 0xf, 0x4
    T_RR_D2 40, bext, 0x0, 0xf, 0x4
    T_RI 41, bseti, 0x1, 0x0, 0
    T_RI 42, bseti, 0xffffffffffffffff, 0xffffffffffffffff, 0
    T_RI 43, bseti, 0x8000000000000000, 0x0, 63
    T_RI 44, bseti, 0xffffffffffffffff, 0xffffffffffffffff, 63
    T_RI 45, bseti, 0x8123456789abcdef, 0x8123456789abcdef, 31
    T_RI 46, bseti, 0x8123456789abcdef, 0x8123456789abcdef, 32
    T_RI_D 47, bseti, 0x1f, 0xf, 4
    T_RI 48, bclri, 0x0, 0x0, 0
    T_RI 49, bclri, 0xfffffffffffffffe, 0xffffffffffffffff, 0
    T_RI 50, bclri, 0x0, 0x0, 63
    T_RI 51, bclri, 0x7fffffffffffffff, 0xffffffffffffffff, 63
    T_RI 52, bclri, 0x8123456709abcdef, 0x8123456789abcdef, 31
    T_RI 53, bclri, 0x8123456689abcdef, 0x8123456789abcdef, 32
    T_RI_D 54, bclri, 0xf, 0xf, 4
    T_RI 55, binvi, 0x1, 0x0, 0
    T_RI 56, binvi, 0xfffffffffffffffe, 0xffffffffffffffff, 0
    T_RI 57, binvi, 0x8000000000000000, 0x0, 63
    T_RI 58, binvi, 0x7fffffffffffffff, 0xffffffffffffffff, 63
    T_RI 59, binvi, 0x8123456709abcdef, 0x8123456789abcdef, 31
    T_RI 60, binvi, 0x8123456689abcdef, 0x8123456789abcdef, 32
    T_RI_D 61, binvi, 0x1f, 0xf, 4
    T_RI 62, bexti, 0x0, 0x0, 0
    T_RI 63, bexti, 0x1, 0xffffffffffffffff, 0
    T_RI 64, bexti, 0x0, 0x0, 63
    T_RI 65, bexti, 0x1, 0xffffffffffffffff, 63
    T_RI 66, bexti, 0x1, 0x8123456789abcdef, 31
    T_RI 67, bexti, 0x1, 0x8123456789abcdef, 32
    T_RI_D 68, bexti, 0x0, 0xf, 4

    /* x0 as the destination: no effect */
    CASE 69
    li a1, -1
    li a2, 7
    bset zero, a1, a2
    bclr zero, a1, a2
    binvi zero, a1, 3
    bext zero, a1, a2
    CHECK_EQ x0, 0
    CHECK_EQ a1, -1
    CHECK_EQ a2, 7
    PASS
