/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Internal to engine/: the machine's state stream (machine-state.c), called
 * by machine.c with the machine paused and its control lock held. */

#include "engine/machine.h"

const VireoVcpuOps *vireo_machine_vcpu_ops(VireoMachine *machine, unsigned index);
/* `dirty`: RAM as the pages it sets, or NULL for all of it. */
bool vireo_machine_state_write(VireoMachine *machine, VireoSnapWriter *w, const uint64_t *dirty,
                               GError **error);
/* RAM alone (vireo_machine_save_ram()). */
bool vireo_machine_ram_write(VireoMachine *machine, VireoSnapWriter *w, const uint64_t *dirty,
                             VireoRamSaveStats *stats, GError **error);
/* `image`: RAM from there rather than the stream. */
bool vireo_machine_state_read(VireoMachine *machine, const guint8 *stream, gsize len,
                              VireoRamImage *image, GError **error);
