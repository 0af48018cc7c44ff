/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/ring.h"

#include <poll.h>

static void test_ring_basic(void)
{
    VireoRing *ring = vireo_ring_new(10);
    guint8 out[64];

    /* Capacity rounds up to a power of two. */
    g_assert_cmpuint(vireo_ring_capacity(ring), ==, 16);
    g_assert_cmpuint(vireo_ring_write(ring, (const guint8 *)"hello", 5), ==, 5);
    g_assert_cmpuint(vireo_ring_available(ring), ==, 5);
    g_assert_cmpuint(vireo_ring_read(ring, out, 3), ==, 3);
    g_assert_cmpmem(out, 3, "hel", 3);
    g_assert_cmpuint(vireo_ring_read(ring, out, sizeof out), ==, 2);
    g_assert_cmpmem(out, 2, "lo", 2);
    g_assert_cmpuint(vireo_ring_read(ring, out, sizeof out), ==, 0);
    vireo_ring_free(ring);
}

static void test_ring_full_and_wrap(void)
{
    VireoRing *ring = vireo_ring_new(16);
    guint8 in[40], out[40];

    for (guint i = 0; i < sizeof in; i++) {
        in[i] = (guint8)i;
    }
    /* Only what fits is written. */
    g_assert_cmpuint(vireo_ring_write(ring, in, 20), ==, 16);
    g_assert_cmpuint(vireo_ring_write(ring, in, 1), ==, 0);
    g_assert_cmpuint(vireo_ring_read(ring, out, 10), ==, 10);
    /* The next write wraps around the end of the buffer. */
    g_assert_cmpuint(vireo_ring_write(ring, in + 16, 10), ==, 10);
    g_assert_cmpuint(vireo_ring_read(ring, out + 10, 30), ==, 16);
    g_assert_cmpmem(out, 26, in, 26);
    vireo_ring_free(ring);
}

typedef struct {
    VireoRing *ring;
    guint total;
} ProducerArgs;

static gpointer producer(gpointer data)
{
    ProducerArgs *args = data;
    guint sent = 0;

    while (sent < args->total) {
        guint8 chunk[7];
        gsize n = MIN(sizeof chunk, args->total - sent);
        for (gsize i = 0; i < n; i++) {
            chunk[i] = (guint8)((sent + i) * 31u);
        }
        gsize w = vireo_ring_write(args->ring, chunk, n);
        sent += (guint)w;
        if (w == 0) {
            g_thread_yield();
        }
    }
    return NULL;
}

/* One writer thread and one reader that sleeps on the ring's fd: every byte
 * arrives once, in order, and the reader is always woken. */
static void test_ring_threads(void)
{
    ProducerArgs args = { vireo_ring_new(64), 200000 };
    GThread *thread = g_thread_new("producer", producer, &args);
    guint received = 0;

    while (received < args.total) {
        guint8 buf[50];
        gsize n = vireo_ring_read(args.ring, buf, sizeof buf);
        for (gsize i = 0; i < n; i++) {
            g_assert_cmpuint(buf[i], ==, (guint8)((received + i) * 31u));
        }
        received += (guint)n;
        if (n == 0 && !vireo_ring_arm(args.ring)) {
            struct pollfd pfd = { .fd = vireo_ring_get_fd(args.ring), .events = POLLIN };
            g_assert_cmpint(poll(&pfd, 1, 5000), ==, 1);
        }
    }
    g_thread_join(thread);
    g_assert_cmpuint(vireo_ring_available(args.ring), ==, 0);
    vireo_ring_free(args.ring);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/ring/basic", test_ring_basic);
    g_test_add_func("/engine/ring/full-and-wrap", test_ring_full_and_wrap);
    g_test_add_func("/engine/ring/threads", test_ring_threads);
    return g_test_run();
}
