/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"
#include "engine/irq.h"
#include "engine/snap.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * A virtio device (virtio 1.2, modern interface only), between the two other
 * layers of Vireo's virtio stack:
 *
 *   - a transport (virtio-mmio.h) decodes the guest's register accesses and
 *     calls the transport functions below;
 *   - a device model (virtio-blk.h, virtio-rng.h, virtio-console.h, and
 *     virtio-net later) implements VireoVirtioModelOps and talks to its host
 *     back end (a disk image, the host's entropy, a console ring).
 *
 * The VireoVirtio object in the middle holds what every device has: the
 * status byte, the feature negotiation, the interrupt status, the
 * configuration generation and the split virtqueues, whose guest-controlled
 * contents it checks (docs/VIRTIO.md lists the rules). Models never read the
 * rings themselves: they pop validated descriptor chains, copy data in and
 * out of them and push them back.
 *
 * Locking: each device has one mutex. Transports take it around every
 * register access (vireo_virtio_lock), and every model callback runs with it
 * held, except `free`. Functions named *_locked must be called with it held;
 * a model's worker thread takes it with vireo_virtio_lock() around each step
 * that touches the device or guest memory, and drops it for slow host I/O.
 *
 * Resets: every reset (status 0, a board reset) advances the device's epoch,
 * and disabling a queue advances the queue's generation. A chain remembers
 * both; once either has moved on, copying into or out of it and pushing it
 * are refused, so a request that was in flight during a reset, or taken from
 * a queue the driver disabled since, never touches guest memory again.
 */

/* Device IDs (virtio 1.2, 5). */
#define VIREO_VIRTIO_ID_NET     1
#define VIREO_VIRTIO_ID_BLOCK   2
#define VIREO_VIRTIO_ID_CONSOLE 3
#define VIREO_VIRTIO_ID_ENTROPY 4

/* Device status bits (2.1). */
#define VIREO_VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIREO_VIRTIO_STATUS_DRIVER      0x02
#define VIREO_VIRTIO_STATUS_DRIVER_OK   0x04
#define VIREO_VIRTIO_STATUS_FEATURES_OK 0x08
#define VIREO_VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIREO_VIRTIO_STATUS_FAILED      0x80

/* Feature bits of the device-independent part (6). */
#define VIREO_VIRTIO_F_INDIRECT_DESC 28
#define VIREO_VIRTIO_F_EVENT_IDX     29
#define VIREO_VIRTIO_F_VERSION_1     32
/* The bits a model may offer: the device-specific ranges, 0 to 23 and 50
 * to 63. */
#define VIREO_VIRTIO_MODEL_FEATURES (0xffffffull | (0x3fffull << 50))

/* Interrupt status bits (InterruptStatus on MMIO, ISR on PCI). */
#define VIREO_VIRTIO_ISR_QUEUE  0x1
#define VIREO_VIRTIO_ISR_CONFIG 0x2

/* Split virtqueue limits. */
#define VIREO_VIRTQ_MAX_SIZE     32768 /* the largest queue the format allows */
#define VIREO_VIRTQ_MAX_INDIRECT 1024  /* entries of one indirect table */

/* Descriptor flags (2.7.5). */
#define VIREO_VIRTQ_DESC_F_NEXT          1
#define VIREO_VIRTQ_DESC_F_WRITE         2
#define VIREO_VIRTQ_DESC_F_INDIRECT      4
#define VIREO_VIRTQ_AVAIL_F_NO_INTERRUPT 1

typedef struct VireoVirtio VireoVirtio;

/* One guest buffer of a chain: checked to lie wholly in guest RAM. */
typedef struct {
    uint64_t addr;
    guint8 *host;
    uint32_t len;
} VireoVirtioBuf;

/* A descriptor chain popped from a virtqueue: `n_out` device-readable
 * buffers followed by `n_in` device-writable ones. The model owns it until it
 * pushes it back (or the device is reset); vireo_virtio_chain_clear() frees
 * the buffer list. */
typedef struct {
    unsigned queue;
    uint16_t head;       /* the descriptor index that goes back in the used ring */
    uint64_t epoch;      /* the device's epoch when it was popped */
    uint64_t generation; /* the queue's, which disabling the queue advances */
    unsigned n_out, n_in;
    uint64_t out_len, in_len; /* bytes in the readable and writable parts */
    VireoVirtioBuf *bufs;
} VireoVirtioChain;

/*
 * What a device model implements. All callbacks but `free` run with the
 * device's lock held and must not block: a model that does slow work hands it
 * to its own thread.
 */
typedef struct VireoVirtioModelOps {
    const char *name;
    uint32_t device_id;
    unsigned n_queues;
    uint16_t queue_size;  /* QueueNumMax of every queue, a power of two */
    unsigned config_size; /* bytes of device configuration space */
    /* Device-specific feature bits offered (within
     * VIREO_VIRTIO_MODEL_FEATURES); the transport bits are added. */
    uint64_t (*get_features)(void *model);
    /* Optional: the driver sets FEATURES_OK with `features`; false refuses
     * them (FEATURES_OK then stays clear). */
    bool (*set_features)(void *model, uint64_t features);
    /* Fills the configuration space, config_size bytes, little-endian. */
    void (*get_config)(void *model, guint8 *config);
    /* Optional: the driver wrote `len` bytes at `offset` of the configuration
     * space (inside config_size). */
    void (*set_config)(void *model, unsigned offset, const guint8 *data, unsigned len);
    /* The driver notified `queue`, or the device just became ready (then for
     * every ready queue). Buffers may be waiting. */
    void (*queue_notify)(void *model, unsigned queue);
    /* The device was reset: forget every chain and everything in flight. */
    void (*reset)(void *model);
    /* Stops the model's threads and frees it; the lock is not held. */
    void (*free)(void *model);

    /*
     * Pausing (all optional). The device core stops handing out chains and
     * holds the driver's notifications while the device is paused
     * (vireo_virtio_pause); these two take care of the rest, without the
     * lock, on the thread that pauses.
     */
    /* Called once pops are refused: finish the work in flight (or hold it
     * where it cannot be finished) and stop every thread of the model from
     * touching guest memory, raising interrupts or changing the model's
     * state until `resume`. */
    void (*pause)(void *model);
    /* Called after the held notifications were delivered. */
    void (*resume)(void *model);

    /*
     * Snapshots (docs/SNAPSHOTS.md). They run with the lock held while the
     * device is paused, and never read guest memory: a loaded state's guest
     * RAM arrives after the devices took theirs. A model without `save`
     * cannot be saved; one without `load` has an empty part.
     */
    /* Writes the model's part of the device's section (after the core's).
     * May refuse with an error naming what cannot be saved. */
    bool (*save)(void *model, VireoSnapWriter *w, GError **error);
    /* Reads the model's part and checks every value, changing nothing:
     * returns what `apply` takes, or NULL after vireo_snap_fail(). */
    void *(*load)(void *model, VireoSnapReader *r);
    /* Makes a loaded state the model's (after the core took its own) and
     * frees it. The device's epoch has moved on: chains the model held are
     * stale. Must not fail. */
    void (*apply)(void *model, void *state);
    /* Frees a loaded state that is not applied. */
    void (*discard)(void *model, void *state);
    /* How many chains of `queue` the model holds popped while it is paused
     * (receive buffers waiting for input, a transmit chain waiting for
     * room). They must be the last ones it popped from that queue: the
     * device saves them as never taken, and the model takes them again
     * after a load. */
    unsigned (*held_chains)(void *model, unsigned queue);
} VireoVirtioModelOps;

/* Creates a device; it owns `model`, which vireo_virtio_free() frees through
 * ops->free. `bus` is the guest memory the device reaches; it must outlive
 * the device. */
VireoVirtio *vireo_virtio_new(VireoBus *bus, const VireoVirtioModelOps *ops, void *model);
void vireo_virtio_free(VireoVirtio *dev);

const VireoVirtioModelOps *vireo_virtio_get_model_ops(VireoVirtio *dev);
void *vireo_virtio_get_model(VireoVirtio *dev);
VireoBus *vireo_virtio_get_bus(VireoVirtio *dev);

void vireo_virtio_lock(VireoVirtio *dev);
void vireo_virtio_unlock(VireoVirtio *dev);
/* Waits on `cond` with the device's lock, which the caller holds. */
void vireo_virtio_wait_locked(VireoVirtio *dev, GCond *cond);
/* The same, until the monotonic time `end_time` at most; false then. */
bool vireo_virtio_wait_until_locked(VireoVirtio *dev, GCond *cond, gint64 end_time);

/*
 * For device models.
 */

/* The features the driver accepted (valid once FEATURES_OK is set). */
uint64_t vireo_virtio_get_features_locked(VireoVirtio *dev);
/* DRIVER_OK and FEATURES_OK set, neither DEVICE_NEEDS_RESET nor FAILED:
 * the device may use its queues. */
bool vireo_virtio_is_running_locked(VireoVirtio *dev);
uint64_t vireo_virtio_get_epoch_locked(VireoVirtio *dev);

/* The next available chain of `queue`, checked. False when there is none,
 * when the device is not running, or when the ring or the chain is malformed
 * (which puts the device in DEVICE_NEEDS_RESET). */
bool vireo_virtio_pop_locked(VireoVirtio *dev, unsigned queue, VireoVirtioChain *chain);
/* Returns `chain` to the driver with `written` bytes written into its
 * writable part, and frees its buffer list. Nothing reaches the used ring
 * when the device was reset since the chain was popped, or is not running. */
void vireo_virtio_push_locked(VireoVirtio *dev, VireoVirtioChain *chain, uint32_t written);
/* Sends a used-buffer notification for `queue` if buffers were pushed since
 * the last one and the driver asks for it (VIRTQ_AVAIL_F_NO_INTERRUPT or
 * used_event with VIRTIO_F_EVENT_IDX). */
void vireo_virtio_notify_locked(VireoVirtio *dev, unsigned queue);
/* Copies from the readable part at `offset`, or into the writable part
 * (reporting the write to the bus). Return the bytes copied: fewer when the
 * part is shorter, 0 when the chain is stale (reset since it was popped). */
gsize vireo_virtio_chain_read_locked(VireoVirtio *dev, const VireoVirtioChain *chain,
                                     uint64_t offset, void *data, gsize len);
gsize vireo_virtio_chain_write_locked(VireoVirtio *dev, const VireoVirtioChain *chain,
                                      uint64_t offset, const void *data, gsize len);
/* Whether the chain may still be used: no reset since it was popped, and
 * its queue was not disabled since (QueueReady = 0 takes every chain of the
 * queue back, as a reset takes all). */
bool vireo_virtio_chain_is_current_locked(VireoVirtio *dev, const VireoVirtioChain *chain);
void vireo_virtio_chain_clear(VireoVirtioChain *chain);
/* The driver broke the protocol: set DEVICE_NEEDS_RESET (with a
 * configuration-change interrupt once DRIVER_OK is set) and stop using the
 * queues until the driver resets the device. `reason` is a static string. */
void vireo_virtio_set_needs_reset_locked(VireoVirtio *dev, const char *reason);
/* Whether the host paused the device (vireo_virtio_pause). */
bool vireo_virtio_is_paused_locked(VireoVirtio *dev);
/* Why the device last entered DEVICE_NEEDS_RESET, or NULL (cleared by a
 * reset). Takes the lock: not for use inside callbacks. */
const char *vireo_virtio_get_error(VireoVirtio *dev);
/* The configuration space changed: bump the generation and interrupt. */
void vireo_virtio_config_changed_locked(VireoVirtio *dev);

/*
 * For transports. Every function here needs the lock.
 */

/* The interrupt line; its level follows "interrupt status != 0". */
void vireo_virtio_set_irq_locked(VireoVirtio *dev, const VireoIrq *irq);
uint32_t vireo_virtio_get_device_id_locked(VireoVirtio *dev);
unsigned vireo_virtio_get_n_queues_locked(VireoVirtio *dev);
/* Feature words: bits 32 * sel to 32 * sel + 31; 0 for sel > 1. */
uint32_t vireo_virtio_get_device_features_locked(VireoVirtio *dev, unsigned sel);
uint32_t vireo_virtio_get_driver_features_locked(VireoVirtio *dev, unsigned sel);
/* Ignored once FEATURES_OK is set. */
void vireo_virtio_set_driver_features_locked(VireoVirtio *dev, unsigned sel, uint32_t value);
uint8_t vireo_virtio_get_status_locked(VireoVirtio *dev);
/* Writing 0 resets the device. Setting FEATURES_OK checks the driver's
 * features (VERSION_1 required, nothing that was not offered); setting
 * DRIVER_OK starts the device. Clearing bits other than by a reset, and
 * setting DEVICE_NEEDS_RESET, are ignored. */
void vireo_virtio_set_status_locked(VireoVirtio *dev, uint8_t status);
void vireo_virtio_reset_locked(VireoVirtio *dev);
uint32_t vireo_virtio_get_isr_locked(VireoVirtio *dev);
void vireo_virtio_ack_isr_locked(VireoVirtio *dev, uint32_t bits);
uint32_t vireo_virtio_get_config_generation_locked(VireoVirtio *dev);
/* Configuration space accesses of 1, 2, 4 or 8 bytes; bytes past the
 * model's configuration read as 0 and ignore writes. */
uint64_t vireo_virtio_read_config_locked(VireoVirtio *dev, unsigned offset, unsigned size);
void vireo_virtio_write_config_locked(VireoVirtio *dev, unsigned offset, unsigned size,
                                      uint64_t value);

/* A queue's driver-set configuration. */
typedef enum {
    VIREO_VIRTQ_DESC,   /* the descriptor table */
    VIREO_VIRTQ_DRIVER, /* the available ring */
    VIREO_VIRTQ_DEVICE, /* the used ring */
} VireoVirtqArea;

/* 0 for a queue that does not exist. */
uint16_t vireo_virtio_queue_get_max_locked(VireoVirtio *dev, unsigned queue);
uint16_t vireo_virtio_queue_get_num_locked(VireoVirtio *dev, unsigned queue);
uint64_t vireo_virtio_queue_get_addr_locked(VireoVirtio *dev, unsigned queue, VireoVirtqArea area);
bool vireo_virtio_queue_get_ready_locked(VireoVirtio *dev, unsigned queue);
/* These three are ignored for a queue that is ready or does not exist. */
void vireo_virtio_queue_set_num_locked(VireoVirtio *dev, unsigned queue, uint16_t num);
void vireo_virtio_queue_set_addr_locked(VireoVirtio *dev, unsigned queue, VireoVirtqArea area,
                                        uint64_t addr);
/* Enabling checks the size (a power of two up to the maximum) and that each
 * area is aligned and lies in guest RAM; a queue that fails stays disabled
 * and the device enters DEVICE_NEEDS_RESET. Disabling forgets its state. */
void vireo_virtio_queue_set_ready_locked(VireoVirtio *dev, unsigned queue, bool ready);
/* The driver's notification (a write of QueueNotify). */
void vireo_virtio_queue_notify_locked(VireoVirtio *dev, unsigned queue);

/*
 * Pausing, for transports: without the lock. From the return of
 * vireo_virtio_pause() until vireo_virtio_resume(), the device takes no
 * chain, holds the driver's notifications, and its model (its `pause`) has
 * finished or held the work in flight: nothing touches guest memory, raises
 * an interrupt or changes the device's state, except a reset. Resuming
 * delivers the held notifications (after a load: one on every ready queue).
 * Pausing a paused device, or resuming a running one, does nothing.
 */
void vireo_virtio_pause(VireoVirtio *dev);
void vireo_virtio_resume(VireoVirtio *dev);

/*
 * Snapshots, for transports (docs/SNAPSHOTS.md): the core's part of a
 * section, then the model's. The device must be paused.
 */
bool vireo_virtio_save_locked(VireoVirtio *dev, VireoSnapWriter *w, GError **error);
/* Reads and checks the core's and the model's parts without changing the
 * device; NULL after failing the reader. The transport then finishes the
 * reader and applies the result, or frees it. */
typedef struct VireoVirtioLoad VireoVirtioLoad;
VireoVirtioLoad *vireo_virtio_load_read_locked(VireoVirtio *dev, VireoSnapReader *r);
/* Replaces the device's state (the model's too) and frees `load`: the
 * epoch moves on, the interrupt line is driven to the loaded level, and
 * every ready queue gets a notification when the device resumes. */
void vireo_virtio_load_apply_locked(VireoVirtio *dev, VireoVirtioLoad *load);
void vireo_virtio_load_free(VireoVirtio *dev, VireoVirtioLoad *load);

G_END_DECLS
