/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RV64C: every compressed instruction with its immediates at their ends,
 * HINT encodings running as no-ops, reserved encodings raising
 * illegal-instruction (with the 16 bits in mtval), c.jalr linking pc + 2,
 * and 32-bit instructions that straddle a 4 KiB boundary at a 2-byte-aligned
 * address. Encodings the assembler would choose differently are written as
 * .2byte.
 */
#include "test-macros.inc"

    .data
    .align 6
cdata:
    .dword 0x8000000080000001
    .dword 0x7ff0000000000001
    .fill 30, 8, 0
cdata_end:
    .fill 64, 8, 0

TEST_MAIN
    .option push
    .option rvc

    /* c.addi4spn: rd' = sp + nzuimm (4..1020, multiple of 4) */
    CASE 1
    mv t1, sp
    li t0, 0x1000
    add sp, sp, t0
    c.addi4spn s0, sp, 4
    addi t0, sp, 4
    CHECK_EQR s0, t0
    CASE 2
    c.addi4spn a5, sp, 1020
    addi t0, sp, 1020
    CHECK_EQR a5, t0
    mv sp, t1

    /* c.lw / c.ld / c.fld: offsets at both ends, sign extension */
    CASE 3
    la s1, cdata
    c.lw a0, 0(s1)
    CHECK_EQ a0, 0xffffffff80000001
    CASE 4
    c.lw a1, 4(s1)
    CHECK_EQ a1, 0xffffffff80000000
    CASE 5
    la a2, cdata + 124
    li t0, 0x7edcba98
    sw t0, 0(a2)
    c.lw a3, 124(s1)
    CHECK_EQ a3, 0x7edcba98
    CASE 6
    c.ld a4, 0(s1)
    CHECK_EQ a4, 0x8000000080000001
    CASE 7
    la a2, cdata + 248
    li t0, 0x0123456789abcdef
    sd t0, 0(a2)
    c.ld a5, 248(s1)
    CHECK_EQ a5, 0x0123456789abcdef
    CASE 8
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    c.fld fs0, 8(s1)
    fmv.x.d a0, fs0
    CHECK_EQ a0, 0x7ff0000000000001
    CASE 9
    c.fld fa5, 248(s1)
    fmv.x.d a0, fa5
    CHECK_EQ a0, 0x0123456789abcdef

    /* c.sw / c.sd / c.fsd */
    CASE 10
    la s0, cdata + 16
    li a0, 0x1122334455667788
    c.sd a0, 0(s0)
    ld t0, 0(s0)
    CHECK_EQ t0, 0x1122334455667788
    CASE 11
    li a1, 0xffffffffaabbccdd
    c.sw a1, 4(s0)
    ld t0, 0(s0)
    CHECK_EQ t0, 0xaabbccdd55667788
    CASE 12
    li a2, 0x13579bdf
    c.sw a2, 124(s0)
    lwu t0, 124(s0)
    CHECK_EQ t0, 0x13579bdf
    CASE 13
    li a3, 0x2468ace013579bdf
    c.sd a3, 248(s0)
    ld t0, 248(s0)
    CHECK_EQ t0, 0x2468ace013579bdf
    CASE 14
    fmv.d.x fs1, a3
    c.fsd fs1, 8(s0)
    ld t0, 8(s0)
    CHECK_EQ t0, 0x2468ace013579bdf
    CASE 15
    fmv.d.x fa4, a0
    c.fsd fa4, 248(s0)
    ld t0, 248(s0)
    CHECK_EQ t0, 0x1122334455667788

    /* c.nop and HINTs: nothing changes */
    CASE 16
    li a0, 5
    li a1, 6
    c.nop
    .2byte 0x0005 /* c.nop with nzimm = 1 (HINT) */
    .2byte 0x0501 /* c.addi a0, 0 (HINT) */
    .2byte 0x4001 /* c.li x0, 0 (HINT) */
    .2byte 0x407d /* c.li x0, 31 (HINT) */
    .2byte 0x6005 /* c.lui x0, 1 (HINT) */
    .2byte 0x802e /* c.mv x0, a1 (HINT) */
    .2byte 0x902e /* c.add x0, a1 (HINT) */
    .2byte 0x0016 /* c.slli x0, 5 (HINT) */
    CHECK_EQ a0, 5
    CHECK_EQ a1, 6
    CHECK_EQ x0, 0

    /* c.addi: -32..31 */
    CASE 17
    li a0, 100
    c.addi a0, -32
    CHECK_EQ a0, 68
    CASE 18
    c.addi a0, 31
    CHECK_EQ a0, 99
    CASE 19
    li a0, -1
    c.addi a0, 1
    CHECK_EQ a0, 0
    CASE 20
    li a0, 0x7fffffffffffffff
    c.addi a0, 1
    CHECK_EQ a0, 0x8000000000000000

    /* c.addiw: 32-bit add, sign-extended; imm 0 is sext.w */
    CASE 21
    li a0, 0x7fffffff
    c.addiw a0, 1
    CHECK_EQ a0, 0xffffffff80000000
    CASE 22
    li a0, 0x00000000ffffffff
    c.addiw a0, 0
    CHECK_EQ a0, -1
    CASE 23
    li a0, 0x1234567800000010
    c.addiw a0, -32
    CHECK_EQ a0, -16
    CASE 24
    li a0, 0
    c.addiw a0, 31
    CHECK_EQ a0, 31

    /* c.li */
    CASE 25
    c.li a0, -32
    CHECK_EQ a0, -32
    CASE 26
    c.li a0, 31
    CHECK_EQ a0, 31
    CASE 27
    li a0, 99
    c.li a0, 0
    CHECK_EQ a0, 0

    /* c.addi16sp: -512..496, multiple of 16 */
    CASE 28
    mv t1, sp
    c.addi16sp sp, -512
    sub t0, t1, sp
    CHECK_EQ t0, 512
    CASE 29
    c.addi16sp sp, 496
    sub t0, t1, sp
    CHECK_EQ t0, 16
    CASE 30
    c.addi16sp sp, 16
    CHECK_EQR sp, t1

    /* c.lui: nzimm 1..31 and -32..-1, sign-extended */
    CASE 31
    .2byte 0x6505 /* c.lui a0, 1 */
    CHECK_EQ a0, 0x1000
    CASE 32
    .2byte 0x657d /* c.lui a0, 31 */
    CHECK_EQ a0, 0x1f000
    CASE 33
    .2byte 0x7501 /* c.lui a0, -32 */
    CHECK_EQ a0, 0xfffffffffffe0000
    CASE 34
    .2byte 0x757d /* c.lui a0, -1 */
    CHECK_EQ a0, 0xfffffffffffff000
    CASE 35
    .2byte 0x7f85 /* c.lui t6, -31 */
    li t0, 0xfffffffffffe1000
    bne t6, t0, fail
    CASE 36
    .2byte 0x6f85 /* c.lui t6, 1 */
    li t0, 0x1000
    bne t6, t0, fail

    /* c.srli / c.srai / c.andi */
    CASE 37
    li s0, 0x8000000000000000
    c.srli s0, 1
    CHECK_EQ s0, 0x4000000000000000
    CASE 38
    li s0, 0x8000000000000000
    c.srli s0, 63
    CHECK_EQ s0, 1
    CASE 39
    li s0, 0x8000000000000000
    c.srli s0, 32
    CHECK_EQ s0, 0x80000000
    CASE 40
    li s0, 0x8000000000000000
    c.srli s0, 31
    CHECK_EQ s0, 0x100000000
    CASE 41
    li s1, 0x8000000000000000
    c.srai s1, 63
    CHECK_EQ s1, -1
    CASE 42
    li s1, 0x8000000000000000
    c.srai s1, 32
    CHECK_EQ s1, 0xffffffff80000000
    CASE 43
    li s1, 0x4000000000000000
    c.srai s1, 1
    CHECK_EQ s1, 0x2000000000000000
    CASE 44
    li a5, 0x123456789abcdef0
    c.andi a5, -32
    CHECK_EQ a5, 0x123456789abcdee0
    CASE 45
    li a5, 0x123456789abcdef0
    c.andi a5, 31
    CHECK_EQ a5, 0x10
    CASE 46
    c.andi a5, 0
    CHECK_EQ a5, 0
    CASE 47
    /* shamt 0 of c.srli/c.srai is a HINT in RV64 */
    li s0, 0x8000000000000000
    .2byte 0x8001 /* c.srli s0, 0 */
    .2byte 0x8401 /* c.srai s0, 0 */
    CHECK_EQ s0, 0x8000000000000000

    /* c.sub / c.xor / c.or / c.and / c.subw / c.addw */
    CASE 48
    li a0, 10
    li a1, 20
    c.sub a0, a1
    CHECK_EQ a0, -10
    CASE 49
    li a0, 0xff00ff00ff00ff00
    li a1, 0x0ff00ff00ff00ff0
    c.xor a0, a1
    CHECK_EQ a0, 0xf0f0f0f0f0f0f0f0
    CASE 50
    li a0, 0xff00ff00ff00ff00
    c.or a0, a1
    CHECK_EQ a0, 0xfff0fff0fff0fff0
    CASE 51
    li a0, 0xff00ff00ff00ff00
    c.and a0, a1
    CHECK_EQ a0, 0x0f000f000f000f00
    CASE 52
    li a0, 0
    li a1, 0x80000000
    c.subw a0, a1
    CHECK_EQ a0, 0xffffffff80000000
    CASE 53
    li a0, 0x100000005
    li a1, 0x7
    c.subw a0, a1
    CHECK_EQ a0, -2
    CASE 54
    li a0, 0x7fffffff
    li a1, 1
    c.addw a0, a1
    CHECK_EQ a0, 0xffffffff80000000
    CASE 55
    li a0, 0xaaaaaaaa00000003
    li a1, 0x5555555500000004
    c.addw a0, a1
    CHECK_EQ a0, 7
    CASE 56
    li s1, 0x55
    c.and s1, s1
    c.or s1, s1
    CHECK_EQ s1, 0x55
    c.xor s1, s1
    CHECK_EQ s1, 0

    /* c.j forwards and backwards */
    CASE 57
    li a0, 0
    c.j 1f
    j fail
2:  li a0, 1
    c.j 3f
1:  c.j 2b
    j fail
3:  CHECK_EQ a0, 1
    /* c.j at its range ends: +2046 and -2048 */
    CASE 58
    .option push
    .option norelax
    li a0, 0
    la t2, 5f
    c.j 1f
2:  c.jr t2       /* reached only by the backward jump */
1:  c.j 4f        /* +2046 */
    .fill 2044, 1, 0
4:  .2byte 0xb001 /* c.j .-2048 (label 2) */
    j fail
5:  .option pop

    /* c.beqz / c.bnez */
    CASE 59
    li s0, 0
    li a0, 0
    c.beqz s0, 1f
    li a0, 1
1:  CHECK_EQ a0, 0
    CASE 60
    li s0, 1
    c.beqz s0, fail_near
    c.bnez s0, 1f
    j fail
1:  CASE 61
    li s0, 0
    c.bnez s0, fail_near
    CASE 62
    /* c.bnez backwards; the compare uses all 64 bits */
    li s0, 0x100000000
    li a0, 0
    j 2f
1:  li a0, 5
    j 3f
2:  c.bnez s0, 1b
    j fail
3:  CHECK_EQ a0, 5
    CASE 63
    /* range ends: +254 and -256 */
    .option push
    .option norelax
    li s1, 0
    li a0, 0
    la t2, 5f
    c.j 1f
2:  c.jr t2       /* reached only by the backward branch */
1:  .2byte 0xccfd /* c.beqz s1, .+254 (label 4) */
    .fill 252, 1, 0
4:  .2byte 0xd081 /* c.beqz s1, .-256 (label 2) */
    j fail
5:  .option pop

    /* c.slli */
    CASE 64
    li a0, 1
    c.slli a0, 63
    CHECK_EQ a0, 0x8000000000000000
    CASE 65
    li a0, 0x123456789
    c.slli a0, 32
    CHECK_EQ a0, 0x2345678900000000
    CASE 66
    li a0, 1
    c.slli a0, 31
    CHECK_EQ a0, 0x80000000
    CASE 67
    li t3, 3
    c.slli t3, 1
    CHECK_EQ t3, 6

    /* c.lwsp / c.ldsp / c.fldsp: offsets at both ends */
    CASE 68
    mv t1, sp
    la sp, cdata
    c.lwsp a0, 0(sp)
    CHECK_EQ a0, 0xffffffff80000001
    CASE 69
    la t0, cdata + 252
    li a1, 0x87654321
    sw a1, 0(t0)
    c.lwsp t4, 252(sp)
    CHECK_EQ t4, 0xffffffff87654321
    CASE 70
    c.ldsp ra, 0(sp)
    CHECK_EQ ra, 0x8000000080000001
    CASE 71
    la t0, cdata + 504
    li a1, 0x0f1e2d3c4b5a6978
    sd a1, 0(t0)
    c.ldsp s11, 504(sp)
    CHECK_EQ s11, 0x0f1e2d3c4b5a6978
    CASE 72
    c.fldsp ft0, 8(sp)
    fmv.x.d a0, ft0
    CHECK_EQ a0, 0x7ff0000000000001
    CASE 73
    c.fldsp ft11, 504(sp)
    fmv.x.d a0, ft11
    CHECK_EQ a0, 0x0f1e2d3c4b5a6978

    /* c.swsp / c.sdsp / c.fsdsp */
    CASE 74
    li a0, 0x1111111122222222
    c.sdsp a0, 16(sp)
    c.swsp a0, 252(sp)
    la t0, cdata
    ld a1, 16(t0)
    CHECK_EQ a1, 0x1111111122222222
    lwu a1, 252(t0)
    CHECK_EQ a1, 0x22222222
    CASE 75
    li a0, 0x3333333344444444
    c.sdsp a0, 504(sp)
    ld a1, 504(t0)
    CHECK_EQ a1, 0x3333333344444444
    CASE 76
    c.swsp a0, 0(sp)
    lwu a1, 0(t0)
    CHECK_EQ a1, 0x44444444
    CASE 78
    li a0, 0x5555555566666666
    fmv.d.x ft3, a0
    c.fsdsp ft3, 0(sp)
    c.fsdsp ft3, 504(sp)
    ld a1, 0(t0)
    CHECK_EQ a1, 0x5555555566666666
    ld a1, 504(t0)
    CHECK_EQ a1, 0x5555555566666666
    mv sp, t1

    /* c.jr / c.mv / c.jalr / c.add */
    CASE 79
    la a0, 1f
    c.jr a0
    j fail
1:  CASE 80
    li a1, 0x123456789abcdef0
    c.mv a2, a1
    CHECK_EQ a2, 0x123456789abcdef0
    c.mv t6, a2
    bne t6, a1, fail
    CASE 81
    la a0, 1f
    c.jalr a0
2:  j fail
1:  la a1, 2b
    CHECK_EQR ra, a1
    CASE 82
    /* c.jalr ra: the target is the old ra */
    la ra, 1f
    c.jalr ra
2:  j fail
1:  la a1, 2b
    CHECK_EQR ra, a1
    CASE 83
    /* c.jr clears bit 0 of the target too */
    la a0, 1f + 1
    c.jr a0
    j fail
1:  CASE 84
    li a0, 0x7fffffffffffffff
    li a1, 2
    c.add a0, a1
    CHECK_EQ a0, 0x8000000000000001
    CASE 85
    c.add a1, a1
    CHECK_EQ a1, 4

    /* c.ebreak: breakpoint at its own address */
    CASE 86
    EXPECT_TRAP 1f
2:  c.ebreak
1:  CHECK_TRAP CAUSE_BREAKPOINT
    CHECK_TRAP_EPC 2b

    /* reserved encodings: illegal instruction, mtval the 16 bits */
    CASE 87
    ILLEGAL .2byte 0x0000 /* all zero */
    CASE 88
    ILLEGAL .2byte 0x0004 /* c.addi4spn s1, sp, 0 */
    CASE 89
    ILLEGAL .2byte 0x001c /* c.addi4spn a5, sp, 0 */
    CASE 90
    ILLEGAL .2byte 0x6501 /* c.lui a0, 0 */
    CASE 91
    ILLEGAL .2byte 0x6101 /* c.addi16sp sp, 0 */
    CASE 92
    ILLEGAL .2byte 0x8002 /* c.jr x0 */
    CASE 93
    ILLEGAL .2byte 0x4002 /* c.lwsp x0 */
    CASE 94
    ILLEGAL .2byte 0x6002 /* c.ldsp x0 */
    CASE 95
    ILLEGAL .2byte 0x2001 /* c.addiw x0, 0 */
    CASE 96
    ILLEGAL .2byte 0x207d /* c.addiw x0, 31 */
    CASE 97
    ILLEGAL .2byte 0x6f81 /* c.lui t6, 0 */

    /* 32-bit instructions straddling a 4 KiB boundary at 2 mod 4 */
    CASE 98
    la t0, straddle_auipc
    jalr ra, 0(t0)
    la a1, straddle_auipc
    CHECK_EQR a0, a1
    slli a1, a1, 52
    srli a1, a1, 52
    CHECK_EQ a1, 0xffe
    CASE 99
    la t0, straddle_add
    li a0, 40
    jalr ra, 0(t0)
    CHECK_EQ a0, 42
    CASE 100
    /* a jump that straddles */
    la t0, straddle_jal
    li a0, 0
    jalr ra, 0(t0)
    CHECK_EQ a0, 7
    .option pop
    PASS

fail_near:
    j fail

/* The straddling instructions, each at the last halfword of a page. */
    .section .text.straddle, "ax", @progbits
    .option push
    .option norelax
    .option norvc
    .balign 4096
    .fill 4094, 1, 0
straddle_auipc:
    auipc a0, 0
    ret
    .balign 4096
    .fill 4094, 1, 0
straddle_add:
    addi a0, a0, 2
    ret
    .balign 4096
    .fill 4094, 1, 0
straddle_jal:
    jal zero, 1f
    j fail
1:  li a0, 7
    ret
    .option pop
