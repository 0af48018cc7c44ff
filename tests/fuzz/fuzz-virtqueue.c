/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Split virtqueues as a hostile guest lays them out: the input becomes guest
 * RAM holding the descriptor table, the available ring, indirect tables and
 * data, and a minimal device model pops every chain it is offered, reads its
 * readable part, fills its writable part and pushes it back, through the
 * real vireo_virtio_* functions.
 *
 * Input: byte 0 picks the queue size (1 << (b % 5): 1 to 16) and byte 1
 * the driver's features (bit 0 INDIRECT_DESC, bit 1 EVENT_IDX); the rest is
 * copied to the start of RAM. The queue's areas are fixed: the descriptor
 * table at RAM + 0, the available ring at RAM + 0x100 and the used ring at
 * RAM + 0x200, so short inputs reach all three.
 */
#include "config.h"

#include "devices/virtio.h"
#include "engine/bus.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RAM_BASE   0x80000000ull
#define RAM_SIZE   0x10000ull
#define DESC_OFF   0x000
#define AVAIL_OFF  0x100
#define USED_OFF   0x200
#define QUEUE_MAX  16
#define HEADER     2
#define MAX_CHAINS 64

typedef struct {
    VireoVirtio *dev;
    unsigned popped;
} Model;

static guint8 scratch[64 * 1024];

static uint64_t model_get_features(void *opaque)
{
    return 0;
}

static void model_get_config(void *opaque, guint8 *config)
{
}

/* Serves every available chain, as a device with synchronous requests does. */
static void model_queue_notify(void *opaque, unsigned queue)
{
    Model *m = opaque;
    VireoVirtioChain chain;

    while (m->popped < MAX_CHAINS && vireo_virtio_pop_locked(m->dev, queue, &chain)) {
        uint64_t out = MIN(chain.out_len, (uint64_t)sizeof scratch);
        uint64_t in = MIN(chain.in_len, (uint64_t)sizeof scratch);
        uint64_t total = 0;

        m->popped++;
        /* The buffers the chain reports must add up to its lengths and lie
         * in guest RAM. */
        for (unsigned i = 0; i < chain.n_out + chain.n_in; i++) {
            const VireoVirtioBuf *b = &chain.bufs[i];
            if (vireo_bus_host_ptr(vireo_virtio_get_bus(m->dev), b->addr, b->len,
                                   i >= chain.n_out) != b->host) {
                abort();
            }
            total += b->len;
        }
        if (total != chain.out_len + chain.in_len) {
            abort();
        }
        if (vireo_virtio_chain_read_locked(m->dev, &chain, 0, scratch, out) != out) {
            abort();
        }
        if (vireo_virtio_chain_write_locked(m->dev, &chain, 0, scratch, in) != in) {
            abort();
        }
        vireo_virtio_push_locked(m->dev, &chain, (uint32_t)MIN(chain.in_len, UINT32_MAX));
    }
    vireo_virtio_notify_locked(m->dev, queue);
}

static void model_reset(void *opaque)
{
}

static void model_free(void *opaque)
{
    g_free(opaque);
}

static const VireoVirtioModelOps model_ops = {
    .name = "fuzz",
    .device_id = VIREO_VIRTIO_ID_ENTROPY,
    .n_queues = 1,
    .queue_size = QUEUE_MAX,
    .config_size = 0,
    .get_features = model_get_features,
    .get_config = model_get_config,
    .queue_notify = model_queue_notify,
    .reset = model_reset,
    .free = model_free,
};

static VireoBus *bus;
static guint8 *ram;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t features = 1ull << VIREO_VIRTIO_F_VERSION_1;
    VireoVirtio *dev;
    Model *m;

    if (bus == NULL) {
        g_autoptr(GError) error = NULL;
        bus = vireo_bus_new();
        ram = vireo_bus_add_ram(bus, RAM_BASE, RAM_SIZE, &error);
        if (ram == NULL) {
            g_printerr("%s\n", error->message);
            abort();
        }
    }
    if (size < HEADER) {
        return 0;
    }
    memset(ram, 0, RAM_SIZE);
    memcpy(ram, data + HEADER, MIN(size - HEADER, (size_t)RAM_SIZE));
    if (data[1] & 1) {
        features |= 1ull << VIREO_VIRTIO_F_INDIRECT_DESC;
    }
    if (data[1] & 2) {
        features |= 1ull << VIREO_VIRTIO_F_EVENT_IDX;
    }

    m = g_new0(Model, 1);
    dev = vireo_virtio_new(bus, &model_ops, m);
    m->dev = dev;
    vireo_virtio_lock(dev);
    vireo_virtio_set_status_locked(dev,
                                   VIREO_VIRTIO_STATUS_ACKNOWLEDGE | VIREO_VIRTIO_STATUS_DRIVER);
    vireo_virtio_set_driver_features_locked(dev, 0, (uint32_t)features);
    vireo_virtio_set_driver_features_locked(dev, 1, (uint32_t)(features >> 32));
    vireo_virtio_set_status_locked(dev, VIREO_VIRTIO_STATUS_ACKNOWLEDGE |
                                            VIREO_VIRTIO_STATUS_DRIVER |
                                            VIREO_VIRTIO_STATUS_FEATURES_OK);
    vireo_virtio_queue_set_num_locked(dev, 0, (uint16_t)(1u << (data[0] % 5)));
    vireo_virtio_queue_set_addr_locked(dev, 0, VIREO_VIRTQ_DESC, RAM_BASE + DESC_OFF);
    vireo_virtio_queue_set_addr_locked(dev, 0, VIREO_VIRTQ_DRIVER, RAM_BASE + AVAIL_OFF);
    vireo_virtio_queue_set_addr_locked(dev, 0, VIREO_VIRTQ_DEVICE, RAM_BASE + USED_OFF);
    vireo_virtio_queue_set_ready_locked(dev, 0, true);
    /* DRIVER_OK serves what is already available; a notification after it
     * finds the ring as the first pass left it. */
    vireo_virtio_set_status_locked(
        dev, VIREO_VIRTIO_STATUS_ACKNOWLEDGE | VIREO_VIRTIO_STATUS_DRIVER |
                 VIREO_VIRTIO_STATUS_FEATURES_OK | VIREO_VIRTIO_STATUS_DRIVER_OK);
    vireo_virtio_queue_notify_locked(dev, 0);
    vireo_virtio_reset_locked(dev);
    vireo_virtio_unlock(dev);
    vireo_virtio_free(dev);
    return 0;
}
