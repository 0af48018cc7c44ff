/* SPDX-License-Identifier: GPL-3.0-or-later */
/* virtio-mmio transport and split virtqueues, following the driver
 * requirements of virtio 1.2 §3.1.1 (initialization), §4.2.3 (MMIO) and
 * §2.7 (split virtqueues). */
#include "virtio.h"

static uint32_t reg_read(struct virtio_dev *dev, uint32_t off)
{
    return mmio_read32(dev->base + off);
}

static void reg_write(struct virtio_dev *dev, uint32_t off, uint32_t value)
{
    mmio_write32(dev->base + off, value);
}

bool virtio_find(const struct board_info *board, uint32_t device_id, struct virtio_dev *dev)
{
    for (unsigned i = 0; i < board->n_virtio; i++) {
        uintptr_t base = (uintptr_t)board->virtio[i].base;
        if (mmio_read32(base + VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE)
            continue;
        if (mmio_read32(base + VIRTIO_MMIO_DEVICE_ID) != device_id)
            continue;
        dev->base = base;
        dev->irq = board->virtio[i].irq;
        dev->config_changes = 0;
        return true;
    }
    return false;
}

uint32_t virtio_status(struct virtio_dev *dev)
{
    return reg_read(dev, VIRTIO_MMIO_STATUS);
}

bool virtio_start(struct virtio_dev *dev, uint64_t wanted, uint64_t *accepted)
{
    uint32_t version = reg_read(dev, VIRTIO_MMIO_VERSION);
    if (version != 2) {
        uart_printf("vireo-demo: the virtio-mmio transport at %lx is version %u; this driver "
                    "needs version 2 (on QEMU: -global virtio-mmio.force-legacy=false)\n",
                    (uint64_t)dev->base, version);
        return false;
    }
    /* Reset, then ACKNOWLEDGE and DRIVER. */
    reg_write(dev, VIRTIO_MMIO_STATUS, 0);
    while (reg_read(dev, VIRTIO_MMIO_STATUS) != 0) {}
    reg_write(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    reg_write(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);

    reg_write(dev, VIRTIO_MMIO_DEVICE_FEAT_SEL, 0);
    uint64_t offered = reg_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    reg_write(dev, VIRTIO_MMIO_DEVICE_FEAT_SEL, 1);
    offered |= (uint64_t)reg_read(dev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    if ((offered & (1ull << VIRTIO_F_VERSION_1)) == 0) {
        uart_puts("vireo-demo: the device does not offer VIRTIO_F_VERSION_1\n");
        reg_write(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
        return false;
    }
    uint64_t take = (offered & wanted) | (1ull << VIRTIO_F_VERSION_1);
    reg_write(dev, VIRTIO_MMIO_DRIVER_FEAT_SEL, 0);
    reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)take);
    reg_write(dev, VIRTIO_MMIO_DRIVER_FEAT_SEL, 1);
    reg_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(take >> 32));

    uint32_t status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
    reg_write(dev, VIRTIO_MMIO_STATUS, status);
    if ((reg_read(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) == 0) {
        uart_puts("vireo-demo: the device refused the features (FEATURES_OK)\n");
        reg_write(dev, VIRTIO_MMIO_STATUS, status | VIRTIO_STATUS_FAILED);
        return false;
    }
    if (accepted != NULL)
        *accepted = take;
    return true;
}

bool virtio_queue_setup(struct virtio_dev *dev, struct virtq *q, uint16_t index)
{
    reg_write(dev, VIRTIO_MMIO_QUEUE_SEL, index);
    if (reg_read(dev, VIRTIO_MMIO_QUEUE_READY) != 0)
        return false;
    uint32_t max = reg_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max == 0)
        return false;
    /* Split queues have a power-of-2 size. */
    uint16_t size = VIRTQ_MAX_SIZE;
    while (size > max)
        size /= 2;

    memset(q, 0, sizeof *q);
    q->index = index;
    q->size = size;
    reg_write(dev, VIRTIO_MMIO_QUEUE_NUM, size);
    uint64_t desc = (uintptr_t)q->desc, avail = (uintptr_t)&q->avail;
    uint64_t used = (uintptr_t)&q->used;
    reg_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    reg_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    reg_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    reg_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    reg_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    reg_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    fence();
    reg_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
    return true;
}

void virtio_ready(struct virtio_dev *dev)
{
    reg_write(dev, VIRTIO_MMIO_STATUS, reg_read(dev, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

void virtq_push(struct virtq *q, uint16_t head)
{
    q->avail.ring[q->avail_idx % q->size] = head;
    q->avail_idx++;
}

void virtio_notify(struct virtio_dev *dev, struct virtq *q)
{
    /* The descriptors and ring entries before the index, the index before
     * the notification (§2.7.13). */
    fence();
    *(volatile uint16_t *)&q->avail.idx = q->avail_idx;
    fence();
    reg_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

uint32_t virtio_ack(struct virtio_dev *dev)
{
    uint32_t status = reg_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS);
    if (status != 0)
        reg_write(dev, VIRTIO_MMIO_INTERRUPT_ACK, status);
    if (status & VIRTIO_INT_CONFIG)
        dev->config_changes++;
    return status;
}

bool virtio_wait_idle(struct virtio_dev *dev, struct virtq *q, uint32_t timeout_ms)
{
    uint64_t start = read_time();
    uint64_t limit = start + timebase_hz / 1000 * timeout_ms;

    for (;;) {
        uint16_t used = *(volatile uint16_t *)&q->used.idx;
        if (used == q->avail_idx) {
            fence();
            q->used_seen = used;
            return true;
        }
        if (reg_read(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET) {
            uart_puts("vireo-demo: the device needs a reset (DEVICE_NEEDS_RESET)\n");
            return false;
        }
        uint64_t now = read_time();
        if (now >= limit) {
            uart_printf("vireo-demo: no answer from the device in %u ms\n", timeout_ms);
            return false;
        }
        /* Sleep until the device interrupts, or 2 ms at most. */
        uint32_t irq = platform_wait(now + timebase_hz / 500);
        if (irq != 0) {
            if (irq == dev->irq)
                virtio_ack(dev);
            platform_complete(irq);
        }
    }
}
