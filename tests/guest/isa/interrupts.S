/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Interrupts: the machine timer (CLINT mtimecmp -> mip.MTIP, taken with
 * mie.MTIE and mstatus.MIE, mepc the interrupted instruction), the machine
 * software interrupt (CLINT msip), supervisor software/timer/external
 * interrupts injected by M-mode through mip and delegated with mideleg,
 * global enables per privilege (M interrupts always on below M, delegated
 * ones never taken in M, S ones always on in U), several pending
 * interrupts, mip/sip/mie/sie aliasing and read-only bits, wfi, and
 * vectored mtvec/stvec.
 */
#include "test-macros.inc"

#define MIP_SSIP (1 << IRQ_S_SOFT)
#define MIP_MSIP (1 << IRQ_M_SOFT)
#define MIP_STIP (1 << IRQ_S_TIMER)
#define MIP_MTIP (1 << IRQ_M_TIMER)
#define MIP_SEIP (1 << IRQ_S_EXT)
#define MIP_MEIP (1 << IRQ_M_EXT)
#define S_IRQS (MIP_SSIP | MIP_STIP | MIP_SEIP)

/* mtimecmp = -1: no timer interrupt pending. */
.macro TIMER_OFF
    li t0, CLINT_MTIMECMP
    li t1, -1
    sd t1, 0(t0)
.endm

/* mtimecmp = mtime + ticks. */
.macro TIMER_IN ticks
    li t0, CLINT_MTIME
    ld t1, 0(t0)
    addi t1, t1, \ticks
    li t0, CLINT_MTIMECMP
    sd t1, 0(t0)
.endm

/* Waits (bounded) until the mip bits `mask` are all set; fails otherwise. */
.macro WAIT_MIP mask
    li t2, 50000000
.Lwm\@:
    csrr t0, mip
    li t1, \mask
    and t0, t0, t1
    beq t0, t1, .Lwm_done\@
    addi t2, t2, -1
    bnez t2, .Lwm\@
    j fail
.Lwm_done\@:
.endm

.macro CHECK_MIP mask, val
    csrr t0, mip
    li t1, \mask
    and t0, t0, t1
    CHECK_EQ t0, \val
.endm

/* The logged interrupts, as a set: OR of (1 << code) | (mode << 16) over
 * the first `n` log entries, compared with `set`. (Their order, the
 * priority, is checked in vireo-impl.S.) */
.macro CHECK_ILOG_SET n, set
    CHECK_ILOG_N \n
    la t0, trap_frame + TF_ILOG
    li t1, \n
    li t2, 0
.Lis\@:
    ld a0, 0(t0)
    andi a1, a0, 0xff
    li a2, 1
    sll a2, a2, a1
    srli a1, a0, 8
    slli a1, a1, 16
    or a2, a2, a1
    or t2, t2, a2
    addi t0, t0, 8
    addi t1, t1, -1
    bnez t1, .Lis\@
    CHECK_EQ t2, \set
.endm

/* Clears every interrupt source and enable this program uses. */
.macro QUIESCE
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE
    csrw mie, zero
    csrw mideleg, zero
    li t0, S_IRQS
    csrc mip, t0
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    TIMER_OFF
    ILOG_RESET
.endm

/* The vectored-mode tables: entry k records k in the trap frame and goes on
 * to the harness handler. */
.macro VEC_STUB k, handler, scratch
vec_stub_\handler\()_\k:
    csrrw sp, \scratch, sp
    sd t0, TF_VEC_T0(sp)
    li t0, \k
    sd t0, TF_VECTOR(sp)
    ld t0, TF_VEC_T0(sp)
    csrrw sp, \scratch, sp
    j \handler
.endm

    .text
    .option push
    .option norvc
    .balign 256
mvec_table:
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11
    j vec_stub_trap_vector_m_\k
    .endr
    .balign 256
svec_table:
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11
    j vec_stub_trap_vector_s_\k
    .endr
    .option pop
    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11
    VEC_STUB \k, trap_vector_m, mscratch
    VEC_STUB \k, trap_vector_s, sscratch
    .endr

TEST_MAIN
    PMP_ALLOW_ALL
    QUIESCE

    /* machine timer */
    CASE 1
    CHECK_MIP MIP_MTIP, 0
    CASE 2
    /* pending without mie.MTIE: nothing taken */
    csrsi mstatus, MSTATUS_MIE
    TIMER_IN 100
    WAIT_MIP MIP_MTIP
    CHECK_ILOG_N 0
    CASE 3
    /* enabled in mie, globally disabled: nothing taken */
    csrci mstatus, MSTATUS_MIE
    li t0, MIP_MTIP
    csrs mie, t0
    nop
    nop
    CHECK_ILOG_N 0
    CASE 4
    /* globally enabled: taken at once, mepc the next instruction */
    csrsi mstatus, MSTATUS_MIE
1:  nop
    CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x300 | IRQ_M_TIMER
    CHECK_TF TF_MCAUSE, INTERRUPT_BIT | IRQ_M_TIMER
    CHECK_TRAP_EPC 1b
    CHECK_TF TF_MTVAL, 0
    /* the stack: MPIE = 1 (MIE was set), MIE = 0, MPP = M */
    la t0, trap_frame
    ld t0, TF_MSTATUS(t0)
    andi t1, t0, MSTATUS_MIE | MSTATUS_MPIE
    CHECK_EQ t1, MSTATUS_MPIE
    srli t1, t0, 11
    andi t1, t1, 3
    CHECK_EQ t1, PRV_M
    csrr t0, mstatus
    andi t0, t0, MSTATUS_MIE
    CHECK_EQ t0, MSTATUS_MIE
    CASE 5
    /* mip.MTIP is read-only; writing mtimecmp clears it */
    li t0, MIP_MTIP
    csrc mip, t0
    CHECK_MIP MIP_MTIP, MIP_MTIP
    TIMER_OFF
    CHECK_MIP MIP_MTIP, 0
    CASE 6
    /* an M interrupt is taken in S and U whatever mstatus.MIE says */
    QUIESCE
    li t0, MIP_MTIP
    csrs mie, t0
    TIMER_IN 200
    ENTER_MODE PRV_U, 1f
1:  li t2, 50000000
2:  la t0, trap_frame
    ld t0, TF_ILOG_N(t0)
    bnez t0, 3f
    addi t2, t2, -1
    bnez t2, 2b
3:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_U
    CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x300 | IRQ_M_TIMER
    CASE 7
    QUIESCE
    li t0, MIP_MTIP
    csrs mie, t0
    TIMER_IN 200
    ENTER_MODE PRV_S, 1f
1:  li t2, 50000000
2:  la t0, trap_frame
    ld t0, TF_ILOG_N(t0)
    bnez t0, 3f
    addi t2, t2, -1
    bnez t2, 2b
3:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x300 | IRQ_M_TIMER

    /* machine software interrupt */
    CASE 8
    QUIESCE
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    CHECK_MIP MIP_MSIP, MIP_MSIP
    CHECK_ILOG_N 0
    CASE 9
    li t0, MIP_MSIP
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x300 | IRQ_M_SOFT
    CASE 10
    /* MSIP is read-only in mip; clearing msip clears it */
    li t0, MIP_MSIP
    csrc mip, t0
    CHECK_MIP MIP_MSIP, MIP_MSIP
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    CHECK_MIP MIP_MSIP, 0

    /* wfi in M waits for a pending interrupt, even globally disabled */
    CASE 11
    QUIESCE
    li t0, MIP_MTIP
    csrs mie, t0
    TIMER_IN 1000
    wfi
    li t2, 50000000
1:  csrr t0, mip
    andi t0, t0, MIP_MTIP
    bnez t0, 2f
    wfi
    addi t2, t2, -1
    bnez t2, 1b
    j fail
2:  CHECK_ILOG_N 0
    CASE 12
    /* wfi with an interrupt already pending returns */
    wfi
    wfi
    CHECK_ILOG_N 0
    QUIESCE
    CASE 13
    /* an enabled interrupt that ends a wfi is taken with mepc the
     * instruction after the wfi */
    li t0, MIP_MTIP
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    TIMER_IN 1000
    li t2, 1000
2:  wfi
1:  la t0, trap_frame
    ld t0, TF_ILOG_N(t0)
    bnez t0, 3f
    addi t2, t2, -1
    bnez t2, 2b
    j fail
3:  csrci mstatus, MSTATUS_MIE
    CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x300 | IRQ_M_TIMER
    CHECK_TRAP_EPC 1b
    QUIESCE

    /* supervisor interrupts injected through mip */
    CASE 14
    li t0, S_IRQS
    csrs mip, t0
    CHECK_MIP S_IRQS, S_IRQS
    csrc mip, t0
    CHECK_MIP S_IRQS, 0
    CASE 15
    /* not delegated: sip and sie read zero for them */
    li t0, S_IRQS
    csrs mip, t0
    csrs mie, t0
    csrr a0, sip
    CHECK_EQ a0, 0
    csrr a0, sie
    CHECK_EQ a0, 0
    CASE 16
    /* delegated: sip/sie are views of mip/mie */
    li t0, S_IRQS
    csrw mideleg, t0
    csrr a0, mideleg
    and a0, a0, t0
    CHECK_EQR a0, t0
    csrr a0, sip
    and a0, a0, t0
    CHECK_EQR a0, t0
    csrr a0, sie
    and a0, a0, t0
    CHECK_EQR a0, t0
    CASE 17
    li t1, MIP_STIP
    csrc sie, t1
    csrr a0, mie
    and a0, a0, t0
    CHECK_EQ a0, MIP_SSIP | MIP_SEIP
    csrs sie, t1
    CASE 18
    /* in sip only SSIP is writable */
    li t1, MIP_SSIP
    csrc sip, t1
    CHECK_MIP S_IRQS, MIP_STIP | MIP_SEIP
    li t1, MIP_STIP | MIP_SEIP
    csrc sip, t1
    CHECK_MIP S_IRQS, MIP_STIP | MIP_SEIP
    li t1, MIP_SSIP
    csrs sip, t1
    CHECK_MIP S_IRQS, S_IRQS
    CASE 19
    /* sie/sip never show M-level bits */
    li t1, MIP_MTIP | MIP_MSIP
    csrs mie, t1
    csrr a0, sie
    and a0, a0, t1
    CHECK_EQ a0, 0
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    csrr a0, sip
    andi a0, a0, MIP_MSIP
    CHECK_EQ a0, 0
    QUIESCE

    CASE 20
    /* delegated interrupts are never taken in M-mode */
    li t0, S_IRQS
    csrw mideleg, t0
    csrs mie, t0
    csrs mip, t0
    csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
    nop
    nop
    CHECK_ILOG_N 0
    CASE 21
    /* ...and are taken in S-mode */
    csrci mstatus, MSTATUS_MIE
    ENTER_MODE PRV_S, 1f
1:  nop
    nop
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_ILOG_SET 3, S_IRQS | (PRV_S << 16)
    CASE 22
    /* in S with SIE = 0: not taken */
    QUIESCE
    li t0, MIP_SSIP
    csrw mideleg, t0
    csrs mie, t0
    csrs mip, t0
    ENTER_MODE PRV_S, 1f
1:  nop
    nop
    csrr s1, sip
    RETURN_TO_M 1f
1:  CHECK_ILOG_N 0
    andi s1, s1, MIP_SSIP
    CHECK_EQ s1, MIP_SSIP
    CASE 23
    /* in U: taken whatever SIE says */
    ENTER_MODE PRV_U, 1f
1:  nop
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_U
    CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x100 | IRQ_S_SOFT
    CASE 24
    /* sepc of a delegated interrupt is the interrupted instruction */
    QUIESCE
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mie, t0
    ENTER_MODE PRV_S, 1f
1:  csrsi sstatus, MSTATUS_SIE
    RETURN_TO_M 2f
2:  /* STIP raised in M, then back to S: taken on the first instruction */
    li t0, MIP_STIP
    csrs mip, t0
    ENTER_MODE PRV_S, 3f
3:  nop
4:  nop
    RETURN_TO_M 1f
1:  CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x100 | IRQ_S_TIMER
    CHECK_TF_ADDR TF_SEPC, 3b
    CHECK_TF TF_SCAUSE, INTERRUPT_BIT | IRQ_S_TIMER
    CHECK_TF TF_STVAL, 0
    /* sstatus at the interrupt: SPP = S, SPIE = 1, SIE = 0 */
    la t0, trap_frame
    ld t0, TF_SSTATUS(t0)
    andi t0, t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
    CHECK_EQ t0, MSTATUS_SPP | MSTATUS_SPIE
    CASE 25
    /* not delegated: S-level interrupts go to M, also from S with MIE = 0 */
    QUIESCE
    li t0, MIP_SSIP
    csrs mie, t0
    csrs mip, t0
    ENTER_MODE PRV_S, 1f
1:  nop
    RETURN_TO_M 1f
1:  CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x300 | IRQ_S_SOFT
    CHECK_TF TF_MCAUSE, CAUSE_ECALL_S
    CASE 26
    /* ...and in M-mode when mstatus.MIE is set */
    QUIESCE
    li t0, MIP_STIP
    csrs mie, t0
    csrs mip, t0
    nop
    CHECK_ILOG_N 0
    csrsi mstatus, MSTATUS_MIE
    nop
    CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x300 | IRQ_S_TIMER

    /* several pending M-mode interrupts are all taken */
    CASE 27
    QUIESCE
    li t0, S_IRQS
    csrs mip, t0
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    TIMER_IN 0
    WAIT_MIP MIP_MTIP | MIP_MSIP | S_IRQS
    li t0, MIP_MTIP | MIP_MSIP | S_IRQS
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    CHECK_ILOG_SET 5, MIP_MSIP | MIP_MTIP | S_IRQS | (PRV_M << 16)
    CASE 28
    /* M-level and delegated interrupts pending together in S: the
     * M-level one first (it preempts the S handler) */
    QUIESCE
    li t0, S_IRQS
    csrw mideleg, t0
    csrs mip, t0
    csrs mie, t0
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP
    csrs mie, t0
    li t0, MSTATUS_SIE
    csrs mstatus, t0
    ENTER_MODE PRV_S, 1f
1:  nop
    RETURN_TO_M 1f
1:  CHECK_ILOG_N 4
    CHECK_ILOG 0, 0x300 | IRQ_M_SOFT

    /* wfi in S with TW = 0: returns once an enabled interrupt is pending,
     * even with SIE = 0 (it is then not taken) */
    CASE 29
    QUIESCE
    li t0, MIP_SSIP
    csrw mideleg, t0
    csrs mie, t0
    csrs mip, t0
    ENTER_MODE PRV_S, 1f
1:  wfi
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_ILOG_N 0

    /* vectored mtvec: interrupts go to BASE + 4 * cause, exceptions to
     * BASE */
    CASE 30
    QUIESCE
    la t0, mvec_table
    ori t0, t0, 1
    csrw mtvec, t0
    csrr a0, mtvec
    CHECK_EQR a0, t0
    la t0, trap_frame
    li t1, -1
    sd t1, TF_VECTOR(t0)
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    CHECK_ILOG_N 1
    CHECK_TF TF_VECTOR, IRQ_M_SOFT
    CASE 31
    TIMER_IN 0
    WAIT_MIP MIP_MTIP
    li t0, MIP_MTIP
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    CHECK_TF TF_VECTOR, IRQ_M_TIMER
    CASE 32
    li t0, MIP_SEIP
    csrs mip, t0
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    CHECK_TF TF_VECTOR, IRQ_S_EXT
    CASE 33
    EXPECT_TRAP 1f
    ecall
1:  CHECK_TRAP CAUSE_ECALL_M
    CHECK_TF TF_VECTOR, 0
    la t0, trap_vector_m
    csrw mtvec, t0

    CASE 34
    /* vectored stvec for delegated interrupts */
    QUIESCE
    la t0, svec_table
    ori t0, t0, 1
    csrw stvec, t0
    la t0, trap_frame
    li t1, -1
    sd t1, TF_VECTOR(t0)
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mie, t0
    csrs mip, t0
    ENTER_MODE PRV_U, 1f
1:  nop
    RETURN_TO_M 1f
1:  CHECK_ILOG_N 1
    CHECK_ILOG 0, 0x100 | IRQ_S_TIMER
    CHECK_TF TF_VECTOR, IRQ_S_TIMER
    la t0, trap_vector_s
    csrw stvec, t0
    QUIESCE
    PASS
