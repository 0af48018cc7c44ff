/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/arch.h"

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/*
 * Execution back ends. `soft` is Vireo's own engine (interpreter and JIT) and
 * runs every guest architecture that has a frontend; the others run guests
 * natively on the host CPU and only exist on their host platform.
 */
typedef enum {
    VIREO_ACCEL_SOFT,
    VIREO_ACCEL_KVM,
    VIREO_ACCEL_HVF,
    VIREO_ACCEL_WHPX,
    VIREO_ACCEL_COUNT,
} VireoAccelKind;

const char *vireo_accel_name(VireoAccelKind kind);
bool vireo_accel_from_name(const char *name, VireoAccelKind *kind);

/* Whether `kind` can run a guest of `arch` on this host now. When it cannot,
 * `error` (VIREO_ERROR_ACCEL_UNAVAILABLE) says why in words for the user. */
bool vireo_accel_probe(VireoAccelKind kind, VireoArch arch, GError **error);

/* The best back end for `arch` on this host: hardware when it can, else soft.
 * Returns VIREO_ACCEL_COUNT when nothing can run `arch`. */
VireoAccelKind vireo_accel_select(VireoArch arch);

G_END_DECLS
