/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "devices/net.h"
#include "engine/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/*
 * A TAP interface: /dev/net/tun attached to a named interface with
 * IFF_TAP | IFF_NO_PI, so that every read returns one Ethernet frame and
 * every write sends one. The back end's thread waits for frames (and for the
 * eventfd that stops it) and hands them to the device. Frames from the
 * device are written at once without blocking: the kernel takes them into
 * its own stack, and one that it refuses is dropped, as a busy link would.
 */

#define TUN_PATH "/dev/net/tun"

typedef struct {
    VireoNetBackend base;
    int fd;
    int wake_fd;
    GThread *thread;
    atomic_bool quit;
    guint8 *buf; /* one frame read, on the thread; one byte more than the longest */
    /* Pausing: the thread waits in park() and reads nothing. */
    GMutex lock;
    GCond cond;
    bool paused, parked;
    bool exited; /* the thread left its loop */
} NetTap;

static void wake(NetTap *t)
{
    uint64_t one = 1;
    G_GNUC_UNUSED ssize_t r = write(t->wake_fd, &one, sizeof one);
}

/* Waits while the back end is paused (frames stay in the kernel's queue of
 * the interface, which drops what does not fit). False when stopping. */
static bool park(NetTap *t)
{
    g_mutex_lock(&t->lock);
    if (t->paused && !atomic_load(&t->quit)) {
        t->parked = true;
        g_cond_broadcast(&t->cond);
        while (t->paused && !atomic_load(&t->quit)) {
            g_cond_wait(&t->cond, &t->lock);
        }
        t->parked = false;
    }
    g_mutex_unlock(&t->lock);
    return !atomic_load(&t->quit);
}

static gpointer tap_thread(gpointer data)
{
    NetTap *t = data;

    while (park(t)) {
        struct pollfd fds[2] = {
            { .fd = t->fd, .events = POLLIN },
            { .fd = t->wake_fd, .events = POLLIN },
        };

        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            g_warning("TAP interface: poll: %s", g_strerror(errno));
            break;
        }
        if (fds[1].revents != 0) {
            uint64_t count;
            G_GNUC_UNUSED ssize_t r = read(t->wake_fd, &count, sizeof count);
            continue; /* stopping or pausing */
        }
        if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            g_warning("TAP interface: the interface went away");
            break;
        }
        for (unsigned i = 0; i < 64 && !atomic_load(&t->quit); i++) {
            ssize_t n = read(t->fd, t->buf, VIREO_NET_MAX_FRAME + 1);
            if (n < 0) {
                break; /* EAGAIN: wait for the next frame */
            }
            /* Runts and frames that did not fit are dropped here. */
            vireo_net_backend_deliver(&t->base, t->buf, (gsize)n);
        }
    }
    g_mutex_lock(&t->lock);
    t->exited = true;
    g_cond_broadcast(&t->cond);
    g_mutex_unlock(&t->lock);
    return NULL;
}

static void tap_start(VireoNetBackend *backend)
{
    NetTap *t = (NetTap *)backend;
    t->thread = g_thread_new("net-tap", tap_thread, t);
}

static bool tap_send(VireoNetBackend *backend, const guint8 *frame, gsize len)
{
    NetTap *t = (NetTap *)backend;
    ssize_t n;

    do {
        n = write(t->fd, frame, len);
    } while (n < 0 && errno == EINTR);
    /* A frame the kernel does not take (no room, the interface is down) is
     * dropped. */
    return true;
}

static void tap_pause(VireoNetBackend *backend)
{
    NetTap *t = (NetTap *)backend;

    if (t->thread == NULL) {
        return;
    }
    g_mutex_lock(&t->lock);
    t->paused = true;
    g_mutex_unlock(&t->lock);
    wake(t);
    g_mutex_lock(&t->lock);
    /* The thread may have left its loop when the interface went away. */
    while (!t->parked && !t->exited) {
        g_cond_wait(&t->cond, &t->lock);
    }
    g_mutex_unlock(&t->lock);
}

static void tap_resume(VireoNetBackend *backend)
{
    NetTap *t = (NetTap *)backend;

    g_mutex_lock(&t->lock);
    t->paused = false;
    g_cond_broadcast(&t->cond);
    g_mutex_unlock(&t->lock);
}

static void tap_free(VireoNetBackend *backend)
{
    NetTap *t = (NetTap *)backend;

    if (t->thread != NULL) {
        g_mutex_lock(&t->lock);
        atomic_store(&t->quit, true);
        g_cond_broadcast(&t->cond);
        g_mutex_unlock(&t->lock);
        wake(t);
        g_thread_join(t->thread);
    }
    if (t->fd >= 0) {
        close(t->fd);
    }
    if (t->wake_fd >= 0) {
        close(t->wake_fd);
    }
    g_free(t->buf);
    g_mutex_clear(&t->lock);
    g_cond_clear(&t->cond);
    g_free(t);
}

static const VireoNetBackendOps tap_backend_ops = {
    .name = "tap",
    .start = tap_start,
    .send = tap_send,
    .free = tap_free,
    .pause = tap_pause,
    .resume = tap_resume,
};

VireoNetBackend *vireo_net_tap_new(const char *name, GError **error)
{
    NetTap *t;
    struct ifreq ifr;
    int fd, err;

    if (name == NULL || name[0] == '\0' || strlen(name) >= IFNAMSIZ) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("“%s” is not a network interface name (1 to %d characters, no "
                      "“/”, “:” or spaces)"),
                    name != NULL ? name : "", IFNAMSIZ - 1);
        return NULL;
    }
    fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                    _("Cannot open %s for the TAP interface “%s”: %s (TAP networking needs the "
                      "tun driver, and either the CAP_NET_ADMIN capability or an interface "
                      "made for this user with “ip tuntap add NAME mode tap user USER”)"),
                    TUN_PATH, name, g_strerror(err));
        return NULL;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    g_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        err = errno;
        close(fd);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                    _("Cannot attach to the TAP interface “%s”: %s (it must be a TAP interface "
                      "that this user may use, and not in use already)"),
                    name, g_strerror(err));
        return NULL;
    }

    t = g_new0(NetTap, 1);
    t->base.ops = &tap_backend_ops;
    g_mutex_init(&t->lock);
    g_cond_init(&t->cond);
    t->fd = fd;
    t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t->wake_fd < 0) {
        err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                    _("Cannot attach to the TAP interface “%s”: eventfd: %s"), name,
                    g_strerror(err));
        tap_free(&t->base);
        return NULL;
    }
    t->buf = g_malloc(VIREO_NET_MAX_FRAME + 1);
    return &t->base;
}
