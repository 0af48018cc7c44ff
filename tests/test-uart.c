/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/uart.h"
/* tests/devices/device-state.h */
#include "devices/device-state.h"

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

/* Receives `len` bytes of a repeating pattern, all taken. */
static void receive_pattern(VireoUart *u, gsize len, guint8 first)
{
    g_autofree guint8 *data = g_malloc(len);

    for (gsize i = 0; i < len; i++) {
        data[i] = (guint8)(first + i);
    }
    g_assert_cmpuint(vireo_uart_receive(u, data, len), ==, len);
}

static void test_uart_state_round_trip(void)
{
    const VireoDeviceOps *ops = vireo_uart_ops();
    IrqProbe probe = { 0 }, other_probe = { 0 };
    VireoIrq irq = { probe_set, &probe, 10 };
    VireoIrq other_irq = { probe_set, &other_probe, 10 };
    VireoUart *u = vireo_uart_new(NULL, &irq);
    VireoUart *other = vireo_uart_new(NULL, &other_irq);
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) again = NULL;

    wr(u, 3, 0x80); /* DLAB */
    wr(u, 0, 0x34);
    wr(u, 1, 0x12);
    wr(u, 3, 0x1b);
    wr(u, 4, 0x0b);
    wr(u, 7, 0x99);
    wr(u, 2, 0xc1); /* FIFO on, trigger level 14 */
    wr(u, 1, 0x01); /* received data */
    /* Wrap the FIFO's ring: 1000 in, 1000 out, then 300 in, 1 out. */
    receive_pattern(u, 1000, 0);
    for (int i = 0; i < 1000; i++) {
        rd(u, 0);
    }
    receive_pattern(u, 300, 7);
    g_assert_cmpuint(rd(u, 0), ==, 7);
    g_assert_true(probe.level);
    saved = device_state_save(ops, u);
    g_assert_cmpuint(saved->len, ==, 17 + 299);

    ops->reset(u);
    g_assert_false(probe.level);
    g_assert_true(device_state_load(ops, u, saved, &error));
    g_assert_no_error(error);
    again = device_state_save(ops, u);
    device_state_assert_same(saved, again);
    g_assert_true(probe.level);
    g_assert_cmphex(rd(u, 2), ==, 0xc4); /* FIFOs, received data */
    g_assert_cmphex(rd(u, 3), ==, 0x1b);
    g_assert_cmphex(rd(u, 4), ==, 0x0b);
    g_assert_cmphex(rd(u, 7), ==, 0x99);
    wr(u, 3, 0x9b);
    g_assert_cmphex(rd(u, 0), ==, 0x34);
    g_assert_cmphex(rd(u, 1), ==, 0x12);
    wr(u, 3, 0x1b);
    g_assert_cmpuint(vireo_uart_rx_space(u), ==, 1024 - 299);
    for (int i = 1; i < 300; i++) {
        g_assert_cmpuint(rd(u, 0), ==, (guint8)(7 + i));
    }
    g_assert_cmphex(rd(u, 5) & 0x01, ==, 0);
    g_assert_false(probe.level);

    /* A fresh UART: its line starts low and is driven. */
    g_assert_true(device_state_load(ops, other, saved, &error));
    g_assert_no_error(error);
    g_assert_true(other_probe.level);
    /* The line is driven even where the UART's level did not change (a
     * controller loaded with another level). */
    other_probe.level = false;
    g_assert_true(device_state_load(ops, other, saved, &error));
    g_assert_true(other_probe.level);
    g_assert_cmpuint(rd(other, 0), ==, 8);
    vireo_uart_free(other);
    vireo_uart_free(u);
}

static void test_uart_state_refused(void)
{
    const VireoDeviceOps *ops = vireo_uart_ops();
    IrqProbe probe = { 0 };
    VireoIrq irq = { probe_set, &probe, 10 };
    VireoUart *u = vireo_uart_new(NULL, &irq);
    g_autoptr(GByteArray) good = NULL;
    g_autoptr(GByteArray) bad = g_byte_array_new();
    static const struct {
        gsize at;
        guint8 value;
        const char *expect;
    } cases[] = {
        { 4, 0x10, "IER 0x10" },    /* IER */
        { 6, 0x20, "MCR 0x20" },    /* MCR */
        { 7, 0x02, "FCR 0x02" },    /* FCR */
        { 8, 0x01, "LSR 0x01" },    /* LSR: only its error bits are state */
        { 12, 2, "flag" },          /* the transmitter interrupt */
        { 13, 5, "ends 2 bytes" },  /* more FIFO bytes than there are */
        { 14, 4, "more than its" }, /* 1027 bytes */
    };

    wr(u, 1, 0x03);
    vireo_uart_receive(u, (const guint8 *)"abc", 3);
    good = device_state_save(ops, u);
    ops->reset(u);
    vireo_uart_receive(u, (const guint8 *)"z", 1);
    wr(u, 1, 0x01);
    g_assert_true(probe.level);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_byte_array_set_size(bad, 0);
        g_byte_array_append(bad, good->data, good->len);
        bad->data[cases[i].at] = cases[i].value;
        device_state_assert_refused(ops, u, bad->data, bad->len, cases[i].expect);
    }
    device_state_assert_cuts_refused(ops, u, good);
    g_assert_true(probe.level);
    g_assert_cmpuint(rd(u, 0), ==, 'z');
    vireo_uart_free(u);
}

/* Host input that arrives while the machine is paused is held: no byte in
 * the FIFO, no interrupt, none lost; resume delivers it in order, after
 * whatever a load put in the FIFO. */
static void test_uart_pause(void)
{
    const VireoDeviceOps *ops = vireo_uart_ops();
    IrqProbe probe = { 0 };
    VireoIrq irq = { probe_set, &probe, 10 };
    VireoUart *u = vireo_uart_new(NULL, &irq);
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) saved = NULL;

    wr(u, 1, 0x01);
    vireo_uart_receive(u, (const guint8 *)"AB", 2);
    g_assert_cmpuint(rd(u, 0), ==, 'A');
    saved = device_state_save(ops, u); /* "B" in the FIFO */
    g_assert_cmpuint(rd(u, 0), ==, 'B');
    g_assert_false(probe.level);

    ops->pause(u);
    g_assert_cmpuint(vireo_uart_receive(u, (const guint8 *)"xy", 2), ==, 2);
    g_assert_false(probe.level);
    g_assert_cmpint(probe.changes, ==, 2);
    g_assert_cmpuint(vireo_uart_rx_space(u), ==, 1022);
    /* Held input is not state: a save while paused leaves it out, and a
     * load keeps it. */
    {
        g_autoptr(GByteArray) paused = device_state_save(ops, u);
        g_assert_cmpuint(paused->len, ==, 17);
    }
    g_assert_true(device_state_load(ops, u, saved, &error));
    g_assert_no_error(error);
    g_assert_true(probe.level); /* the loaded "B" */
    /* The FIFO keeps room for what is held. */
    g_assert_cmpuint(vireo_uart_rx_space(u), ==, 1021);
    receive_pattern(u, 1021, 0);
    g_assert_cmpuint(vireo_uart_receive(u, (const guint8 *)"!", 1), ==, 0);
    ops->resume(u);
    g_assert_true(probe.level);
    g_assert_cmpuint(rd(u, 0), ==, 'B');
    g_assert_cmpuint(rd(u, 0), ==, 'x');
    g_assert_cmpuint(rd(u, 0), ==, 'y');
    for (int i = 0; i < 1021; i++) {
        g_assert_cmpuint(rd(u, 0), ==, (guint8)i);
    }
    g_assert_false(probe.level);
    g_assert_cmphex(rd(u, 5) & 0x03, ==, 0); /* nothing more, nothing lost */
    vireo_uart_free(u);
}

/* A load that fills the FIFO leaves held input waiting behind it until
 * the guest makes room. */
static void test_uart_pause_full(void)
{
    const VireoDeviceOps *ops = vireo_uart_ops();
    VireoUart *u = vireo_uart_new(NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) full = NULL;

    receive_pattern(u, 1024, 0);
    full = device_state_save(ops, u);
    wr(u, 2, 0x03); /* clear the FIFO */
    ops->pause(u);
    g_assert_cmpuint(vireo_uart_receive(u, (const guint8 *)"pq", 2), ==, 2);
    g_assert_true(device_state_load(ops, u, full, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(vireo_uart_rx_space(u), ==, 0);
    ops->resume(u);
    g_assert_cmpuint(vireo_uart_receive(u, (const guint8 *)"r", 1), ==, 0);
    g_assert_cmpuint(rd(u, 0), ==, 0);
    g_assert_cmpuint(vireo_uart_rx_space(u), ==, 0); /* 'p' moved in */
    g_assert_cmpuint(rd(u, 0), ==, 1);
    g_assert_cmpuint(vireo_uart_rx_space(u), ==, 0); /* 'q' too */
    g_assert_cmpuint(rd(u, 0), ==, 2);
    g_assert_cmpuint(vireo_uart_receive(u, (const guint8 *)"r", 1), ==, 1);
    for (int i = 3; i < 1024; i++) {
        g_assert_cmpuint(rd(u, 0), ==, (guint8)i);
    }
    g_assert_cmpuint(rd(u, 0), ==, 'p');
    g_assert_cmpuint(rd(u, 0), ==, 'q');
    g_assert_cmpuint(rd(u, 0), ==, 'r');
    g_assert_cmphex(rd(u, 5) & 0x03, ==, 0);
    vireo_uart_free(u);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/devices/uart/tx", test_uart_tx);
    g_test_add_func("/devices/uart/rx-irq", test_uart_rx_irq);
    g_test_add_func("/devices/uart/thr-irq", test_uart_thr_irq);
    g_test_add_func("/devices/uart/divisor-and-loopback", test_uart_divisor_and_loopback);
    g_test_add_func("/devices/uart/state/round-trip", test_uart_state_round_trip);
    g_test_add_func("/devices/uart/state/refused", test_uart_state_refused);
    g_test_add_func("/devices/uart/pause", test_uart_pause);
    g_test_add_func("/devices/uart/pause-full", test_uart_pause_full);
    return g_test_run();
}
