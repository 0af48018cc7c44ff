/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "virtio-priv.h"

#include <string.h>

/* The transport feature bits every device offers. */
#define TRANSPORT_FEATURES                                                         \
    ((1ull << VIREO_VIRTIO_F_VERSION_1) | (1ull << VIREO_VIRTIO_F_INDIRECT_DESC) | \
     (1ull << VIREO_VIRTIO_F_EVENT_IDX))

VireoVirtio *vireo_virtio_new(VireoBus *bus, const VireoVirtioModelOps *ops, void *model)
{
    VireoVirtio *dev = g_new0(VireoVirtio, 1);

    g_assert(ops->n_queues > 0 && ops->queue_size > 0 && ops->queue_size <= VIREO_VIRTQ_MAX_SIZE &&
             (ops->queue_size & (ops->queue_size - 1)) == 0);
    g_mutex_init(&dev->lock);
    dev->bus = bus;
    dev->ops = ops;
    dev->model = model;
    dev->device_features = TRANSPORT_FEATURES;
    if (ops->get_features != NULL) {
        dev->device_features |= ops->get_features(model) & VIREO_VIRTIO_MODEL_FEATURES;
    }
    dev->config = g_malloc0(MAX(ops->config_size, 1));
    dev->queues = g_new0(VireoVirtq, ops->n_queues);
    for (unsigned i = 0; i < ops->n_queues; i++) {
        vireo_virtq_init(&dev->queues[i], ops->queue_size);
    }
    return dev;
}

void vireo_virtio_free(VireoVirtio *dev)
{
    if (dev == NULL) {
        return;
    }
    if (dev->ops->free != NULL) {
        dev->ops->free(dev->model);
    }
    g_free(dev->queues);
    g_free(dev->config);
    g_mutex_clear(&dev->lock);
    g_free(dev);
}

const VireoVirtioModelOps *vireo_virtio_get_model_ops(VireoVirtio *dev)
{
    return dev->ops;
}

void *vireo_virtio_get_model(VireoVirtio *dev)
{
    return dev->model;
}

VireoBus *vireo_virtio_get_bus(VireoVirtio *dev)
{
    return dev->bus;
}

void vireo_virtio_lock(VireoVirtio *dev)
{
    g_mutex_lock(&dev->lock);
}

void vireo_virtio_unlock(VireoVirtio *dev)
{
    g_mutex_unlock(&dev->lock);
}

void vireo_virtio_wait_locked(VireoVirtio *dev, GCond *cond)
{
    g_cond_wait(cond, &dev->lock);
}

/* ---- Interrupts ----------------------------------------------------- */

static void update_irq_locked(VireoVirtio *dev)
{
    bool level = dev->isr != 0;

    if (level != dev->irq_level) {
        dev->irq_level = level;
        vireo_irq_set(&dev->irq, level);
    }
}

void vireo_virtio_set_irq_locked(VireoVirtio *dev, const VireoIrq *irq)
{
    if (irq != NULL) {
        dev->irq = *irq;
    } else {
        memset(&dev->irq, 0, sizeof dev->irq);
    }
    dev->irq_level = false;
    update_irq_locked(dev);
}

void vireo_virtio_raise_isr_locked(VireoVirtio *dev, uint32_t bits)
{
    dev->isr |= bits;
    update_irq_locked(dev);
}

uint32_t vireo_virtio_get_isr_locked(VireoVirtio *dev)
{
    return dev->isr;
}

void vireo_virtio_ack_isr_locked(VireoVirtio *dev, uint32_t bits)
{
    dev->isr &= ~bits;
    update_irq_locked(dev);
}

/* ---- Status and features --------------------------------------------- */

uint64_t vireo_virtio_get_features_locked(VireoVirtio *dev)
{
    return dev->driver_features;
}

bool vireo_virtio_is_running_locked(VireoVirtio *dev)
{
    const uint8_t need = VIREO_VIRTIO_STATUS_DRIVER_OK | VIREO_VIRTIO_STATUS_FEATURES_OK;
    const uint8_t stop = VIREO_VIRTIO_STATUS_NEEDS_RESET | VIREO_VIRTIO_STATUS_FAILED;

    return (dev->status & need) == need && (dev->status & stop) == 0;
}

uint64_t vireo_virtio_get_epoch_locked(VireoVirtio *dev)
{
    return dev->epoch;
}

void vireo_virtio_set_needs_reset_locked(VireoVirtio *dev, const char *reason)
{
    if (dev->status & VIREO_VIRTIO_STATUS_NEEDS_RESET) {
        return;
    }
    g_debug("%s: the driver broke the protocol (%s); the device needs a reset", dev->ops->name,
            reason);
    dev->error = reason;
    dev->status |= VIREO_VIRTIO_STATUS_NEEDS_RESET;
    if (dev->status & VIREO_VIRTIO_STATUS_DRIVER_OK) {
        vireo_virtio_raise_isr_locked(dev, VIREO_VIRTIO_ISR_CONFIG);
    }
}

const char *vireo_virtio_get_error(VireoVirtio *dev)
{
    const char *error;

    g_mutex_lock(&dev->lock);
    error = dev->error;
    g_mutex_unlock(&dev->lock);
    return error;
}

void vireo_virtio_config_changed_locked(VireoVirtio *dev)
{
    dev->config_generation++;
    if (dev->status & VIREO_VIRTIO_STATUS_DRIVER_OK) {
        vireo_virtio_raise_isr_locked(dev, VIREO_VIRTIO_ISR_CONFIG);
    }
}

uint32_t vireo_virtio_get_device_id_locked(VireoVirtio *dev)
{
    return dev->ops->device_id;
}

unsigned vireo_virtio_get_n_queues_locked(VireoVirtio *dev)
{
    return dev->ops->n_queues;
}

uint32_t vireo_virtio_get_device_features_locked(VireoVirtio *dev, unsigned sel)
{
    return sel < 2 ? (uint32_t)(dev->device_features >> (32 * sel)) : 0;
}

uint32_t vireo_virtio_get_driver_features_locked(VireoVirtio *dev, unsigned sel)
{
    return sel < 2 ? (uint32_t)(dev->driver_features >> (32 * sel)) : 0;
}

void vireo_virtio_set_driver_features_locked(VireoVirtio *dev, unsigned sel, uint32_t value)
{
    uint64_t mask;

    if (sel >= 2 || (dev->status & VIREO_VIRTIO_STATUS_FEATURES_OK)) {
        return;
    }
    mask = 0xffffffffull << (32 * sel);
    dev->driver_features = (dev->driver_features & ~mask) | ((uint64_t)value << (32 * sel));
}

uint8_t vireo_virtio_get_status_locked(VireoVirtio *dev)
{
    return dev->status;
}

/* Whether the device accepts the driver's features. */
static bool features_acceptable(VireoVirtio *dev)
{
    uint64_t f = dev->driver_features;

    if ((f & ~dev->device_features) != 0 || !(f & (1ull << VIREO_VIRTIO_F_VERSION_1))) {
        return false;
    }
    return dev->ops->set_features == NULL ||
           dev->ops->set_features(dev->model, f & VIREO_VIRTIO_MODEL_FEATURES);
}

void vireo_virtio_set_status_locked(VireoVirtio *dev, uint8_t value)
{
    uint8_t old = dev->status;
    uint8_t added;

    if (value == 0) {
        vireo_virtio_reset_locked(dev);
        return;
    }
    /* Only a reset clears bits, and only the device sets NEEDS_RESET. */
    added = (uint8_t)(value & ~old & ~VIREO_VIRTIO_STATUS_NEEDS_RESET);
    if ((added & VIREO_VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(dev)) {
        added &= (uint8_t)~VIREO_VIRTIO_STATUS_FEATURES_OK;
    }
    dev->status = old | added;
    if ((added & VIREO_VIRTIO_STATUS_DRIVER_OK) && vireo_virtio_is_running_locked(dev)) {
        /* The driver may have made buffers available before DRIVER_OK. */
        for (unsigned i = 0; i < dev->ops->n_queues; i++) {
            if (dev->queues[i].ready && vireo_virtio_is_running_locked(dev)) {
                dev->ops->queue_notify(dev->model, i);
            }
        }
    }
}

void vireo_virtio_reset_locked(VireoVirtio *dev)
{
    dev->epoch++;
    dev->status = 0;
    dev->driver_features = 0;
    dev->error = NULL;
    for (unsigned i = 0; i < dev->ops->n_queues; i++) {
        vireo_virtq_reset(&dev->queues[i]);
    }
    if (dev->ops->reset != NULL) {
        dev->ops->reset(dev->model);
    }
    dev->isr = 0;
    update_irq_locked(dev);
}

uint32_t vireo_virtio_get_config_generation_locked(VireoVirtio *dev)
{
    return dev->config_generation;
}

uint64_t vireo_virtio_read_config_locked(VireoVirtio *dev, unsigned offset, unsigned size)
{
    unsigned n = dev->ops->config_size;
    uint64_t value = 0;

    if (offset >= n || dev->ops->get_config == NULL) {
        return 0;
    }
    dev->ops->get_config(dev->model, dev->config);
    for (unsigned i = 0; i < size && offset + i < n; i++) {
        value |= (uint64_t)dev->config[offset + i] << (8 * i);
    }
    return value;
}

void vireo_virtio_write_config_locked(VireoVirtio *dev, unsigned offset, unsigned size,
                                      uint64_t value)
{
    unsigned n = dev->ops->config_size;
    guint8 bytes[8];

    if (offset >= n || dev->ops->set_config == NULL || size > sizeof bytes) {
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        bytes[i] = (guint8)(value >> (8 * i));
    }
    dev->ops->set_config(dev->model, offset, bytes, MIN(size, n - offset));
}

/* ---- Queue configuration ------------------------------------------------ */

static VireoVirtq *queue(VireoVirtio *dev, unsigned index)
{
    return index < dev->ops->n_queues ? &dev->queues[index] : NULL;
}

uint16_t vireo_virtio_queue_get_max_locked(VireoVirtio *dev, unsigned index)
{
    VireoVirtq *q = queue(dev, index);
    return q != NULL ? q->max : 0;
}

uint16_t vireo_virtio_queue_get_num_locked(VireoVirtio *dev, unsigned index)
{
    VireoVirtq *q = queue(dev, index);
    return q != NULL ? q->num : 0;
}

uint64_t vireo_virtio_queue_get_addr_locked(VireoVirtio *dev, unsigned index, VireoVirtqArea area)
{
    VireoVirtq *q = queue(dev, index);

    if (q == NULL) {
        return 0;
    }
    switch (area) {
    case VIREO_VIRTQ_DESC: return q->desc_addr;
    case VIREO_VIRTQ_DRIVER: return q->avail_addr;
    case VIREO_VIRTQ_DEVICE: return q->used_addr;
    }
    return 0;
}

bool vireo_virtio_queue_get_ready_locked(VireoVirtio *dev, unsigned index)
{
    VireoVirtq *q = queue(dev, index);
    return q != NULL && q->ready;
}

void vireo_virtio_queue_set_num_locked(VireoVirtio *dev, unsigned index, uint16_t num)
{
    VireoVirtq *q = queue(dev, index);

    if (q != NULL && !q->ready) {
        q->num = num;
    }
}

void vireo_virtio_queue_set_addr_locked(VireoVirtio *dev, unsigned index, VireoVirtqArea area,
                                        uint64_t addr)
{
    VireoVirtq *q = queue(dev, index);

    if (q == NULL || q->ready) {
        return;
    }
    switch (area) {
    case VIREO_VIRTQ_DESC: q->desc_addr = addr; break;
    case VIREO_VIRTQ_DRIVER: q->avail_addr = addr; break;
    case VIREO_VIRTQ_DEVICE: q->used_addr = addr; break;
    }
}

void vireo_virtio_queue_set_ready_locked(VireoVirtio *dev, unsigned index, bool ready)
{
    VireoVirtq *q = queue(dev, index);
    const char *error;

    if (q == NULL || ready == q->ready) {
        return;
    }
    if (!ready) {
        vireo_virtq_disable(q);
        return;
    }
    error = vireo_virtq_enable(dev, q);
    if (error != NULL) {
        vireo_virtio_set_needs_reset_locked(dev, error);
    }
}

void vireo_virtio_queue_notify_locked(VireoVirtio *dev, unsigned index)
{
    VireoVirtq *q = queue(dev, index);

    if (q != NULL && q->ready && vireo_virtio_is_running_locked(dev)) {
        dev->ops->queue_notify(dev->model, index);
    }
}
