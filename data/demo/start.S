/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Entry of the demo program. Every hart starts here in M-mode with a0 = its
 * hart id and a1 = the device tree (the board's reset ROM, or QEMU's with
 * -bios none). Hart 0 sets up the C environment and runs demo_main(); the
 * others sleep in wfi with every interrupt disabled, for good.
 */
    .section .text.init, "ax"
    .globl _start
    .align 2
_start:
    csrw mie, zero
    la t0, trap_entry
    csrw mtvec, t0
    /* mstatus.FS = Initial: the floating-point unit is on. */
    li t0, 1 << 13
    csrs mstatus, t0
    bnez a0, park

    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, stack_top
    /* Zero .bss (the stack included); a0 and a1 stay as they came. */
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call demo_main
park:
    wfi
    j park

/*
 * Traps are not expected: interrupts only wake wfi (mstatus.MIE stays 0).
 * An exception saves the registers on the stack and calls demo_trap(), which
 * reports it on the console and powers the machine off.
 */
    .align 2
trap_entry:
    addi sp, sp, -256
    sd ra, 8(sp)
    sd gp, 24(sp)
    sd tp, 32(sp)
    sd t0, 40(sp)
    sd t1, 48(sp)
    sd t2, 56(sp)
    sd s0, 64(sp)
    sd s1, 72(sp)
    sd a0, 80(sp)
    sd a1, 88(sp)
    sd a2, 96(sp)
    sd a3, 104(sp)
    sd a4, 112(sp)
    sd a5, 120(sp)
    sd a6, 128(sp)
    sd a7, 136(sp)
    mv a0, sp
    csrr a1, mcause
    csrr a2, mepc
    csrr a3, mtval
    call demo_trap
3:  wfi
    j 3b
