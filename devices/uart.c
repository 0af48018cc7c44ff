/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/uart.h"

enum {
    REG_RBR_THR = 0,
    REG_IER = 1,
    REG_IIR_FCR = 2,
    REG_LCR = 3,
    REG_MCR = 4,
    REG_LSR = 5,
    REG_MSR = 6,
    REG_SCR = 7,
};

#define IER_RDI   0x01
#define IER_THRI  0x02
#define IER_RLSI  0x04
#define IER_MSI   0x08
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0
#define LCR_DLAB  0x80
#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MCR_LOOP  0x10
#define FCR_EN    0x01
#define FCR_CLRRX 0x02
#define RX_FIFO   1024

struct VireoUart {
    GMutex lock;
    VireoRing *tx;
    VireoIrq irq;
    guint8 rx[RX_FIFO];
    guint rx_head, rx_count;
    guint8 ier, lcr, mcr, lsr_err, scr, fcr, dll, dlm;
    bool thr_pending; /* a transmitter-empty interrupt not yet acknowledged */
    bool irq_level;
};

static bool tx_ready(VireoUart *u)
{
    return u->tx == NULL || vireo_ring_available(u->tx) < vireo_ring_capacity(u->tx);
}

static guint8 iir_locked(VireoUart *u)
{
    guint8 fifo = (u->fcr & FCR_EN) ? IIR_FIFO : 0;

    if ((u->ier & IER_RDI) && u->rx_count > 0) {
        return IIR_RDI | fifo;
    }
    if ((u->ier & IER_THRI) && u->thr_pending) {
        return IIR_THRI | fifo;
    }
    return IIR_NONE | fifo;
}

static void update_irq_locked(VireoUart *u)
{
    bool level = (iir_locked(u) & IIR_NONE) == 0;

    if (level != u->irq_level) {
        u->irq_level = level;
        vireo_irq_set(&u->irq, level);
    }
}

static void rx_push_locked(VireoUart *u, guint8 byte)
{
    if (u->rx_count == RX_FIFO) {
        u->lsr_err |= LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % RX_FIFO] = byte;
    u->rx_count++;
}

static bool uart_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    VireoUart *u = opaque;
    guint8 v = 0;

    if (offset > REG_SCR) {
        *value = 0;
        return true;
    }
    g_mutex_lock(&u->lock);
    switch (offset) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            v = u->dll;
        } else if (u->rx_count > 0) {
            v = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % RX_FIFO;
            u->rx_count--;
        }
        break;
    case REG_IER: v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier; break;
    case REG_IIR_FCR:
        v = iir_locked(u);
        if ((v & 0x0f) == IIR_THRI) {
            u->thr_pending = false;
        }
        break;
    case REG_LCR: v = u->lcr; break;
    case REG_MCR: v = u->mcr; break;
    case REG_LSR:
        v = u->lsr_err;
        u->lsr_err = 0;
        if (u->rx_count > 0) {
            v |= LSR_DR;
        }
        if (tx_ready(u)) {
            v |= LSR_THRE | LSR_TEMT;
        }
        break;
    case REG_MSR:
        if (u->mcr & MCR_LOOP) {
            /* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
            v = (guint8)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) | ((u->mcr & 0x04) << 4) |
                         ((u->mcr & 0x08) << 4));
        } else {
            v = 0xb0; /* DCD, DSR and CTS asserted */
        }
        break;
    case REG_SCR: v = u->scr; break;
    }
    update_irq_locked(u);
    g_mutex_unlock(&u->lock);
    *value = v;
    return true;
}

static bool uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    VireoUart *u = opaque;
    guint8 v = (guint8)value;

    if (offset > REG_SCR) {
        return true;
    }
    g_mutex_lock(&u->lock);
    switch (offset) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
        } else if (u->mcr & MCR_LOOP) {
            rx_push_locked(u, v);
            u->thr_pending = true;
        } else {
            if (u->tx != NULL) {
                vireo_ring_write(u->tx, &v, 1);
            }
            u->thr_pending = true;
        }
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            /* Enabling the THR interrupt while the transmitter is empty
             * raises it at once, as on the real part. */
            if (!(u->ier & IER_THRI) && (v & IER_THRI)) {
                u->thr_pending = true;
            }
            u->ier = v & 0x0f;
        }
        break;
    case REG_IIR_FCR:
        u->fcr = v & 0xc9;
        if (v & FCR_CLRRX) {
            u->rx_count = 0;
            u->rx_head = 0;
        }
        break;
    case REG_LCR: u->lcr = v; break;
    case REG_MCR: u->mcr = v & 0x1f; break;
    case REG_SCR: u->scr = v; break;
    default: break;
    }
    update_irq_locked(u);
    g_mutex_unlock(&u->lock);
    return true;
}

static void uart_reset(void *opaque)
{
    VireoUart *u = opaque;

    g_mutex_lock(&u->lock);
    u->rx_head = u->rx_count = 0;
    u->ier = u->lcr = u->mcr = u->lsr_err = u->scr = u->fcr = 0;
    u->dll = 0x0c;
    u->dlm = 0;
    u->thr_pending = false;
    update_irq_locked(u);
    g_mutex_unlock(&u->lock);
}

static const VireoDeviceOps uart_ops = {
    .name = "ns16550a",
    .read = uart_read,
    .write = uart_write,
    .reset = uart_reset,
};

const VireoDeviceOps *vireo_uart_ops(void)
{
    return &uart_ops;
}

VireoUart *vireo_uart_new(VireoRing *tx, const VireoIrq *irq)
{
    VireoUart *u = g_new0(VireoUart, 1);

    g_mutex_init(&u->lock);
    u->tx = tx;
    if (irq != NULL) {
        u->irq = *irq;
    }
    uart_reset(u);
    return u;
}

void vireo_uart_free(VireoUart *uart)
{
    if (uart == NULL) {
        return;
    }
    g_mutex_clear(&uart->lock);
    g_free(uart);
}

gsize vireo_uart_rx_space(VireoUart *uart)
{
    gsize space;

    g_mutex_lock(&uart->lock);
    space = RX_FIFO - uart->rx_count;
    g_mutex_unlock(&uart->lock);
    return space;
}

gsize vireo_uart_receive(VireoUart *uart, const guint8 *data, gsize len)
{
    gsize n;

    g_mutex_lock(&uart->lock);
    n = MIN(len, (gsize)(RX_FIFO - uart->rx_count));
    for (gsize i = 0; i < n; i++) {
        rx_push_locked(uart, data[i]);
    }
    update_irq_locked(uart);
    g_mutex_unlock(&uart->lock);
    return n;
}
