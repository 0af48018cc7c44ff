/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/uart.h"

typedef struct {
    bool level;
    int changes;
} IrqProbe;

static void probe_set(void *opaque, unsigned line, bool level)
{
    IrqProbe *p = opaque;
    p->level = level;
    p->changes++;
}

static uint64_t rd(VireoUart *u, uint64_t off)
{
    uint64_t v = 0;
    g_assert_true(vireo_uart_ops()->read(u, off, 1, &v));
    return v;
}

static void wr(VireoUart *u, uint64_t off, uint64_t v)
{
    g_assert_true(vireo_uart_ops()->write(u, off, 1, v));
}

static void test_uart_tx(void)
{
    VireoRing *ring = vireo_ring_new(16);
    VireoUart *u = vireo_uart_new(ring, NULL);
    guint8 out[32];

    g_assert_cmphex(rd(u, 5) & 0x60, ==, 0x60); /* THRE and TEMT */
    for (const char *s = "Vireo"; *s; s++) {
        wr(u, 0, (guint8)*s);
    }
    g_assert_cmpuint(vireo_ring_read(ring, out, sizeof out), ==, 5);
    g_assert_cmpmem(out, 5, "Vireo", 5);
    /* A full console ring makes the transmitter busy instead of losing bytes. */
    for (int i = 0; i < 16; i++) {
        wr(u, 0, 'x');
    }
    g_assert_cmphex(rd(u, 5) & 0x20, ==, 0);
    vireo_ring_read(ring, out, 1);
    g_assert_cmphex(rd(u, 5) & 0x20, ==, 0x20);
    vireo_uart_free(u);
    vireo_ring_free(ring);
}

static void test_uart_rx_irq(void)
{
    IrqProbe probe = { 0 };
    VireoIrq irq = { probe_set, &probe, 10 };
    VireoUart *u = vireo_uart_new(NULL, &irq);

    g_assert_cmphex(rd(u, 2) & 0x0f, ==, 0x01); /* no interrupt pending */
    wr(u, 1, 0x01);                             /* IER: received data */
    g_assert_false(probe.level);
    g_assert_cmpuint(vireo_uart_receive(u, (const guint8 *)"ab", 2), ==, 2);
    g_assert_true(probe.level);
    g_assert_cmphex(rd(u, 2) & 0x0f, ==, 0x04);
    g_assert_cmphex(rd(u, 5) & 0x01, ==, 0x01);
    g_assert_cmpuint(rd(u, 0), ==, 'a');
    g_assert_true(probe.level);
    g_assert_cmpuint(rd(u, 0), ==, 'b');
    g_assert_false(probe.level);
    g_assert_cmphex(rd(u, 5) & 0x01, ==, 0);
    vireo_uart_free(u);
}

static void test_uart_thr_irq(void)
{
    IrqProbe probe = { 0 };
    VireoIrq irq = { probe_set, &probe, 10 };
    VireoUart *u = vireo_uart_new(NULL, &irq);

    wr(u, 1, 0x02); /* enabling THRI with an empty transmitter raises it */
    g_assert_true(probe.level);
    g_assert_cmphex(rd(u, 2) & 0x0f, ==, 0x02);
    /* Reading IIR acknowledged it. */
    g_assert_false(probe.level);
    wr(u, 0, 'z');
    g_assert_true(probe.level);
    wr(u, 1, 0x00);
    g_assert_false(probe.level);
    vireo_uart_free(u);
}

static void test_uart_divisor_and_loopback(void)
{
    VireoUart *u = vireo_uart_new(NULL, NULL);

    wr(u, 3, 0x80); /* DLAB */
    wr(u, 0, 0x01);
    wr(u, 1, 0x02);
    g_assert_cmpuint(rd(u, 0), ==, 0x01);
    g_assert_cmpuint(rd(u, 1), ==, 0x02);
    wr(u, 3, 0x03);
    g_assert_cmpuint(rd(u, 1), ==, 0x00); /* IER again */
    wr(u, 4, 0x10);                       /* loopback */
    wr(u, 0, 0x5a);
    g_assert_cmphex(rd(u, 5) & 0x01, ==, 0x01);
    g_assert_cmpuint(rd(u, 0), ==, 0x5a);
    wr(u, 7, 0x42);
    g_assert_cmpuint(rd(u, 7), ==, 0x42);
    /* Bytes beyond the register window read as zero and are ignored. */
    g_assert_cmpuint(rd(u, 0x20), ==, 0);
    vireo_uart_free(u);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/devices/uart/tx", test_uart_tx);
    g_test_add_func("/devices/uart/rx-irq", test_uart_rx_irq);
    g_test_add_func("/devices/uart/thr-irq", test_uart_thr_irq);
    g_test_add_func("/devices/uart/divisor-and-loopback", test_uart_divisor_and_loopback);
    return g_test_run();
}
