/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zicsr: the six CSR instructions (old value to rd, new value written),
 * csrrs/csrrc with rs1 = x0 and csrrsi/csrrci with uimm = 0 not writing (so
 * they read read-only CSRs without a trap), csrrwi always writing, rd = x0,
 * the machine information registers, misa, read-only and missing CSRs
 * raising illegal-instruction, and CSRs above the current privilege.
 */
#include "test-macros.inc"

/* mscratch holds the trap-frame pointer: cases that use it restore it. */
.macro SAVE_MSCRATCH
    csrr s10, mscratch
.endm
.macro RESTORE_MSCRATCH
    csrw mscratch, s10
.endm

TEST_MAIN
    SAVE_MSCRATCH
    /* csrrw: old value in rd, rs1 written */
    CASE 1
    li a1, 0x0123456789abcdef
    csrw mscratch, a1
    li a2, 0xfedcba9876543210
    csrrw a0, mscratch, a2
    CHECK_EQ a0, 0x0123456789abcdef
    csrr a0, mscratch
    CHECK_EQ a0, 0xfedcba9876543210
    CASE 2
    /* rd = rs1: the old value lands in the register that was written */
    li a0, 0x1111
    csrrw a0, mscratch, a0
    CHECK_EQ a0, 0xfedcba9876543210
    csrr a1, mscratch
    CHECK_EQ a1, 0x1111
    CASE 3
    /* rd = x0 writes (and x0 stays zero) */
    li a1, 0x2222
    csrrw x0, mscratch, a1
    CHECK_EQ x0, 0
    csrr a0, mscratch
    CHECK_EQ a0, 0x2222
    /* csrrs / csrrc */
    CASE 4
    li a1, 0xf0f0
    csrw mscratch, a1
    li a2, 0x0ff0
    csrrs a0, mscratch, a2
    CHECK_EQ a0, 0xf0f0
    csrr a0, mscratch
    CHECK_EQ a0, 0xfff0
    CASE 5
    li a2, 0xf00f
    csrrc a0, mscratch, a2
    CHECK_EQ a0, 0xfff0
    csrr a0, mscratch
    CHECK_EQ a0, 0x0ff0
    CASE 6
    li a2, -1
    csrrs a0, mscratch, a2
    csrr a0, mscratch
    CHECK_EQ a0, -1
    csrrc a0, mscratch, a2
    CHECK_EQ a0, -1
    csrr a0, mscratch
    CHECK_EQ a0, 0
    CASE 7
    /* rs1 = x0: a plain read */
    li a1, 0x5a5a
    csrw mscratch, a1
    csrrs a0, mscratch, x0
    CHECK_EQ a0, 0x5a5a
    csrrc a0, mscratch, x0
    CHECK_EQ a0, 0x5a5a
    csrr a0, mscratch
    CHECK_EQ a0, 0x5a5a
    /* immediate forms: 5-bit zero-extended uimm */
    CASE 8
    csrrwi a0, mscratch, 31
    CHECK_EQ a0, 0x5a5a
    csrr a0, mscratch
    CHECK_EQ a0, 31
    CASE 9
    csrrci a0, mscratch, 0x15
    CHECK_EQ a0, 31
    csrr a0, mscratch
    CHECK_EQ a0, 0x0a
    CASE 10
    csrrsi a0, mscratch, 0x10
    CHECK_EQ a0, 0x0a
    csrr a0, mscratch
    CHECK_EQ a0, 0x1a
    CASE 11
    csrrsi a0, mscratch, 0
    CHECK_EQ a0, 0x1a
    csrrci a0, mscratch, 0
    CHECK_EQ a0, 0x1a
    csrr a0, mscratch
    CHECK_EQ a0, 0x1a
    CASE 12
    csrrwi a0, mscratch, 0
    CHECK_EQ a0, 0x1a
    csrr a0, mscratch
    CHECK_EQ a0, 0
    CASE 13
    /* uimm is zero-extended: 0x1f, not -1 */
    li a1, -1
    csrw mscratch, a1
    csrrci a0, mscratch, 0x1f
    csrr a0, mscratch
    CHECK_EQ a0, 0xffffffffffffffe0
    RESTORE_MSCRATCH

    /* machine information registers */
    CASE 14
    csrr a0, mhartid
    CHECK_EQ a0, 0
    CASE 15
    csrr a0, mvendorid
    CHECK_EQ a0, 0
    CASE 16
    /* misa: RV64 with A, C, D, F, I, M, S, U */
    csrr a0, misa
    CHECK_EQ a0, 0x800000000014112d
    CASE 17
    /* misa ignores writes */
    csrw misa, zero
    csrr a0, misa
    CHECK_EQ a0, 0x800000000014112d
    li a1, 0x8000000000000004
    csrc misa, a1
    csrr a0, misa
    CHECK_EQ a0, 0x800000000014112d

    /* read-only CSRs: reads work, any write is illegal */
    CASE 18
    csrr a0, cycle
    csrr a0, instret
    csrr a0, time
    csrr a0, mimpid
    csrr a0, marchid
    csrrsi a0, mhartid, 0
    csrrci a0, mvendorid, 0
    csrrs a0, cycle, x0
    csrrc a0, time, x0
    CASE 19
    ILLEGAL csrw mhartid, zero
    li a1, 1
    CASE 20
    ILLEGAL csrrs a0, mhartid, a1 /* a1 nonzero */
    CASE 21
    ILLEGAL csrrc a0, mvendorid, a1
    CASE 22
    ILLEGAL csrrwi a0, marchid, 0
    CASE 23
    ILLEGAL csrrsi a0, mimpid, 1
    CASE 24
    ILLEGAL csrrci a0, mhartid, 1
    CASE 25
    ILLEGAL csrw cycle, zero
    CASE 26
    ILLEGAL csrw time, a1
    CASE 27
    ILLEGAL csrs instret, a1
    CASE 28
    ILLEGAL csrrw x0, cycle, x0
    CASE 29
    ILLEGAL csrwi hpmcounter3, 0
    CASE 30
    /* rd is not written by a trapping CSR instruction */
    li a0, 0x77
    ILLEGAL csrrw a0, mhartid, a0
    CHECK_EQ a0, 0x77

    /* CSRs that do not exist */
    CASE 31
    ILLEGAL csrr a0, 0x600 /* hstatus */
    CASE 32
    ILLEGAL csrr a0, 0x680 /* hgatp */
    CASE 33
    ILLEGAL csrw 0x680, zero
    CASE 34
    ILLEGAL csrr a0, 0x008 /* vstart */
    CASE 35
    ILLEGAL csrr a0, 0xc20 /* vl */
    CASE 36
    ILLEGAL csrr a0, 0xc21 /* vtype */
    CASE 37
    ILLEGAL csrr a0, 0x7b0 /* dcsr */
    CASE 38
    ILLEGAL csrr a0, 0x7b1 /* dpc */
    CASE 39
    ILLEGAL csrw 0x7b2, zero /* dscratch0 */
    CASE 40
    ILLEGAL csrr a0, 0x3a1 /* pmpcfg1: not in RV64 */
    CASE 41
    ILLEGAL csrr a0, 0x3a3 /* pmpcfg3 */
    CASE 42
    ILLEGAL csrr a0, 0xb80 /* mcycleh: RV32 only */
    CASE 43
    ILLEGAL csrr a0, 0xc80 /* cycleh */
    CASE 44
    ILLEGAL csrr a0, 0x015 /* seed (Zkr) */
    CASE 45
    ILLEGAL csrrsi a0, 0x7c0, 0 /* custom, absent */

    /* CSRs above the current privilege */
    CASE 46
    PMP_ALLOW_ALL
    ENTER_MODE PRV_S, 1f
1:  csrr a0, sstatus
    csrr a0, sscratch
    csrr a0, stvec
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    ILLEGAL_IN PRV_S, csrr a0, mstatus
    CASE 47
    ILLEGAL_IN PRV_S, csrr a0, mscratch
    CASE 48
    ILLEGAL_IN PRV_S, csrw mepc, zero
    CASE 49
    ILLEGAL_IN PRV_S, csrr a0, mhartid
    CASE 50
    ILLEGAL_IN PRV_S, csrr a0, misa
    CASE 51
    ILLEGAL_IN PRV_S, csrr a0, pmpaddr0
    CASE 52
    ILLEGAL_IN PRV_U, csrr a0, sstatus
    CASE 53
    ILLEGAL_IN PRV_U, csrr a0, sscratch
    CASE 54
    ILLEGAL_IN PRV_U, csrw stvec, zero
    CASE 55
    ILLEGAL_IN PRV_U, csrr a0, satp
    CASE 56
    ILLEGAL_IN PRV_U, csrr a0, mstatus
    CASE 57
    ILLEGAL_IN PRV_U, csrrs a0, sip, x0
    CASE 58
    /* fcsr is accessible from U-mode when FS is on */
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    ENTER_MODE PRV_U, 1f
1:  csrr a0, fcsr
    csrwi frm, 2
    csrr a0, frm
    CHECK_EQ a0, 2
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_U
    PASS
