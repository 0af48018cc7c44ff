/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/uart.h"
#include "engine/snap.h"

#include <string.h>

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
    /* Host input taken while the machine is paused (or while the FIFO is
     * full after a load), moved into the FIFO on resume. Not machine
     * state: the guest has not seen it. */
    guint8 held[RX_FIFO];
    guint held_count;
    bool paused;
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

/* Drives the line when its level changes, or always (`force`: after a
 * load, when the line may hold another machine state's level). */
static void drive_irq_locked(VireoUart *u, bool force)
{
    bool level = (iir_locked(u) & IIR_NONE) == 0;

    if (level != u->irq_level || force) {
        u->irq_level = level;
        vireo_irq_set(&u->irq, level);
    }
}

static void update_irq_locked(VireoUart *u)
{
    drive_irq_locked(u, false);
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

/* Moves held host input into the FIFO, as much as fits. */
static void drain_held_locked(VireoUart *u)
{
    guint n = MIN(u->held_count, RX_FIFO - u->rx_count);

    if (u->paused || n == 0) {
        return;
    }
    for (guint i = 0; i < n; i++) {
        rx_push_locked(u, u->held[i]);
    }
    memmove(u->held, u->held + n, u->held_count - n);
    u->held_count -= n;
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
            drain_held_locked(u);
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
            drain_held_locked(u);
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
    drain_held_locked(u);
    update_irq_locked(u);
    g_mutex_unlock(&u->lock);
}

/*
 * Machine state (docs/SNAPSHOTS.md, "ns16550a"): the layout version, the
 * registers (IER, LCR, MCR, FCR, the LSR's error bits, SCR, DLL, DLM), the
 * transmitter-empty interrupt not yet acknowledged, and the receive FIFO's
 * bytes, oldest first. IIR, the rest of LSR, MSR and the interrupt line
 * follow from these. What the guest wrote went into the console ring at
 * once and is output, not state.
 */

#define UART_STATE_VERSION 1

static bool uart_save(void *opaque, VireoSnapWriter *w, GError **error)
{
    VireoUart *u = opaque;

    g_mutex_lock(&u->lock);
    vireo_snap_put_u32(w, UART_STATE_VERSION);
    vireo_snap_put_u8(w, u->ier);
    vireo_snap_put_u8(w, u->lcr);
    vireo_snap_put_u8(w, u->mcr);
    vireo_snap_put_u8(w, u->fcr);
    vireo_snap_put_u8(w, u->lsr_err);
    vireo_snap_put_u8(w, u->scr);
    vireo_snap_put_u8(w, u->dll);
    vireo_snap_put_u8(w, u->dlm);
    vireo_snap_put_bool(w, u->thr_pending);
    vireo_snap_put_u32(w, u->rx_count);
    for (guint i = 0; i < u->rx_count; i++) {
        vireo_snap_put_u8(w, u->rx[(u->rx_head + i) % RX_FIFO]);
    }
    g_mutex_unlock(&u->lock);
    return true;
}

static bool uart_load(void *opaque, VireoSnapReader *r, GError **error)
{
    VireoUart *u = opaque;
    uint32_t version = vireo_snap_get_u32(r);
    guint8 ier = vireo_snap_get_u8(r);
    guint8 lcr = vireo_snap_get_u8(r);
    guint8 mcr = vireo_snap_get_u8(r);
    guint8 fcr = vireo_snap_get_u8(r);
    guint8 lsr_err = vireo_snap_get_u8(r);
    guint8 scr = vireo_snap_get_u8(r);
    guint8 dll = vireo_snap_get_u8(r);
    guint8 dlm = vireo_snap_get_u8(r);
    bool thr_pending = vireo_snap_get_bool(r);
    uint32_t rx_count = vireo_snap_get_u32(r);
    const guint8 *rx;

    if (vireo_snap_reader_version(r) != 1 || version != UART_STATE_VERSION) {
        vireo_snap_fail(r, "layout version %u/%u is not 1/%u", vireo_snap_reader_version(r),
                        version, UART_STATE_VERSION);
    } else if ((ier & ~0x0f) != 0 || (mcr & ~0x1f) != 0 || (fcr & ~0xc9) != 0 ||
               (lsr_err & ~LSR_OE) != 0) {
        vireo_snap_fail(r,
                        "a register holds bits that do not exist (IER 0x%02x, MCR 0x%02x, "
                        "FCR 0x%02x, LSR 0x%02x)",
                        ier, mcr, fcr, lsr_err);
    } else if (rx_count > RX_FIFO) {
        vireo_snap_fail(r, "its receive FIFO holds %u bytes, more than its %u", rx_count, RX_FIFO);
    }
    rx = vireo_snap_failed(r) ? NULL : vireo_snap_get_view(r, rx_count);
    if (!vireo_snap_reader_finish(r, error)) {
        return false;
    }

    g_mutex_lock(&u->lock);
    u->ier = ier;
    u->lcr = lcr;
    u->mcr = mcr;
    u->fcr = fcr;
    u->lsr_err = lsr_err;
    u->scr = scr;
    u->dll = dll;
    u->dlm = dlm;
    u->thr_pending = thr_pending;
    u->rx_head = 0;
    u->rx_count = rx_count;
    if (rx_count > 0) {
        memcpy(u->rx, rx, rx_count);
    }
    drive_irq_locked(u, true);
    g_mutex_unlock(&u->lock);
    return true;
}

/* From here to resume(), host input is held: it neither reaches the FIFO
 * nor raises the interrupt. */
static void uart_pause(void *opaque)
{
    VireoUart *u = opaque;

    g_mutex_lock(&u->lock);
    u->paused = true;
    g_mutex_unlock(&u->lock);
}

static void uart_resume(void *opaque)
{
    VireoUart *u = opaque;

    g_mutex_lock(&u->lock);
    u->paused = false;
    drain_held_locked(u);
    update_irq_locked(u);
    g_mutex_unlock(&u->lock);
}

static const VireoDeviceOps uart_ops = {
    .name = "ns16550a",
    .read = uart_read,
    .write = uart_write,
    .reset = uart_reset,
    .save = uart_save,
    .load = uart_load,
    .pause = uart_pause,
    .resume = uart_resume,
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

/* Room for host input: the FIFO's, less what is held for it. */
static gsize rx_space_locked(VireoUart *u)
{
    guint used = u->rx_count + u->held_count;

    return used < RX_FIFO ? RX_FIFO - used : 0;
}

gsize vireo_uart_rx_space(VireoUart *uart)
{
    gsize space;

    g_mutex_lock(&uart->lock);
    space = rx_space_locked(uart);
    g_mutex_unlock(&uart->lock);
    return space;
}

gsize vireo_uart_receive(VireoUart *uart, const guint8 *data, gsize len)
{
    gsize n;

    g_mutex_lock(&uart->lock);
    drain_held_locked(uart);
    n = MIN(len, rx_space_locked(uart));
    if (uart->paused || uart->held_count > 0) {
        /* Behind what is held, in order. */
        memcpy(uart->held + uart->held_count, data, n);
        uart->held_count += (guint)n;
    } else {
        for (gsize i = 0; i < n; i++) {
            rx_push_locked(uart, data[i]);
        }
    }
    if (!uart->paused) {
        update_irq_locked(uart);
    }
    g_mutex_unlock(&uart->lock);
    return n;
}
