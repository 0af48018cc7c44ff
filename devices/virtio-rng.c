/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virtio-rng.h"

typedef struct {
    VireoVirtio *dev;
    VireoEntropyFunc source;
    void *opaque;
} Rng;

/* Fills every chain the driver made available; getrandom(2) of a few
 * kilobytes is quick enough to do on the vCPU thread. */
static void rng_queue_notify(void *model, unsigned queue)
{
    Rng *r = model;
    VireoVirtioChain c;
    guint8 buf[4096];

    while (vireo_virtio_pop_locked(r->dev, 0, &c)) {
        uint64_t want = MIN(c.in_len, (uint64_t)VIREO_VIRTIO_RNG_MAX_REQUEST);
        uint64_t done = 0;

        while (done < want) {
            gssize n = r->source(r->opaque, buf, (gsize)MIN(want - done, (uint64_t)sizeof buf));
            if (n <= 0) {
                break;
            }
            vireo_virtio_chain_write_locked(r->dev, &c, done, buf, (gsize)n);
            done += (uint64_t)n;
        }
        vireo_virtio_push_locked(r->dev, &c, (uint32_t)done);
    }
    vireo_virtio_notify_locked(r->dev, 0);
}

static void rng_free(void *model)
{
    g_free(model);
}

static const VireoVirtioModelOps rng_ops = {
    .name = "virtio-rng",
    .device_id = VIREO_VIRTIO_ID_ENTROPY,
    .n_queues = 1,
    .queue_size = VIREO_VIRTIO_RNG_QUEUE_SIZE,
    .config_size = 0,
    .queue_notify = rng_queue_notify,
    .free = rng_free,
};

VireoVirtio *vireo_virtio_rng_new(VireoBus *bus, VireoEntropyFunc source, void *opaque)
{
    Rng *r = g_new0(Rng, 1);

    r->source = source != NULL ? source : vireo_entropy_getrandom;
    r->opaque = opaque;
    r->dev = vireo_virtio_new(bus, &rng_ops, r);
    return r->dev;
}
