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

/* Every request is answered when it is taken: the device has no state of
 * its own beyond the core's. Its part is just its layout version. */
#define RNG_STATE_VERSION 1

static bool rng_save(void *model, VireoSnapWriter *w, GError **error)
{
    vireo_snap_put_u32(w, RNG_STATE_VERSION);
    return true;
}

static void *rng_load(void *model, VireoSnapReader *r)
{
    uint32_t version = vireo_snap_get_u32(r);

    if (vireo_snap_failed(r)) {
        return NULL;
    }
    if (version != RNG_STATE_VERSION) {
        vireo_snap_fail(r, "the entropy device's layout version %u is not %u", version,
                        RNG_STATE_VERSION);
        return NULL;
    }
    return model; /* nothing to apply */
}

static const VireoVirtioModelOps rng_ops = {
    .name = "virtio-rng",
    .device_id = VIREO_VIRTIO_ID_ENTROPY,
    .n_queues = 1,
    .queue_size = VIREO_VIRTIO_RNG_QUEUE_SIZE,
    .config_size = 0,
    .queue_notify = rng_queue_notify,
    .free = rng_free,
    .save = rng_save,
    .load = rng_load,
};

VireoVirtio *vireo_virtio_rng_new(VireoBus *bus, VireoEntropyFunc source, void *opaque)
{
    Rng *r = g_new0(Rng, 1);

    r->source = source != NULL ? source : vireo_entropy_getrandom;
    r->opaque = opaque;
    r->dev = vireo_virtio_new(bus, &rng_ops, r);
    return r->dev;
}
