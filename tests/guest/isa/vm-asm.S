/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Assembly helpers of the C test programs (vm.c, pmp.c): one memory access
 * or jump performed in S-mode or U-mode, or in M-mode through mstatus.MPRV,
 * with the trap it raised (if any) reported back to C.
 *
 * Operations (a1 / op):
 *   0 ld   1 sd   2 jump to va (the code there ends with an ecall)
 *   3 lbu  4 sb   5 amoadd.d   6 lr.d   7 lw   8 sw
 *   9 cbo.zero   10 cbo.clean   11 cbo.flush   12 cbo.inval (Zicbom, Zicboz;
 *   written with .insn, for any -march)
 * A loaded value lands in a6 and is stored through the `out` pointer.
 */
#include "test-macros.inc"

/* The code S-mode or U-mode runs: it performs the access and returns to
 * M-mode with an ecall. It sits alone in a 4 KiB page so that a page table
 * can map it where U-mode may run it. */
    .section .text.vm_stub, "ax", @progbits
    .balign 4096
    .globl vm_stub
vm_stub:
    li t0, 0
    beq a1, t0, 10f
    li t0, 1
    beq a1, t0, 11f
    li t0, 2
    beq a1, t0, 12f
    li t0, 3
    beq a1, t0, 13f
    li t0, 4
    beq a1, t0, 14f
    li t0, 5
    beq a1, t0, 15f
    li t0, 6
    beq a1, t0, 16f
    li t0, 7
    beq a1, t0, 17f
    li t0, 8
    beq a1, t0, 18f
    li t0, 9
    beq a1, t0, 19f
    li t0, 10
    beq a1, t0, 20f
    li t0, 11
    beq a1, t0, 21f
    li t0, 12
    beq a1, t0, 22f
    ecall
10: ld a6, 0(a2)
    ecall
11: sd a3, 0(a2)
    ecall
12: jalr ra, 0(a2)
    ecall
13: lbu a6, 0(a2)
    ecall
14: sb a3, 0(a2)
    ecall
15: amoadd.d a6, a3, (a2)
    ecall
16: lr.d a6, (a2)
    ecall
17: lw a6, 0(a2)
    ecall
18: sw a3, 0(a2)
    ecall
19: .insn i 0x0f, 2, x0, a2, 4 /* cbo.zero (a2) */
    ecall
20: .insn i 0x0f, 2, x0, a2, 1 /* cbo.clean (a2) */
    ecall
21: .insn i 0x0f, 2, x0, a2, 2 /* cbo.flush (a2) */
    ecall
22: .insn i 0x0f, 2, x0, a2, 0 /* cbo.inval (a2) */
    ecall
    .balign 4096

    .text
/*
 * uint64_t vm_access(unsigned mode, unsigned op, uint64_t va, uint64_t value,
 *                    uint64_t stub_va, uint64_t *out)
 * Runs vm_stub (mapped at stub_va) in `mode`. Returns the cause of the trap
 * that ended it: CAUSE_ECALL_U/S when the access completed, else the
 * exception it raised (mepc/mtval in the trap frame).
 */
    .globl vm_access
vm_access:
    addi sp, sp, -16
    sd ra, 0(sp)
    sd a5, 8(sp)
    li a6, 0
    EXPECT_TRAP 1f
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    slli t0, a0, 11
    csrs mstatus, t0
    csrw mepc, a4
    mret
1:  ld ra, 0(sp)
    ld t0, 8(sp)
    addi sp, sp, 16
    beqz t0, 2f
    sd a6, 0(t0)
2:  TF_LOAD a0, TF_MCAUSE
    ret

/*
 * uint64_t vm_access_sdeleg(unsigned mode, unsigned op, uint64_t va,
 *                           uint64_t value, uint64_t stub_va, uint64_t *out)
 * As vm_access, for exceptions delegated to S-mode: the S handler resumes at
 * a label that goes back to M-mode with an ecall from S. Returns the M-mode
 * cause (CAUSE_ECALL_S after a delegated exception); scause/stval/sepc are
 * in the trap frame.
 */
    .globl vm_access_sdeleg
vm_access_sdeleg:
    addi sp, sp, -16
    sd ra, 0(sp)
    sd a5, 8(sp)
    li a6, 0
    S_EXPECT_TRAP 3f
    EXPECT_TRAP 1f
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    slli t0, a0, 11
    csrs mstatus, t0
    csrw mepc, a4
    mret
3:  ecall
1:  ld ra, 0(sp)
    ld t0, 8(sp)
    addi sp, sp, 16
    beqz t0, 2f
    sd a6, 0(t0)
2:  CLEAR_EXPECT
    TF_LOAD a0, TF_MCAUSE
    ret

/*
 * uint64_t mprv_access(unsigned mpp, unsigned op, uint64_t va,
 *                      uint64_t value, uint64_t *out)
 * One access from M-mode with mstatus.MPRV = 1 and MPP = mpp. Returns 0
 * when it completed, else the cause of its exception.
 */
    .globl mprv_access
mprv_access:
    li a6, 0
    EXPECT_TRAP 1f
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    slli t0, a0, 11
    csrs mstatus, t0
    li t1, MSTATUS_MPRV
    li t0, 0
    beq a1, t0, 10f
    li t0, 1
    beq a1, t0, 11f
    li t0, 3
    beq a1, t0, 13f
    li t0, 4
    beq a1, t0, 14f
    li t0, 5
    beq a1, t0, 15f
    j fail
10: csrs mstatus, t1
    ld a6, 0(a2)
    j 19f
11: csrs mstatus, t1
    sd a3, 0(a2)
    j 19f
13: csrs mstatus, t1
    lbu a6, 0(a2)
    j 19f
14: csrs mstatus, t1
    sb a3, 0(a2)
    j 19f
15: csrs mstatus, t1
    amoadd.d a6, a3, (a2)
19: csrc mstatus, t1
    CLEAR_EXPECT
    la t6, trap_frame
    sd zero, TF_MCAUSE(t6)
    j 2f
1:  li t1, MSTATUS_MPRV
    csrc mstatus, t1
2:  beqz a4, 3f
    sd a6, 0(a4)
3:  TF_LOAD a0, TF_MCAUSE
    ret

/* void pmp_allow_all(void): PMP entry 15 grants S/U everything. */
    .globl pmp_allow_all
pmp_allow_all:
    PMP_ALLOW_ALL
    ret
