/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Internal to engine/: the machine's state stream (machine-state.c), called
 * by machine.c with the machine paused and its control lock held. */

#include "engine/machine.h"

const VireoVcpuOps *vireo_machine_vcpu_ops(VireoMachine *machine, unsigned index);
bool vireo_machine_state_write(VireoMachine *machine, VireoSnapWriter *w, GError **error);
bool vireo_machine_state_read(VireoMachine *machine, const guint8 *stream, gsize len,
                              GError **error);
