/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Counters: mcycle and minstret advance (and their user aliases cycle and
 * instret agree with them), time reads the CLINT's mtime and advances,
 * mcycle is writable from M-mode, and mcounteren/scounteren gate cycle,
 * time, instret and the hpmcounters in S-mode and U-mode, every bit of
 * both being writable (Zicntr, Zihpm, Sscounterenw). (The exact instret
 * count is checked in vireo-impl.S.)
 */
#include "test-macros.inc"

/* Reading `csr` in `mode` traps with an illegal instruction. */
.macro NO_COUNTER mode, csr
    ILLEGAL_IN \mode, csrr a0, \csr
.endm

/* Reading `csr` in `mode` works. */
.macro COUNTER_OK mode, csr
    ENTER_MODE \mode, .Lco\@
.Lco\@:
    csrr a0, \csr
    RETURN_TO_M .Lco_back\@
.Lco_back\@:
    CHECK_TRAP CAUSE_ECALL_U + \mode
.endm

TEST_MAIN
    PMP_ALLOW_ALL

    CASE 1
    /* mcycle and minstret increase */
    csrr s0, mcycle
    csrr s1, minstret
    li t0, 1000
1:  addi t0, t0, -1
    bnez t0, 1b
    csrr s2, mcycle
    csrr s3, minstret
    bgeu s0, s2, fail
    bgeu s1, s3, fail
    CASE 2
    /* cycle and instret are the same counters */
    csrr s0, mcycle
    csrr s1, cycle
    csrr s2, mcycle
    bltu s1, s0, fail
    bltu s2, s1, fail
    csrr s0, minstret
    csrr s1, instret
    csrr s2, minstret
    bltu s1, s0, fail
    bltu s2, s1, fail
    CASE 3
    /* time is the CLINT's mtime */
    li t1, CLINT_MTIME
    ld s0, 0(t1)
    csrr s1, time
    ld s2, 0(t1)
    bltu s1, s0, fail
    bltu s2, s1, fail
    CASE 4
    /* time advances (10 MHz: 50 ticks take 5 us) */
    csrr s0, time
    li t2, 50000000
1:  csrr s1, time
    sub t0, s1, s0
    li t1, 50
    bgeu t0, t1, 2f
    addi t2, t2, -1
    bnez t2, 1b
    j fail
2:  CASE 5
    /* mcycle is writable from M-mode */
    csrw mcycle, zero
    csrr s0, mcycle
    li t0, 0x100000
    bgeu s0, t0, fail
    CASE 6
    /* hpmcounter3 reads as mhpmcounter3, zero */
    csrr a0, mhpmcounter3
    CHECK_EQ a0, 0
    csrr a0, hpmcounter3
    CHECK_EQ a0, 0
    csrr a0, mhpmevent3
    CHECK_EQ a0, 0

    /* counter enables */
    CASE 7
    csrw mcounteren, zero
    csrw scounteren, zero
    NO_COUNTER PRV_S, cycle
    CASE 8
    NO_COUNTER PRV_S, time
    CASE 9
    NO_COUNTER PRV_S, instret
    CASE 10
    NO_COUNTER PRV_S, hpmcounter3
    CASE 11
    NO_COUNTER PRV_U, cycle
    CASE 12
    NO_COUNTER PRV_U, time
    CASE 13
    NO_COUNTER PRV_U, instret
    CASE 14
    /* mcounteren alone opens them to S, not to U */
    li t0, 0xf
    csrw mcounteren, t0
    csrr a0, mcounteren
    andi a0, a0, 0xf
    CHECK_EQ a0, 0xf
    COUNTER_OK PRV_S, cycle
    COUNTER_OK PRV_S, time
    COUNTER_OK PRV_S, instret
    COUNTER_OK PRV_S, hpmcounter3
    CASE 15
    NO_COUNTER PRV_U, cycle
    CASE 16
    NO_COUNTER PRV_U, time
    CASE 17
    NO_COUNTER PRV_U, instret
    CASE 18
    /* with scounteren too: open to U */
    li t0, 0xf
    csrw scounteren, t0
    csrr a0, scounteren
    andi a0, a0, 0xf
    CHECK_EQ a0, 0xf
    COUNTER_OK PRV_U, cycle
    COUNTER_OK PRV_U, time
    COUNTER_OK PRV_U, instret
    COUNTER_OK PRV_U, hpmcounter3
    CASE 19
    /* scounteren alone opens nothing */
    csrw mcounteren, zero
    NO_COUNTER PRV_U, cycle
    CASE 20
    NO_COUNTER PRV_S, time
    CASE 21
    /* each bit gates its own counter */
    li t0, 2
    csrw mcounteren, t0
    csrw scounteren, t0
    COUNTER_OK PRV_U, time
    NO_COUNTER PRV_U, cycle
    CASE 22
    NO_COUNTER PRV_U, instret
    CASE 23
    li t0, 5
    csrw mcounteren, t0
    li t0, 1
    csrw scounteren, t0
    COUNTER_OK PRV_S, instret
    COUNTER_OK PRV_U, cycle
    NO_COUNTER PRV_U, instret
    CASE 24
    NO_COUNTER PRV_S, time
    CASE 25
    /* the value read from S-mode is the CLINT's mtime */
    li t0, 2
    csrw mcounteren, t0
    li t1, CLINT_MTIME
    ld s0, 0(t1)
    ENTER_MODE PRV_S, 1f
1:  csrr s1, time
    RETURN_TO_M 1f
1:  ld s2, 0(t1)
    bltu s1, s0, fail
    bltu s2, s1, fail
    CASE 26
    /* the M-mode counters stay M-only */
    NO_COUNTER PRV_S, mcycle
    CASE 27
    NO_COUNTER PRV_S, minstret
    CASE 28
    NO_COUNTER PRV_U, mcounteren
    CASE 29
    NO_COUNTER PRV_S, mcounteren
    CASE 30
    ILLEGAL_IN PRV_U, csrr a0, scounteren

    /* Zihpm and Sscounterenw: every counter's bit of mcounteren and of
     * scounteren is writable, and opens its hpmcounter to S and U */
    CASE 31
    li t0, -1
    csrw mcounteren, t0
    csrw scounteren, t0
    csrr a0, mcounteren
    csrr a1, scounteren
    li t0, 0x7ffff /* cycle, time, instret and hpmcounter3-18 */
    and a0, a0, t0
    and a1, a1, t0
    CHECK_EQR a0, t0
    CHECK_EQR a1, t0
    COUNTER_OK PRV_U, hpmcounter4
    COUNTER_OK PRV_U, hpmcounter18
    COUNTER_OK PRV_S, hpmcounter17
    CASE 32
    li t0, 1 << 18
    csrc scounteren, t0
    NO_COUNTER PRV_U, hpmcounter18
    COUNTER_OK PRV_S, hpmcounter18
    csrc mcounteren, t0
    NO_COUNTER PRV_S, hpmcounter18
    csrw mcounteren, zero
    csrw scounteren, zero
    PASS
