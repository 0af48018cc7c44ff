/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Svinval's permissions: sinval.vma takes sfence.vma's (M and S-mode,
 * illegal in U-mode and in S-mode under mstatus.TVM); sfence.w.inval and
 * sfence.inval.ir are illegal in U-mode only, TVM or not. The illegal
 * cases are only in the VIREO_ONLY build, svinval-vireo: QEMU 7.2 runs the
 * three instructions in any mode. vm-ext.c checks what they do to translations. Written with
 * .insn, for any assembler.
 */
#include "test-macros.inc"

#define SFENCE_W_INVAL  .insn i 0x73, 0, x0, x0, 0x180
#define SFENCE_INVAL_IR .insn i 0x73, 0, x0, x0, 0x181
#define SINVAL_VMA      .insn r 0x73, 0, 0x0b, x0, a0, a1

/* The three instructions run in `mode` without a trap. */
.macro ALL_OK mode
    ENTER_MODE \mode, .Lok\@
.Lok\@:
    SFENCE_W_INVAL
    SINVAL_VMA
    SFENCE_INVAL_IR
    RETURN_TO_M .Lok_back\@
.Lok_back\@:
    CHECK_TRAP CAUSE_ECALL_U + \mode
.endm

TEST_MAIN
    PMP_ALLOW_ALL
    li a0, 0x40000000
    li a1, 3

    CASE 1
    SFENCE_W_INVAL
    SINVAL_VMA
    SFENCE_INVAL_IR
    CASE 2
    ALL_OK PRV_S
#ifdef VIREO_ONLY
    /* (QEMU 7.2 does not check who runs them) */
    CASE 3
    ILLEGAL_IN PRV_U, SINVAL_VMA
    CASE 4
    ILLEGAL_IN PRV_U, SFENCE_W_INVAL
    CASE 5
    ILLEGAL_IN PRV_U, SFENCE_INVAL_IR
    CASE 6
    /* TVM traps sinval.vma in S-mode, not the fences */
    li t0, MSTATUS_TVM
    csrs mstatus, t0
    ILLEGAL_IN PRV_S, SINVAL_VMA
#endif
    CASE 7
    li t0, MSTATUS_TVM
    csrs mstatus, t0
    ENTER_MODE PRV_S, 1f
1:  SFENCE_W_INVAL
    SFENCE_INVAL_IR
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    li t0, MSTATUS_TVM
    csrc mstatus, t0
    PASS
