/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A bare-metal program for the GDB stub's tests (and QEMU's, to compare):
 * hart 0 sums 1..10 through a function the debugger breaks on, stores the
 * sum where a watchpoint looks, runs a while, and reports pass through tohost and the
 * test device; every other hart counts in a loop, so that the debugger sees
 * several threads.
 */
#include <stdint.h>

#define TEST_DEVICE 0x100000

volatile uint64_t tohost __attribute__((section(".tohost"))) = 0;
volatile uint64_t fromhost __attribute__((section(".tohost"))) = 0;
volatile uint64_t watched = 0;
volatile uint64_t spins[8] = { 0 };
uint64_t stacks[8][256] __attribute__((aligned(16)));

void gdb_main(void);
void gdb_secondary(uint64_t hart);

__asm__(".section .text.init, \"ax\"\n"
        ".globl _start\n"
        "_start:\n"
        "    csrr a0, mhartid\n"
        "    andi a0, a0, 7\n"
        "    la sp, stacks\n"
        "    addi t0, a0, 1\n"
        "    slli t0, t0, 11\n"
        "    add sp, sp, t0\n"
        "    bnez a0, 1f\n"
        "    call gdb_main\n"
        "1:  call gdb_secondary\n"
        "2:  j 2b\n");

__attribute__((noinline)) uint64_t gdb_add(uint64_t a, uint64_t b)
{
    return a + b;
}

void gdb_main(void)
{
    uint64_t sum = 0;

    for (uint64_t i = 1; i <= 10; i++) {
        sum = gdb_add(sum, i);
    }
    watched = sum;
    /* A while for a debugger's interrupt to land: half a second of the
     * board's time (10 MHz on both emulators), however fast the engine. */
    uint64_t start, now;
    __asm__ volatile("rdtime %0" : "=r"(start));
    do {
        __asm__ volatile("rdtime %0" : "=r"(now));
    } while (now - start < 5000000);
    tohost = sum == 55 ? 1 : 3;
    *(volatile uint32_t *)TEST_DEVICE = sum == 55 ? 0x5555 : 0x13333;
    for (;;) {}
}

void gdb_secondary(uint64_t hart)
{
    for (;;) {
        spins[hart]++;
    }
}
