/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zbkb's instructions beyond Zbb: pack (the low words of rs1 and rs2),
 * packh (the low bytes), packw (the low halfwords, sign-extended from bit
 * 31) and brev8 (the bits of each byte reversed), and x0 as destination.
 * Expected values follow the operations' definitions in the unprivileged
 * specification's bit-manipulation chapter.
 */
#include "test-macros.inc"

TEST_MAIN
    /* Zbkb: packing halves, bytes and halfwords, and reversing the bits of each byte */
    T_RR 1, pack, 0x7654321089abcdef, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR 2, pack, 0xffffffff, 0xffffffffffffffff, 0x0
    T_RR 3, pack, 0xffffffff00000000, 0x0, 0xffffffffffffffff
    T_RR_DD 4, pack, 0x89abcdef89abcdef, 0x8123456789abcdef
    T_RR 5, packh, 0x10ef, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR 6, packh, 0xffff, 0xffffffffffffffff, 0xffffffffffffffff
    T_RR_DD 7, packh, 0x8080, 0x80
    T_RR 8, packw, 0x3210cdef, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR 9, packw, 0x7fffffff, 0xffffffffffffffff, 0x7fff
    T_RR 10, packw, 0xffffffff80000000, 0x0, 0x8000
    T_RR_DD 11, packw, 0x12341234, 0x1234
    T_R1 12, brev8, 0x0, 0x0
    T_R1 13, brev8, 0xffffffffffffffff, 0xffffffffffffffff
    T_R1 14, brev8, 0x8040201008040201, 0x102040810204080
    T_R1 15, brev8, 0x81c4a2e691d5b3f7, 0x8123456789abcdef

    /* x0 as the destination: no effect */
    CASE 16
    li a1, -1
    li a2, 7
    pack zero, a1, a2
    packh zero, a1, a2
    packw zero, a1, a2
    brev8 zero, a1
    CHECK_EQ x0, 0
    CHECK_EQ a1, -1
    CHECK_EQ a2, 7
    PASS
