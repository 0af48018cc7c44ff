/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A source of random bytes for the entropy device: fills `buf` with up to
 * `len` bytes and returns how many, or a negative errno value. It must not
 * block for long (it runs on a vCPU thread).
 */
typedef gssize (*VireoEntropyFunc)(void *opaque, guint8 *buf, gsize len);

/* The host's getrandom(2). */
gssize vireo_entropy_getrandom(void *opaque, guint8 *buf, gsize len);

G_END_DECLS
