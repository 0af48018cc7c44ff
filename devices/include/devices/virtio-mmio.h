/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/virtio.h"

G_BEGIN_DECLS

/*
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2): a 4 KiB register
 * window in front of one VireoVirtio device, with one interrupt line that is
 * high while InterruptStatus is not 0. Registers below 0x100 take aligned
 * 32-bit accesses only; the device configuration space at 0x100 takes aligned
 * accesses of 1, 2, 4 or 8 bytes. Anything else is refused (an access fault
 * in the guest).
 */
typedef struct VireoVirtioMmio VireoVirtioMmio;

#define VIREO_VIRTIO_MMIO_SIZE    0x1000
#define VIREO_VIRTIO_MMIO_MAGIC   0x74726976 /* "virt" */
#define VIREO_VIRTIO_MMIO_VERSION 2
#define VIREO_VIRTIO_VENDOR_ID    0x45524956 /* "VIRE" */

/* Register offsets. */
#define VIREO_VIRTIO_MMIO_MAGIC_VALUE         0x000
#define VIREO_VIRTIO_MMIO_VERSION_REG         0x004
#define VIREO_VIRTIO_MMIO_DEVICE_ID           0x008
#define VIREO_VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIREO_VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIREO_VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIREO_VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIREO_VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIREO_VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIREO_VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIREO_VIRTIO_MMIO_QUEUE_READY         0x044
#define VIREO_VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIREO_VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIREO_VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIREO_VIRTIO_MMIO_STATUS              0x070
#define VIREO_VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIREO_VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIREO_VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIREO_VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIREO_VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIREO_VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIREO_VIRTIO_MMIO_SHM_SEL             0x0ac
#define VIREO_VIRTIO_MMIO_SHM_LEN_LOW         0x0b0
#define VIREO_VIRTIO_MMIO_SHM_LEN_HIGH        0x0b4
#define VIREO_VIRTIO_MMIO_SHM_BASE_LOW        0x0b8
#define VIREO_VIRTIO_MMIO_SHM_BASE_HIGH       0x0bc
#define VIREO_VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIREO_VIRTIO_MMIO_CONFIG              0x100

/* A transport for `dev` (not owned: free the transport first) raising
 * `irq`. */
VireoVirtioMmio *vireo_virtio_mmio_new(VireoVirtio *dev, const VireoIrq *irq);
void vireo_virtio_mmio_free(VireoVirtioMmio *mmio);
const VireoDeviceOps *vireo_virtio_mmio_ops(void);
VireoVirtio *vireo_virtio_mmio_get_device(VireoVirtioMmio *mmio);

G_END_DECLS
