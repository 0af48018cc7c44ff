/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RV64I integer computation: register-register and register-immediate
 * operations, their W forms, shifts at 0/31/32/63 and shift-amount masking,
 * comparisons at the signed and unsigned boundaries, lui/auipc, x0 as
 * destination and as source, and register aliasing (rd = rs1 = rs2).
 */
#include "test-macros.inc"

TEST_MAIN
    /* add */
    T_RR 1, add, 0, 0, 0
    T_RR 2, add, 2, 1, 1
    T_RR 3, add, 10, 3, 7
    T_RR 4, add, 0x8000000000000000, 0x7fffffffffffffff, 1
    T_RR 5, add, 0, 0x8000000000000000, 0x8000000000000000
    T_RR 6, add, 0, -1, 1
    T_RR 7, add, 0x100000000, 0xffffffff, 1
    T_RR 8, add, 0xfffffffffffffffe, -1, -1
    T_RR_D1 9, add, 0x1234, 0x1000, 0x234
    T_RR_D2 10, add, 0x1234, 0x1000, 0x234
    T_RR_DD 11, add, 0x2468ace0, 0x12345670

    /* sub */
    T_RR 12, sub, 0, 0, 0
    T_RR 13, sub, 2, 1, -1
    T_RR 14, sub, -1, 0, 1
    T_RR 15, sub, 0x7fffffffffffffff, 0x8000000000000000, 1
    T_RR 16, sub, 0x8000000000000000, 0, 0x8000000000000000
    T_RR 17, sub, 0xffffffff00000000, 0, 0x100000000
    T_RR_D1 18, sub, 5, 12, 7
    T_RR_D2 19, sub, -5, 7, 12
    T_RR_DD 20, sub, 0, 0x123456789abcdef0

    /* addw / subw: 32-bit result sign-extended, upper source bits ignored */
    T_RR 21, addw, 0xffffffff80000000, 0x7fffffff, 1
    T_RR 22, addw, 0, 0xffffffff, 1
    T_RR 23, addw, 0x23456789, 0x123456789, 0
    T_RR 24, addw, 0xffffffff80000000, 0x80000000, 0
    T_RR 25, addw, -2, -1, -1
    T_RR 26, addw, 3, 0xaaaaaaaa00000001, 0x5555555500000002
    T_RR 27, subw, -1, 0, 1
    T_RR 28, subw, 0x7fffffff, 0x80000000, 1
    T_RR 29, subw, -1, 0x100000000, 1
    T_RR 30, subw, 0xffffffff80000001, 1, 0x80000000
    T_RR_DD 31, addw, 0xfffffffffffffffe, 0x7fffffffffffffff

    /* sll: shamt is rs2[5:0] */
    T_RR 32, sll, 1, 1, 0
    T_RR 33, sll, 0x8000000000000000, 1, 63
    T_RR 34, sll, 0x100000000, 1, 32
    T_RR 35, sll, 0x80000000, 1, 31
    T_RR 36, sll, 0x123456789abcdef0, 0x123456789abcdef0, 64
    T_RR 37, sll, 0x2468acf13579bde0, 0x123456789abcdef0, 65
    T_RR 38, sll, 0x8000000000000000, 0xffffffffffffffff, -1
    T_RR 39, sll, 0xfffffffffffffff0, -1, 4
    T_RR_DD 40, sll, 0x18, 3

    /* srl */
    T_RR 41, srl, 1, 0x8000000000000000, 63
    T_RR 42, srl, 0x8000000000000000, 0x8000000000000000, 0
    T_RR 43, srl, 0x80000000, 0x8000000000000000, 32
    T_RR 44, srl, 0x100000000, 0x8000000000000000, 31
    T_RR 45, srl, 0x8000000000000000, 0x8000000000000000, 64
    T_RR 46, srl, 0x7fffffffffffffff, -1, 1
    T_RR 47, srl, 1, -1, -1
    T_RR 48, srl, 0x0123456789abcdef, 0x123456789abcdef0, 0x7c4

    /* sra */
    T_RR 49, sra, -1, 0x8000000000000000, 63
    T_RR 50, sra, 0xc000000000000000, 0x8000000000000000, 1
    T_RR 51, sra, 0, 0x7fffffffffffffff, 63
    T_RR 52, sra, 0x8000000000000000, 0x8000000000000000, 64
    T_RR 53, sra, 0xffffffff80000000, 0x8000000000000000, 32
    T_RR 54, sra, 0xffffffff00000000, 0x8000000000000000, 31
    T_RR 55, sra, 0x3fffffffffffffff, 0x7fffffffffffffff, 1
    T_RR 56, sra, -1, -1, -1

    /* sllw / srlw / sraw: shamt is rs2[4:0], result sign-extended */
    T_RR 57, sllw, 0xffffffff80000000, 1, 31
    T_RR 58, sllw, 1, 1, 32
    T_RR 59, sllw, -1, 0xffffffff, 0
    T_RR 60, sllw, 0x23456780, 0x12345678, 4
    T_RR 61, sllw, 0xffffffff80000000, 1, 63
    T_RR 62, sllw, 2, 0xffffffff00000001, 1
    T_RR 63, srlw, 0xffffffff80000000, 0x80000000, 0
    T_RR 64, srlw, 0x40000000, 0x80000000, 1
    T_RR 65, srlw, 1, 0x80000000, 31
    T_RR 66, srlw, 0xffffffff80000000, 0x80000000, 32
    T_RR 67, srlw, 0, 0xffffffff00000000, 1
    T_RR 68, srlw, 0x0fffffff, -1, 4
    T_RR 69, srlw, 1, -1, 63
    T_RR 70, sraw, -1, 0x80000000, 31
    T_RR 71, sraw, 0xffffffffc0000000, 0x80000000, 1
    T_RR 72, sraw, 0, 0x7fffffff, 31
    T_RR 73, sraw, 0xffffffffc0000000, 0x0000000080000000, 33
    T_RR 74, sraw, 0x7fffffff, 0x800000007fffffff, 0
    T_RR 75, sraw, 0x3fffffff, 0xffffffff7fffffff, 1
    T_RR_DD 76, sllw, 0x40, 4

    /* slt / sltu */
    T_RR 78, slt, 1, -1, 1
    T_RR 79, slt, 0, 1, -1
    T_RR 80, slt, 0, 5, 5
    T_RR 81, slt, 1, 0x8000000000000000, 0x7fffffffffffffff
    T_RR 82, slt, 0, 0x7fffffffffffffff, 0x8000000000000000
    T_RR 83, slt, 1, 0x8000000000000000, 0
    T_RR 84, sltu, 0, -1, 1
    T_RR 85, sltu, 1, 1, -1
    T_RR 86, sltu, 0, 0, 0
    T_RR 87, sltu, 1, 0, 1
    T_RR 88, sltu, 0, 0x8000000000000000, 0x7fffffffffffffff
    T_RR 89, sltu, 1, 0xfffffffffffffffe, 0xffffffffffffffff
    T_RR_DD 90, slt, 0, -7
    T_RR_DD 91, sltu, 0, 7

    /* xor / or / and */
    T_RR 92, xor, 0xf0f0f0f0f0f0f0f0, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    T_RR 93, or,  0xfff0fff0fff0fff0, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    T_RR 94, and, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    T_RR_DD 95, xor, 0, 0x5555aaaa5555aaaa
    T_RR_DD 96, or, 0x5555aaaa5555aaaa, 0x5555aaaa5555aaaa
    T_RR_DD 97, and, 0x5555aaaa5555aaaa, 0x5555aaaa5555aaaa

    /* addi: 12-bit sign-extended immediate */
    T_RI 98, addi, 0x7ff, 0, 2047
    T_RI 99, addi, -2048, 0, -2048
    T_RI 100, addi, 0x8000000000000000, 0x7fffffffffffffff, 1
    T_RI 101, addi, 0x7fffffffffffffff, 0x8000000000000000, -1
    T_RI 102, addi, 0xfffffffffffff801, 1, -2048
    T_RI 103, addi, 0x100000000, 0xffffffff, 1
    T_RI_D 104, addi, 0x1000, 0x801, 2047

    /* slti / sltiu */
    T_RI 105, slti, 0, 0, -2048
    T_RI 106, slti, 1, -2049, -2048
    T_RI 107, slti, 1, 2046, 2047
    T_RI 108, slti, 0, 2047, 2047
    T_RI 109, slti, 1, 0x8000000000000000, 0
    T_RI 110, slti, 0, 0x7fffffffffffffff, -1
    T_RI 111, sltiu, 1, 0, 1
    T_RI 112, sltiu, 0, 1, 1
    T_RI 113, sltiu, 1, 0xfffffffffffffffe, -1
    T_RI 114, sltiu, 0, -1, -1
    T_RI 115, sltiu, 1, 0x7fffffffffffffff, -2048
    T_RI 116, sltiu, 0, 0xfffffffffffff800, -2048
    T_RI 117, sltiu, 1, 0xfffffffffffff7ff, -2048
    T_RI 118, sltiu, 0, 0x800, 2047

    /* xori / ori / andi, immediates sign-extended */
    T_RI 119, xori, 0xedcba9876543210f, 0x123456789abcdef0, -1
    T_RI 120, xori, 0x123456789abcd90f, 0x123456789abcdef0, 0x7ff
    T_RI 121, xori, 0xedcba987654326f0, 0x123456789abcdef0, -2048
    T_RI 122, ori, 0xfffffffffffff800, 0, -2048
    T_RI 123, ori, 0x123456789abcdff0, 0x123456789abcdef0, 0x100
    T_RI 124, ori, -1, 0x123456789abcdef0, -1
    T_RI 125, andi, 0x123456789abcd800, 0x123456789abcdef0, -2048
    T_RI 126, andi, 0x6f0, 0x123456789abcdef0, 0x7ff
    T_RI 127, andi, 0, 0x123456789abcdef0, 0
    T_RI_D 128, andi, 0xf0, 0xfff, 0xf0

    /* slli / srli / srai: 6-bit shamt */
    T_RI 129, slli, 0x123456789abcdef0, 0x123456789abcdef0, 0
    T_RI 130, slli, 0x8000000000000000, 1, 63
    T_RI 131, slli, 0x9abcdef000000000, 0x123456789abcdef0, 32
    T_RI 132, slli, 0x4d5e6f7800000000, 0x123456789abcdef0, 31
    T_RI 133, srli, 1, 0x8000000000000000, 63
    T_RI 134, srli, 0x12345678, 0x123456789abcdef0, 32
    T_RI 135, srli, 0x2468acf1, 0x123456789abcdef0, 31
    T_RI 136, srli, 0xfedcba9876543210, 0xfedcba9876543210, 0
    T_RI 137, srai, -1, 0x8000000000000000, 63
    T_RI 138, srai, 0xfffffffffedcba98, 0xfedcba9876543210, 32
    T_RI 139, srai, 0xfffffffffdb97530, 0xfedcba9876543210, 31
    T_RI 140, srai, 0, 0x7fffffffffffffff, 63
    T_RI 141, srai, 0xfedcba9876543210, 0xfedcba9876543210, 0
    T_RI_D 142, srai, 0xff00000000000000, 0x8000000000000000, 7

    /* addiw / slliw / srliw / sraiw */
    T_RI 143, addiw, 0xffffffff80000000, 0x7fffffff, 1
    T_RI 144, addiw, -1, 0x00000000ffffffff, 0
    T_RI 145, addiw, 0x7fffffff, 0xffffffff7fffffff, 0
    T_RI 146, addiw, 0xfffffffffffff800, 0, -2048
    T_RI 147, addiw, 0x7fffffff, 0x80000000, -1
    T_RI 148, addiw, 0x7ff, 0x1200000000, 2047
    T_RI 149, slliw, 0xffffffff80000000, 1, 31
    T_RI 150, slliw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0
    T_RI 151, slliw, 0x3579bde0, 0x123456789abcdef0, 1
    T_RI 152, slliw, 0, 0x123456789abcdef0, 31
    T_RI 153, srliw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0
    T_RI 154, srliw, 1, 0x123456789abcdef0, 31
    T_RI 155, srliw, 0x4d5e6f78, 0x123456789abcdef0, 1
    T_RI 156, srliw, 0, 0xffffffff00000000, 1
    T_RI 157, sraiw, -1, 0x123456789abcdef0, 31
    T_RI 158, sraiw, 0xffffffffcd5e6f78, 0x123456789abcdef0, 1
    T_RI 159, sraiw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0
    T_RI 160, sraiw, 0, 0xffffffff7fffffff, 31
    T_RI 161, sraiw, 0x3fffffff, 0x800000007fffffff, 1

    /* lui: 20-bit immediate into bits 31:12, sign-extended to 64 bits */
    CASE 162
    lui a0, 0x80000
    CHECK_EQ a0, 0xffffffff80000000
    CASE 163
    lui a0, 0xfffff
    CHECK_EQ a0, 0xfffffffffffff000
    CASE 164
    lui a0, 0x7ffff
    CHECK_EQ a0, 0x7ffff000
    CASE 165
    li a0, -1
    lui a0, 0
    CHECK_EQ a0, 0
    CASE 166
    lui a0, 0x12345
    addi a0, a0, 0x678
    CHECK_EQ a0, 0x12345678

    /* auipc: pc-relative, negative immediates too */
    CASE 167
1:  auipc a0, 0
    la a1, 1b
    CHECK_EQR a0, a1
    CASE 168
1:  auipc a0, 0xfffff
    la a1, 1b
    li a2, 0x1000
    sub a1, a1, a2
    CHECK_EQR a0, a1
    CASE 169
1:  auipc a0, 0x80000
    la a1, 1b
    li a2, 0xffffffff80000000
    add a1, a1, a2
    CHECK_EQR a0, a1
    CASE 170
1:  auipc a0, 0x7ffff
    la a1, 1b
    li a2, 0x7ffff000
    add a1, a1, a2
    CHECK_EQR a0, a1
    CASE 171
    /* the pc of the auipc itself, not of the next instruction */
    .option push
    .option norvc
    auipc a0, 1
1:  la a1, 1b
    .option pop
    addi a1, a1, -4
    li a2, 0x1000
    add a1, a1, a2
    CHECK_EQR a0, a1

    /* x0 as destination: writes are discarded */
    CASE 172
    li a1, 5
    li a2, 6
    add x0, a1, a2
    CHECK_EQ x0, 0
    CASE 173
    addi x0, x0, 123
    mv a0, x0
    CHECK_EQ a0, 0
    CASE 174
    lui x0, 0x12345
    CHECK_EQ x0, 0
    CASE 175
    auipc x0, 1
    sub x0, x0, a1
    CHECK_EQ x0, 0
    CASE 176
    li a1, -1
    sltu x0, x0, a1
    sra x0, a1, a2
    addiw x0, a1, 1
    mv a0, zero
    CHECK_EQ a0, 0

    /* x0 as source reads zero */
    CASE 177
    li a1, 42
    add a0, x0, a1
    CHECK_EQ a0, 42
    CASE 178
    sub a0, x0, a1
    CHECK_EQ a0, -42
    CASE 179
    sltu a0, x0, a1
    CHECK_EQ a0, 1
    CASE 180
    sltu a0, a1, x0
    CHECK_EQ a0, 0
    CASE 181
    li a0, 99
    or a0, x0, x0
    CHECK_EQ a0, 0

    /* Long dependency chain through every register x1..x31 except gp/t5/t6 */
    CASE 182
    li x1, 1
    addi x2, x1, 1
    addi x4, x2, 1
    addi x5, x4, 1
    addi x6, x5, 1
    addi x7, x6, 1
    addi x8, x7, 1
    addi x9, x8, 1
    addi x10, x9, 1
    addi x11, x10, 1
    addi x12, x11, 1
    addi x13, x12, 1
    addi x14, x13, 1
    addi x15, x14, 1
    addi x16, x15, 1
    addi x17, x16, 1
    addi x18, x17, 1
    addi x19, x18, 1
    addi x20, x19, 1
    addi x21, x20, 1
    addi x22, x21, 1
    addi x23, x22, 1
    addi x24, x23, 1
    addi x25, x24, 1
    addi x26, x25, 1
    addi x27, x26, 1
    addi x28, x27, 1
    addi x29, x28, 1
    CHECK_EQ x29, 28
    CHECK_EQ x1, 1
    CHECK_EQ x2, 2
    CHECK_EQ x4, 3
    CHECK_EQ x15, 14
    la sp, stack_top
    PASS
