/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/entropy.h"

#include <errno.h>
#include <sys/random.h>

gssize vireo_entropy_getrandom(void *opaque, guint8 *buf, gsize len)
{
    ssize_t n;

    /* The host's pool is initialised long before a machine runs; should it
     * not be, a short blocking read is the only way to get anything. */
    do {
        n = getrandom(buf, len, GRND_NONBLOCK);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        do {
            n = getrandom(buf, MIN(len, (gsize)16), 0);
        } while (n < 0 && errno == EINTR);
    }
    return n < 0 ? -errno : n;
}
