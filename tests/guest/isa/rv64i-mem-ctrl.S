/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RV64I loads, stores, branches, jumps and fences: sign and zero extension
 * of every load width, every store width writing exactly its bytes, offsets
 * at the ends of the 12-bit range, branches taken and not taken in both
 * directions (and at the ends of their +-4 KiB range), jal and jalr links,
 * jalr clearing bit 0, rd = rs1, and the jal range ends (+-1 MiB).
 */
#include "test-macros.inc"

/* Load with sign/zero extension: rd = op off(base + boff). */
.macro T_LD n, op, res, sym, off
    CASE \n
    la a1, \sym
    \op a0, \off(a1)
    CHECK_EQ a0, \res
.endm

/* Branch taken or not, forwards. */
.macro T_BRF n, op, a, b, taken
    CASE \n
    li a1, \a
    li a2, \b
    li a0, 0
    \op a1, a2, 1f
    li a0, 2
    j 2f
1:  li a0, 1
2:  CHECK_EQ a0, \taken + (1 - \taken) * 2
.endm

/* Branch taken or not, backwards. */
.macro T_BRB n, op, a, b, taken
    CASE \n
    li a1, \a
    li a2, \b
    li a0, 0
    j 3f
1:  li a0, 1
    j 2f
3:  \op a1, a2, 1b
    li a0, 2
2:  CHECK_EQ a0, \taken + (1 - \taken) * 2
.endm

.macro T_BR n, op, a, b, taken
    T_BRF \n, \op, \a, \b, \taken
.endm

    .data
    .align 6
ldata:
    .dword 0x8182838485868788
    .dword 0x7172737475767778
    .dword 0x00000000ffff0080
sdata:
    .fill 4, 8, 0
    /* 4 KiB window for the 12-bit offset ends; big_mid is its middle. */
    .align 6
big_lo:
    .fill 256, 8, 0
big_mid:
    .fill 256, 8, 0
big_hi:
    .dword 0

TEST_MAIN
    /* lb / lbu at every byte of a dword */
    T_LD 1, lb, 0xffffffffffffff88, ldata, 0
    T_LD 2, lb, 0xffffffffffffff87, ldata, 1
    T_LD 3, lb, 0xffffffffffffff84, ldata, 4
    T_LD 4, lb, 0xffffffffffffff81, ldata, 7
    T_LD 5, lb, 0x78, ldata, 8
    T_LD 6, lb, 0x71, ldata, 15
    T_LD 7, lbu, 0x88, ldata, 0
    T_LD 8, lbu, 0x81, ldata, 7
    T_LD 9, lbu, 0x71, ldata, 15
    T_LD 10, lb, 0xffffffffffffff80, ldata, 16
    T_LD 11, lbu, 0x80, ldata, 16
    T_LD 12, lb, 0, ldata, 17
    /* lh / lhu */
    T_LD 13, lh, 0xffffffffffff8788, ldata, 0
    T_LD 14, lh, 0xffffffffffff8586, ldata, 2
    T_LD 15, lh, 0xffffffffffff8182, ldata, 6
    T_LD 16, lh, 0x7172, ldata, 14
    T_LD 17, lhu, 0x8788, ldata, 0
    T_LD 18, lhu, 0x8182, ldata, 6
    T_LD 19, lh, 0x0080, ldata, 16
    T_LD 20, lh, -1, ldata, 18
    T_LD 21, lhu, 0xffff, ldata, 18
    /* lw / lwu */
    T_LD 22, lw, 0xffffffff85868788, ldata, 0
    T_LD 23, lw, 0xffffffff81828384, ldata, 4
    T_LD 24, lw, 0x75767778, ldata, 8
    T_LD 25, lwu, 0x85868788, ldata, 0
    T_LD 26, lwu, 0x81828384, ldata, 4
    T_LD 27, lwu, 0x71727374, ldata, 12
    T_LD 28, lw, 0xffffffffffff0080, ldata, 16
    T_LD 29, lwu, 0xffff0080, ldata, 16
    /* ld */
    T_LD 30, ld, 0x8182838485868788, ldata, 0
    T_LD 31, ld, 0x7172737475767778, ldata, 8
    T_LD 32, ld, 0x00000000ffff0080, ldata, 16

    /* negative offsets */
    CASE 33
    la a1, ldata + 16
    ld a0, -16(a1)
    CHECK_EQ a0, 0x8182838485868788
    CASE 34
    lb a0, -1(a1)
    CHECK_EQ a0, 0x71
    CASE 35
    lhu a0, -2(a1)
    CHECK_EQ a0, 0x7172
    CASE 36
    lw a0, -12(a1)
    CHECK_EQ a0, 0xffffffff81828384

    /* rd = rs1 */
    CASE 37
    la a0, ldata
    ld a0, 8(a0)
    CHECK_EQ a0, 0x7172737475767778
    CASE 38
    la a0, ldata
    lbu a0, 7(a0)
    CHECK_EQ a0, 0x81

    /* a load into x0 leaves x0 zero */
    CASE 39
    la a1, ldata
    ld x0, 0(a1)
    lw x0, 4(a1)
    lbu x0, 7(a1)
    CHECK_EQ x0, 0

    /* sb / sh / sw / sd write exactly their bytes */
    CASE 40
    la a1, sdata
    sd zero, 0(a1)
    li a2, 0x1ab
    sb a2, 3(a1)
    ld a0, 0(a1)
    CHECK_EQ a0, 0xab000000
    CASE 41
    li a2, -1
    sd a2, 0(a1)
    sb zero, 7(a1)
    ld a0, 0(a1)
    CHECK_EQ a0, 0x00ffffffffffffff
    CASE 42
    sd zero, 0(a1)
    li a2, 0x12345678
    sh a2, 6(a1)
    ld a0, 0(a1)
    CHECK_EQ a0, 0x5678000000000000
    CASE 43
    li a2, -1
    sd a2, 0(a1)
    sh zero, 2(a1)
    ld a0, 0(a1)
    CHECK_EQ a0, 0xffffffff0000ffff
    CASE 44
    sd zero, 0(a1)
    li a2, 0x123456789abcdef0
    sw a2, 4(a1)
    ld a0, 0(a1)
    CHECK_EQ a0, 0x9abcdef000000000
    CASE 45
    li a2, -1
    sd a2, 0(a1)
    sw zero, 0(a1)
    ld a0, 0(a1)
    CHECK_EQ a0, 0xffffffff00000000
    CASE 46
    li a2, 0x0123456789abcdef
    sd a2, 8(a1)
    ld a0, 8(a1)
    CHECK_EQR a0, a2
    CASE 47
    /* bytes of the sd in little-endian order */
    lbu a0, 8(a1)
    CHECK_EQ a0, 0xef
    lbu a0, 15(a1)
    CHECK_EQ a0, 0x01
    lhu a0, 12(a1)
    CHECK_EQ a0, 0x4567
    CASE 48
    /* the neighbours of a byte store are untouched */
    li a2, 0x1111111111111111
    sd a2, 16(a1)
    sd a2, 24(a1)
    li a2, 0x99
    sb a2, 24(a1)
    sb a2, 23(a1)
    ld a0, 16(a1)
    CHECK_EQ a0, 0x9911111111111111
    ld a0, 24(a1)
    CHECK_EQ a0, 0x1111111111111199
    CASE 49
    /* negative store offset */
    addi a3, a1, 16
    li a2, 0x5a5a5a5a
    sw a2, -12(a3)
    lwu a0, 4(a1)
    CHECK_EQ a0, 0x5a5a5a5a

    /* the ends of the 12-bit offset range */
    CASE 50
    la a1, big_mid
    li a2, 0x0102030405060708
    sd a2, 2040(a1)
    la a3, big_mid + 2040
    ld a0, 0(a3)
    CHECK_EQR a0, a2
    CASE 51
    li a2, 0x1112131415161718
    sd a2, -2048(a1)
    la a3, big_mid - 2048
    ld a0, 0(a3)
    CHECK_EQR a0, a2
    CASE 52
    li a2, 0xa5
    sb a2, 2047(a1)
    la a3, big_mid + 2047
    lbu a0, 0(a3)
    CHECK_EQ a0, 0xa5
    lb a0, 2047(a1)
    CHECK_EQ a0, 0xffffffffffffffa5
    CASE 53
    ld a0, 2040(a1)
    CHECK_EQ a0, 0xa502030405060708
    CASE 54
    ld a0, -2048(a1)
    CHECK_EQ a0, 0x1112131415161718
    lw a0, -2044(a1)
    CHECK_EQ a0, 0x11121314
    lh a0, -2042(a1)
    CHECK_EQ a0, 0x1112

    /* beq / bne / blt / bge / bltu / bgeu, forwards */
    T_BRF 55, beq, 5, 5, 1
    T_BRF 56, beq, 5, 6, 0
    T_BRF 57, beq, 0x8000000000000000, 0, 0
    T_BRF 58, bne, 5, 6, 1
    T_BRF 59, bne, -1, -1, 0
    T_BRF 60, bne, 0x100000000, 0, 1
    T_BRF 61, blt, -1, 1, 1
    T_BRF 62, blt, 1, -1, 0
    T_BRF 63, blt, 3, 3, 0
    T_BRF 64, blt, 0x8000000000000000, 0x7fffffffffffffff, 1
    T_BRF 65, blt, 0x7fffffffffffffff, 0x8000000000000000, 0
    T_BRF 66, bge, 3, 3, 1
    T_BRF 67, bge, 1, -1, 1
    T_BRF 68, bge, -1, 1, 0
    T_BRF 69, bge, 0x8000000000000000, 0x7fffffffffffffff, 0
    T_BRF 70, bge, 0x7fffffffffffffff, 0x8000000000000000, 1
    T_BRF 71, bltu, 1, -1, 1
    T_BRF 72, bltu, -1, 1, 0
    T_BRF 73, bltu, 3, 3, 0
    T_BRF 74, bltu, 0x7fffffffffffffff, 0x8000000000000000, 1
    T_BRF 75, bgeu, -1, 1, 1
    T_BRF 76, bgeu, 1, -1, 0
    T_BRF 78, bgeu, 3, 3, 1
    T_BRF 79, bgeu, 0, 0, 1
    /* backwards */
    T_BRB 80, beq, 7, 7, 1
    T_BRB 81, beq, 7, 8, 0
    T_BRB 82, bne, 7, 8, 1
    T_BRB 83, bne, 8, 8, 0
    T_BRB 84, blt, -5, -4, 1
    T_BRB 85, blt, -4, -5, 0
    T_BRB 86, bge, -4, -5, 1
    T_BRB 87, bge, -5, -4, 0
    T_BRB 88, bltu, 0, -1, 1
    T_BRB 89, bltu, -1, 0, 0
    T_BRB 90, bgeu, -1, 0, 1
    T_BRB 91, bgeu, 0, -1, 0
    /* branches comparing a register with itself and with x0 */
    CASE 92
    li a1, -3
    beq a1, a1, 1f
    j fail
1:  bne a1, a1, fail
    blt a1, a1, fail
    bltu a1, a1, fail
    bge a1, a1, 2f
    j fail
2:  bgeu a1, a1, 3f
    j fail
3:  blt a1, zero, 4f
    j fail
4:  bltu a1, zero, fail
    bgeu zero, a1, fail
    bge zero, a1, 5f
    j fail
5:

    /* the ends of the branch range: +4094 and -4096 */
    CASE 93
    .option push
    .option norvc
    .option norelax
    li a0, 0
    .4byte 0x7e000fe3 /* beq zero, zero, .+4094 (label 1 below) */
    jal zero, fail
    .fill 4086, 1, 0
1:  /* 4094 bytes after the beq */
    .option pop
    CASE 94
    .option push
    .option norvc
    .option norelax
    li a0, 0
    jal zero, 3f
2:  addi a0, zero, 1
    jal zero, 4f
    .fill 4088, 1, 0
3:  /* 4096 bytes after label 2 */
    .4byte 0x80a00063 /* beq zero, a0, .-4096 (label 2) */
    jal zero, fail
4:  .option pop
    CHECK_EQ a0, 1

    /* jal: link is the next pc; rd other than ra */
    CASE 95
    .option push
    .option norvc
    jal ra, 1f
2:  jal zero, fail
1:  la a1, 2b
    CHECK_EQR ra, a1
    CASE 96
    jal t1, 1f
2:  jal zero, fail
1:  la a1, 2b
    CHECK_EQR t1, a1
    .option pop
    CASE 97
    /* a jal backwards */
    li a0, 0
    j 2f
1:  li a0, 7
    j 3f
2:  jal zero, 1b
    j fail
3:  CHECK_EQ a0, 7

    /* jalr: target (rs1 + imm) & ~1, link pc + 4 */
    CASE 98
    .option push
    .option norvc
    la t0, 1f
    jalr ra, 0(t0)
2:  jal zero, fail
1:  la a1, 2b
    CHECK_EQR ra, a1
    CASE 99
    la t0, 1f + 1
    jalr ra, 0(t0)
    jal zero, fail
1:  CASE 100
    la t0, 1f
    jalr ra, 1(t0)
    jal zero, fail
1:  CASE 101
    la t0, 1f - 2047
    jalr ra, 2047(t0)
    jal zero, fail
1:  CASE 102
    la t0, 1f + 2048
    jalr ra, -2048(t0)
    jal zero, fail
1:  CASE 103
    /* rd = rs1: the target uses the old value */
    la t0, 1f
    jalr t0, 0(t0)
2:  jal zero, fail
1:  la a1, 2b
    CHECK_EQR t0, a1
    CASE 104
    /* rd = x0 */
    la t0, 1f
    jalr zero, 0(t0)
    jal zero, fail
1:  CHECK_EQ x0, 0
    CASE 105
    /* targets 2 bytes apart: one of them is 2 mod 4 (allowed with C) */
    li a0, 0
    li a1, 0
    la t0, 1f
3:  jalr zero, 0(t0)
    jal zero, fail
1:  .2byte 0x0505 /* c.addi a0, 1 */
2:  .2byte 0x0505 /* c.addi a0, 1 */
    addi a1, a1, 1
    la t0, 2b
    li t1, 1
    beq a1, t1, 3b
    CHECK_EQ a0, 3
    CASE 106
    /* backwards jalr with a negative immediate */
    li a0, 0
    jal zero, 3f
2:  li a0, 9
    jal zero, 4f
3:  la t0, 2b + 16
    jalr ra, -16(t0)
    jal zero, fail
4:  CHECK_EQ a0, 9
    /* auipc or lui straight into jalr: the target is known when decoding
     * (call and tail as the assembler expands them, unrelaxed) */
    .option push
    .option norelax
    CASE 130
    li a0, 0
    call 1f
2:  jal zero, 3f
1:  li a0, 5
    ret
3:  CHECK_EQ a0, 5
    CASE 131
    la a1, 2b
    CHECK_EQR ra, a1
    CASE 132
    /* rd = rs1 = t1, and rd = x0 (tail) */
    li a0, 0
    tail 1f
    jal zero, fail
1:  li a0, 6
    CHECK_EQ a0, 6
    CASE 133
1:  auipc t1, 0
    jalr t1, 12(t1)
    jal zero, fail
    la a1, 1b + 8
    CHECK_EQR t1, a1
    CASE 134
    /* an odd immediate: bit 0 of the target is cleared */
1:  auipc t2, 0
    jalr ra, 13(t2)
    jal zero, fail
    CHECK_EQ x0, 0
    CASE 135
    /* a constant that another instruction overwrote is not used */
    li a0, 0
1:  auipc t0, 0
    addi t0, t0, 20
    jalr ra, 0(t0)
    jal zero, fail
    jal zero, fail
    li a0, 8
    CHECK_EQ a0, 8
    .option pop
    .option pop

    /* fences */
    CASE 107
    la a1, sdata
    li a2, 0x77
    sd a2, 0(a1)
    fence
    ld a0, 0(a1)
    CHECK_EQ a0, 0x77
    fence rw, rw
    fence iorw, iorw
    fence r, r
    fence w, w
    fence r, w
    fence w, r
    fence i, o
    fence.tso
    ld a0, 0(a1)
    CHECK_EQ a0, 0x77

    /* jal at the ends of its range: +0xffffe and -0x100000 (last: what
     * follows lies over 1 MiB away from the harness) */
    CASE 108
    .option push
    .option norvc
    .option norelax
    li a0, 0
    jal zero, 5f
1:  /* reached from the backward jump below */
    addi a0, a0, 1
    la t0, 6f
    jr t0
    .fill 0xffffe - 20, 1, 0
5:  /* 0xffffe bytes after the jal */
    addi a0, zero, 1
    .2byte 0x0001
    jal zero, 1b
6:  .option pop
    /* fail and pass lie beyond the reach of a jal from here */
    li t6, 2
    la t0, fail
    bne a0, t6, 1f
    la t0, pass
1:  jr t0

