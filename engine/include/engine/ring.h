/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A one-writer, one-reader byte ring, used for console streams between the
 * devices (on vCPU or I/O threads) and their readers (the UI's terminal or the
 * CLI's stdio). Neither side takes a lock. The reader may sleep on the ring's
 * file descriptor, which becomes readable when data arrives after the reader
 * has asked to be woken with vireo_ring_arm().
 */
typedef struct VireoRing VireoRing;

VireoRing *vireo_ring_new(gsize capacity);
void vireo_ring_free(VireoRing *ring);

/* Writer side. Returns how many bytes fitted; the rest is not written. */
gsize vireo_ring_write(VireoRing *ring, const guint8 *data, gsize len);

/* Reader side. */
gsize vireo_ring_read(VireoRing *ring, guint8 *buf, gsize len);
gsize vireo_ring_available(VireoRing *ring);
gsize vireo_ring_capacity(VireoRing *ring);
/* Ask to be woken at the next write. Returns TRUE when data is already there,
 * in which case the caller should read instead of sleeping. */
gboolean vireo_ring_arm(VireoRing *ring);
/* A file descriptor that polls readable after a wake-up; vireo_ring_read()
 * clears it. */
int vireo_ring_get_fd(VireoRing *ring);

G_END_DECLS
