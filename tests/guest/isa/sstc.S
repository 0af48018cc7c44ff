/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sstc: the stimecmp CSR and the supervisor timer interrupt it drives.
 * M-mode always reaches stimecmp; S-mode only with menvcfg.STCE and
 * mcounteren.TM (else illegal instruction). While STCE is set, mip.STIP is
 * read-only and reads time >= stimecmp (unsigned); while it is clear, STIP
 * is M-mode software's again (vireo-impl.S checks that STIP no longer
 * follows stimecmp then, where QEMU 7.2 differs). The interrupt comes at the programmed tick,
 * not before: in S-mode delegated (taken there, waking wfi), and in M-mode
 * when not delegated; writing stimecmp ahead of time lowers it.
 */
#include "test-macros.inc"

#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG  0x30a
#define STCE_HI      (1 << 31) /* menvcfg.STCE is bit 63: this, shifted by 32 */
#define MIP_STIP     (1 << IRQ_S_TIMER)
#define COUNTEREN_TM 2

/* menvcfg.STCE on or off. */
.macro STCE_ON
    li t0, STCE_HI
    slli t0, t0, 32
    csrs CSR_MENVCFG, t0
.endm
.macro STCE_OFF
    li t0, STCE_HI
    slli t0, t0, 32
    csrc CSR_MENVCFG, t0
.endm

/* stimecmp = time + ticks; t1 gets the deadline. */
.macro STIMECMP_IN ticks
    csrr t1, time
    li t0, \ticks
    add t1, t1, t0
    csrw CSR_STIMECMP, t1
.endm

.macro CHECK_STIP val
    csrr t0, mip
    andi t0, t0, MIP_STIP
    CHECK_EQ t0, \val
.endm

/* Every interrupt source and enable this program uses off. */
.macro QUIESCE
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE
    csrw mie, zero
    csrw mideleg, zero
    li t0, -1
    csrw CSR_STIMECMP, t0
    STCE_OFF
    li t0, MIP_STIP
    csrc mip, t0
    ILOG_RESET
.endm

TEST_MAIN
    PMP_ALLOW_ALL
    li t0, -1
    csrw mcounteren, t0
    QUIESCE

    /* M-mode reads and writes stimecmp whatever STCE says */
    CASE 1
    li t0, 0x123456789
    csrw CSR_STIMECMP, t0
    csrr a0, CSR_STIMECMP
    CHECK_EQ a0, 0x123456789
    li t0, -1
    csrw CSR_STIMECMP, t0

    /* STCE clear: stimecmp is illegal below M, STIP is M-mode's to write */
    CASE 2
    ILLEGAL_IN PRV_S, csrr a0, CSR_STIMECMP
    ILLEGAL_IN PRV_S, csrw CSR_STIMECMP, zero
    CASE 3
    li t0, MIP_STIP
    csrs mip, t0
    CHECK_STIP MIP_STIP
    csrc mip, t0
    CHECK_STIP 0
    li t0, -1
    csrw CSR_STIMECMP, t0

    /* STCE set: S-mode may with mcounteren.TM, not without; U-mode never */
    CASE 4
    STCE_ON
    csrci mcounteren, COUNTEREN_TM
    ILLEGAL_IN PRV_S, csrr a0, CSR_STIMECMP
    csrsi mcounteren, COUNTEREN_TM
    ILLEGAL_IN PRV_U, csrr a0, CSR_STIMECMP
    CASE 5
    ENTER_MODE PRV_S, 1f
1:  li t0, 0x5555
    csrw CSR_STIMECMP, t0
    csrr a0, CSR_STIMECMP
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_EQ a0, 0x5555

    /* STIP is the comparison, read-only in mip and sip */
    CASE 6
    csrw CSR_STIMECMP, zero
    CHECK_STIP MIP_STIP
    li t0, MIP_STIP
    csrc mip, t0
    CHECK_STIP MIP_STIP
    li t0, -1
    csrw CSR_STIMECMP, t0
    CHECK_STIP 0
    li t0, MIP_STIP
    csrs mip, t0
    CHECK_STIP 0
    CASE 7
    /* unsigned: the largest value is never reached, time itself is */
    li t0, 0x8000000000000000
    csrw CSR_STIMECMP, t0
    CHECK_STIP 0
    csrr t0, time
    csrw CSR_STIMECMP, t0
    CHECK_STIP MIP_STIP
    li t0, -1
    csrw CSR_STIMECMP, t0

    /* a deadline ahead: STIP rises at that tick, not before */
    CASE 8
    STIMECMP_IN 20000 /* 2 ms */
    CHECK_STIP 0
    li t2, 200000000
1:  csrr t0, mip
    andi t0, t0, MIP_STIP
    bnez t0, 2f
    addi t2, t2, -1
    bnez t2, 1b
    j fail
2:  csrr t0, time
    bltu t0, t1, fail
    CASE 9
    /* written ahead again: STIP falls */
    STIMECMP_IN 10000000
    CHECK_STIP 0

    /* delegated to S-mode: wfi in S-mode wakes at the tick and the
     * interrupt is taken there */
    CASE 10
    QUIESCE
    STCE_ON
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mie, t0
    ENTER_MODE PRV_S, 1f
1:  csrsi sstatus, MSTATUS_SIE
    STIMECMP_IN 30000 /* 3 ms */
    mv s1, t1
    li t2, 1000
2:  wfi
    la t0, trap_frame
    ld t0, TF_ILOG_N(t0)
    bnez t0, 3f
    addi t2, t2, -1
    bnez t2, 2b
    j fail
3:  csrr s2, time
    csrci sstatus, MSTATUS_SIE
    RETURN_TO_M 1f
1:  CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x100 | IRQ_S_TIMER
    bltu s2, s1, fail
    CHECK_STIP MIP_STIP

    /* not delegated: taken in M-mode at the tick, waking wfi */
    CASE 11
    QUIESCE
    STCE_ON
    li t0, MIP_STIP
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    STIMECMP_IN 20000
    mv s1, t1
    li t2, 1000
2:  wfi
    la t0, trap_frame
    ld t0, TF_ILOG_N(t0)
    bnez t0, 3f
    addi t2, t2, -1
    bnez t2, 2b
    j fail
3:  csrr s2, time
    csrci mstatus, MSTATUS_MIE
    CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x300 | IRQ_S_TIMER
    bltu s2, s1, fail

    /* a deadline in the past at once from S-mode, taken before the next
     * instruction */
    CASE 12
    QUIESCE
    STCE_ON
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mie, t0
    ENTER_MODE PRV_S, 1f
1:  csrsi sstatus, MSTATUS_SIE
    csrw CSR_STIMECMP, zero
2:  csrci sstatus, MSTATUS_SIE
    RETURN_TO_M 1f
1:  CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x100 | IRQ_S_TIMER
    CHECK_TF_ADDR TF_SEPC, 2b
    QUIESCE
    PASS
