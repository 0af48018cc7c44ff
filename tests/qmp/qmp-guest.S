/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The guest of the QMP monitor's tests, for vireo-run and for QEMU's riscv
 * "virt" machine alike (-bios none -kernel). Hart 0 prints "qmp-guest:
 * ready" on the UART, then waits for a byte on it: "p" powers off through
 * the SiFive test device (status 0), "f" powers off with status 3, "r"
 * resets the machine (the program starts again and prints its line again).
 * It sleeps between looks at the UART (WFI, woken by the machine timer
 * every millisecond), so a waiting guest costs the host little. Other harts
 * sleep for good.
 */
#define UART        0x10000000
#define UART_LSR    5
#define LSR_DR      0x01
#define LSR_THRE    0x20
#define TEST_DEV    0x100000
#define CLINT_CMP   0x2004000
#define CLINT_MTIME 0x200bff8
#define TICK        10000 /* 1 ms of the 10 MHz timer */
#define MIE_MTIE    0x80

    .section .text.init, "ax"
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
    csrw mie, zero
    li s0, UART
    la a0, banner
    call puts
    li t0, MIE_MTIE
    csrw mie, t0 /* wakes WFI; mstatus.MIE stays 0, so no trap is taken */

wait:
    lbu t1, UART_LSR(s0)
    andi t1, t1, LSR_DR
    bnez t1, got_byte
    li t0, CLINT_MTIME
    ld t1, 0(t0)
    li t2, TICK
    add t1, t1, t2
    li t0, CLINT_CMP
    sd t1, 0(t0)
    wfi
    j wait

got_byte:
    lbu t1, 0(s0)
    li t2, 'p'
    beq t1, t2, power_off
    li t2, 'f'
    beq t1, t2, power_off_3
    li t2, 'r'
    beq t1, t2, reset
    j wait

power_off:
    li t1, 0x5555
    j test_dev
power_off_3:
    li t1, (3 << 16) | 0x3333
    j test_dev
reset:
    li t1, 0x7777
test_dev:
    li t0, TEST_DEV
    sw t1, 0(t0)
1:  j 1b

park:
    csrw mie, zero
2:  wfi
    j 2b

/* puts(a0): the NUL-terminated string at a0 on the UART. */
puts:
    lbu t1, 0(a0)
    beqz t1, 4f
3:  lbu t2, UART_LSR(s0)
    andi t2, t2, LSR_THRE
    beqz t2, 3b
    sb t1, 0(s0)
    addi a0, a0, 1
    j puts
4:  ret

    .section .rodata
banner:
    .asciz "qmp-guest: ready\n"
