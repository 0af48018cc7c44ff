/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/ring.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct VireoRing {
    guint8 *data;
    gsize mask;
    _Atomic gsize head; /* total bytes written */
    _Atomic gsize tail; /* total bytes read */
    atomic_bool armed;
    int efd;
};

VireoRing *vireo_ring_new(gsize capacity)
{
    VireoRing *ring = g_new0(VireoRing, 1);
    gsize size = 16;

    while (size < capacity) {
        size <<= 1;
    }
    ring->data = g_malloc(size);
    ring->mask = size - 1;
    ring->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    atomic_init(&ring->head, 0);
    atomic_init(&ring->tail, 0);
    atomic_init(&ring->armed, false);
    return ring;
}

void vireo_ring_free(VireoRing *ring)
{
    if (ring == NULL) {
        return;
    }
    if (ring->efd >= 0) {
        close(ring->efd);
    }
    g_free(ring->data);
    g_free(ring);
}

gsize vireo_ring_capacity(VireoRing *ring)
{
    return ring->mask + 1;
}

gsize vireo_ring_write(VireoRing *ring, const guint8 *data, gsize len)
{
    gsize head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    gsize tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    gsize space = ring->mask + 1 - (head - tail);
    gsize n = MIN(len, space);

    for (gsize done = 0; done < n;) {
        gsize off = (head + done) & ring->mask;
        gsize chunk = MIN(n - done, ring->mask + 1 - off);
        memcpy(ring->data + off, data + done, chunk);
        done += chunk;
    }
    atomic_store_explicit(&ring->head, head + n, memory_order_seq_cst);
    if (n > 0 && atomic_load_explicit(&ring->armed, memory_order_seq_cst) &&
        atomic_exchange(&ring->armed, false) && ring->efd >= 0) {
        guint64 one = 1;
        ssize_t r;
        do {
            r = write(ring->efd, &one, sizeof one);
        } while (r < 0 && errno == EINTR);
    }
    return n;
}

gsize vireo_ring_available(VireoRing *ring)
{
    gsize head = atomic_load_explicit(&ring->head, memory_order_acquire);
    gsize tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    return head - tail;
}

gsize vireo_ring_read(VireoRing *ring, guint8 *buf, gsize len)
{
    gsize head = atomic_load_explicit(&ring->head, memory_order_acquire);
    gsize tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    gsize n = MIN(len, head - tail);
    guint64 drain;

    if (ring->efd >= 0) {
        while (read(ring->efd, &drain, sizeof drain) > 0) {}
    }
    for (gsize done = 0; done < n;) {
        gsize off = (tail + done) & ring->mask;
        gsize chunk = MIN(n - done, ring->mask + 1 - off);
        memcpy(buf + done, ring->data + off, chunk);
        done += chunk;
    }
    atomic_store_explicit(&ring->tail, tail + n, memory_order_release);
    return n;
}

gboolean vireo_ring_arm(VireoRing *ring)
{
    atomic_store_explicit(&ring->armed, true, memory_order_seq_cst);
    return vireo_ring_available(ring) > 0;
}

int vireo_ring_get_fd(VireoRing *ring)
{
    return ring->efd;
}
