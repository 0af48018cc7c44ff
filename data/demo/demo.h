/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The Vireo demo program: a bare-metal RISC-V 64 program that draws an
 * animated scene on a virtio-gpu display (docs/DEMO.md). It runs alone in
 * M-mode on the `virt` board, without firmware; hart 0 does the work and the
 * other harts sleep. This header has the board, the console, the clock and
 * the small helpers every part uses.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The virt board (docs/BOARD.md) --------------------------------------- */

#define BOARD_TEST      0x100000ul   /* SiFive test device: power-off */
#define BOARD_CLINT     0x2000000ul  /* mtimecmp at +0x4000 + 8 × hart */
#define BOARD_PLIC      0xc000000ul  /* context 0 is hart 0's M-mode */
#define BOARD_UART      0x10000000ul /* NS16550A */
#define BOARD_RAM       0x80000000ul
#define TEST_POWER_OFF  0x5555u
#define TEST_FAIL(code) (((uint32_t)(code) << 16) | 0x3333u)

static inline uint32_t mmio_read32(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uintptr_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
}

static inline uint8_t mmio_read8(uintptr_t addr)
{
    return *(volatile uint8_t *)addr;
}

static inline void mmio_write8(uintptr_t addr, uint8_t value)
{
    *(volatile uint8_t *)addr = value;
}

/* Orders every earlier memory and device access before every later one. */
static inline void fence(void)
{
    __asm__ volatile("fence iorw, iorw" ::: "memory");
}

/* The `time` CSR: the board's mtime, counting at the timebase frequency. */
static inline uint64_t read_time(void)
{
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

/* ---- Console (uart.c) ------------------------------------------------------ */

void uart_init(void);
void uart_putc(char c);
void uart_puts(const char *s);
/* A byte typed on the serial console, or -1. */
int uart_getc(void);
/* printf for %s %c %d %u %x %p with l/ll, width and 0 padding. */
void uart_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same into a buffer; always NUL-terminated. Returns the length. */
int format(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vformat(char *buf, size_t size, const char *fmt, va_list ap);

/* ---- Platform (platform.c) ------------------------------------------------ */

/* Timer ticks per second, from the device tree (10 MHz on the virt board). */
extern uint64_t timebase_hz;

/* Lets interrupt source `irq` of the PLIC wake hart 0 from wfi. */
void platform_enable_irq(uint32_t irq);
/* Sleeps until the time reaches `deadline` or an enabled interrupt is
 * pending, whichever comes first. Returns the PLIC source it claimed, or 0;
 * the caller quiets the device and then completes the source. */
uint32_t platform_wait(uint64_t deadline);
void platform_complete(uint32_t irq);
_Noreturn void power_off(uint32_t value);

/* ---- Device tree (fdt.c) -------------------------------------------------- */

#define FDT_MAX_VIRTIO 8

struct board_info {
    uint64_t ram_base, ram_size;
    uint64_t timebase_hz;
    char bootargs[256];
    unsigned n_harts;
    unsigned n_virtio;
    struct {
        uint64_t base;
        uint32_t irq;
    } virtio[FDT_MAX_VIRTIO];
};

/* Reads what the demo needs from the flattened device tree at `fdt`.
 * Returns false when `fdt` holds no device tree. */
bool fdt_read_board(const void *fdt, struct board_info *info);
/* The total size of the device tree at `fdt` (0 if there is none). */
uint32_t fdt_total_size(const void *fdt);

/* ---- Freestanding helpers (util.c) ---------------------------------------- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
/* The value of `key=` among the space-separated words of `args`, as an
 * unsigned number, or `fallback`. */
uint64_t arg_number(const char *args, const char *key, uint64_t fallback);

double dsqrt(double x);
double dfloor(double x);
/* x mod m, in [0, m) for m > 0. */
double dmod(double x, double m);
double dsin(double x);
double dcos(double x);

static inline int imin(int a, int b)
{
    return a < b ? a : b;
}

static inline int imax(int a, int b)
{
    return a > b ? a : b;
}

static inline int iclamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}
