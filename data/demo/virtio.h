/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A virtio 1.2 driver core for the demo: the virtio-mmio transport
 * (version 2, virtio 1.2 §4.2.2) and split virtqueues (§2.7). */
#pragma once

#include "demo.h"

#define VIRTIO_ID_GPU 16

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER      2u
#define VIRTIO_STATUS_DRIVER_OK   4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED      128u

#define VIRTIO_F_VERSION_1 32

/* virtio-mmio registers (§4.2.2). */
#define VIRTIO_MMIO_MAGIC             0x000
#define VIRTIO_MMIO_VERSION           0x004
#define VIRTIO_MMIO_DEVICE_ID         0x008
#define VIRTIO_MMIO_DEVICE_FEATURES   0x010
#define VIRTIO_MMIO_DEVICE_FEAT_SEL   0x014
#define VIRTIO_MMIO_DRIVER_FEATURES   0x020
#define VIRTIO_MMIO_DRIVER_FEAT_SEL   0x024
#define VIRTIO_MMIO_QUEUE_SEL         0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX     0x034
#define VIRTIO_MMIO_QUEUE_NUM         0x038
#define VIRTIO_MMIO_QUEUE_READY       0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY      0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS  0x060
#define VIRTIO_MMIO_INTERRUPT_ACK     0x064
#define VIRTIO_MMIO_STATUS            0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW    0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH   0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW  0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW  0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG            0x100

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u /* "virt" */

#define VIRTIO_INT_USED   1u /* a used buffer notification */
#define VIRTIO_INT_CONFIG 2u /* a configuration change */

#define VIRTQ_DESC_F_NEXT  1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_MAX_SIZE     64

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[VIRTQ_MAX_SIZE];
    uint16_t used_event;
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[VIRTQ_MAX_SIZE];
    uint16_t avail_event;
};

struct virtq {
    uint16_t index; /* the queue's number on its device */
    uint16_t size;  /* entries, a power of 2 */
    uint16_t avail_idx;
    uint16_t used_seen; /* used->idx the driver has looked at */
    struct virtq_desc desc[VIRTQ_MAX_SIZE] __attribute__((aligned(16)));
    struct virtq_avail avail __attribute__((aligned(2)));
    struct virtq_used used __attribute__((aligned(4)));
};

struct virtio_dev {
    uintptr_t base;
    uint32_t irq;
    uint32_t config_changes; /* configuration change interrupts seen */
};

/* Finds the first transport among the board's that holds a device of this
 * ID (transports without a device read ID 0). */
bool virtio_find(const struct board_info *board, uint32_t device_id, struct virtio_dev *dev);
/* Resets the device and negotiates: VERSION_1 plus the bits of `wanted`
 * the device offers. False (with a message) when the device refuses. */
bool virtio_start(struct virtio_dev *dev, uint64_t wanted, uint64_t *accepted);
/* Sets up queue `index` with at most VIRTQ_MAX_SIZE entries. */
bool virtio_queue_setup(struct virtio_dev *dev, struct virtq *q, uint16_t index);
/* Sets DRIVER_OK. */
void virtio_ready(struct virtio_dev *dev);

/* Adds a chain of descriptors the driver filled (from descriptor `head`)
 * to the available ring; the device sees it after virtio_notify(). */
void virtq_push(struct virtq *q, uint16_t head);
void virtio_notify(struct virtio_dev *dev, struct virtq *q);
/* Waits until the device has used every chain pushed so far. False when
 * it needs a reset or takes longer than `timeout_ms`. */
bool virtio_wait_idle(struct virtio_dev *dev, struct virtq *q, uint32_t timeout_ms);
/* Reads and acknowledges the interrupt status; counts configuration
 * changes. */
uint32_t virtio_ack(struct virtio_dev *dev);
uint32_t virtio_status(struct virtio_dev *dev);
