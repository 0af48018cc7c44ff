/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/net.h"
#include "devices/virtio.h"

G_BEGIN_DECLS

/*
 * virtio-net (virtio 1.2, 5.1): one receive queue and one transmit queue in
 * front of a host network back end (net.h), with a fixed MAC address, the
 * link always up and an MTU of 1500. No offloads are offered, so every
 * packet's 12-byte virtio_net_hdr carries no checksum or segmentation work:
 * on receive it is written as zeros (and num_buffers 1), on transmit it is
 * checked (a segmentation request is refused) and otherwise ignored.
 *
 * Transmit runs on the notifying vCPU's thread: each chain's readable part
 * is gathered into one frame and handed to the back end, which never blocks.
 * When the back end has no room, the device keeps the frame, stops taking
 * chains, and goes on when the back end says it has room. Chains with
 * writable buffers, too short for a header and an Ethernet header, longer
 * than VIREO_NET_MAX_FRAME after the header, or asking for segmentation are
 * returned unsent.
 *
 * Receive runs on the back end's thread: each frame goes into the writable
 * part of one chain (no mergeable buffers). A frame larger than the chain is
 * dropped and the chain kept for the next one; a chain too small for any
 * frame is returned empty. While the driver has no buffer available, frames
 * wait in a queue of VIREO_VIRTIO_NET_RX_BACKLOG frames (dropping new ones
 * when it is full) and are delivered when the driver adds buffers. A reset
 * forgets the queued frames.
 */

/* Feature bits (5.1.3). */
#define VIREO_VIRTIO_NET_F_CSUM      0
#define VIREO_VIRTIO_NET_F_MTU       3
#define VIREO_VIRTIO_NET_F_MAC       5
#define VIREO_VIRTIO_NET_F_MRG_RXBUF 15
#define VIREO_VIRTIO_NET_F_STATUS    16
#define VIREO_VIRTIO_NET_F_CTRL_VQ   17

#define VIREO_VIRTIO_NET_S_LINK_UP 1

/* Configuration space offsets (5.1.4). */
#define VIREO_VIRTIO_NET_CFG_MAC                 0
#define VIREO_VIRTIO_NET_CFG_STATUS              6
#define VIREO_VIRTIO_NET_CFG_MAX_VIRTQUEUE_PAIRS 8
#define VIREO_VIRTIO_NET_CFG_MTU                 10
#define VIREO_VIRTIO_NET_CONFIG_SIZE             12

/* The header in front of every packet (5.1.6), with VIRTIO_F_VERSION_1. */
#define VIREO_VIRTIO_NET_HDR_SIZE        12
#define VIREO_VIRTIO_NET_HDR_FLAGS       0
#define VIREO_VIRTIO_NET_HDR_GSO_TYPE    1
#define VIREO_VIRTIO_NET_HDR_NUM_BUFFERS 10
#define VIREO_VIRTIO_NET_HDR_GSO_NONE    0

#define VIREO_VIRTIO_NET_RX         0 /* receiveq1 */
#define VIREO_VIRTIO_NET_TX         1 /* transmitq1 */
#define VIREO_VIRTIO_NET_QUEUE_SIZE 256
#define VIREO_VIRTIO_NET_MTU        1500
#define VIREO_VIRTIO_NET_RX_BACKLOG 256 /* frames waiting for receive buffers */

/* A network card on `backend`, which it takes over (freed with the device)
 * and starts. */
VireoVirtio *vireo_virtio_net_new(VireoBus *bus, VireoNetBackend *backend,
                                  const guint8 mac[VIREO_NET_MAC_LEN]);

/* What the device did since it was created (resets do not clear it). */
typedef struct {
    uint64_t tx_frames;  /* handed to the back end */
    uint64_t tx_dropped; /* chains returned unsent */
    uint64_t rx_frames;  /* written into receive buffers */
    uint64_t rx_dropped; /* frames lost: device not running, backlog full, too large */
    unsigned rx_backlog; /* frames waiting for a receive buffer now */
} VireoVirtioNetStats;

/* False for a device that is not a network card. */
bool vireo_virtio_net_get_stats(VireoVirtio *dev, VireoVirtioNetStats *stats);

G_END_DECLS
