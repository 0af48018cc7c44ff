/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/virtio.h"

/* The state shared by virtio.c (status, features, interrupts) and
 * virtqueue.c (the split rings). Private to devices/. */

typedef struct {
    uint16_t max; /* QueueNumMax */
    /* Set by the driver while the queue is disabled. */
    uint16_t num;
    uint64_t desc_addr, avail_addr, used_addr;
    bool ready;
    /* Advances whenever the queue is enabled, disabled or reset: chains
     * popped in an earlier generation are stale. */
    uint64_t generation;
    /* While ready: host views of the three areas (checked to be RAM when the
     * queue was enabled; the RAM mapping never moves) and the device's own
     * ring positions. */
    const guint8 *desc;
    const guint8 *avail;
    guint8 *used;
    uint16_t last_avail;     /* next available entry to take */
    uint16_t used_idx;       /* next used entry to fill */
    uint16_t signalled_used; /* used_idx at the last notification decision */
    bool signalled_valid;
    bool pushed; /* used entries added since that decision */
} VireoVirtq;

struct VireoVirtio {
    GMutex lock;
    VireoBus *bus;
    const VireoVirtioModelOps *ops;
    void *model;
    VireoIrq irq;
    bool irq_level;
    uint8_t status;
    uint64_t device_features;
    uint64_t driver_features;
    uint32_t isr;
    uint32_t config_generation;
    uint64_t epoch;
    const char *error;
    char *loaded_error; /* a loaded state's reason, which `error` points to */
    guint8 *config;     /* scratch copy of the configuration space */
    VireoVirtq *queues;
    /* Paused by the host: no pops, notifications held (one bit a queue). */
    bool paused;
    uint32_t held_notify;
};

/* virtio.c: sets interrupt status bits and raises the line. */
void vireo_virtio_raise_isr_locked(VireoVirtio *dev, uint32_t bits);

/* virtqueue.c */
void vireo_virtq_init(VireoVirtq *q, uint16_t max);
/* Disables the queue and forgets the driver's settings. */
void vireo_virtq_reset(VireoVirtq *q);
/* Checks the queue's settings and enables it; the reason it cannot, or
 * NULL. */
const char *vireo_virtq_enable(VireoVirtio *dev, VireoVirtq *q);
void vireo_virtq_disable(VireoVirtq *q);
/* Snapshots: a queue's state, with the last `held` chains taken saved as
 * not taken. */
void vireo_virtq_save(const VireoVirtq *q, uint16_t held, VireoSnapWriter *w);
/* Reads a queue's state into `out`, checked as enabling it would check it
 * (without reading guest memory), with indices a device could have
 * reached; false after failing the reader. */
bool vireo_virtq_load(VireoVirtio *dev, const VireoVirtq *q, VireoSnapReader *r, VireoVirtq *out);
