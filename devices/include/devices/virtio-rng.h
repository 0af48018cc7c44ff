/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/entropy.h"
#include "devices/virtio.h"

G_BEGIN_DECLS

/*
 * virtio-rng, the entropy device (virtio 1.2, 5.4): one request queue whose
 * writable buffers are filled from `source` (vireo_entropy_getrandom when
 * NULL) on the notifying vCPU's thread, at most VIREO_VIRTIO_RNG_MAX_REQUEST
 * bytes per buffer chain.
 */
#define VIREO_VIRTIO_RNG_QUEUE_SIZE  64
#define VIREO_VIRTIO_RNG_MAX_REQUEST (64 * 1024)

VireoVirtio *vireo_virtio_rng_new(VireoBus *bus, VireoEntropyFunc source, void *opaque);

G_END_DECLS
