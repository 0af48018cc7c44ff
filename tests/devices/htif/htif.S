/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Bare-metal programs for vireo-run's test mode. One source, built once per
 * MODE:
 *   1 PUTCHAR   prints "htif putchar\n" through HTIF device 1, then passes
 *   2 SYSCALL   write(1, ...) and write(2, ...) through the magic memory,
 *               checks the results (-EBADF for fd 5), then exit(EXIT_CODE)
 *   3 FAIL      reports failure of test 3 through tohost
 *   4 HANG      never ends
 *   5 FINISHER  prints "uart\n" on the UART, then writes FINISHER_VALUE to
 *               the SiFive test device
 */
#define MODE_PUTCHAR  1
#define MODE_SYSCALL  2
#define MODE_FAIL     3
#define MODE_HANG     4
#define MODE_FINISHER 5

#ifndef EXIT_CODE
#define EXIT_CODE 0
#endif
#ifndef FINISHER_VALUE
#define FINISHER_VALUE 0x5555
#endif

    .section .text.init, "ax"
    .globl _start
_start:
    csrr t0, mhartid
1:  bnez t0, 1b
    la sp, stack_top

#if MODE == MODE_PUTCHAR
    la s0, message
2:  lbu a0, 0(s0)
    beqz a0, pass
    call putchar
    addi s0, s0, 1
    j 2b

#elif MODE == MODE_SYSCALL
    li a0, 1
    la a1, message
    la a2, message_end
    sub a2, a2, a1
    mv s0, a2
    call sys_write
    li gp, 7
    bne a0, s0, fail
    li a0, 2
    la a1, message_err
    la a2, message_err_end
    sub a2, a2, a1
    mv s0, a2
    call sys_write
    li gp, 8
    bne a0, s0, fail
    li a0, 5
    la a1, message
    li a2, 4
    call sys_write
    li t0, -9
    li gp, 9
    bne a0, t0, fail
    /* exit(EXIT_CODE) */
    la t0, magic
    li t1, 93
    sd t1, 0(t0)
    li t1, EXIT_CODE
    sd t1, 8(t0)
    fence
    la t1, tohost
    sd t0, 0(t1)
3:  j 3b

#elif MODE == MODE_FAIL
    li gp, 3
    j fail

#elif MODE == MODE_HANG
4:  j 4b

#elif MODE == MODE_FINISHER
    la s0, uart_message
    li s1, 0x10000000
5:  lbu a0, 0(s0)
    beqz a0, 6f
7:  lbu t0, 5(s1)          /* LSR: wait for THRE */
    andi t0, t0, 0x20
    beqz t0, 7b
    sb a0, 0(s1)
    addi s0, s0, 1
    j 5b
6:  li t0, 0x100000
    li t1, FINISHER_VALUE
    sw t1, 0(t0)
8:  j 8b
#endif

pass:
    li t0, 1
    la t1, tohost
    sd t0, 0(t1)
9:  j 9b

/* Failure of test gp: tohost = (gp << 1) | 1. */
fail:
    slli t0, gp, 1
    ori t0, t0, 1
    la t1, tohost
    sd t0, 0(t1)
10: j 10b

/* HTIF console: device 1, command 1, the byte; wait for the host's answer
 * in fromhost and clear it. */
putchar:
    li t0, 0x0101000000000000
    or t0, t0, a0
    la t1, tohost
    sd t0, 0(t1)
    la t2, fromhost
11: ld t3, 0(t2)
    beqz t3, 11b
    sd zero, 0(t2)
    ret

/* write(a0, a1, a2) through the magic memory; returns the result in a0. */
sys_write:
    la t0, magic
    li t1, 64
    sd t1, 0(t0)
    sd a0, 8(t0)
    sd a1, 16(t0)
    sd a2, 24(t0)
    fence
    la t1, tohost
    sd t0, 0(t1)
    la t2, fromhost
12: ld t3, 0(t2)
    beqz t3, 12b
    sd zero, 0(t2)
    ld a0, 0(t0)
    ret

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .align 6
    .globl fromhost
fromhost: .dword 0

    .data
message:
#if MODE == MODE_PUTCHAR
    .asciz "htif putchar\n"
#else
    .ascii "syscall write to stdout\n"
#endif
message_end:
message_err:
    .ascii "syscall write to stderr\n"
message_err_end:
uart_message:
    .asciz "uart\n"

    .align 6
magic:
    .fill 8, 8, 0

    .bss
    .align 12
    .skip 4096
stack_top:
