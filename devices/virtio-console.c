/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virtio-console.h"

#include <string.h>

#define RETRY_US 1000 /* how often a full ring is looked at again */

typedef struct {
    VireoVirtio *dev;
    VireoRing *out;
    /* The transmit chain that did not fit in the ring yet. */
    VireoVirtioChain tx;
    uint64_t tx_done;
    bool tx_busy;
    /* After a load: bytes of the next transmit chain that went out before
     * the save (the chain was saved as not taken). */
    uint64_t tx_skip;
    /* The thread that waits for room in the ring. */
    GThread *thread;
    GCond cond;
    bool stalled;
    bool quit;
} Console;

static const VireoVirtioModelOps console_ops;

/* Moves transmitted bytes into the ring until the queue is empty (true) or
 * the ring is full (false). */
static bool console_tx_locked(Console *c)
{
    guint8 buf[1024];
    bool drained = true;

    for (;;) {
        if (!c->tx_busy) {
            if (!vireo_virtio_pop_locked(c->dev, VIREO_VIRTIO_CONSOLE_TX, &c->tx)) {
                break;
            }
            c->tx_busy = true;
            c->tx_done = MIN(c->tx_skip, c->tx.out_len);
            c->tx_skip = 0;
        }
        while (c->tx_done < c->tx.out_len) {
            gsize want = (gsize)MIN(c->tx.out_len - c->tx_done, (uint64_t)sizeof buf);
            gsize n = vireo_virtio_chain_read_locked(c->dev, &c->tx, c->tx_done, buf, want);
            gsize taken = n;

            if (n == 0) {
                break; /* stale: the device was reset or the queue disabled */
            }
            if (c->out != NULL) {
                taken = vireo_ring_write(c->out, buf, n);
            }
            c->tx_done += taken;
            if (taken < n) {
                drained = false;
                goto out;
            }
        }
        vireo_virtio_push_locked(c->dev, &c->tx, 0);
        c->tx_busy = false;
    }
out:
    vireo_virtio_notify_locked(c->dev, VIREO_VIRTIO_CONSOLE_TX);
    return drained;
}

static void console_queue_notify(void *model, unsigned queue)
{
    Console *c = model;

    if (queue == VIREO_VIRTIO_CONSOLE_TX && !c->stalled && !console_tx_locked(c)) {
        c->stalled = true;
        g_cond_signal(&c->cond);
    }
}

static gpointer console_worker(gpointer data)
{
    Console *c = data;

    vireo_virtio_lock(c->dev);
    while (!c->quit) {
        if (!c->stalled) {
            vireo_virtio_wait_locked(c->dev, &c->cond);
            continue;
        }
        vireo_virtio_unlock(c->dev);
        g_usleep(RETRY_US);
        vireo_virtio_lock(c->dev);
        /* A paused device holds its chain and copies nothing. */
        if (c->stalled && !vireo_virtio_is_paused_locked(c->dev) && console_tx_locked(c)) {
            c->stalled = false;
        }
    }
    vireo_virtio_unlock(c->dev);
    return NULL;
}

static uint64_t console_get_features(void *model)
{
    return 1ull << VIREO_VIRTIO_CONSOLE_F_EMERG_WRITE;
}

static void console_get_config(void *model, guint8 *config)
{
    /* No size, one port, and emerg_wr reads as 0. */
    memset(config, 0, VIREO_VIRTIO_CONSOLE_CONFIG_SIZE);
}

static void console_set_config(void *model, unsigned offset, const guint8 *data, unsigned len)
{
    Console *c = model;

    if (offset == VIREO_VIRTIO_CONSOLE_CFG_EMERG_WR && len >= 1 && c->out != NULL) {
        vireo_ring_write(c->out, data, 1);
    }
}

static void console_reset(void *model)
{
    Console *c = model;

    vireo_virtio_chain_clear(&c->tx);
    c->tx_busy = false;
    c->tx_skip = 0;
    c->stalled = false;
}

/* ---- Snapshots --------------------------------------------------------- */

#define CONSOLE_STATE_VERSION 1
/* No chain is longer: at most VIREO_VIRTQ_MAX_SIZE buffers of < 4 GiB. */
#define MAX_CHAIN_BYTES ((uint64_t)VIREO_VIRTQ_MAX_SIZE * G_MAXUINT32)

typedef struct {
    uint64_t tx_skip;
} ConsoleLoad;

/* Input is put into receive buffers as it comes, so none is held. A
 * transmit chain that did not fit in the ring yet is saved as not taken,
 * with the count of its bytes that went out already: after a load the
 * device takes it again and sends the rest. */
static unsigned console_held_chains(void *model, unsigned queue)
{
    Console *c = model;
    /* One the driver took back by disabling the queue is not the queue's. */
    return queue == VIREO_VIRTIO_CONSOLE_TX && c->tx_busy &&
                   vireo_virtio_chain_is_current_locked(c->dev, &c->tx)
               ? 1
               : 0;
}

static bool console_save(void *model, VireoSnapWriter *w, GError **error)
{
    Console *c = model;

    vireo_snap_put_u32(w, CONSOLE_STATE_VERSION);
    vireo_snap_put_u64(w, console_held_chains(c, VIREO_VIRTIO_CONSOLE_TX) != 0 ? c->tx_done
                                                                               : c->tx_skip);
    return true;
}

static void *console_load(void *model, VireoSnapReader *r)
{
    uint32_t version = vireo_snap_get_u32(r);
    uint64_t skip = vireo_snap_get_u64(r);
    ConsoleLoad *load;

    if (vireo_snap_failed(r)) {
        return NULL;
    }
    if (version != CONSOLE_STATE_VERSION) {
        vireo_snap_fail(r, "the console's layout version %u is not %u", version,
                        CONSOLE_STATE_VERSION);
        return NULL;
    }
    if (skip > MAX_CHAIN_BYTES) {
        vireo_snap_fail(r,
                        "%" G_GUINT64_FORMAT " bytes of a chain were sent, more than a chain "
                        "holds",
                        skip);
        return NULL;
    }
    load = g_new0(ConsoleLoad, 1);
    load->tx_skip = skip;
    return load;
}

/* The old chain is stale; the loaded one is taken again on resume (the
 * device then gets a notification on every ready queue). */
static void console_apply(void *model, void *state)
{
    Console *c = model;
    ConsoleLoad *load = state;

    vireo_virtio_chain_clear(&c->tx);
    c->tx_busy = false;
    c->stalled = false;
    c->tx_skip = load->tx_skip;
    g_free(load);
}

static void console_discard(void *model, void *state)
{
    g_free(state);
}

static void console_free(void *model)
{
    Console *c = model;

    vireo_virtio_lock(c->dev);
    c->quit = true;
    g_cond_signal(&c->cond);
    vireo_virtio_unlock(c->dev);
    g_thread_join(c->thread);
    g_cond_clear(&c->cond);
    vireo_virtio_chain_clear(&c->tx);
    g_free(c);
}

static const VireoVirtioModelOps console_ops = {
    .name = "virtio-console",
    .device_id = VIREO_VIRTIO_ID_CONSOLE,
    .n_queues = 2,
    .queue_size = VIREO_VIRTIO_CONSOLE_QUEUE_SIZE,
    .config_size = VIREO_VIRTIO_CONSOLE_CONFIG_SIZE,
    .get_features = console_get_features,
    .get_config = console_get_config,
    .set_config = console_set_config,
    .queue_notify = console_queue_notify,
    .reset = console_reset,
    .free = console_free,
    .save = console_save,
    .load = console_load,
    .apply = console_apply,
    .discard = console_discard,
    .held_chains = console_held_chains,
};

VireoVirtio *vireo_virtio_console_new(VireoBus *bus, VireoRing *out)
{
    Console *c = g_new0(Console, 1);

    c->out = out;
    g_cond_init(&c->cond);
    c->dev = vireo_virtio_new(bus, &console_ops, c);
    c->thread = g_thread_new("virtio-console", console_worker, c);
    return c->dev;
}

gsize vireo_virtio_console_receive(VireoVirtio *dev, const guint8 *data, gsize len)
{
    VireoVirtioChain chain;
    gsize done = 0;

    if (vireo_virtio_get_model_ops(dev) != &console_ops) {
        return 0;
    }
    vireo_virtio_lock(dev);
    while (done < len && vireo_virtio_pop_locked(dev, VIREO_VIRTIO_CONSOLE_RX, &chain)) {
        gsize n = vireo_virtio_chain_write_locked(dev, &chain, 0, data + done,
                                                  (gsize)MIN((uint64_t)(len - done), chain.in_len));
        done += n;
        vireo_virtio_push_locked(dev, &chain, (uint32_t)n);
        if (n == 0) {
            break; /* a chain without writable buffers: try again later */
        }
    }
    vireo_virtio_notify_locked(dev, VIREO_VIRTIO_CONSOLE_RX);
    vireo_virtio_unlock(dev);
    return done;
}
