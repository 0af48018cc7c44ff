/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The runtime every guest test program links: entry, trap handlers, the
 * pass and fail paths, tohost/fromhost, the trap frame and the stack.
 *
 * Reporting: pass stores 1 to tohost, failure of case N stores (N << 1) | 1;
 * right after, the same verdict goes to the SiFive test device (0x5555 for
 * pass, (N << 16) | 0x3333 for failure), then the hart spins.
 */
#include "test-macros.inc"

    .section .text.init, "ax"
    .globl _start
    .align 2
_start:
    /* Trap vectors and the trap frame. */
    la t0, trap_vector_m
    csrw mtvec, t0
    la t0, trap_frame
    csrw mscratch, t0
    csrw sscratch, t0
    la t0, trap_vector_s
    csrw stvec, t0
    /* Zero .bss (the stack included). */
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  la sp, stack_top
    li gp, 0
    li t0, 0
    li a0, 0
    li a1, 0
    call test_main
    j pass

    .text
    .globl pass
    .align 2
pass:
    li t0, 1
    la t1, tohost
    sd t0, 0(t1)
    li t1, TEST_DEVICE
    li t0, 0x5555
    sw t0, 0(t1)
1:  j 1b

/*
 * Failure of case gp. Reading mhartid makes sure this runs in M-mode: from
 * S or U the read traps, and the M handler (finding no expected trap) comes
 * back here in M-mode.
 */
    .globl fail
    .align 2
fail:
    csrr t0, mhartid
    bnez gp, 1f
    li gp, 255
1:  slli t0, gp, 1
    ori t0, t0, 1
    la t1, tohost
    sd t0, 0(t1)
    slli t0, gp, 16
    li t1, 0x3333
    or t0, t0, t1
    li t1, TEST_DEVICE
    sw t0, 0(t1)
1:  j 1b

/*
 * M-mode trap handler. sp is swapped with mscratch (the trap frame) so
 * that no register of the test is disturbed.
 */
    .globl trap_vector_m
    .align 6
trap_vector_m:
    csrrw sp, mscratch, sp
    sd t0, TF_M_T0(sp)
    sd t1, TF_M_T1(sp)
    csrr t0, mcause
    sd t0, TF_MCAUSE(sp)
    csrr t0, mtval
    sd t0, TF_MTVAL(sp)
    csrr t0, mepc
    sd t0, TF_MEPC(sp)
    csrr t0, mstatus
    sd t0, TF_MSTATUS(sp)
    ld t0, TF_MCOUNT(sp)
    addi t0, t0, 1
    sd t0, TF_MCOUNT(sp)
    csrr t0, mcause
    bltz t0, .Lm_interrupt
    ld t0, TF_MRESUME(sp)
    beqz t0, .Lm_unexpected
    sd zero, TF_MRESUME(sp)
    csrw mepc, t0
    /* Resume in M-mode. */
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    j .Lm_return

.Lm_unexpected:
    la t0, fail
    csrw mepc, t0
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    j .Lm_return

.Lm_interrupt:
    /* Log the interrupt and disable it in mie. */
    slli t0, t0, 1
    srli t0, t0, 1
    ld t1, TF_ILOG_N(sp)
    sltiu t1, t1, 8
    beqz t1, 1f
    ld t1, TF_ILOG_N(sp)
    slli t1, t1, 3
    add t1, t1, sp
    ori t0, t0, PRV_M << 8
    sd t0, TF_ILOG(t1)
    andi t0, t0, 0xff
1:  ld t1, TF_ILOG_N(sp)
    addi t1, t1, 1
    sd t1, TF_ILOG_N(sp)
    li t1, 1
    sll t1, t1, t0
    csrc mie, t1

.Lm_return:
    ld t0, TF_M_T0(sp)
    ld t1, TF_M_T1(sp)
    csrrw sp, mscratch, sp
    mret

/*
 * S-mode trap handler, for delegated traps. Resumes expected exceptions in
 * S-mode; an unexpected one escalates to M-mode with an ecall from S (never
 * delegated by these tests), which the M handler treats as unexpected.
 */
    .globl trap_vector_s
    .align 6
trap_vector_s:
    csrrw sp, sscratch, sp
    sd t0, TF_S_T0(sp)
    sd t1, TF_S_T1(sp)
    csrr t0, scause
    sd t0, TF_SCAUSE(sp)
    csrr t0, stval
    sd t0, TF_STVAL(sp)
    csrr t0, sepc
    sd t0, TF_SEPC(sp)
    csrr t0, sstatus
    sd t0, TF_SSTATUS(sp)
    ld t0, TF_SCOUNT(sp)
    addi t0, t0, 1
    sd t0, TF_SCOUNT(sp)
    csrr t0, scause
    bltz t0, .Ls_interrupt
    ld t0, TF_SRESUME(sp)
    beqz t0, .Ls_unexpected
    sd zero, TF_SRESUME(sp)
    csrw sepc, t0
    /* Resume in S-mode. */
    li t0, MSTATUS_SPP
    csrs sstatus, t0
    j .Ls_return

.Ls_unexpected:
    ld t0, TF_S_T0(sp)
    ld t1, TF_S_T1(sp)
    csrrw sp, sscratch, sp
    ecall
1:  j 1b

.Ls_interrupt:
    slli t0, t0, 1
    srli t0, t0, 1
    ld t1, TF_ILOG_N(sp)
    sltiu t1, t1, 8
    beqz t1, 1f
    ld t1, TF_ILOG_N(sp)
    slli t1, t1, 3
    add t1, t1, sp
    ori t0, t0, PRV_S << 8
    sd t0, TF_ILOG(t1)
    andi t0, t0, 0xff
1:  ld t1, TF_ILOG_N(sp)
    addi t1, t1, 1
    sd t1, TF_ILOG_N(sp)
    li t1, 1
    sll t1, t1, t0
    csrc sie, t1

.Ls_return:
    ld t0, TF_S_T0(sp)
    ld t1, TF_S_T1(sp)
    csrrw sp, sscratch, sp
    sret

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .align 6
    .globl fromhost
fromhost: .dword 0

    .data
    .align 6
    .globl trap_frame
trap_frame:
    .fill TF_SIZE / 8, 8, 0

    .bss
    .align 12
    .globl stack_bottom
stack_bottom:
    .skip 16384
    .globl stack_top
stack_top:
