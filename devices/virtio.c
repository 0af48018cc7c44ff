/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "virtio-priv.h"

#include "engine/error.h"

#include <string.h>

/* The transport feature bits every device offers. */
#define TRANSPORT_FEATURES                                                         \
    ((1ull << VIREO_VIRTIO_F_VERSION_1) | (1ull << VIREO_VIRTIO_F_INDIRECT_DESC) | \
     (1ull << VIREO_VIRTIO_F_EVENT_IDX))

VireoVirtio *vireo_virtio_new(VireoBus *bus, const VireoVirtioModelOps *ops, void *model)
{
    VireoVirtio *dev = g_new0(VireoVirtio, 1);

    g_assert(ops->n_queues > 0 && ops->n_queues <= 32 && ops->queue_size > 0 &&
             ops->queue_size <= VIREO_VIRTQ_MAX_SIZE &&
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
    g_free(dev->loaded_error);
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

bool vireo_virtio_wait_until_locked(VireoVirtio *dev, GCond *cond, gint64 end_time)
{
    return g_cond_wait_until(cond, &dev->lock, end_time);
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

/* Tells the model about buffers on a ready queue of a running device, or
 * keeps the notification while the device is paused. */
static void notify_model_locked(VireoVirtio *dev, unsigned i)
{
    if (!dev->queues[i].ready || !vireo_virtio_is_running_locked(dev)) {
        return;
    }
    if (dev->paused) {
        dev->held_notify |= 1u << i;
        return;
    }
    dev->ops->queue_notify(dev->model, i);
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
            notify_model_locked(dev, i);
        }
    }
}

void vireo_virtio_reset_locked(VireoVirtio *dev)
{
    dev->epoch++;
    dev->status = 0;
    dev->driver_features = 0;
    dev->error = NULL;
    dev->held_notify = 0;
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
    if (index < dev->ops->n_queues) {
        notify_model_locked(dev, index);
    }
}

/* ---- Pausing -------------------------------------------------------------- */

bool vireo_virtio_is_paused_locked(VireoVirtio *dev)
{
    return dev->paused;
}

void vireo_virtio_pause(VireoVirtio *dev)
{
    g_mutex_lock(&dev->lock);
    if (dev->paused) {
        g_mutex_unlock(&dev->lock);
        return;
    }
    /* From here on no chain is taken; the model finishes the ones it has. */
    dev->paused = true;
    g_mutex_unlock(&dev->lock);
    if (dev->ops->pause != NULL) {
        dev->ops->pause(dev->model);
    }
}

void vireo_virtio_resume(VireoVirtio *dev)
{
    uint32_t held;

    g_mutex_lock(&dev->lock);
    if (!dev->paused) {
        g_mutex_unlock(&dev->lock);
        return;
    }
    dev->paused = false;
    held = dev->held_notify;
    dev->held_notify = 0;
    for (unsigned i = 0; i < dev->ops->n_queues; i++) {
        if (held & (1u << i)) {
            notify_model_locked(dev, i);
        }
    }
    g_mutex_unlock(&dev->lock);
    if (dev->ops->resume != NULL) {
        dev->ops->resume(dev->model);
    }
}

/* ---- Snapshots ------------------------------------------------------------ */

#define CORE_STATE_VERSION 1
#define MAX_ERROR_TEXT     256
#define KNOWN_STATUS                                                   \
    (VIREO_VIRTIO_STATUS_ACKNOWLEDGE | VIREO_VIRTIO_STATUS_DRIVER |    \
     VIREO_VIRTIO_STATUS_DRIVER_OK | VIREO_VIRTIO_STATUS_FEATURES_OK | \
     VIREO_VIRTIO_STATUS_NEEDS_RESET | VIREO_VIRTIO_STATUS_FAILED)

struct VireoVirtioLoad {
    uint8_t status;
    uint64_t driver_features;
    uint32_t isr;
    uint32_t config_generation;
    char *error;
    VireoVirtq *queues;
    void *model; /* the model's loaded state, or NULL */
};

bool vireo_virtio_save_locked(VireoVirtio *dev, VireoSnapWriter *w, GError **error)
{
    const VireoVirtioModelOps *ops = dev->ops;

    if (!dev->paused) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "The device %s must be paused for its state to be saved", ops->name);
        return false;
    }
    if (ops->save == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE, "The device %s cannot be saved",
                    ops->name);
        return false;
    }
    vireo_snap_put_u32(w, CORE_STATE_VERSION);
    vireo_snap_put_u32(w, ops->device_id);
    vireo_snap_put_u64(w, dev->device_features);
    vireo_snap_put_u64(w, dev->driver_features);
    vireo_snap_put_u8(w, dev->status);
    vireo_snap_put_u32(w, dev->isr);
    vireo_snap_put_u32(w, dev->config_generation);
    vireo_snap_put_string(w, dev->error);
    vireo_snap_put_u32(w, ops->n_queues);
    for (unsigned i = 0; i < ops->n_queues; i++) {
        const VireoVirtq *q = &dev->queues[i];
        unsigned held = ops->held_chains != NULL ? ops->held_chains(dev->model, i) : 0;

        /* Only chains that are still out can be given back. */
        held = MIN(held, (unsigned)(uint16_t)(q->last_avail - q->used_idx));
        vireo_virtq_save(q, (uint16_t)(q->ready ? held : 0), w);
    }
    return ops->save(dev->model, w, error);
}

void vireo_virtio_load_free(VireoVirtio *dev, VireoVirtioLoad *load)
{
    if (load == NULL) {
        return;
    }
    if (load->model != NULL && dev->ops->discard != NULL) {
        dev->ops->discard(dev->model, load->model);
    }
    g_free(load->error);
    g_free(load->queues);
    g_free(load);
}

/* Checks the core's fields; the first problem goes to the reader. */
static void check_core(VireoVirtio *dev, VireoSnapReader *r, const VireoVirtioLoad *l,
                       uint64_t device_features)
{
    if (device_features != dev->device_features) {
        vireo_snap_fail(r,
                        "the device offered the features 0x%" G_GINT64_MODIFIER "x, this one "
                        "offers 0x%" G_GINT64_MODIFIER "x",
                        device_features, dev->device_features);
    } else if ((l->status & ~KNOWN_STATUS) != 0) {
        vireo_snap_fail(r, "the device status 0x%x has unknown bits", l->status);
    } else if ((l->status & VIREO_VIRTIO_STATUS_FEATURES_OK) &&
               ((l->driver_features & ~dev->device_features) != 0 ||
                !(l->driver_features & (1ull << VIREO_VIRTIO_F_VERSION_1)))) {
        vireo_snap_fail(r, "the accepted features 0x%" G_GINT64_MODIFIER "x were never offered",
                        l->driver_features);
    } else if ((l->isr & ~(uint32_t)(VIREO_VIRTIO_ISR_QUEUE | VIREO_VIRTIO_ISR_CONFIG)) != 0) {
        vireo_snap_fail(r, "the interrupt status 0x%x has unknown bits", l->isr);
    } else if (((l->status & VIREO_VIRTIO_STATUS_NEEDS_RESET) != 0) != (l->error != NULL)) {
        vireo_snap_fail(r, "the device's error and its status do not agree");
    }
}

VireoVirtioLoad *vireo_virtio_load_read_locked(VireoVirtio *dev, VireoSnapReader *r)
{
    const VireoVirtioModelOps *ops = dev->ops;
    VireoVirtioLoad *l = g_new0(VireoVirtioLoad, 1);
    uint32_t version = vireo_snap_get_u32(r);
    uint32_t device_id = vireo_snap_get_u32(r);
    uint64_t device_features = vireo_snap_get_u64(r);
    uint32_t n_queues;

    l->driver_features = vireo_snap_get_u64(r);
    l->status = vireo_snap_get_u8(r);
    l->isr = vireo_snap_get_u32(r);
    l->config_generation = vireo_snap_get_u32(r);
    l->error = vireo_snap_get_string(r, MAX_ERROR_TEXT);
    n_queues = vireo_snap_get_u32(r);
    if (vireo_snap_failed(r)) {
        vireo_virtio_load_free(dev, l);
        return NULL;
    }
    if (version != CORE_STATE_VERSION) {
        vireo_snap_fail(r, "the virtio device's layout version %u is not %u", version,
                        CORE_STATE_VERSION);
    } else if (device_id != ops->device_id) {
        vireo_snap_fail(r, "it holds a virtio device of type %u, not %s (%u)", device_id, ops->name,
                        ops->device_id);
    } else if (n_queues != ops->n_queues) {
        vireo_snap_fail(r, "it holds %u queues, not %u", n_queues, ops->n_queues);
    } else {
        check_core(dev, r, l, device_features);
    }
    if (vireo_snap_failed(r)) {
        vireo_virtio_load_free(dev, l);
        return NULL;
    }
    l->queues = g_new0(VireoVirtq, ops->n_queues);
    for (unsigned i = 0; i < ops->n_queues; i++) {
        if (!vireo_virtq_load(dev, &dev->queues[i], r, &l->queues[i])) {
            vireo_virtio_load_free(dev, l);
            return NULL;
        }
    }
    if (ops->load != NULL) {
        l->model = ops->load(dev->model, r);
        if (l->model == NULL) {
            if (!vireo_snap_failed(r)) {
                vireo_snap_fail(r, "the %s part is invalid", ops->name);
            }
            vireo_virtio_load_free(dev, l);
            return NULL;
        }
    }
    return l;
}

void vireo_virtio_load_apply_locked(VireoVirtio *dev, VireoVirtioLoad *l)
{
    /* Whatever the model held belongs to the state that goes. */
    dev->epoch++;
    dev->status = l->status;
    dev->driver_features = l->driver_features;
    dev->isr = l->isr;
    dev->config_generation = l->config_generation;
    g_free(dev->loaded_error);
    dev->loaded_error = g_steal_pointer(&l->error);
    dev->error = dev->loaded_error;
    for (unsigned i = 0; i < dev->ops->n_queues; i++) {
        l->queues[i].generation = dev->queues[i].generation + 1;
    }
    memcpy(dev->queues, l->queues, sizeof *dev->queues * dev->ops->n_queues);
    /* What the driver made available before the save, the device looks at
     * when it runs again (with the loaded RAM). */
    dev->held_notify = 0;
    for (unsigned i = 0; i < dev->ops->n_queues; i++) {
        if (dev->queues[i].ready) {
            dev->held_notify |= 1u << i;
        }
    }
    if (dev->ops->apply != NULL && l->model != NULL) {
        dev->ops->apply(dev->model, g_steal_pointer(&l->model));
    }
    /* The line goes to the loaded level whatever it was: the controller
     * does not remember the devices' levels. */
    dev->irq_level = dev->isr != 0;
    vireo_irq_set(&dev->irq, dev->irq_level);
    vireo_virtio_load_free(dev, l);
}
