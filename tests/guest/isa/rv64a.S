/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RV64A: every AMO in its .w and .d forms (old value in rd, .w results
 * sign-extended, neighbouring bytes untouched), the aq/rl variants, rd = x0
 * and rd = rs2, LR/SC success and failure, and misaligned LR traps
 * (address-misaligned with the address in mtval).
 */
#include "test-macros.inc"

/* 64-bit AMO: mem = memv, rs2 = src; expects rd = old and mem = newv. */
.macro T_AMOD n, op, memv, src, newv
    CASE \n
    la a1, amo_area
    li t0, \memv
    sd t0, 0(a1)
    li a2, \src
    \op a0, a2, (a1)
    CHECK_EQ a0, \memv
    ld t0, 0(a1)
    CHECK_EQ t0, \newv
    CHECK_EQ a2, \src
.endm

/* 32-bit AMO on the low word of a dword whose high word is a guard; rd is
 * the old word sign-extended. Then the same on the high word. */
.macro T_AMOW n, op, memv, src, newv
    CASE \n
    la a1, amo_area
    li t0, (0x5a5a5a5a << 32) | ((\memv) & 0xffffffff)
    sd t0, 0(a1)
    li a2, \src
    \op a0, a2, (a1)
    li t1, \memv
    sext.w t1, t1
    CHECK_EQR a0, t1
    ld t0, 0(a1)
    CHECK_EQ t0, (0x5a5a5a5a << 32) | ((\newv) & 0xffffffff)
    li t0, (((\memv) & 0xffffffff) << 32) | 0x3c3c3c3c
    sd t0, 0(a1)
    addi a3, a1, 4
    \op a0, a2, (a3)
    CHECK_EQR a0, t1
    ld t0, 0(a1)
    CHECK_EQ t0, (((\newv) & 0xffffffff) << 32) | 0x3c3c3c3c
.endm

    .data
    .align 6
amo_area:
    .fill 8, 8, 0
lr_area:
    .fill 8, 8, 0

TEST_MAIN
    /* sc without a preceding lr fails and writes nothing */
    CASE 1
    la a1, lr_area
    li t0, 0x1111
    sd t0, 0(a1)
    li a2, 0x2222
    sc.d a0, a2, (a1)
    CHECK_NE a0, 0
    ld t0, 0(a1)
    CHECK_EQ t0, 0x1111
    CASE 2
    sc.w a0, a2, (a1)
    CHECK_NE a0, 0
    ld t0, 0(a1)
    CHECK_EQ t0, 0x1111

    /* amoswap */
    T_AMOD 3, amoswap.d, 0x0123456789abcdef, 0xfedcba9876543210, 0xfedcba9876543210
    T_AMOW 4, amoswap.w, 0x89abcdef, 0x76543210, 0x76543210
    T_AMOW 5, amoswap.w, 0x12345678, 0xffffffff80000000, 0x80000000
    /* amoadd */
    T_AMOD 6, amoadd.d, 0x7fffffffffffffff, 1, 0x8000000000000000
    T_AMOD 7, amoadd.d, -1, -1, -2
    T_AMOW 8, amoadd.w, 0x7fffffff, 1, 0x80000000
    T_AMOW 9, amoadd.w, 0xffffffff, 1, 0
    T_AMOW 10, amoadd.w, 0x10, 0xffffffff00000001, 0x11
    /* amoxor / amoand / amoor */
    T_AMOD 11, amoxor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0
    T_AMOW 12, amoxor.w, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    T_AMOD 13, amoand.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00
    T_AMOW 14, amoand.w, 0xff00ff00, 0x0ff00ff0, 0x0f000f00
    T_AMOD 15, amoor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xfff0fff0fff0fff0
    T_AMOW 16, amoor.w, 0xff00ff00, 0x0ff00ff0, 0xfff0fff0
    /* amomin / amomax: signed */
    T_AMOD 17, amomin.d, 0x8000000000000000, 1, 0x8000000000000000
    T_AMOD 18, amomin.d, 1, -1, -1
    T_AMOD 19, amomin.d, 5, 5, 5
    T_AMOD 20, amomax.d, 0x8000000000000000, 1, 1
    T_AMOD 21, amomax.d, -1, -2, -1
    T_AMOW 22, amomin.w, 0x80000000, 1, 0x80000000
    T_AMOW 23, amomin.w, 1, 0xffffffff, 0xffffffff
    T_AMOW 24, amomax.w, 0x80000000, 1, 1
    T_AMOW 25, amomax.w, 0x7fffffff, 0x80000000, 0x7fffffff
    /* 32-bit compare uses only the low word of rs2 */
    T_AMOW 26, amomin.w, 5, 0x00000000ffffffff, 0xffffffff
    T_AMOW 27, amomax.w, 5, 0xffffffff00000003, 5
    /* amominu / amomaxu: unsigned */
    T_AMOD 28, amominu.d, 0x8000000000000000, 1, 1
    T_AMOD 29, amominu.d, 1, -1, 1
    T_AMOD 30, amomaxu.d, 0x8000000000000000, 1, 0x8000000000000000
    T_AMOD 31, amomaxu.d, 1, -1, -1
    T_AMOW 32, amominu.w, 0x80000000, 1, 1
    T_AMOW 33, amominu.w, 0xffffffff, 0xfffffffe, 0xfffffffe
    T_AMOW 34, amomaxu.w, 0x80000000, 1, 0x80000000
    T_AMOW 35, amomaxu.w, 1, 0xffffffff, 0xffffffff
    T_AMOW 36, amomaxu.w, 7, 0x1234567800000003, 7

    /* aq, rl and aqrl variants */
    T_AMOD 37, amoadd.d.aq, 10, 5, 15
    T_AMOD 38, amoadd.d.rl, 10, 5, 15
    T_AMOD 39, amoadd.d.aqrl, 10, 5, 15
    T_AMOW 40, amoswap.w.aq, 1, 2, 2
    T_AMOW 41, amoswap.w.rl, 1, 2, 2
    T_AMOW 42, amoswap.w.aqrl, 1, 2, 2
    T_AMOW 43, amoor.w.aqrl, 1, 2, 3
    T_AMOD 44, amomaxu.d.aqrl, 1, 2, 2
    T_AMOD 45, amominu.d.aq, 1, 2, 1
    T_AMOW 46, amoxor.w.rl, 3, 1, 2
    T_AMOW 47, amoand.w.aq, 3, 1, 1
    T_AMOD 48, amomin.d.rl, 3, -1, -1
    T_AMOW 49, amomax.w.aqrl, 3, -1, 3

    /* rd = x0: memory still updated */
    CASE 50
    la a1, amo_area
    li t0, 100
    sd t0, 0(a1)
    li a2, 23
    amoadd.d x0, a2, (a1)
    ld t0, 0(a1)
    CHECK_EQ t0, 123
    CHECK_EQ x0, 0
    CASE 51
    amoswap.w x0, a2, (a1)
    lw t0, 0(a1)
    CHECK_EQ t0, 23

    /* rd = rs2: rd gets the old value, memory the old rs2 */
    CASE 52
    li t0, 0x1234
    sd t0, 0(a1)
    li a2, 0x5678
    amoswap.d a2, a2, (a1)
    CHECK_EQ a2, 0x1234
    ld t0, 0(a1)
    CHECK_EQ t0, 0x5678
    CASE 53
    li t0, 40
    sw t0, 0(a1)
    li a2, 2
    amoadd.w a2, a2, (a1)
    CHECK_EQ a2, 40
    lw t0, 0(a1)
    CHECK_EQ t0, 42

    /* lr/sc: success, then a second sc fails */
    CASE 54
    la a1, lr_area
    li t0, 0x8000000000000001
    sd t0, 0(a1)
    lr.d a0, (a1)
    CHECK_EQ a0, 0x8000000000000001
    li a2, 0x77
    sc.d a3, a2, (a1)
    CHECK_EQ a3, 0
    ld t0, 0(a1)
    CHECK_EQ t0, 0x77
    CASE 55
    li a2, 0x88
    sc.d a3, a2, (a1)
    CHECK_NE a3, 0
    ld t0, 0(a1)
    CHECK_EQ t0, 0x77
    CASE 56
    /* lr.w sign-extends; sc.w writes 32 bits */
    li t0, 0x1111111180000000
    sd t0, 0(a1)
    lr.w a0, (a1)
    CHECK_EQ a0, 0xffffffff80000000
    li a2, 0xfffffffffedcba98
    sc.w a3, a2, (a1)
    CHECK_EQ a3, 0
    ld t0, 0(a1)
    CHECK_EQ t0, 0x11111111fedcba98
    CASE 57
    sc.w a3, a2, (a1)
    CHECK_NE a3, 0
    CASE 58
    /* the high word of a dword */
    addi a4, a1, 4
    lr.w a0, (a4)
    CHECK_EQ a0, 0x11111111
    li a2, 0x22222222
    sc.w a3, a2, (a4)
    CHECK_EQ a3, 0
    ld t0, 0(a1)
    CHECK_EQ t0, 0x22222222fedcba98
    CASE 59
    /* aq/rl variants of lr/sc */
    lr.d.aq a0, (a1)
    sc.d.rl a3, zero, (a1)
    CHECK_EQ a3, 0
    lr.w.aqrl a0, (a1)
    sc.w.aqrl a3, a2, (a1)
    CHECK_EQ a3, 0
    ld t0, 0(a1)
    CHECK_EQ t0, 0x22222222
    CASE 60
    /* a constrained lr/sc loop (atomic increment) succeeds */
    li t0, 41
    sd t0, 8(a1)
    addi a4, a1, 8
    li a5, 0
1:  lr.d a0, (a4)
    addi a0, a0, 1
    sc.d a3, a0, (a4)
    addi a5, a5, 1
    li t1, 1000
    bgeu a5, t1, fail
    bnez a3, 1b
    ld t0, 8(a1)
    CHECK_EQ t0, 42
    CASE 61
    /* rd = x0 for sc still writes on success */
    lr.d a0, (a4)
    li a2, 99
    sc.d x0, a2, (a4)
    ld t0, 0(a4)
    CHECK_EQ t0, 99

    /* misaligned LR: load address-misaligned, mtval the address, rd
     * unchanged. (Misaligned AMOs and SC raise the store/AMO exception; they
     * are checked in vireo-impl.S, since QEMU reports them differently.) */
    CASE 62
    la a1, amo_area
    li a0, 0xdead
    addi a4, a1, 2
    EXPECT_TRAP 1f
    lr.w a0, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_LOAD
    CHECK_TF_REG TF_MTVAL, a4
    CHECK_EQ a0, 0xdead
    CASE 63
    addi a4, a1, 4
    EXPECT_TRAP 1f
    lr.d a0, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_LOAD
    CHECK_TF_REG TF_MTVAL, a4
    CHECK_EQ a0, 0xdead
    CASE 64
    addi a4, a1, 7
    EXPECT_TRAP 1f
    lr.d.aq a0, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_LOAD
    CHECK_TF_REG TF_MTVAL, a4
    CASE 65
    addi a4, a1, 1
    EXPECT_TRAP 1f
    lr.w a0, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_LOAD
    CHECK_TF_REG TF_MTVAL, a4
    CHECK_EQ a0, 0xdead
    PASS
