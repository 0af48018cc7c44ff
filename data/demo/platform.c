/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Hart 0's timer and interrupts, power-off and trap reports. The demo never
 * takes an interrupt: with mstatus.MIE at 0, an interrupt that is pending
 * and enabled in mie only ends a wfi (privileged ISA 3.3.3), and the code
 * after it looks at what happened. That needs no trap handler and no
 * interrupt-safe state.
 */
#include "demo.h"

#define CLINT_MTIMECMP0 (BOARD_CLINT + 0x4000)

#define PLIC_PRIORITY(irq) (BOARD_PLIC + 4 * (uintptr_t)(irq))
#define PLIC_ENABLE0(irq)  (BOARD_PLIC + 0x2000 + 4 * (uintptr_t)((irq) / 32))
#define PLIC_THRESHOLD0    (BOARD_PLIC + 0x200000)
#define PLIC_CLAIM0        (BOARD_PLIC + 0x200004)

#define MIE_MTIE (1ul << 7)
#define MIE_MEIE (1ul << 11)

uint64_t timebase_hz = 10000000;
static bool plic_in_use;

void platform_enable_irq(uint32_t irq)
{
    if (irq == 0 || irq >= 1024)
        return;
    mmio_write32(PLIC_PRIORITY(irq), 1);
    mmio_write32(PLIC_ENABLE0(irq), mmio_read32(PLIC_ENABLE0(irq)) | (1u << (irq % 32)));
    mmio_write32(PLIC_THRESHOLD0, 0);
    plic_in_use = true;
}

uint32_t platform_wait(uint64_t deadline)
{
    uint32_t claimed = 0;

    if (read_time() < deadline) {
        /* mtimecmp as two halves, high first at all ones, so that it never
         * passes through a value below the deadline on the way. */
        mmio_write32(CLINT_MTIMECMP0 + 4, 0xffffffffu);
        mmio_write32(CLINT_MTIMECMP0, (uint32_t)deadline);
        mmio_write32(CLINT_MTIMECMP0 + 4, (uint32_t)(deadline >> 32));
        unsigned long mie = MIE_MTIE | (plic_in_use ? MIE_MEIE : 0);
        __asm__ volatile("csrw mie, %0" ::"r"(mie));
        if (read_time() < deadline)
            __asm__ volatile("wfi");
        __asm__ volatile("csrw mie, zero");
    }
    if (plic_in_use)
        claimed = mmio_read32(PLIC_CLAIM0);
    return claimed;
}

void platform_complete(uint32_t irq)
{
    if (irq != 0)
        mmio_write32(PLIC_CLAIM0, irq);
}

_Noreturn void power_off(uint32_t value)
{
    fence();
    mmio_write32(BOARD_TEST, value);
    for (;;)
        __asm__ volatile("wfi");
}

/* Called by start.S for any exception: says what happened and stops. */
_Noreturn void demo_trap(uint64_t *regs, uint64_t cause, uint64_t epc, uint64_t tval);

_Noreturn void demo_trap(uint64_t *regs, uint64_t cause, uint64_t epc, uint64_t tval)
{
    (void)regs;
    uart_printf("\nvireo-demo: unexpected trap: mcause %lx, mepc %lx, mtval %lx\n", cause, epc,
                tval);
    power_off(TEST_FAIL(3));
}
