/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virtio-mmio.h"
#include "engine/error.h"

/* The register decoding of virtio-mmio version 2. The selectors are the
 * transport's own state; everything else lives in the device. Both are
 * protected by the device's lock. */
struct VireoVirtioMmio {
    VireoVirtio *dev;
    uint32_t device_features_sel;
    uint32_t driver_features_sel;
    uint32_t queue_sel;
    uint32_t shm_sel;
};

static void mmio_reset_locked(VireoVirtioMmio *m)
{
    m->device_features_sel = 0;
    m->driver_features_sel = 0;
    m->queue_sel = 0;
    m->shm_sel = 0;
    vireo_virtio_reset_locked(m->dev);
}

/* A 64-bit queue address written as two 32-bit halves. */
static void set_half(VireoVirtio *dev, unsigned q, VireoVirtqArea area, bool high, uint32_t value)
{
    uint64_t addr = vireo_virtio_queue_get_addr_locked(dev, q, area);

    if (high) {
        addr = (addr & 0xffffffffull) | ((uint64_t)value << 32);
    } else {
        addr = (addr & ~0xffffffffull) | value;
    }
    vireo_virtio_queue_set_addr_locked(dev, q, area, addr);
}

static uint32_t get_half(VireoVirtio *dev, unsigned q, VireoVirtqArea area, bool high)
{
    uint64_t addr = vireo_virtio_queue_get_addr_locked(dev, q, area);
    return (uint32_t)(high ? addr >> 32 : addr);
}

static uint32_t reg_read_locked(VireoVirtioMmio *m, uint64_t offset)
{
    VireoVirtio *dev = m->dev;
    unsigned q = m->queue_sel;

    switch (offset) {
    case VIREO_VIRTIO_MMIO_MAGIC_VALUE: return VIREO_VIRTIO_MMIO_MAGIC;
    case VIREO_VIRTIO_MMIO_VERSION_REG: return VIREO_VIRTIO_MMIO_VERSION;
    case VIREO_VIRTIO_MMIO_DEVICE_ID: return vireo_virtio_get_device_id_locked(dev);
    case VIREO_VIRTIO_MMIO_VENDOR_ID: return VIREO_VIRTIO_VENDOR_ID;
    case VIREO_VIRTIO_MMIO_DEVICE_FEATURES:
        return vireo_virtio_get_device_features_locked(dev, m->device_features_sel);
    case VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX: return vireo_virtio_queue_get_max_locked(dev, q);
    case VIREO_VIRTIO_MMIO_QUEUE_READY: return vireo_virtio_queue_get_ready_locked(dev, q);
    case VIREO_VIRTIO_MMIO_INTERRUPT_STATUS: return vireo_virtio_get_isr_locked(dev);
    case VIREO_VIRTIO_MMIO_STATUS: return vireo_virtio_get_status_locked(dev);
    case VIREO_VIRTIO_MMIO_QUEUE_DESC_LOW: return get_half(dev, q, VIREO_VIRTQ_DESC, false);
    case VIREO_VIRTIO_MMIO_QUEUE_DESC_HIGH: return get_half(dev, q, VIREO_VIRTQ_DESC, true);
    case VIREO_VIRTIO_MMIO_QUEUE_DRIVER_LOW: return get_half(dev, q, VIREO_VIRTQ_DRIVER, false);
    case VIREO_VIRTIO_MMIO_QUEUE_DRIVER_HIGH: return get_half(dev, q, VIREO_VIRTQ_DRIVER, true);
    case VIREO_VIRTIO_MMIO_QUEUE_DEVICE_LOW: return get_half(dev, q, VIREO_VIRTQ_DEVICE, false);
    case VIREO_VIRTIO_MMIO_QUEUE_DEVICE_HIGH: return get_half(dev, q, VIREO_VIRTQ_DEVICE, true);
    /* No shared memory regions: every ID reads as a region of length -1. */
    case VIREO_VIRTIO_MMIO_SHM_LEN_LOW:
    case VIREO_VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIREO_VIRTIO_MMIO_SHM_BASE_LOW:
    case VIREO_VIRTIO_MMIO_SHM_BASE_HIGH: return 0xffffffffu;
    case VIREO_VIRTIO_MMIO_CONFIG_GENERATION: return vireo_virtio_get_config_generation_locked(dev);
    default: return 0; /* write-only and reserved registers */
    }
}

static void reg_write_locked(VireoVirtioMmio *m, uint64_t offset, uint32_t value)
{
    VireoVirtio *dev = m->dev;
    unsigned q = m->queue_sel;

    switch (offset) {
    case VIREO_VIRTIO_MMIO_DEVICE_FEATURES_SEL: m->device_features_sel = value; break;
    case VIREO_VIRTIO_MMIO_DRIVER_FEATURES:
        vireo_virtio_set_driver_features_locked(dev, m->driver_features_sel, value);
        break;
    case VIREO_VIRTIO_MMIO_DRIVER_FEATURES_SEL: m->driver_features_sel = value; break;
    case VIREO_VIRTIO_MMIO_QUEUE_SEL: m->queue_sel = value; break;
    case VIREO_VIRTIO_MMIO_QUEUE_NUM:
        /* A size above 16 bits can never be valid; keep it invalid. */
        vireo_virtio_queue_set_num_locked(dev, q, value > 0xffff ? 0 : (uint16_t)value);
        break;
    case VIREO_VIRTIO_MMIO_QUEUE_READY:
        vireo_virtio_queue_set_ready_locked(dev, q, value & 1);
        break;
    case VIREO_VIRTIO_MMIO_QUEUE_NOTIFY:
        /* Without VIRTIO_F_NOTIFICATION_DATA the value is the queue index. */
        vireo_virtio_queue_notify_locked(dev, value);
        break;
    case VIREO_VIRTIO_MMIO_INTERRUPT_ACK: vireo_virtio_ack_isr_locked(dev, value); break;
    case VIREO_VIRTIO_MMIO_STATUS:
        if ((value & 0xff) == 0) {
            mmio_reset_locked(m);
        } else {
            vireo_virtio_set_status_locked(dev, (uint8_t)value);
        }
        break;
    case VIREO_VIRTIO_MMIO_QUEUE_DESC_LOW: set_half(dev, q, VIREO_VIRTQ_DESC, false, value); break;
    case VIREO_VIRTIO_MMIO_QUEUE_DESC_HIGH: set_half(dev, q, VIREO_VIRTQ_DESC, true, value); break;
    case VIREO_VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        set_half(dev, q, VIREO_VIRTQ_DRIVER, false, value);
        break;
    case VIREO_VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        set_half(dev, q, VIREO_VIRTQ_DRIVER, true, value);
        break;
    case VIREO_VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        set_half(dev, q, VIREO_VIRTQ_DEVICE, false, value);
        break;
    case VIREO_VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        set_half(dev, q, VIREO_VIRTQ_DEVICE, true, value);
        break;
    case VIREO_VIRTIO_MMIO_SHM_SEL: m->shm_sel = value; break;
    default: break; /* read-only and reserved registers */
    }
}

static bool config_access_ok(uint64_t offset, unsigned size)
{
    return (size == 1 || size == 2 || size == 4 || size == 8) && offset % size == 0 &&
           offset + size <= VIREO_VIRTIO_MMIO_SIZE;
}

static bool mmio_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    VireoVirtioMmio *m = opaque;

    if (offset >= VIREO_VIRTIO_MMIO_CONFIG) {
        if (!config_access_ok(offset, size)) {
            return false;
        }
        vireo_virtio_lock(m->dev);
        *value = vireo_virtio_read_config_locked(
            m->dev, (unsigned)(offset - VIREO_VIRTIO_MMIO_CONFIG), size);
        vireo_virtio_unlock(m->dev);
        return true;
    }
    if (size != 4 || offset % 4 != 0) {
        return false;
    }
    vireo_virtio_lock(m->dev);
    *value = reg_read_locked(m, offset);
    vireo_virtio_unlock(m->dev);
    return true;
}

static bool mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    VireoVirtioMmio *m = opaque;

    if (offset >= VIREO_VIRTIO_MMIO_CONFIG) {
        if (!config_access_ok(offset, size)) {
            return false;
        }
        vireo_virtio_lock(m->dev);
        vireo_virtio_write_config_locked(m->dev, (unsigned)(offset - VIREO_VIRTIO_MMIO_CONFIG),
                                         size, value);
        vireo_virtio_unlock(m->dev);
        return true;
    }
    if (size != 4 || offset % 4 != 0) {
        return false;
    }
    vireo_virtio_lock(m->dev);
    reg_write_locked(m, offset, (uint32_t)value);
    vireo_virtio_unlock(m->dev);
    return true;
}

static void mmio_reset(void *opaque)
{
    VireoVirtioMmio *m = opaque;

    vireo_virtio_lock(m->dev);
    mmio_reset_locked(m);
    vireo_virtio_unlock(m->dev);
}

/* ---- Pausing and snapshots ------------------------------------------------ */

#define MMIO_STATE_VERSION 1

static void mmio_pause(void *opaque)
{
    VireoVirtioMmio *m = opaque;
    vireo_virtio_pause(m->dev);
}

static void mmio_resume(void *opaque)
{
    VireoVirtioMmio *m = opaque;
    vireo_virtio_resume(m->dev);
}

/* The transport's selectors, then the device (virtio.c). */
static bool mmio_save(void *opaque, VireoSnapWriter *w, GError **error)
{
    VireoVirtioMmio *m = opaque;
    bool ok;

    vireo_virtio_lock(m->dev);
    vireo_snap_put_u32(w, MMIO_STATE_VERSION);
    vireo_snap_put_u32(w, m->device_features_sel);
    vireo_snap_put_u32(w, m->driver_features_sel);
    vireo_snap_put_u32(w, m->queue_sel);
    vireo_snap_put_u32(w, m->shm_sel);
    ok = vireo_virtio_save_locked(m->dev, w, error);
    vireo_virtio_unlock(m->dev);
    return ok;
}

static bool mmio_load(void *opaque, VireoSnapReader *r, GError **error)
{
    VireoVirtioMmio *m = opaque;
    uint32_t version, device_sel, driver_sel, queue_sel, shm_sel;
    VireoVirtioLoad *load;

    vireo_virtio_lock(m->dev);
    if (!vireo_virtio_is_paused_locked(m->dev)) {
        vireo_virtio_unlock(m->dev);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                    "The device %s must be paused for its state to be loaded",
                    vireo_virtio_get_model_ops(m->dev)->name);
        return false;
    }
    if (vireo_snap_reader_version(r) != 1) {
        vireo_snap_fail(r, "layout version %u is not 1", vireo_snap_reader_version(r));
    }
    version = vireo_snap_get_u32(r);
    /* Any value is a value the driver may have written. */
    device_sel = vireo_snap_get_u32(r);
    driver_sel = vireo_snap_get_u32(r);
    queue_sel = vireo_snap_get_u32(r);
    shm_sel = vireo_snap_get_u32(r);
    if (!vireo_snap_failed(r) && version != MMIO_STATE_VERSION) {
        vireo_snap_fail(r, "the transport's layout version %u is not %u", version,
                        MMIO_STATE_VERSION);
    }
    load = vireo_snap_failed(r) ? NULL : vireo_virtio_load_read_locked(m->dev, r);
    if (!vireo_snap_reader_finish(r, error)) {
        vireo_virtio_load_free(m->dev, load);
        vireo_virtio_unlock(m->dev);
        return false;
    }
    m->device_features_sel = device_sel;
    m->driver_features_sel = driver_sel;
    m->queue_sel = queue_sel;
    m->shm_sel = shm_sel;
    vireo_virtio_load_apply_locked(m->dev, load);
    vireo_virtio_unlock(m->dev);
    return true;
}

static const VireoDeviceOps mmio_ops = {
    .name = "virtio-mmio",
    .read = mmio_read,
    .write = mmio_write,
    .reset = mmio_reset,
    .save = mmio_save,
    .load = mmio_load,
    .pause = mmio_pause,
    .resume = mmio_resume,
};

const VireoDeviceOps *vireo_virtio_mmio_ops(void)
{
    return &mmio_ops;
}

VireoVirtioMmio *vireo_virtio_mmio_new(VireoVirtio *dev, const VireoIrq *irq)
{
    VireoVirtioMmio *m = g_new0(VireoVirtioMmio, 1);

    m->dev = dev;
    vireo_virtio_lock(dev);
    vireo_virtio_set_irq_locked(dev, irq);
    vireo_virtio_unlock(dev);
    return m;
}

void vireo_virtio_mmio_free(VireoVirtioMmio *mmio)
{
    if (mmio == NULL) {
        return;
    }
    vireo_virtio_lock(mmio->dev);
    vireo_virtio_set_irq_locked(mmio->dev, NULL);
    vireo_virtio_unlock(mmio->dev);
    g_free(mmio);
}

VireoVirtio *vireo_virtio_mmio_get_device(VireoVirtioMmio *mmio)
{
    return mmio->dev;
}
