/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "devices/net.h"
#include "engine/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * User-mode networking: libslirp, a TCP/IP stack in user space that turns
 * the guest's connections into the host's own sockets and answers DHCP, ARP
 * and DNS (which it forwards to the host's resolver) itself.
 *
 * libslirp is not thread-safe, so one thread owns it: it runs the poll loop
 * over libslirp's sockets, its timers, and an eventfd that wakes it when the
 * device queues frames for the network or the back end is freed. Frames from
 * the guest wait in a bounded queue (the device stops taking transmit
 * buffers while it is full); frames from libslirp go to the device at once,
 * on this thread.
 */

#define TX_MAX_FRAMES 256
#define TX_MAX_BYTES  (2u << 20)

typedef struct {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
} Timer;

typedef struct {
    VireoNetBackend base;
    Slirp *slirp;
    GThread *thread;
    int wake_fd;
    /* The poll set of one round: the eventfd first, then libslirp's. */
    GArray *pollfds;
    GPtrArray *timers;
    /* Frames from the guest; protected by `lock`. */
    GMutex lock;
    GQueue tx;
    gsize tx_bytes;
    bool tx_refused; /* a frame was refused: tell the peer when there is room */
    bool quit;
    /* Pausing (lock): the thread waits in park() and touches nothing. */
    GCond cond;
    bool paused;
    bool parked;
} NetSlirp;

static const VireoNetBackendOps slirp_backend_ops;

/* ---- libslirp's callbacks, all on the back end's thread (or before it
 * starts) ------------------------------------------------------------------ */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    NetSlirp *s = opaque;

    vireo_net_backend_deliver(&s->base, buf, len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    g_debug("user network: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    return g_get_monotonic_time() * 1000;
}

static int64_t now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    NetSlirp *s = opaque;
    Timer *t = g_new0(Timer, 1);

    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    g_ptr_array_add(s->timers, t);
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    NetSlirp *s = opaque;

    g_ptr_array_remove_fast(s->timers, timer); /* frees it */
}

static void cb_timer_mod(void *timer, int64_t expire_time, void *opaque)
{
    Timer *t = timer;
    t->expire_ms = MAX(expire_time, 0);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

/* The poll loop runs slirp_pollfds_fill() every round, so there is nothing
 * to wake. */
static void cb_notify(void *opaque)
{
}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
};

static int cb_add_poll(int fd, int events, void *opaque)
{
    NetSlirp *s = opaque;
    struct pollfd p = { .fd = fd, .events = 0 };

    if (events & SLIRP_POLL_IN) {
        p.events |= POLLIN;
    }
    if (events & SLIRP_POLL_OUT) {
        p.events |= POLLOUT;
    }
    if (events & SLIRP_POLL_PRI) {
        p.events |= POLLPRI;
    }
    g_array_append_val(s->pollfds, p);
    return (int)s->pollfds->len - 1;
}

static int cb_get_revents(int idx, void *opaque)
{
    NetSlirp *s = opaque;
    short r;
    int events = 0;

    if (idx < 1 || (guint)idx >= s->pollfds->len) {
        return 0;
    }
    r = g_array_index(s->pollfds, struct pollfd, idx).revents;
    if (r & POLLIN) {
        events |= SLIRP_POLL_IN;
    }
    if (r & POLLOUT) {
        events |= SLIRP_POLL_OUT;
    }
    if (r & POLLPRI) {
        events |= SLIRP_POLL_PRI;
    }
    if (r & (POLLERR | POLLNVAL)) {
        events |= SLIRP_POLL_ERR;
    }
    if (r & POLLHUP) {
        events |= SLIRP_POLL_HUP;
    }
    return events;
}

/* ---- The thread ----------------------------------------------------------- */

/* Milliseconds until the first armed timer, at most `limit`. */
static uint32_t timers_timeout(NetSlirp *s, uint32_t limit)
{
    int64_t now = now_ms();

    for (guint i = 0; i < s->timers->len; i++) {
        Timer *t = g_ptr_array_index(s->timers, i);
        if (t->expire_ms >= 0) {
            int64_t left = MAX(t->expire_ms - now, 0);
            limit = (uint32_t)MIN((int64_t)limit, left);
        }
    }
    return limit;
}

/* Runs the timers that expired; a callback may arm or free timers, so the
 * list is searched again after each (a bounded number of times: a timer
 * armed again in the past waits for the next round). */
static void timers_run(NetSlirp *s)
{
    int64_t now = now_ms();
    bool again = true;

    for (unsigned round = 0; again && round < 64; round++) {
        again = false;
        for (guint i = 0; i < s->timers->len; i++) {
            Timer *t = g_ptr_array_index(s->timers, i);
            if (t->expire_ms >= 0 && t->expire_ms <= now) {
                t->expire_ms = -1;
                t->cb(t->cb_opaque);
                again = true;
                break;
            }
        }
    }
}

/* Hands the queued frames to libslirp; false when the back end is
 * stopping. */
static bool drain_tx(NetSlirp *s)
{
    for (;;) {
        GBytes *frame;
        bool refused = false;

        g_mutex_lock(&s->lock);
        if (s->quit) {
            g_mutex_unlock(&s->lock);
            return false;
        }
        frame = g_queue_pop_head(&s->tx);
        if (frame != NULL) {
            s->tx_bytes -= g_bytes_get_size(frame);
        } else {
            refused = s->tx_refused;
            s->tx_refused = false;
        }
        g_mutex_unlock(&s->lock);
        if (frame == NULL) {
            if (refused) {
                vireo_net_backend_writable(&s->base);
            }
            return true;
        }
        {
            gsize len;
            const guint8 *data = g_bytes_get_data(frame, &len);
            slirp_input(s->slirp, data, (int)len);
        }
        g_bytes_unref(frame);
    }
}

/* Waits while the back end is paused: libslirp's sockets are not read
 * (the host's kernel keeps what arrives, and TCP peers slow down), its
 * timers wait, and the peer hears nothing. False when it is stopping. */
static bool park(NetSlirp *s)
{
    bool go;

    g_mutex_lock(&s->lock);
    if (s->paused && !s->quit) {
        s->parked = true;
        g_cond_broadcast(&s->cond);
        while (s->paused && !s->quit) {
            g_cond_wait(&s->cond, &s->lock);
        }
        s->parked = false;
    }
    go = !s->quit;
    g_mutex_unlock(&s->lock);
    return go;
}

static gpointer slirp_thread(gpointer data)
{
    NetSlirp *s = data;

    while (park(s) && drain_tx(s)) {
        uint32_t timeout = UINT32_MAX;
        struct pollfd wake = { .fd = s->wake_fd, .events = POLLIN };
        int n;

        g_array_set_size(s->pollfds, 0);
        g_array_append_val(s->pollfds, wake);
        slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
        timeout = timers_timeout(s, timeout);
        n = poll((struct pollfd *)(void *)s->pollfds->data, s->pollfds->len,
                 timeout == UINT32_MAX ? -1 : (int)MIN(timeout, (uint32_t)G_MAXINT));
        if (n > 0 && (g_array_index(s->pollfds, struct pollfd, 0).revents & POLLIN)) {
            uint64_t count;
            G_GNUC_UNUSED ssize_t r = read(s->wake_fd, &count, sizeof count);
        }
        slirp_pollfds_poll(s->slirp, n < 0, cb_get_revents, s);
        timers_run(s);
    }
    return NULL;
}

static void wake(NetSlirp *s)
{
    uint64_t one = 1;
    G_GNUC_UNUSED ssize_t r = write(s->wake_fd, &one, sizeof one);
}

/* ---- The back-end interface -------------------------------------------- */

static void slirp_start(VireoNetBackend *backend)
{
    NetSlirp *s = (NetSlirp *)backend;
    s->thread = g_thread_new("net-slirp", slirp_thread, s);
}

static bool slirp_send(VireoNetBackend *backend, const guint8 *frame, gsize len)
{
    NetSlirp *s = (NetSlirp *)backend;
    bool was_empty;

    if (len < VIREO_NET_MIN_FRAME || len > VIREO_NET_MAX_FRAME) {
        return true; /* nothing libslirp could use: dropped */
    }
    g_mutex_lock(&s->lock);
    if (s->tx.length >= TX_MAX_FRAMES || s->tx_bytes + len > TX_MAX_BYTES) {
        s->tx_refused = true;
        g_mutex_unlock(&s->lock);
        return false;
    }
    was_empty = s->tx.length == 0;
    g_queue_push_tail(&s->tx, g_bytes_new(frame, len));
    s->tx_bytes += len;
    g_mutex_unlock(&s->lock);
    if (was_empty) {
        wake(s);
    }
    return true;
}

static void slirp_pause(VireoNetBackend *backend)
{
    NetSlirp *s = (NetSlirp *)backend;

    if (s->thread == NULL) {
        return;
    }
    g_mutex_lock(&s->lock);
    s->paused = true;
    g_mutex_unlock(&s->lock);
    wake(s);
    g_mutex_lock(&s->lock);
    while (!s->parked && !s->quit) {
        g_cond_wait(&s->cond, &s->lock);
    }
    g_mutex_unlock(&s->lock);
}

static void slirp_resume(VireoNetBackend *backend)
{
    NetSlirp *s = (NetSlirp *)backend;

    g_mutex_lock(&s->lock);
    s->paused = false;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
}

static void slirp_free(VireoNetBackend *backend)
{
    NetSlirp *s = (NetSlirp *)backend;

    if (s->thread != NULL) {
        g_mutex_lock(&s->lock);
        s->quit = true;
        g_cond_broadcast(&s->cond);
        g_mutex_unlock(&s->lock);
        wake(s);
        g_thread_join(s->thread);
    }
    if (s->slirp != NULL) {
        slirp_cleanup(s->slirp);
    }
    g_queue_clear_full(&s->tx, (GDestroyNotify)g_bytes_unref);
    if (s->timers != NULL) {
        g_ptr_array_free(s->timers, TRUE);
    }
    if (s->pollfds != NULL) {
        g_array_free(s->pollfds, TRUE);
    }
    if (s->wake_fd >= 0) {
        close(s->wake_fd);
    }
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s);
}

static const VireoNetBackendOps slirp_backend_ops = {
    .name = "user",
    .start = slirp_start,
    .send = slirp_send,
    .free = slirp_free,
    .pause = slirp_pause,
    .resume = slirp_resume,
};

static uint32_t addr_of(const char *dotted)
{
    struct in_addr a;
    int ok = inet_pton(AF_INET, dotted, &a);

    g_assert(ok == 1);
    return a.s_addr;
}

static bool add_forward(NetSlirp *s, const VireoNetHostFwd *f, GError **error)
{
    struct in_addr host = { .s_addr = f->host_addr };
    struct in_addr guest = { .s_addr = f->guest_addr };
    char addr[INET_ADDRSTRLEN];

    if (slirp_add_hostfwd(s->slirp, f->udp, host, f->host_port, guest, f->guest_port) == 0) {
        return true;
    }
    int err = errno;
    inet_ntop(AF_INET, &host, addr, sizeof addr);
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                _("Cannot forward host %s port %s:%u into the guest: %s"), f->udp ? "UDP" : "TCP",
                addr, f->host_port, g_strerror(err));
    return false;
}

VireoNetBackend *vireo_net_slirp_new(const VireoNetConfig *config, GError **error)
{
    NetSlirp *s = g_new0(NetSlirp, 1);
    SlirpConfig cfg = { 0 };

    s->base.ops = &slirp_backend_ops;
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    g_queue_init(&s->tx);
    s->timers = g_ptr_array_new_with_free_func(g_free);
    s->pollfds = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0) {
        int err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                    _("Cannot start the user network: eventfd: %s"), g_strerror(err));
        slirp_free(&s->base);
        return NULL;
    }

    cfg.version = 4;
    cfg.restricted = 0;
    cfg.in_enabled = true;
    cfg.vnetwork.s_addr = addr_of(VIREO_NET_USER_NETWORK);
    cfg.vnetmask.s_addr = addr_of(VIREO_NET_USER_NETMASK);
    cfg.vhost.s_addr = addr_of(VIREO_NET_USER_HOST);
    cfg.vdhcp_start.s_addr = addr_of(VIREO_NET_USER_GUEST);
    cfg.vnameserver.s_addr = addr_of(VIREO_NET_USER_DNS);
    cfg.in6_enabled = false;
    cfg.if_mtu = 1500;
    cfg.if_mru = 1500;
    cfg.disable_host_loopback = false;
    cfg.enable_emu = false;
    s->slirp = slirp_new(&cfg, &slirp_callbacks, s);
    if (s->slirp == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                    _("Cannot start the user network (libslirp refused its configuration)"));
        slirp_free(&s->base);
        return NULL;
    }
    /* The forwards' sockets are bound now, before the thread owns
     * libslirp, so that a port in use is an error here. */
    for (unsigned i = 0; i < config->n_hostfwd; i++) {
        if (!add_forward(s, &config->hostfwd[i], error)) {
            slirp_free(&s->base);
            return NULL;
        }
    }
    return &s->base;
}
