/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zifencei: code written by stores runs after fence.i, including code that
 * already ran once (in a buffer, in the instruction stream just ahead, in a
 * loop, compressed and 32-bit, and a 32-bit instruction straddling a page
 * boundary, run many times and changed half by half, and code reached by
 * a jump far ahead in its page, with data written in between).
 */
#include "test-macros.inc"

#define INSN_LI_A0(imm) ((((imm) & 0xfff) << 20) | 0x513) /* addi a0, x0, imm */
#define INSN_ADDI_A0(imm) ((((imm) & 0xfff) << 20) | 0x50513) /* addi a0, a0, imm */
#define INSN_RET 0x00008067
#define INSN_J_600 0x6000006f /* jal zero, . + 0x600 */
#define CINSN_LI_A0(imm) (0x4501 | (((imm) & 0x1f) << 2) | (((imm) & 0x20) << 7))
#define CINSN_RET 0x8082

    .data
    .align 12
code_buf:
    .fill 1024, 4, 0
    .align 12
    .fill 1024, 4, 0
code_page2:
    .fill 1024, 4, 0

    .text
TEST_MAIN
    CASE 1
    la s0, code_buf
    li t0, INSN_LI_A0(1)
    sw t0, 0(s0)
    li t0, INSN_RET
    sw t0, 4(s0)
    fence.i
    li a0, 0
    jalr ra, 0(s0)
    CHECK_EQ a0, 1
    CASE 2
    /* overwrite code that already ran */
    li t0, INSN_LI_A0(-2)
    sw t0, 0(s0)
    fence.i
    jalr ra, 0(s0)
    CHECK_EQ a0, -2
    CASE 3
    /* compressed code over the same bytes */
    li t0, CINSN_LI_A0(3)
    sh t0, 0(s0)
    li t0, CINSN_RET
    sh t0, 2(s0)
    fence.i
    jalr ra, 0(s0)
    CHECK_EQ a0, 3
    CASE 4
    /* byte stores building a 32-bit instruction */
    li t0, INSN_LI_A0(0x7ff)
    sb t0, 0(s0)
    srli t0, t0, 8
    sb t0, 1(s0)
    srli t0, t0, 8
    sb t0, 2(s0)
    srli t0, t0, 8
    sb t0, 3(s0)
    li t0, INSN_RET
    sw t0, 4(s0)
    fence.i
    jalr ra, 0(s0)
    CHECK_EQ a0, 0x7ff
    CASE 5
    /* a longer sequence, patched one instruction at a time in a loop */
    li t0, INSN_LI_A0(0)
    sw t0, 0(s0)
    li t1, 1
1:  slli t2, t1, 2
    add t2, t2, s0
    li t0, INSN_ADDI_A0(1)
    sw t0, 0(t2)
    li t0, INSN_RET
    sw t0, 4(t2)
    fence.i
    jalr ra, 0(s0)
    bne a0, t1, fail
    addi t1, t1, 1
    li t0, 64
    bltu t1, t0, 1b
    CASE 6
    /* the instruction just ahead in the instruction stream */
    la s1, 2f
    li t0, INSN_LI_A0(5)
    sw t0, 0(s1)
    fence.i
    .option push
    .option norvc
2:  addi a0, zero, 9
    .option pop
    CHECK_EQ a0, 5
    CASE 7
    /* patched differently on each pass of a loop */
    li t1, 0
    la s1, 2f
1:  addi t0, t1, 20
    slli t0, t0, 20
    li t2, 0x513
    or t0, t0, t2
    sw t0, 0(s1)
    fence.i
    .option push
    .option norvc
2:  addi a0, zero, 0
    .option pop
    addi t0, t1, 20
    bne a0, t0, fail
    addi t1, t1, 1
    li t0, 4
    bltu t1, t0, 1b
    CASE 8
    /* a 32-bit instruction straddling a page boundary */
    la s2, code_page2 - 2
    li t0, INSN_LI_A0(77)
    sh t0, 0(s2)
    srli t0, t0, 16
    sh t0, 2(s2)
    li t0, CINSN_RET
    sh t0, 4(s2)
    fence.i
    jalr ra, 0(s2)
    CHECK_EQ a0, 77
    CASE 9
    li t0, INSN_LI_A0(-78)
    sh t0, 0(s2)
    srli t0, t0, 16
    sh t0, 2(s2)
    fence.i
    jalr ra, 0(s2)
    CHECK_EQ a0, -78
    CASE 10
    /* code executed many times, then changed */
    li t0, CINSN_LI_A0(-1)
    sh t0, 0(s0)
    li t0, CINSN_RET
    sh t0, 2(s0)
    fence.i
    li t1, 1000
1:  jalr ra, 0(s0)
    CHECK_EQ a0, -1
    addi t1, t1, -1
    bnez t1, 1b
    li t0, CINSN_LI_A0(12)
    sh t0, 0(s0)
    fence.i
    jalr ra, 0(s0)
    CHECK_EQ a0, 12
    CASE 11
    /* the straddling instruction run many times, then its second half
     * (in the next page) changed, then its first half */
    li t1, 100
1:  jalr ra, 0(s2)
    CHECK_EQ a0, -78
    addi t1, t1, -1
    bnez t1, 1b
    li t0, INSN_LI_A0(300)
    srli t0, t0, 16
    sh t0, 2(s2)
    fence.i
    jalr ra, 0(s2)
    CHECK_EQ a0, 300
    li t0, INSN_LI_A0(300) | (7 << 12) /* andi a0, zero, 300: funct3 is in the first half */
    sh t0, 0(s2)
    fence.i
    li a0, 1
    jalr ra, 0(s2)
    CHECK_EQ a0, 0
    CASE 12
    /* a jump 0x600 bytes ahead in the page, which a block may follow, run
     * many times; then data written between the jump and its target (the
     * code stays as it was), then the code at its target changed */
    li t0, INSN_J_600
    sw t0, 0(s0)
    li t0, INSN_LI_A0(21)
    sw t0, 0x600(s0)
    li t0, INSN_RET
    sw t0, 0x604(s0)
    fence.i
    li t1, 100
1:  jalr ra, 0(s0)
    CHECK_EQ a0, 21
    addi t1, t1, -1
    bnez t1, 1b
    sw t1, 0x300(s0)
    jalr ra, 0(s0)
    CHECK_EQ a0, 21
    li t0, INSN_LI_A0(22)
    sw t0, 0x600(s0)
    fence.i
    jalr ra, 0(s0)
    CHECK_EQ a0, 22
    PASS
