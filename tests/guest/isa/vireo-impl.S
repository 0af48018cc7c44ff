/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Vireo-only checks (not run under QEMU, see run-qemu.sh): behaviours that
 * are Vireo's implementation choices, and behaviours the specifications
 * require that QEMU 7.2, the reference the other programs are validated
 * against, does differently.
 *
 * Implementation choices: ebreak writes its pc to mtval/stval; marchid and
 * mimpid read zero; mhpmcounter3-31, mhpmevent3-31 and hpmcounter3-31 exist
 * and read zero; misaligned AMOs and SC raise store/AMO address-misaligned;
 * mepc/sepc hold bit 0 as zero; pmpaddr reads bits 63:54 as zero; a loop
 * of WFIs that complete at once (an interrupt pending but masked) naps.
 *
 * Required by the specifications, done differently by QEMU 7.2: csrrs/csrrc
 * with rs1 != x0 write even a zero value (illegal on a read-only CSR); mret
 * and sret to a mode below M clear MPRV; a change of fflags alone makes
 * mstatus.FS Dirty; simultaneous interrupts are taken in priority order
 * (MEI, MSI, MTI, SEI, SSI, STI); minstret counts exactly and a written
 * value is what the next instruction reads; an AMO denied by PMP or to a
 * vacant address raises a store/AMO access fault; with menvcfg.STCE clear,
 * mip.STIP does not follow stimecmp.
 */
#include "test-macros.inc"

#define MIP_SSIP (1 << IRQ_S_SOFT)
#define MIP_MSIP (1 << IRQ_M_SOFT)
#define MIP_STIP (1 << IRQ_S_TIMER)
#define MIP_MTIP (1 << IRQ_M_TIMER)
#define MIP_SEIP (1 << IRQ_S_EXT)
#define S_IRQS (MIP_SSIP | MIP_STIP | MIP_SEIP)

.macro CHECK_SAVED_MSTATUS shift, mask, val
    la t6, trap_frame
    ld t6, TF_MSTATUS(t6)
    srli t6, t6, \shift
    andi t6, t6, \mask
    li t5, \val
    bne t6, t5, fail
.endm

.macro QUIESCE
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE
    csrw mie, zero
    csrw mideleg, zero
    li t0, S_IRQS
    csrc mip, t0
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    li t0, CLINT_MTIMECMP
    li t1, -1
    sd t1, 0(t0)
    ILOG_RESET
.endm

    .data
    .align 6
amo_area:
    .fill 8, 8, 0
    .align 12
pmp_page:
    .fill 512, 8, 0

TEST_MAIN
    PMP_ALLOW_ALL

    /* ebreak: mtval is the pc */
    CASE 1
    EXPECT_TRAP 1f
2:  ebreak
1:  CHECK_TRAP CAUSE_BREAKPOINT
    CHECK_TF_ADDR TF_MTVAL, 2b
    CASE 2
    EXPECT_TRAP 1f
2:  c.ebreak
1:  CHECK_TRAP CAUSE_BREAKPOINT
    CHECK_TF_ADDR TF_MTVAL, 2b
    CASE 3
    ENTER_MODE PRV_U, 1f
1:  EXPECT_TRAP 3f
2:  ebreak
3:  CHECK_TRAP CAUSE_BREAKPOINT
    CHECK_TF_ADDR TF_MTVAL, 2b
    CASE 4
    /* delegated: stval */
    li t0, 1 << CAUSE_BREAKPOINT
    csrw medeleg, t0
    EXPECT_TRAP 9f
    S_EXPECT_TRAP 3f
    ENTER_MODE PRV_U, 1f
1:
2:  ebreak
    j fail
3:  ecall
9:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_TF TF_SCAUSE, CAUSE_BREAKPOINT
    CHECK_TF_ADDR TF_STVAL, 2b
    csrw medeleg, zero

    /* machine information */
    CASE 5
    csrr a0, marchid
    CHECK_EQ a0, 0
    csrr a0, mimpid
    CHECK_EQ a0, 0

    /* hardware performance monitor: counters 3-31 exist and read zero */
    CASE 6
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    csrr a0, mhpmcounter\n
    CHECK_EQ a0, 0
    csrr a0, hpmcounter\n
    CHECK_EQ a0, 0
    csrr a0, mhpmevent\n
    CHECK_EQ a0, 0
    .endr
    CASE 7
    li a1, -1
    .irp n, 3,10,18,19,25,31
    csrw mhpmcounter\n, a1
    csrr a0, mhpmcounter\n
    CHECK_EQ a0, 0
    csrw mhpmevent\n, a1
    csrr a0, mhpmevent\n
    CHECK_EQ a0, 0
    .endr

    /* csrrs/csrrc with rs1 != x0 write, even a zero: illegal on a read-only
     * CSR */
    CASE 8
    li a1, 0
    ILLEGAL csrrs a0, mhartid, a1
    CASE 9
    ILLEGAL csrrc a0, cycle, a1

    /* mret/sret to a mode below M clear MPRV */
    CASE 10
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    ENTER_MODE PRV_S, 1f
1:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_SAVED_MSTATUS 17, 1, 0
    CASE 11
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    ENTER_MODE PRV_U, 1f
1:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_U
    CHECK_SAVED_MSTATUS 17, 1, 0
    CASE 12
    /* sret from M-mode to U */
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    li t0, MSTATUS_SPP
    csrc mstatus, t0
    la t0, 1f
    csrw sepc, t0
    sret
1:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_U
    CHECK_SAVED_MSTATUS 17, 1, 0

    /* mepc / sepc: bit 0 is always zero; bit 1 is kept (IALIGN = 16) */
    CASE 13
    li t0, -1
    csrw mepc, t0
    csrr a0, mepc
    CHECK_EQ a0, 0xfffffffffffffffe
    CASE 14
    li t0, 0x80000003
    csrw mepc, t0
    csrr a0, mepc
    CHECK_EQ a0, 0x80000002
    CASE 15
    li t0, -1
    csrw sepc, t0
    csrr a0, sepc
    CHECK_EQ a0, 0xfffffffffffffffe
    CASE 16
    li t0, 0x12345
    csrw sepc, t0
    csrr a0, sepc
    CHECK_EQ a0, 0x12344
    CASE 17
    /* mret to an odd mepc value lands on the even address */
    la t0, 1f + 1
    csrw mepc, t0
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    mret
    j fail
1:

    /* misaligned AMOs and SC: store/AMO address-misaligned, mtval the
     * address, memory and rd untouched */
    CASE 18
    la a1, amo_area
    li t0, 0x0102030405060708
    sd t0, 0(a1)
    li a0, 0xdead
    addi a4, a1, 2
    EXPECT_TRAP 1f
    amoadd.w a0, a2, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_STORE
    CHECK_TF_REG TF_MTVAL, a4
    CHECK_EQ a0, 0xdead
    ld t0, 0(a1)
    CHECK_EQ t0, 0x0102030405060708
    CASE 19
    addi a4, a1, 4
    EXPECT_TRAP 1f
    amoswap.d a0, a2, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_STORE
    CHECK_TF_REG TF_MTVAL, a4
    ld t0, 0(a1)
    CHECK_EQ t0, 0x0102030405060708
    CASE 20
    addi a4, a1, 1
    EXPECT_TRAP 1f
    amoor.d a0, a2, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_STORE
    CHECK_TF_REG TF_MTVAL, a4
    CASE 21
    addi a4, a1, 6
    EXPECT_TRAP 1f
    amomaxu.w a0, a2, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_STORE
    CHECK_TF_REG TF_MTVAL, a4
    CASE 22
    addi a4, a1, 3
    EXPECT_TRAP 1f
    amomin.w a0, a2, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_STORE
    CHECK_TF_REG TF_MTVAL, a4
    ld t0, 0(a1)
    CHECK_EQ t0, 0x0102030405060708
    CASE 23
    addi a4, a1, 2
    EXPECT_TRAP 1f
    sc.w a0, a2, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_STORE
    CHECK_TF_REG TF_MTVAL, a4
    CHECK_EQ a0, 0xdead
    CASE 24
    addi a4, a1, 4
    EXPECT_TRAP 1f
    sc.d a0, a2, (a4)
1:  CHECK_TRAP CAUSE_MISALIGNED_STORE
    CHECK_TF_REG TF_MTVAL, a4
    ld t0, 0(a1)
    CHECK_EQ t0, 0x0102030405060708
    CASE 25
    /* from U-mode too */
    addi a4, a1, 2
    ENTER_MODE PRV_U, 1f
1:  EXPECT_TRAP 2f
    amoxor.w a0, a2, (a4)
2:  CHECK_TRAP CAUSE_MISALIGNED_STORE
    CHECK_TF_REG TF_MTVAL, a4
    CHECK_TRAP_FROM PRV_U

    /* a change of fflags alone makes FS Dirty */
    CASE 26
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    li t0, 0x7ff0000000000001
    fmv.d.x f6, t0
    csrw fflags, zero
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_CLEAN
    csrs mstatus, t0
    feq.d a0, f6, f6
    csrr t1, mstatus
    srli t2, t1, 13
    andi t2, t2, 3
    CHECK_EQ t2, 3
    srli t2, t1, 63
    CHECK_EQ t2, 1
    csrr a0, fflags
    CHECK_EQ a0, 0x10
    CASE 27
    csrw fflags, zero
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_CLEAN
    csrs mstatus, t0
    fcvt.w.d a0, f6, rtz
    csrr t1, mstatus
    srli t2, t1, 13
    andi t2, t2, 3
    CHECK_EQ t2, 3
    li t0, MSTATUS_FS
    csrc mstatus, t0

    /* interrupt priority */
    CASE 28
    /* M-mode: MSI > MTI > SEI > SSI > STI */
    QUIESCE
    li t0, S_IRQS
    csrs mip, t0
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, CLINT_MTIMECMP
    sd zero, 0(t0)
    li t2, 50000000
1:  csrr t0, mip
    andi t0, t0, MIP_MTIP
    bnez t0, 2f
    addi t2, t2, -1
    bnez t2, 1b
    j fail
2:  li t0, MIP_MTIP | MIP_MSIP | S_IRQS
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    CHECK_ILOG_N 5
    CHECK_ILOG 0, 0x300 | IRQ_M_SOFT
    CHECK_ILOG 1, 0x300 | IRQ_M_TIMER
    CHECK_ILOG 2, 0x300 | IRQ_S_EXT
    CHECK_ILOG 3, 0x300 | IRQ_S_SOFT
    CHECK_ILOG 4, 0x300 | IRQ_S_TIMER
    CASE 29
    /* delegated, in S-mode: SEI > SSI > STI */
    QUIESCE
    li t0, S_IRQS
    csrw mideleg, t0
    csrs mie, t0
    csrs mip, t0
    csrsi mstatus, MSTATUS_SIE
    ENTER_MODE PRV_S, 1f
1:  nop
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_ILOG_N 3
    CHECK_ILOG 0, 0x100 | IRQ_S_EXT
    CHECK_ILOG 1, 0x100 | IRQ_S_SOFT
    CHECK_ILOG 2, 0x100 | IRQ_S_TIMER
    QUIESCE

    /* minstret: exact counts */
    CASE 30
    /* a read returns the count before the reading instruction */
    csrr a0, minstret
    nop
    nop
    nop
    nop
    nop
    csrr a1, minstret
    sub a1, a1, a0
    CHECK_EQ a1, 6
    CASE 31
    csrr a0, minstret
    li t0, 100
1:  addi t0, t0, -1
    bnez t0, 1b
    csrr a1, minstret
    sub a1, a1, a0
    CHECK_EQ a1, 202
    CASE 32
    /* instret is the same counter */
    csrr a0, minstret
    csrr a1, instret
    sub a1, a1, a0
    CHECK_EQ a1, 1
    CASE 33
    /* a written value is what the next instruction reads */
    li t0, 1000
    csrw minstret, t0
    csrr a0, minstret
    csrr a1, minstret
    CHECK_EQ a0, 1000
    CHECK_EQ a1, 1001

    /* pmpaddr holds address bits 55:2 only */
    CASE 34
    csrr s1, pmpcfg0
    csrw pmpcfg0, zero
    li t0, -1
    csrw pmpaddr3, t0
    csrr a0, pmpaddr3
    CHECK_EQ a0, 0x003fffffffffffff
    csrw pmpaddr3, zero
    csrw pmpcfg0, s1

    /* an AMO denied by PMP (no permission at all): store/AMO access fault */
    CASE 35
    la t0, pmp_page
    srli t0, t0, 2
    ori t0, t0, 0x1ff
    csrw pmpaddr0, t0
    li t0, PMP_NAPOT
    csrw pmpcfg0, t0
    sfence.vma
    la a4, pmp_page
    ENTER_MODE PRV_U, 1f
1:  EXPECT_TRAP 2f
    amoadd.d a0, a2, (a4)
2:  CHECK_TRAP CAUSE_STORE_ACCESS
    CHECK_TF_REG TF_MTVAL, a4
    CASE 36
    ENTER_MODE PRV_S, 1f
1:  EXPECT_TRAP 2f
    amoswap.w a0, a2, (a4)
2:  CHECK_TRAP CAUSE_STORE_ACCESS
    CHECK_TF_REG TF_MTVAL, a4
    csrw pmpcfg0, zero
    sfence.vma
    CASE 37
    /* an AMO to a vacant physical address: store/AMO access fault */
    li a4, 0x28000000
    EXPECT_TRAP 1f
    amoadd.w a0, a0, (a4)
1:  CHECK_TRAP CAUSE_STORE_ACCESS
    CHECK_TF_REG TF_MTVAL, a4

    /* Sstc with menvcfg.STCE clear: STIP does not follow stimecmp, it is
     * M-mode software's (QEMU 7.2 raises it from stimecmp all the same) */
    CASE 38
    QUIESCE
    li t0, -1
    csrw 0x14d, t0 /* stimecmp */
    csrw 0x14d, zero
    csrr t0, mip
    andi t0, t0, MIP_STIP
    CHECK_EQ t0, 0
    CASE 39
    /* STCE set: STIP is the comparison; cleared again: it no longer is */
    li t1, 1
    slli t1, t1, 63
    csrs 0x30a, t1 /* menvcfg.STCE */
    csrr t0, mip
    andi t0, t0, MIP_STIP
    CHECK_EQ t0, MIP_STIP
    csrc 0x30a, t1
    csrr t0, mip
    andi t0, t0, MIP_STIP
    CHECK_EQ t0, 0
    li t0, -1
    csrw 0x14d, t0

    /* every bit of mcounteren and scounteren is writable (Sscounterenw
     * with the 29 hpmcounters, which read zero) */
    CASE 40
    li t0, -1
    csrw mcounteren, t0
    csrw scounteren, t0
    csrr a0, mcounteren
    csrr a1, scounteren
    li t0, 0xffffffff
    CHECK_EQR a0, t0
    CHECK_EQR a1, t0
    csrw mcounteren, zero
    csrw scounteren, zero

    /* a loop of WFIs that complete at once (an IPI pending, MIE clear)
     * naps (firmware waiting to be started polls this way): over 10 ms of
     * mtime it runs a few dozen times, not hundreds of thousands */
    CASE 41
    QUIESCE
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP
    csrw mie, t0
    li t2, CLINT_MTIME
    ld a2, 0(t2)
    li a3, 100000 /* 10 ms at 10 MHz */
    li a0, 0
1:  wfi
    addi a0, a0, 1
    ld t0, 0(t2)
    sub t0, t0, a2
    bltu t0, a3, 1b
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    csrw mie, zero
    li t0, 1000
    bgeu a0, t0, fail
    PASS
