/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/virtio.h"
#include "engine/ring.h"

G_BEGIN_DECLS

/*
 * virtio-console (virtio 1.2, 5.3) with its one port, port 0, as a console
 * (Linux's hvc0). What the guest transmits goes into a VireoRing, at once on
 * the notifying vCPU's thread while the ring has room; when it is full, the
 * rest waits for the reader on the device's own thread (and the guest,
 * which polls for its transmit buffers, waits too, as with a busy UART).
 * Input comes from vireo_virtio_console_receive(). Emergency writes
 * (VIRTIO_CONSOLE_F_EMERG_WRITE) go into the same ring.
 */
#define VIREO_VIRTIO_CONSOLE_F_SIZE        0
#define VIREO_VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIREO_VIRTIO_CONSOLE_F_EMERG_WRITE 2

#define VIREO_VIRTIO_CONSOLE_RX           0 /* receiveq(port0) */
#define VIREO_VIRTIO_CONSOLE_TX           1 /* transmitq(port0) */
#define VIREO_VIRTIO_CONSOLE_QUEUE_SIZE   64
#define VIREO_VIRTIO_CONSOLE_CFG_EMERG_WR 8
#define VIREO_VIRTIO_CONSOLE_CONFIG_SIZE  12

/* `out` receives the guest's output; not owned, it must outlive the device.
 * NULL discards it. The device is the ring's only writer. */
VireoVirtio *vireo_virtio_console_new(VireoBus *bus, VireoRing *out);

/* Host to guest: puts bytes into the receive buffers the driver made
 * available. Returns how many were taken; offer the rest again later. 0 for
 * a device that is not a console. */
gsize vireo_virtio_console_receive(VireoVirtio *dev, const guint8 *data, gsize len);

G_END_DECLS
