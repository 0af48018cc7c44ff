/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"
#include "engine/irq.h"
#include "engine/ring.h"

G_BEGIN_DECLS

/* An NS16550A UART with a receive FIFO, a transmit path into a console ring
 * and an interrupt line. Registers are one byte apart (reg-shift 0). */
typedef struct VireoUart VireoUart;

#define VIREO_UART_MMIO_SIZE 0x100

/* `tx` receives what the guest writes; the UART does not own it. When it is
 * full, the UART reports its transmitter busy so that a polling guest waits. */
VireoUart *vireo_uart_new(VireoRing *tx, const VireoIrq *irq);
void vireo_uart_free(VireoUart *uart);
const VireoDeviceOps *vireo_uart_ops(void);

/* Host to guest: queue received bytes. Returns how many were taken; the rest
 * should be offered again once the guest has read some. */
gsize vireo_uart_receive(VireoUart *uart, const guint8 *data, gsize len);
/* How many more bytes vireo_uart_receive() would take now. */
gsize vireo_uart_rx_space(VireoUart *uart);

G_END_DECLS
