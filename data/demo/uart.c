/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The serial console: the board's NS16550A, polled, and a small formatter. */
#include "demo.h"

#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_LSR 5

#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

void uart_init(void)
{
    mmio_write8(BOARD_UART + UART_IER, 0x00); /* no interrupts: polled */
    mmio_write8(BOARD_UART + UART_LCR, 0x03); /* 8 bits, no parity, 1 stop */
    mmio_write8(BOARD_UART + UART_FCR, 0x01); /* FIFOs on */
}

void uart_putc(char c)
{
    if (c == '\n')
        uart_putc('\r');
    while ((mmio_read8(BOARD_UART + UART_LSR) & LSR_THR_EMPTY) == 0) {}
    mmio_write8(BOARD_UART + UART_THR, (uint8_t)c);
}

void uart_puts(const char *s)
{
    while (*s != '\0')
        uart_putc(*s++);
}

int uart_getc(void)
{
    if ((mmio_read8(BOARD_UART + UART_LSR) & LSR_DATA_READY) == 0)
        return -1;
    return mmio_read8(BOARD_UART + UART_RBR);
}

/* ---- Formatting ----------------------------------------------------------- */

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_number(struct out *o, uint64_t v, unsigned base, bool negative, int width, char pad)
{
    char digits[24];
    int n = 0;

    do {
        unsigned d = (unsigned)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v != 0);
    if (negative && pad == '0')
        put(o, '-');
    for (int i = n + (negative ? 1 : 0); i < width; i++)
        put(o, pad);
    if (negative && pad != '0')
        put(o, '-');
    while (n > 0)
        put(o, digits[--n]);
}

int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt != '\0'; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_number(&o, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            put_number(&o, v, *fmt == 'x' ? 16 : 10, false, width, pad);
            break;
        }
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_number(&o, (uintptr_t)va_arg(ap, void *), 16, false, width, pad);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = (int)strlen(s ? s : "(null)");
            for (int i = len; i < width; i++)
                put(&o, ' ');
            for (const char *p = s ? s : "(null)"; *p != '\0'; p++)
                put(&o, *p);
            break;
        }
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        case '%': put(&o, '%'); break;
        case '\0': fmt--; break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            break;
        }
    }
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void uart_printf(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    uart_puts(line);
}
