/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virtio-net.h"

#include <string.h>

/* The bytes of the backlog, besides its frame count. */
#define RX_BACKLOG_BYTES (4u << 20)
/* How long the link stays down after a load, so that the guest sees it go
 * and come back. */
#define LINK_DOWN_US (500 * 1000)

typedef struct {
    VireoVirtio *dev;
    VireoNetBackend *backend;
    guint8 mac[VIREO_NET_MAC_LEN];
    uint16_t link; /* the configuration's status: VIREO_VIRTIO_NET_S_LINK_UP or 0 */

    /* The link's reset after a load: due on resume, then up again at
     * link_up_at (monotonic time; 0: nothing pending) on link_thread. */
    bool link_reset;
    gint64 link_up_at;
    GThread *link_thread;
    GCond link_cond;
    bool quit;

    /* Receive: the chain taken for the next frame, and the frames waiting
     * for one. */
    VireoVirtioChain rx_chain;
    bool rx_held;
    GQueue rx_backlog; /* GBytes */
    gsize rx_backlog_bytes;

    /* Transmit: a frame the back end had no room for. */
    guint8 *tx_buf;
    gsize tx_len;
    bool tx_pending;

    VireoVirtioNetStats stats;
} Net;

static const VireoVirtioModelOps net_ops;

/* ---- Transmit, on the notifying vCPU's thread (or the back end's, when it
 * has room again) ------------------------------------------------------------ */

/* Gathers the frame of a transmit chain into tx_buf; false for a chain that
 * must be returned unsent. */
static bool tx_gather(Net *n, const VireoVirtioChain *c)
{
    guint8 hdr[VIREO_VIRTIO_NET_HDR_SIZE];
    uint64_t len;

    if (c->n_in > 0 || c->out_len < VIREO_VIRTIO_NET_HDR_SIZE + VIREO_NET_MIN_FRAME ||
        c->out_len > VIREO_VIRTIO_NET_HDR_SIZE + VIREO_NET_MAX_FRAME) {
        return false;
    }
    len = c->out_len - VIREO_VIRTIO_NET_HDR_SIZE;
    if (vireo_virtio_chain_read_locked(n->dev, c, 0, hdr, sizeof hdr) != sizeof hdr ||
        hdr[VIREO_VIRTIO_NET_HDR_GSO_TYPE] != VIREO_VIRTIO_NET_HDR_GSO_NONE) {
        return false;
    }
    /* Without VIRTIO_NET_F_CSUM no flag has a meaning; unknown flags are
     * ignored (5.1.6.2.2). */
    if (vireo_virtio_chain_read_locked(n->dev, c, VIREO_VIRTIO_NET_HDR_SIZE, n->tx_buf,
                                       (gsize)len) != len) {
        return false;
    }
    n->tx_len = (gsize)len;
    return true;
}

/* Sends the frames the driver queued until the queue is empty or the back
 * end is full. */
static void tx_locked(Net *n)
{
    VireoVirtioChain c;

    if (n->tx_pending) {
        if (!vireo_net_backend_send(n->backend, n->tx_buf, n->tx_len)) {
            return;
        }
        n->tx_pending = false;
        n->stats.tx_frames++;
    }
    while (vireo_virtio_pop_locked(n->dev, VIREO_VIRTIO_NET_TX, &c)) {
        bool ok = tx_gather(n, &c);

        /* The data is copied: the buffers go back at once. */
        vireo_virtio_push_locked(n->dev, &c, 0);
        if (!ok) {
            n->stats.tx_dropped++;
            continue;
        }
        if (!vireo_net_backend_send(n->backend, n->tx_buf, n->tx_len)) {
            n->tx_pending = true;
            break;
        }
        n->stats.tx_frames++;
    }
    vireo_virtio_notify_locked(n->dev, VIREO_VIRTIO_NET_TX);
}

/* The back end has room again. */
static void net_writable(void *opaque)
{
    Net *n = opaque;

    vireo_virtio_lock(n->dev);
    /* While paused the frame waits; resuming tries it again. */
    if (vireo_virtio_is_running_locked(n->dev) && !vireo_virtio_is_paused_locked(n->dev)) {
        tx_locked(n);
    }
    vireo_virtio_unlock(n->dev);
}

/* ---- Receive -------------------------------------------------------------- */

typedef enum {
    RX_DELIVERED,
    RX_NO_BUFFER, /* the driver has no buffer available */
    RX_DROPPED,
} RxResult;

/* Puts one frame into the next receive chain. */
static RxResult rx_deliver_locked(Net *n, const guint8 *frame, gsize len)
{
    guint8 hdr[VIREO_VIRTIO_NET_HDR_SIZE] = { 0 };

    if (!vireo_virtio_is_running_locked(n->dev)) {
        return RX_DROPPED;
    }
    /* The driver took the chain back by disabling the queue. */
    if (n->rx_held && !vireo_virtio_chain_is_current_locked(n->dev, &n->rx_chain)) {
        vireo_virtio_chain_clear(&n->rx_chain);
        n->rx_held = false;
    }
    for (;;) {
        if (!n->rx_held) {
            if (!vireo_virtio_pop_locked(n->dev, VIREO_VIRTIO_NET_RX, &n->rx_chain)) {
                return RX_NO_BUFFER;
            }
            n->rx_held = true;
        }
        /* A chain that holds no frame at all is of no use: return it. */
        if (n->rx_chain.in_len >= VIREO_VIRTIO_NET_HDR_SIZE + VIREO_NET_MIN_FRAME) {
            break;
        }
        vireo_virtio_push_locked(n->dev, &n->rx_chain, 0);
        n->rx_held = false;
    }
    if (n->rx_chain.in_len < VIREO_VIRTIO_NET_HDR_SIZE + (uint64_t)len) {
        return RX_DROPPED; /* too large for the driver's buffers */
    }
    /* No offloads: no flags, no segmentation; one buffer (5.1.6.4.1). */
    hdr[VIREO_VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
    vireo_virtio_chain_write_locked(n->dev, &n->rx_chain, 0, hdr, sizeof hdr);
    vireo_virtio_chain_write_locked(n->dev, &n->rx_chain, VIREO_VIRTIO_NET_HDR_SIZE, frame, len);
    vireo_virtio_push_locked(n->dev, &n->rx_chain, (uint32_t)(VIREO_VIRTIO_NET_HDR_SIZE + len));
    n->rx_held = false;
    n->stats.rx_frames++;
    return RX_DELIVERED;
}

static void rx_backlog_clear(Net *n)
{
    n->stats.rx_dropped += n->rx_backlog.length;
    g_queue_clear_full(&n->rx_backlog, (GDestroyNotify)g_bytes_unref);
    n->rx_backlog_bytes = 0;
}

/* Delivers waiting frames while the driver has buffers. */
static void rx_flush_locked(Net *n)
{
    GBytes *frame;

    while ((frame = g_queue_peek_head(&n->rx_backlog)) != NULL) {
        gsize len;
        const guint8 *data = g_bytes_get_data(frame, &len);
        RxResult r = rx_deliver_locked(n, data, len);

        if (r == RX_NO_BUFFER) {
            break;
        }
        if (r == RX_DROPPED) {
            n->stats.rx_dropped++;
        }
        g_queue_pop_head(&n->rx_backlog);
        n->rx_backlog_bytes -= len;
        g_bytes_unref(frame);
    }
    vireo_virtio_notify_locked(n->dev, VIREO_VIRTIO_NET_RX);
}

/* A frame from the network, on the back end's thread. */
static void net_receive(void *opaque, const guint8 *frame, gsize len)
{
    Net *n = opaque;
    RxResult r = RX_NO_BUFFER;

    vireo_virtio_lock(n->dev);
    if (n->rx_backlog.length == 0) {
        r = rx_deliver_locked(n, frame, len);
    } else {
        rx_flush_locked(n);
        if (n->rx_backlog.length == 0) {
            r = rx_deliver_locked(n, frame, len);
        }
    }
    if (r == RX_NO_BUFFER) {
        if (n->rx_backlog.length < VIREO_VIRTIO_NET_RX_BACKLOG &&
            n->rx_backlog_bytes + len <= RX_BACKLOG_BYTES) {
            g_queue_push_tail(&n->rx_backlog, g_bytes_new(frame, len));
            n->rx_backlog_bytes += len;
        } else {
            n->stats.rx_dropped++;
        }
    } else if (r == RX_DROPPED) {
        n->stats.rx_dropped++;
    }
    vireo_virtio_notify_locked(n->dev, VIREO_VIRTIO_NET_RX);
    vireo_virtio_unlock(n->dev);
}

static const VireoNetPeerOps net_peer_ops = {
    .receive = net_receive,
    .writable = net_writable,
};

/* ---- The model ------------------------------------------------------------ */

static uint64_t net_get_features(void *model)
{
    return (1ull << VIREO_VIRTIO_NET_F_MAC) | (1ull << VIREO_VIRTIO_NET_F_STATUS) |
           (1ull << VIREO_VIRTIO_NET_F_MTU);
}

static void put16(guint8 *p, uint16_t v)
{
    v = GUINT16_TO_LE(v);
    memcpy(p, &v, 2);
}

static void net_get_config(void *model, guint8 *config)
{
    Net *n = model;

    memset(config, 0, VIREO_VIRTIO_NET_CONFIG_SIZE);
    memcpy(config + VIREO_VIRTIO_NET_CFG_MAC, n->mac, VIREO_NET_MAC_LEN);
    put16(config + VIREO_VIRTIO_NET_CFG_STATUS, n->link);
    put16(config + VIREO_VIRTIO_NET_CFG_MAX_VIRTQUEUE_PAIRS, 1);
    put16(config + VIREO_VIRTIO_NET_CFG_MTU, VIREO_VIRTIO_NET_MTU);
}

static void net_queue_notify(void *model, unsigned queue)
{
    Net *n = model;

    if (queue == VIREO_VIRTIO_NET_TX) {
        tx_locked(n);
    } else if (queue == VIREO_VIRTIO_NET_RX) {
        rx_flush_locked(n);
    }
}

/* Everything in flight belonged to the driver that was reset. */
static void net_reset(void *model)
{
    Net *n = model;

    vireo_virtio_chain_clear(&n->rx_chain);
    n->rx_held = false;
    rx_backlog_clear(n);
    if (n->tx_pending) {
        n->tx_pending = false;
        n->stats.tx_dropped++;
    }
    /* A new driver finds the link up. */
    n->link = VIREO_VIRTIO_NET_S_LINK_UP;
    n->link_reset = false;
    n->link_up_at = 0;
}

/* ---- Pausing --------------------------------------------------------------- */

/* Brings the link up again once its time is due, unless the device is
 * paused then (it waits for the resume). */
static gpointer link_worker(gpointer data)
{
    Net *n = data;

    vireo_virtio_lock(n->dev);
    while (!n->quit) {
        if (n->link_up_at == 0 || vireo_virtio_is_paused_locked(n->dev)) {
            vireo_virtio_wait_locked(n->dev, &n->link_cond);
        } else if (g_get_monotonic_time() < n->link_up_at) {
            vireo_virtio_wait_until_locked(n->dev, &n->link_cond, n->link_up_at);
        } else {
            n->link_up_at = 0;
            n->link = VIREO_VIRTIO_NET_S_LINK_UP;
            vireo_virtio_config_changed_locked(n->dev);
        }
    }
    vireo_virtio_unlock(n->dev);
    return NULL;
}

/* The device takes no chain now; the back end stops delivering frames
 * (those that come until it stops wait in the backlog). */
static void net_pause(void *model)
{
    Net *n = model;

    vireo_net_backend_pause(n->backend);
}

static void net_resume(void *model)
{
    Net *n = model;

    vireo_virtio_lock(n->dev);
    if (vireo_virtio_is_running_locked(n->dev) && !vireo_virtio_is_paused_locked(n->dev)) {
        if (n->tx_pending) {
            tx_locked(n); /* the back end may have room again */
        }
        /* After a load: the back end's connections are not the saved ones,
         * so the link goes down and up, and the guest configures its
         * network again (DHCP). Only a driver that knows the status sees
         * it. */
        if (n->link_reset &&
            (vireo_virtio_get_features_locked(n->dev) & (1ull << VIREO_VIRTIO_NET_F_STATUS))) {
            n->link = 0;
            n->link_up_at = g_get_monotonic_time() + LINK_DOWN_US;
            vireo_virtio_config_changed_locked(n->dev);
            if (n->link_thread == NULL) {
                n->link_thread = g_thread_new("virtio-net-link", link_worker, n);
            }
        }
    }
    n->link_reset = false;
    g_cond_signal(&n->link_cond);
    vireo_virtio_unlock(n->dev);
    vireo_net_backend_resume(n->backend);
}

/* ---- Snapshots --------------------------------------------------------------- */

#define NET_STATE_VERSION 1

typedef struct {
    guint8 mac[VIREO_NET_MAC_LEN];
    uint16_t link;
    GBytes *tx_frame; /* NULL: none pending */
    GQueue backlog;   /* GBytes */
    gsize backlog_bytes;
} NetLoad;

/* The receive chain kept for the next frame was the last one taken; it is
 * saved as not taken and taken again for the next frame after a load. */
static unsigned net_held_chains(void *model, unsigned queue)
{
    Net *n = model;
    /* One the driver took back by disabling the queue is not the queue's. */
    return queue == VIREO_VIRTIO_NET_RX && n->rx_held &&
                   vireo_virtio_chain_is_current_locked(n->dev, &n->rx_chain)
               ? 1
               : 0;
}

/* The MAC address and the link, the frame the back end refused and the
 * frames waiting for receive buffers. The back end's own state (libslirp's
 * connections, a TAP interface) is the host's and is not saved. */
static bool net_save(void *model, VireoSnapWriter *w, GError **error)
{
    Net *n = model;

    vireo_snap_put_u32(w, NET_STATE_VERSION);
    vireo_snap_put_bytes(w, n->mac, VIREO_NET_MAC_LEN);
    vireo_snap_put_u16(w, n->link);
    vireo_snap_put_bool(w, n->tx_pending);
    if (n->tx_pending) {
        vireo_snap_put_u32(w, (uint32_t)n->tx_len);
        vireo_snap_put_bytes(w, n->tx_buf, n->tx_len);
    }
    vireo_snap_put_u32(w, n->rx_backlog.length);
    for (GList *l = n->rx_backlog.head; l != NULL; l = l->next) {
        gsize len;
        const guint8 *data = g_bytes_get_data(l->data, &len);

        vireo_snap_put_u32(w, (uint32_t)len);
        vireo_snap_put_bytes(w, data, len);
    }
    return true;
}

static void net_discard(void *model, void *state)
{
    NetLoad *load = state;

    if (load->tx_frame != NULL) {
        g_bytes_unref(load->tx_frame);
    }
    g_queue_clear_full(&load->backlog, (GDestroyNotify)g_bytes_unref);
    g_free(load);
}

/* One frame: its length (an Ethernet frame's) and its bytes. */
static GBytes *load_frame(VireoSnapReader *r)
{
    uint32_t len = vireo_snap_get_u32(r);
    const guint8 *data;

    if (vireo_snap_failed(r)) {
        return NULL;
    }
    if (len < VIREO_NET_MIN_FRAME || len > VIREO_NET_MAX_FRAME) {
        vireo_snap_fail(r, "a frame of %u bytes is not an Ethernet frame", len);
        return NULL;
    }
    data = vireo_snap_get_view(r, len);
    return data != NULL ? g_bytes_new(data, len) : NULL;
}

static void *net_load(void *model, VireoSnapReader *r)
{
    static const guint8 zero_mac[VIREO_NET_MAC_LEN] = { 0 };
    NetLoad *load = g_new0(NetLoad, 1);
    uint32_t version = vireo_snap_get_u32(r);
    bool tx_pending;
    uint32_t n_backlog;

    g_queue_init(&load->backlog);
    vireo_snap_get_bytes(r, load->mac, VIREO_NET_MAC_LEN);
    load->link = vireo_snap_get_u16(r);
    if (!vireo_snap_failed(r) && version != NET_STATE_VERSION) {
        vireo_snap_fail(r, "the network card's layout version %u is not %u", version,
                        NET_STATE_VERSION);
    } else if (!vireo_snap_failed(r) &&
               ((load->mac[0] & 1) != 0 || memcmp(load->mac, zero_mac, VIREO_NET_MAC_LEN) == 0)) {
        vireo_snap_fail(r, "the MAC address is not a unicast address");
    } else if (!vireo_snap_failed(r) && (load->link & ~VIREO_VIRTIO_NET_S_LINK_UP) != 0) {
        vireo_snap_fail(r, "the link status 0x%x has unknown bits", load->link);
    }
    tx_pending = vireo_snap_get_bool(r);
    if (tx_pending) {
        load->tx_frame = load_frame(r);
    }
    n_backlog = vireo_snap_get_u32(r);
    if (!vireo_snap_failed(r) && n_backlog > VIREO_VIRTIO_NET_RX_BACKLOG) {
        vireo_snap_fail(r, "%u frames wait for receive buffers, more than %u", n_backlog,
                        VIREO_VIRTIO_NET_RX_BACKLOG);
    }
    for (uint32_t i = 0; i < n_backlog && !vireo_snap_failed(r); i++) {
        GBytes *frame = load_frame(r);

        if (frame == NULL) {
            break;
        }
        load->backlog_bytes += g_bytes_get_size(frame);
        g_queue_push_tail(&load->backlog, frame);
        if (load->backlog_bytes > RX_BACKLOG_BYTES) {
            vireo_snap_fail(r, "the frames waiting for receive buffers hold more than %u bytes",
                            RX_BACKLOG_BYTES);
        }
    }
    if (vireo_snap_failed(r)) {
        net_discard(model, load);
        return NULL;
    }
    return load;
}

static void net_apply(void *model, void *state)
{
    Net *n = model;
    NetLoad *load = state;

    memcpy(n->mac, load->mac, VIREO_NET_MAC_LEN);
    n->link = load->link;
    /* The chain held for the next frame is stale: the loaded one, if any,
     * is in the ring again. */
    vireo_virtio_chain_clear(&n->rx_chain);
    n->rx_held = false;
    n->tx_pending = load->tx_frame != NULL;
    if (n->tx_pending) {
        n->tx_len = g_bytes_get_size(load->tx_frame);
        memcpy(n->tx_buf, g_bytes_get_data(load->tx_frame, NULL), n->tx_len);
    }
    g_queue_clear_full(&n->rx_backlog, (GDestroyNotify)g_bytes_unref);
    n->rx_backlog = load->backlog;
    n->rx_backlog_bytes = load->backlog_bytes;
    g_queue_init(&load->backlog);
    /* The link goes down and up when the device runs again. */
    n->link_up_at = 0;
    n->link_reset = true;
    net_discard(model, load);
}

static void net_free(void *model)
{
    Net *n = model;

    if (n->link_thread != NULL) {
        vireo_virtio_lock(n->dev);
        n->quit = true;
        g_cond_signal(&n->link_cond);
        vireo_virtio_unlock(n->dev);
        g_thread_join(n->link_thread);
    }
    g_cond_clear(&n->link_cond);
    /* No callback from the back end runs after this. */
    vireo_net_backend_free(n->backend);
    vireo_virtio_chain_clear(&n->rx_chain);
    g_queue_clear_full(&n->rx_backlog, (GDestroyNotify)g_bytes_unref);
    g_free(n->tx_buf);
    g_free(n);
}

static const VireoVirtioModelOps net_ops = {
    .name = "virtio-net",
    .device_id = VIREO_VIRTIO_ID_NET,
    .n_queues = 2,
    .queue_size = VIREO_VIRTIO_NET_QUEUE_SIZE,
    .config_size = VIREO_VIRTIO_NET_CONFIG_SIZE,
    .get_features = net_get_features,
    .get_config = net_get_config,
    .queue_notify = net_queue_notify,
    .reset = net_reset,
    .free = net_free,
    .pause = net_pause,
    .resume = net_resume,
    .save = net_save,
    .load = net_load,
    .apply = net_apply,
    .discard = net_discard,
    .held_chains = net_held_chains,
};

VireoVirtio *vireo_virtio_net_new(VireoBus *bus, VireoNetBackend *backend,
                                  const guint8 mac[VIREO_NET_MAC_LEN])
{
    Net *n = g_new0(Net, 1);

    n->backend = backend;
    memcpy(n->mac, mac, VIREO_NET_MAC_LEN);
    n->link = VIREO_VIRTIO_NET_S_LINK_UP;
    g_cond_init(&n->link_cond);
    g_queue_init(&n->rx_backlog);
    n->tx_buf = g_malloc(VIREO_NET_MAX_FRAME);
    n->dev = vireo_virtio_new(bus, &net_ops, n);
    vireo_net_backend_attach(backend, &net_peer_ops, n);
    return n->dev;
}

bool vireo_virtio_net_get_stats(VireoVirtio *dev, VireoVirtioNetStats *stats)
{
    Net *n;

    if (vireo_virtio_get_model_ops(dev) != &net_ops) {
        return false;
    }
    n = vireo_virtio_get_model(dev);
    vireo_virtio_lock(dev);
    *stats = n->stats;
    stats->rx_backlog = n->rx_backlog.length;
    vireo_virtio_unlock(dev);
    return true;
}
